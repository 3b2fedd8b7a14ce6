//! Onsite's domain: the work-order documents (Automerge, mapped with autosurgeon) and the business
//! rules that govern them.
//!
//! This crate does **no IO**: no clock, no randomness, no files, no network. Time and fresh ids are
//! passed in by the caller, so the same rules run unchanged on the technician's device, on the
//! relay and in deterministic tests. CI checks with `cargo tree -i` that no IO crate is linked in.
//!
//! Documents are split by who owns them (see `ARCHITECTURE.md`):
//! - [`order::Order`] — dispatcher-owned work order,
//! - [`visit::Visit`] — technician-owned record of one technician's visit for one order,
//! - [`reference`] — templates, fee schedule, parts catalogue, technician profiles,
//! - [`ledger::StockLedger`] — append-only personal stock ledger per technician,
//! - [`household::Household`] — the dispatcher-owned customer registry, one per household
//!   ([`phone`] normalises its numbers, [`import`] checks orders imported from CSV).

pub mod admit;
pub mod board;
pub mod bonus;
pub mod code;
pub mod completion;
pub mod doc;
pub mod doc_reader;
pub mod edit;
pub mod error;
pub mod export;
pub mod followup;
pub mod history;
pub mod household;
pub mod ids;
pub mod import;
pub mod ledger;
pub mod numbering;
pub mod order;
pub mod parts;
pub mod phone;
pub mod profile;
pub mod progress;
pub mod record;
pub mod reference;
pub mod reminder;
pub mod resolve;
pub mod retention;
pub mod saved;
pub mod scorecard;
pub mod seed;
pub mod service;
// stats: the demo's past months of signed jobs.
pub mod seed_history;
pub mod sla;
pub mod stats;
pub mod status;
pub mod suggest;
pub mod templates;
pub mod visit;

pub use code::Code;
pub use error::DomainError;
pub use ids::DocId;

/// Milliseconds since the Unix epoch, UTC. Every time in the documents uses this unit; the caller
/// supplies "now" (device time on a device, server time on the relay).
pub type Millis = i64;

/// One minute in [`Millis`].
pub const MINUTE: Millis = 60_000;
/// One hour in [`Millis`].
pub const HOUR: Millis = 60 * MINUTE;

/// Largest attachment (photo, signature image), in bytes: the device store refuses to keep a
/// larger one and the relay refuses to accept it.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
