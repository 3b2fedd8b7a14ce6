//! Desktop entry point of the Onsite technician app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    onsite_desktop_lib::run()
}
