//! Sans-IO sync protocol logic: no sockets, no clock, no database; the device client and the relay
//! drive it.
//!
//! - [`access`]: who may read and write which document, as pure functions.
//! - [`device`]: what a device sends for each locally changed document and how it applies what
//!   comes back (per-document Automerge sync states persisted as shared heads).
//! - [`relay`]: the relay's handling of one sync request over a [`relay::DocStore`] — validate,
//!   commit, answer, and the per-user changes feed (grants, revocations, paging).
//! - [`orders`]: the relay's own rules on incoming orders (forged assignments, duplicate order
//!   numbers), applied by [`relay`].
//! - [`snapshot`]: a partial replica's first sync — the documents a device with a history window
//!   holds, page by page, instead of the whole change log.
//! - [`cost`]: the operations an incoming message carries, counted before it is applied;
//!   [`admit`]: the domain's document rules run on every incoming change ([`onsite_domain::admit`]).
//! - [`memory`]: an in-memory [`relay::DocStore`] for tests, benchmarks and demos.
//! - [`views`]: hydrated documents the relay keeps between requests (bounded by bytes);
//!   [`saved`]: the saved form it stores after a write.
//!
//! The protocol: a device keeps a feed cursor and, per document, the heads it knows the relay
//! has. One request carries the cursor plus an Automerge sync message for each document changed
//! locally; because the device assumes the relay holds the shared heads, its first message already
//! carries the changes (one round trip, not the two of a fresh Automerge exchange). The relay
//! applies them, commits, and answers with Automerge sync messages for those documents, for every
//! readable document changed since the cursor (built straight from the numbered changes, so cost
//! is proportional to what changed), full copies of newly granted documents, revocations and the
//! new cursor.

pub mod access;
pub mod admit;
pub mod cost;
pub mod device;
pub mod error;
pub mod memory;
pub mod orders;
pub mod relay;
pub mod snapshot;
pub mod views;

pub use error::SyncError;
