//! Running the batches: one [`Module`] per build, each on its own stack (Pushpin +
//! Viceroy; the publish paths need Pushpin's publish API and the handoff its proxy), and
//! the CPU time Viceroy spends on a batch from `/proc/<viceroy pid>/stat`.

use std::io;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pubsub_devstack::{Stack, StackOptions};

use crate::client::Client;
use crate::mqtt::Meta;
use crate::paths::{self, Ctx, Path};
use crate::wasm::Built;

/// One batch of one path on one module.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    /// Viceroy's CPU time (user + system, all threads) per request, in µs.
    pub(crate) cpu_us: f64,
    /// Requests per second, one client sending them one after another.
    pub(crate) rps: f64,
    /// The status of the batch's answers.
    pub(crate) status: u16,
    /// Whether `cpu_us` comes from the threads' ns counters (else from clock ticks).
    pub(crate) precise: bool,
}

/// A build running on its own stack.
pub(crate) struct Module {
    /// `b` for the baseline, `c` for the current tree (keeps topics apart).
    pub(crate) tag: char,
    pub(crate) built: Built,
    stack: Stack,
    client: Client,
    pid: u32,
    grip_sig: String,
    meta: Meta,
    clk_tck: f64,
}

impl Module {
    /// Starts `built` on a fresh stack with `max-topics = 10` (the current default is 9,
    /// the baseline's 10) and the Config Store entries `extra`, and leaves a retained
    /// message on the durable path's topic.
    pub(crate) fn start(
        tag: char,
        built: Built,
        clk_tck: f64,
        extra: &[(String, String)],
    ) -> io::Result<Self> {
        let mut config = vec![("max-topics".into(), paths::MANY.to_string())];
        config.extend_from_slice(extra);
        let stack = Stack::start(StackOptions {
            quiet: true,
            wasm: built.wasm.clone(),
            config,
            ..StackOptions::default()
        })?;
        let pid = stack
            .viceroy_pid()
            .ok_or_else(|| io::Error::other("Viceroy is not running"))?;
        let grip_sig = grip_sig(stack.grip_key())?;
        let client = Client::new(stack.app_port());
        let mut module = Self {
            tag,
            built,
            stack,
            client,
            pid,
            grip_sig,
            meta: Meta::default(),
            clk_tck,
        };
        module.retain_durable_message()?;
        Ok(module)
    }

    fn retain_durable_message(&mut self) -> io::Result<()> {
        let topic = paths::DURABLE_TOPIC;
        let token = pubsub_devstack::dev_token(&[], &[topic]);
        let req = crate::client::Req::post(
            format!("/events?topic={topic}&retain=true"),
            b"retained message for the durable subscribe".to_vec(),
        )
        .header("authorization", format!("Bearer {token}"));
        let answer = self.client.send(&req)?;
        if answer.status != 200 {
            return Err(io::Error::other(format!(
                "retained publish to {topic}: status {}",
                answer.status
            )));
        }
        Ok(())
    }

    /// Opens a fresh MQTT connection (untimed): its state is what the SUBSCRIBE and
    /// PUBLISH batches of `round` carry, so it never goes stale.
    pub(crate) fn connect_mqtt(&mut self, round: usize) -> io::Result<()> {
        let ctx = self.ctx(round);
        let req = paths::build(Path::MqttConnect, &ctx, 1).remove(0);
        let answer = self.client.send(&req)?;
        paths::check(Path::MqttConnect, &answer).map_err(io::Error::other)?;
        let mut meta = Meta::default();
        meta.apply(&answer);
        if meta.len() == 0 {
            return Err(io::Error::other(
                "CONNECT answer set no connection metadata",
            ));
        }
        self.meta = meta;
        Ok(())
    }

    fn ctx(&self, round: usize) -> Ctx<'_> {
        Ctx {
            grip_sig: &self.grip_sig,
            meta: &self.meta,
            tag: format!("{}{round}", self.tag),
        }
    }

    /// Sends `n` requests of `path` (built before the clock starts), checks every answer,
    /// and measures Viceroy's CPU time and the wall time.
    pub(crate) fn batch(&mut self, path: Path, round: usize, n: usize) -> io::Result<Sample> {
        self.stack.check_running()?;
        let reqs = paths::build(path, &self.ctx(round), n);
        let ticks_before = cpu_ticks(self.pid)?;
        let threads_before = thread_cpu(self.pid)?;
        let start = Instant::now();
        let mut status = 0;
        for req in &reqs {
            let answer = self.client.send(req)?;
            paths::check(path, &answer).map_err(io::Error::other)?;
            status = answer.status;
        }
        let wall = start.elapsed().as_secs_f64();
        let threads_after = thread_cpu(self.pid)?;
        let ticks = cpu_ticks(self.pid)?.saturating_sub(ticks_before);
        let precise_ns = cpu_ns_between(&threads_before, &threads_after);
        let cpu_s = match precise_ns {
            Some(ns) => ns as f64 / 1e9,
            None => ticks as f64 / self.clk_tck,
        };
        let count = reqs.len().max(1) as f64;
        Ok(Sample {
            cpu_us: cpu_s * 1e6 / count,
            rps: count / wall.max(1e-9),
            status,
            precise: precise_ns.is_some(),
        })
    }

    /// One request of every path, printed with its answer (`--show`), untimed.
    pub(crate) fn show(&mut self) -> io::Result<()> {
        self.connect_mqtt(0)?;
        for path in Path::ALL {
            let req = paths::build(path, &self.ctx(0), 1).remove(0);
            let answer = self.client.send(&req)?;
            let body = &answer.body[..answer.body.len().min(400)];
            println!(
                "--- {} {} ({} {}): {}\n{:?}\n{}",
                self.built.label,
                path.slug(),
                req.method,
                req.target.get(..80).unwrap_or(&req.target),
                answer.status,
                answer.headers,
                String::from_utf8_lossy(body)
            );
        }
        Ok(())
    }

    /// Stops the stack (also done on drop).
    pub(crate) fn stop(&mut self) {
        self.stack.stop();
    }
}

/// The local `Grip-Sig`: an HS256 JWT with the stack's `grip-sig-key`, issuer `pushpin`
/// (what Pushpin signs with), valid for an hour.
fn grip_sig(key: &str) -> io::Result<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(io::Error::other)?
        .as_secs();
    let claims = serde_json::json!({ "iss": "pushpin", "exp": now + 3600 });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(key.as_bytes()),
    )
    .map_err(io::Error::other)
}

/// `utime + stime` of process `pid` (every thread, in clock ticks), from
/// `/proc/<pid>/stat`.
pub(crate) fn cpu_ticks(pid: u32) -> io::Result<u64> {
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
pub(crate) fn thread_cpu(pid: u32) -> io::Result<Vec<(u32, u64)>> {
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
pub(crate) fn cpu_ns_between(before: &[(u32, u64)], after: &[(u32, u64)]) -> Option<u64> {
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
pub(crate) fn clk_tck() -> f64 {
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
