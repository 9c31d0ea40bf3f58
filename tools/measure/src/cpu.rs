//! The CPU time a process spends, read from `/proc`, for the measuring runners
//! (`pubsub-bench`, `pubsub-wildcard-cost`).
//!
//! [`CpuMeter`] reads each thread's `schedstat` (ns) before and after a piece of work, and
//! falls back to the process's clock ticks (`/proc/<pid>/stat`, 10 ms each on Linux) when a
//! thread came or went in between.

use std::io;

/// A reading of a process's CPU time, to compare with a later one.
pub struct CpuMeter {
    pid: u32,
    ticks: u64,
    threads: Vec<(u32, u64)>,
}

impl CpuMeter {
    /// Reads process `pid`'s CPU time now.
    pub fn start(pid: u32) -> io::Result<Self> {
        Ok(Self {
            pid,
            ticks: cpu_ticks(pid)?,
            threads: thread_cpu(pid)?,
        })
    }

    /// The CPU seconds spent since [`CpuMeter::start`], and whether they are precise (the
    /// threads' ns) rather than clock ticks (`clk_tck` per second).
    pub fn elapsed(&self, clk_tck: f64) -> io::Result<(f64, bool)> {
        let threads = thread_cpu(self.pid)?;
        let ticks = cpu_ticks(self.pid)?.saturating_sub(self.ticks);
        Ok(match cpu_ns_between(&self.threads, &threads) {
            Some(ns) => (ns as f64 / 1e9, true),
            None => (ticks as f64 / clk_tck, false),
        })
    }
}

/// `utime + stime` of process `pid` (every thread, in clock ticks), from
/// `/proc/<pid>/stat`.
pub fn cpu_ticks(pid: u32) -> io::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat)
        .ok_or_else(|| io::Error::other(format!("cannot parse /proc/{pid}/stat: {stat:?}")))
}

/// Fields 14 (`utime`) and 15 (`stime`) of a `stat` line; the command name (field 2, in
/// parentheses) may hold spaces, so counting starts after its closing parenthesis.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Every thread of process `pid` with its CPU time so far in ns (the first field of
/// `/proc/<pid>/task/<tid>/schedstat`, the scheduler's own account of time on a CPU, user
/// and kernel), sorted by thread id.
pub fn thread_cpu(pid: u32) -> io::Result<Vec<(u32, u64)>> {
    let mut threads = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let entry = entry?;
        let Some(tid) = entry
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        // A thread may end between the listing and the read.
        let Ok(line) = std::fs::read_to_string(entry.path().join("schedstat")) else {
            continue;
        };
        let ns = line.split_whitespace().next().and_then(|f| f.parse().ok());
        let ns = ns.ok_or_else(|| io::Error::other(format!("bad schedstat {line:?}")))?;
        threads.push((tid, ns));
    }
    threads.sort_unstable();
    Ok(threads)
}

/// The CPU time the threads spent between two [`thread_cpu`] readings, in ns; `None`
/// when a thread came or went in between (its time would be missed), and the caller
/// falls back to the process's clock ticks, which count ended threads too.
pub fn cpu_ns_between(before: &[(u32, u64)], after: &[(u32, u64)]) -> Option<u64> {
    let same = before.len() == after.len() && before.iter().zip(after).all(|(b, a)| b.0 == a.0);
    same.then(|| {
        before
            .iter()
            .zip(after)
            .map(|(b, a)| a.1.saturating_sub(b.1))
            .sum()
    })
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 when that fails, Linux's value).
pub fn clk_tck() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_utime_plus_stime() {
        let line = "1234 (my (odd) prog) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1";
        assert_eq!(parse_cpu_ticks(line), Some(300));
        assert_eq!(parse_cpu_ticks("garbage"), None);
        let own = cpu_ticks(std::process::id()).expect("own stat");
        assert!(own < u64::MAX);
    }

    #[test]
    fn thread_cpu_time_is_summed_only_over_the_same_threads() {
        let before = [(1, 100), (2, 1_000)];
        assert_eq!(cpu_ns_between(&before, &[(1, 150), (2, 1_200)]), Some(250));
        assert_eq!(cpu_ns_between(&before, &[(1, 150)]), None, "a thread ended");
        assert_eq!(
            cpu_ns_between(&before, &[(1, 150), (3, 5)]),
            None,
            "another one"
        );
        let own = thread_cpu(std::process::id()).expect("own threads");
        assert!(!own.is_empty());
    }
}
