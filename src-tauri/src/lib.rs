//! The Onsite technician app's Tauri shell: state, windows, capabilities; every command delegates
//! to `onsite-app`.

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .run(tauri::generate_context!())
        .expect("error while running the Onsite app");
}
