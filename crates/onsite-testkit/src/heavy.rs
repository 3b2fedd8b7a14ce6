//! The one switch for the heavy variants of the fault and property tests: `ONSITE_HEAVY=1`
//! (`ONSITE_HEAVY=1 bash scripts/test.sh`, see `docs/reliability.md`). Each test also has its
//! own variable to set a count exactly.

/// Whether the heavy variant was asked for (`ONSITE_HEAVY` set to anything but `0` or empty).
pub fn is_heavy() -> bool {
    std::env::var("ONSITE_HEAVY").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// How many iterations a test runs: `var` when it is set to a number, else `heavy` under
/// [`is_heavy`], else `small` (the test command's smoke-sized run). Printed, so a log says what
/// ran.
pub fn runs(var: &str, small: u64, heavy: u64) -> u64 {
    let n = std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(if is_heavy() { heavy } else { small });
    println!("{var}={n}");
    n
}

/// The seed of a randomised test: `var` when set, else `default` (fixed, so every run of the
/// test command explores the same schedules; set the variable to explore others). Printed.
pub fn seed(var: &str, default: u64) -> u64 {
    let s = std::env::var(var)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default);
    println!("{var}={s}");
    s
}
