//! Shared parts of the benchmark programs (`src/bin/`): the release relay as a child process,
//! its memory and CPU read from `/proc`, and a loopback proxy that counts the bytes on the wire.
//! Benchmarks print figures and ratios; nothing here asserts a speed.

pub mod proc_stats;
pub mod relay_child;
pub mod wire_count;

pub mod compare;
pub mod device_scale;
pub mod history_gen;
pub mod history_rows;
pub mod history_scale;
pub mod history_shift;
pub mod load;
