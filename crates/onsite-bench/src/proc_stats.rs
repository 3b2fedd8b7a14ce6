//! A process's memory and CPU time as Linux reports them in `/proc/<pid>/`.

use std::time::Duration;

/// What `/proc` says about one process at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcStats {
    /// Resident set size now (`VmRSS`), bytes.
    pub rss: u64,
    /// Peak resident set size since the process started (`VmHWM`), bytes.
    pub peak_rss: u64,
    /// User plus system CPU time used so far.
    pub cpu: Duration,
}

impl ProcStats {
    /// Read the figures of process `pid`; `None` once it has exited.
    pub fn read(pid: u32) -> Option<ProcStats> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Some(ProcStats {
            rss: status_kib(&status, "VmRSS:")? * 1024,
            peak_rss: status_kib(&status, "VmHWM:")? * 1024,
            cpu: cpu_time(&stat)?,
        })
    }

    /// CPU seconds as a float, for printing.
    pub fn cpu_secs(&self) -> f64 {
        self.cpu.as_secs_f64()
    }
}

/// The figure in kiB of a `/proc/<pid>/status` line such as `VmHWM:   12345 kB`.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// utime + stime of a `/proc/<pid>/stat` line (fields 14 and 15, in clock ticks of 1/100 s on
/// Linux). The command name in field 2 may contain spaces, so fields are counted after its `)`.
fn cpu_time(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Mebibytes, for printing.
pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let s = ProcStats::read(std::process::id()).expect("this process's /proc entry");
        assert!(s.rss > 0, "a running process has resident memory: {s:?}");
        assert!(
            s.peak_rss >= s.rss,
            "the peak is never below the current RSS: {s:?}"
        );
    }

    #[test]
    fn parses_a_command_name_with_spaces() {
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0";
        assert_eq!(
            cpu_time(stat),
            Some(Duration::from_millis(3_000)),
            "utime 250 + stime 50 ticks of 10 ms"
        );
    }
}
