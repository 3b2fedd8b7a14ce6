//! A process's memory and CPU time as Linux reports them in `/proc/<pid>/`.

use std::collections::BTreeMap;
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

/// The CPU time of a process and its children (e.g. the PostgreSQL postmaster and the backends
/// serving the relay's connections), per process id.
#[derive(Debug, Clone, Default)]
pub struct TreeCpu(BTreeMap<u32, Duration>);

impl TreeCpu {
    /// `root` and every process whose parent is `root`, from `/proc` now.
    pub fn read(root: u32) -> TreeCpu {
        let mut cpu = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return TreeCpu(cpu);
        };
        for pid in entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()) {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            if (pid == root || parent(&stat) == Some(root))
                && let Some(t) = cpu_time(&stat)
            {
                cpu.insert(pid, t);
            }
        }
        TreeCpu(cpu)
    }

    /// CPU used since `before`: by processes alive at both reads, their difference; by
    /// processes started since, all of theirs (processes that ended in between are missed).
    pub fn since(&self, before: &TreeCpu) -> Duration {
        self.0
            .iter()
            .map(|(pid, t)| t.saturating_sub(before.0.get(pid).copied().unwrap_or_default()))
            .sum()
    }
}

/// The parent pid of a `/proc/<pid>/stat` line (field 4).
fn parent(stat: &str) -> Option<u32> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The pid in the first line of a PostgreSQL data directory's `postmaster.pid`.
pub fn postmaster_pid(data_dir: &std::path::Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid")).ok()?;
    text.lines().next()?.trim().parse().ok()
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
        assert_eq!(parent(stat), Some(1), "field 4 is the parent's pid");
    }

    #[test]
    fn this_process_is_in_its_parents_tree() {
        let me = std::process::id();
        let stat = std::fs::read_to_string(format!("/proc/{me}/stat")).expect("own stat");
        let parent = parent(&stat).expect("a parent pid");
        assert!(
            TreeCpu::read(parent).0.contains_key(&me),
            "a child of the root is counted with it"
        );
    }
}
