//! The device client: the commands the app calls and the background sync task.
