//! MQTT.js subscribers and publisher: `node tests/js/soak.mjs`. Its `d <client> <seq>
//! <latency>` lines become [`Delivery`]s (client ids are `m<subscriber index>`).

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::stats::Delivery;

/// One MQTT 5 subscriber.
pub(crate) struct Sub {
    pub(crate) index: u32,
    pub(crate) topic: String,
    pub(crate) token: String,
}

#[derive(Default)]
struct Seen {
    deliveries: Mutex<Vec<Delivery>>,
    other: Mutex<Vec<String>>,
    count: AtomicU64,
}

/// The running script; dropping it closes its stdin and, after 5 s, kills it.
pub(crate) struct Node {
    child: Child,
    stdin: Option<ChildStdin>,
    seen: Arc<Seen>,
    reader: Option<JoinHandle<()>>,
}

impl Node {
    pub(crate) fn start(
        js_dir: &Path,
        app_port: u16,
        subs: &[Sub],
        publisher_token: Option<&str>,
        limit: Duration,
    ) -> io::Result<Self> {
        let config = serde_json::json!({
            "mqttUrl": format!("ws://127.0.0.1:{app_port}/mqtt"),
            "limitSecs": limit.as_secs(),
            "batch": 25,
            "pauseMs": 200,
            "clients": subs.iter().map(|s| serde_json::json!({
                "id": format!("m{}", s.index), "topic": s.topic, "token": s.token,
            })).collect::<Vec<_>>(),
            "publisher": publisher_token.map(|t| serde_json::json!({"id": "soak-pub", "token": t})),
        });
        let mut child = Command::new("node")
            .arg("soak.mjs")
            .current_dir(js_dir)
            .env("PUBSUB_SOAK", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run node: {e}")))?;
        let stdin = child.stdin.take();
        let seen = Arc::new(Seen::default());
        let sink = Arc::clone(&seen);
        let stdout = child.stdout.take();
        let reader = std::thread::Builder::new()
            .name("node output".into())
            .spawn(move || {
                let Some(out) = stdout else { return };
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    sink.record(&line);
                }
            })?;
        Ok(Self {
            child,
            stdin,
            seen,
            reader: Some(reader),
        })
    }

    /// Waits until the script reports `all-ready`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lines().iter().any(|l| l == "all-ready") {
                return Ok(());
            }
            let exited = self.child.try_wait()?;
            if exited.is_some() || Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "the MQTT.js clients did not all connect and subscribe within {timeout:?} \
                     (node: {exited:?}); its output:\n{}",
                    self.lines().join("\n")
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Asks the publisher to publish message `seq` to `topic`.
    pub(crate) fn publish(&mut self, topic: &str, seq: u64, qos: u8) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("node's stdin is closed"))?;
        writeln!(stdin, "pub {topic} {seq} {qos}")?;
        stdin.flush()
    }

    pub(crate) fn count(&self) -> u64 {
        self.seen.count.load(Ordering::Relaxed)
    }

    /// Takes the deliveries recorded since the last call.
    pub(crate) fn take(&self) -> Vec<Delivery> {
        std::mem::take(&mut *lock(&self.seen.deliveries))
    }

    /// Every other output line so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        lock(&self.seen.other).clone()
    }
}

impl Seen {
    fn record(&self, line: &str) {
        let mut words = line.split(' ');
        if words.next() == Some("d") {
            let sub = words.next().and_then(|w| w.strip_prefix('m')?.parse().ok());
            let seq = words.next().and_then(|w| w.parse().ok());
            let lat = words.next().and_then(|w| w.parse().ok());
            if let (Some(sub), Some(seq), Some(lat)) = (sub, seq, lat) {
                lock(&self.deliveries).push(Delivery::new(sub, seq, lat));
                self.count.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
        if !line.is_empty() && !line.starts_with("puback ") {
            lock(&self.other).push(line.to_string());
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Node {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}
