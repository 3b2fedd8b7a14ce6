//! Every request, response and message type exchanged between devices and the relay (`/api/v1`).
