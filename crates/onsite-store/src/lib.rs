//! Durable device store: Automerge documents (snapshot + incremental changes), index tables and
//! attachments in one SQLite file (bundled SQLite, WAL; see [`DEFAULT_DURABILITY`] for the
//! `synchronous` setting and why).
//!
//! - Documents are keyed by [`onsite_domain::DocId`]. Each is stored as a snapshot plus one row per
//!   committed change; when a document's change log reaches [`COMPACT_AT`] rows it is folded into a
//!   new snapshot in the same transaction. Every local change uses the store's one actor id.
//! - Every write — [`Store::create`], [`Store::update`], [`Store::apply_visit_edit`],
//!   [`Store::merge_remote`], … — commits the document bytes, the local-change counter and the
//!   index rows in **one** transaction before it returns. A refused or failed write changes nothing.
//! - Index tables (orders, visits, progress events, parts used, ledger entries) answer the screens'
//!   queries ([`Store::today`], [`Store::orders_by_status`], [`Store::search_customers`],
//!   [`Store::household_history`], [`Store::stock_levels`]) without hydrating documents.
//! - Damaged document bytes give [`StoreError::Corrupt`] (`document.corrupt`) on every access and
//!   are never overwritten; they are left out of the index tables, so one damaged visit never
//!   blocks edits to or syncing of its order and the order's other visits.
//! - Attachments are content-addressed by SHA-256 and checked on read.
//! - A partial replica ([`Store::evict_history`]) removes jobs outside its history window whole,
//!   never one with unsynced changes.
//! - Drafts ([`Store::save_draft`]) keep text the technician is typing until it is committed as
//!   an edit; per device, never synced.

mod attachments;
mod cache;
mod drafts;
mod error;
mod eviction;
mod index;
mod queries;
mod registry;
mod rejections;
mod resync;
mod schema;
mod store;

pub use attachments::{Attachment, sha256_hex};
pub use drafts::{Draft, DraftKey};
pub use error::StoreError;
pub use eviction::Evicted;
pub use queries::{CustomerRow, HistoryRow, OrderRow, TodayRow, VisitRow, VisitVerification};
pub use registry::HouseholdRow;
pub use rejections::Refusal;
pub use store::{
    Batch, COMPACT_AT, DB_FILE, DEFAULT_DURABILITY, DocInfo, Durability, Incoming, Received, Store,
};

/// Re-exported so callers name the same Automerge types the store uses.
pub use automerge;
