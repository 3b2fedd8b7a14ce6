//! The technician app's commands: everything the UI can ask for, callable and testable without a
//! window. [`App`] holds the device store and the background sync client; `src-tauri` registers
//! one `#[tauri::command]` per method, each a one-line delegation. Arguments, results, events and
//! errors are the types in [`view`], whose TypeScript declarations [`bindings`] generates.

mod app;
pub mod bindings;
mod convert;
mod error;
pub mod view;

pub use app::{
    App, Clock, IdSource, LOW_STOCK_THRESHOLD, MAX_DRAFT_CHARS, MAX_PHOTO_BYTES, SEARCH_LIMIT,
    random_ids, system_clock,
};
// registry:
pub use app::{ImportError, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS};
// export:
pub use app::{UTF8_BOM, csv_bytes, xlsx_bytes};
// stats:
pub use app::TREND_MONTHS;
pub use error::AppError;
pub use onsite_client::SyncConfig;
