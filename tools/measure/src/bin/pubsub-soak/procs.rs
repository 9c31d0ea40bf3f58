//! Memory, CPU and descriptors of the stack's processes from `/proc`: Viceroy, Pushpin's
//! runner with its descendants (condure, zurl, pushpin-proxy, pushpin-handler), and the
//! clients' side: this process (`pubsub-soak`, the SSE streams) and its `node` children
//! (the MQTT.js clients).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// One process's figures.
#[derive(Clone, Debug, Default)]
pub(crate) struct ProcFigures {
    pub(crate) name: String,
    /// CPU seconds (user + system) at the first and the latest sample.
    pub(crate) cpu_start: f64,
    pub(crate) cpu_now: f64,
    /// Peak resident set (kB): the kernel's `VmHWM`.
    pub(crate) peak_rss_kb: u64,
    /// Most open file descriptors seen at a sample (the hard limit here is 20,000).
    pub(crate) peak_fds: u64,
}

/// Samples the processes every 500 ms until dropped.
pub(crate) struct Sampler {
    figures: Arc<Mutex<BTreeMap<u32, ProcFigures>>>,
    /// Peak of the summed RSS of all watched processes (kB).
    peak_sum: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Sampler {
    pub(crate) fn start(viceroy: u32, pushpin: u32) -> std::io::Result<Self> {
        let figures = Arc::new(Mutex::new(BTreeMap::new()));
        let peak_sum = Arc::new(Mutex::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (f, p, s) = (
            Arc::clone(&figures),
            Arc::clone(&peak_sum),
            Arc::clone(&stop),
        );
        let handle = std::thread::Builder::new()
            .name("proc sampler".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                while !s.load(Ordering::Relaxed) {
                    let mut pids = vec![viceroy, pushpin];
                    pids.extend(descendants(pushpin));
                    pids.push(std::process::id());
                    pids.extend(descendants(std::process::id()).into_iter().filter(is_node));
                    let mut sum = 0;
                    let mut figs = f.lock().unwrap_or_else(PoisonError::into_inner);
                    for pid in pids {
                        let Some((name, cpu, rss, hwm)) = read(pid) else {
                            continue;
                        };
                        sum += rss;
                        let e = figs.entry(pid).or_insert_with(|| ProcFigures {
                            name,
                            cpu_start: cpu,
                            ..ProcFigures::default()
                        });
                        e.cpu_now = cpu;
                        e.peak_rss_kb = e.peak_rss_kb.max(hwm);
                        e.peak_fds = e.peak_fds.max(fds(pid));
                    }
                    drop(figs);
                    let mut peak = p.lock().unwrap_or_else(PoisonError::into_inner);
                    *peak = (*peak).max(sum);
                    drop(peak);
                    std::thread::sleep(Duration::from_millis(500));
                }
            })?;
        Ok(Self {
            figures,
            peak_sum,
            stop,
            handle: Some(handle),
        })
    }

    /// Per process, and the peak of the summed RSS (kB).
    pub(crate) fn snapshot(&self) -> (Vec<ProcFigures>, u64) {
        let figs = self.figures.lock().unwrap_or_else(PoisonError::into_inner);
        let peak = *self.peak_sum.lock().unwrap_or_else(PoisonError::into_inner);
        (figs.values().cloned().collect(), peak)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn is_node(pid: &u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "node")
}

/// Open file descriptors of `pid`.
fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// Prints the process table (without its total line); returns the CPU seconds summed.
pub(crate) fn procs(procs: &[ProcFigures]) -> f64 {
    println!(
        "\n| Process | Peak RSS (MB, VmHWM) | CPU s during the run | Peak open descriptors |\n\
         |---|---|---|---|"
    );
    let mut total_cpu = 0.0;
    for p in procs {
        let cpu = p.cpu_now - p.cpu_start;
        total_cpu += cpu;
        let mb = p.peak_rss_kb as f64 / 1024.0;
        println!("| {} | {mb:.1} | {cpu:.2} | {} |", p.name, p.peak_fds);
    }
    total_cpu
}

/// Name, CPU seconds, current RSS and peak RSS (kB) of `pid`.
fn read(pid: u32) -> Option<(String, f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (name, cpu) = parse_stat(&stat)?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    Some((name, cpu, kb("VmRSS:"), kb("VmHWM:")))
}

/// `comm` and utime + stime in seconds (at 100 ticks per second) from `/proc/<pid>/stat`.
fn parse_stat(stat: &str) -> Option<(String, f64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat[open + 1..close].to_string();
    let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
    // After the name: state (index 0), ..., utime at 11, stime at 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, (utime + stime) as f64 / 100.0))
}

/// Every descendant of `root`.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            let ppid = stat
                .rfind(')')
                .and_then(|c| stat[c + 2..].split(' ').nth(1)?.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_gives_name_and_cpu_seconds() {
        let stat = "42 (pushpin-proxy) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0";
        assert_eq!(parse_stat(stat), Some(("pushpin-proxy".into(), 3.0)));
    }
}
