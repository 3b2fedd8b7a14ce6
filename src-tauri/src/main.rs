//! Desktop entry point of the Onsite technician app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

/// mimalloc rather than the system allocator: a first sync builds and frees thousands of
/// Automerge documents on several threads, and glibc's malloc cost it a fifth of its time
/// (docs/benchmarks.md, session 16). The benchmarks that stand in for the app use it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    onsite_desktop_lib::run()
}
