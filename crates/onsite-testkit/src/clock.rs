//! The tests' day and device clocks: tests never read the wall clock, so a run on any date (or
//! across midnight) sees the same "today".

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use onsite_domain::{HOUR, Millis};

/// Midnight UTC of the tests' day, 2026-11-30.
pub const DAY: Millis = 1_795_996_800_000;

/// A device time source (the same shape as `onsite_app::Clock`).
pub type Clock = Arc<dyn Fn() -> Millis + Send + Sync>;

/// A clock that always reads `at`.
pub fn fixed_clock(at: Millis) -> Clock {
    Arc::new(move || at)
}

/// A clock that reads `start`, then `step` ms later on each further reading, so successive edits
/// get distinct, increasing times.
pub fn ticking_clock(start: Millis, step: Millis) -> Clock {
    let next = AtomicI64::new(start);
    Arc::new(move || next.fetch_add(step, Ordering::Relaxed))
}

/// Midnight UTC of today by the wall clock. Only for a test that drives the real app binary,
/// which reads the system clock and so needs the relay's demo day to be today, and for the clock
/// skew test, whose devices measure themselves against the relay's wall-clock `Date`.
pub fn wall_clock_day() -> Millis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the system clock is after 1970")
        .as_millis() as Millis;
    now - now.rem_euclid(24 * HOUR)
}

/// The relay's fake clock in a simulation: reads [`DAY`] first and moves `step` ms forward on
/// every request it serves.
#[derive(Debug, Clone, Copy)]
pub struct FakeClock {
    pub now: Millis,
    pub step: Millis,
}

impl FakeClock {
    /// Starts at [`DAY`] and moves one second per reading.
    pub fn new() -> FakeClock {
        FakeClock {
            now: DAY,
            step: 1_000,
        }
    }

    /// The next instant.
    pub fn tick(&mut self) -> Millis {
        self.now += self.step;
        self.now
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        FakeClock::new()
    }
}
