//! Sans-IO sync protocol logic: no sockets, no clock, no database; the device client and the relay drive it.
