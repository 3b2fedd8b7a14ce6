//! Test fixtures shared by every crate's tests and benchmarks (a dev-dependency only, never
//! linked into a product binary):
//!
//! - [`clock`]: the tests' fixed day and device clocks instead of the wall clock;
//! - [`job`]: the demo reference documents, an [`EditContext`](onsite_domain::edit::EditContext)
//!   builder and the signed demo job built from [`onsite_domain::seed::job_edits`];
//! - [`heavy`]: iteration counts of the fault tests and the `ONSITE_HEAVY=1` switch;
//! - [`sim`]: devices and the relay logic over a simulated in-memory network with a fake clock;
//! - [`relay`] (feature `relay`): a seeded relay on 127.0.0.1 whose `Drop` stops it;
//! - [`backend`] (feature `relay`): whether a relay test's database is SQLite or PostgreSQL,
//!   and [`on_postgres!`] to run a test on both;
//! - [`tls`] (feature `tls`): a test's own CA and the relay certificates it signs;
//! - [`fuzz`] (feature `fuzz`): what each fuzz target does with its bytes, and its seed corpus.
//!
//! Golden-hash tests (`onsite-domain/tests/record_golden.rs`, `onsite-record/tests/common`) keep
//! their own fixtures on purpose: a change here must never move a golden hash.

#[cfg(feature = "relay")]
pub mod backend;
pub mod clock;
#[cfg(feature = "fuzz")]
pub mod fuzz;
pub mod heavy;
pub mod job;
#[cfg(feature = "relay")]
pub mod relay;
pub mod sim;
#[cfg(feature = "tls")]
pub mod tls;

pub use clock::{Clock, DAY, fixed_clock, ticking_clock};
pub use job::Reference;

/// Password of every demo account in tests and benchmarks.
pub const PASSWORD: &str = "demo-password-1";
