//! The technician app's commands: everything the UI can ask for, callable and testable without a window.

pub mod bindings;
pub mod view;
