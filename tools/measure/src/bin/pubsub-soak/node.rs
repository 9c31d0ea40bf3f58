//! MQTT.js subscribers and publisher: `node tests/js/soak.mjs`. Its `d <client> <seq>
//! <latency>` lines become [`Delivery`]s (client ids are `m<subscriber index>`). The
//! configuration (thousands of clients) goes in a file, as an environment variable holds
//! at most 128 KiB; one script holds [`PER_NODE`] clients at most, so a soak with more
//! runs several.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use pubsub_devstack::NodeScript;

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

/// MQTT clients one node process holds at most (one event loop keeps up with about this
/// many clients' deliveries).
pub(crate) const PER_NODE: usize = 2_500;

/// The running script (`tests/js/soak.mjs`).
pub(crate) struct Node {
    script: NodeScript,
    seen: Arc<Seen>,
    config_file: PathBuf,
}

impl Node {
    pub(crate) fn start(
        js_dir: &Path,
        app_port: u16,
        subs: &[Sub],
        publisher_token: Option<&str>,
        limit: Duration,
        churn: Option<&serde_json::Value>,
    ) -> io::Result<Self> {
        let config = serde_json::json!({
            "churn": churn,
            "mqttUrl": format!("ws://127.0.0.1:{app_port}/mqtt"),
            "limitSecs": limit.as_secs(),
            "batch": 25,
            "pauseMs": 200,
            "clients": subs.iter().map(|s| serde_json::json!({
                "id": format!("m{}", s.index), "topic": s.topic, "token": s.token,
            })).collect::<Vec<_>>(),
            "publisher": publisher_token.map(|t| serde_json::json!({"id": "soak-pub", "token": t})),
        });
        let first = subs.first().map_or(0, |s| s.index);
        let config_file =
            std::env::temp_dir().join(format!("pubsub-soak-{}-{first}.json", std::process::id()));
        std::fs::write(&config_file, config.to_string())?;
        let pointer = serde_json::json!({ "file": config_file });
        let seen = Arc::new(Seen::default());
        let sink = Arc::clone(&seen);
        let script = NodeScript::start(js_dir, "soak.mjs", "PUBSUB_SOAK", &pointer, move |line| {
            sink.record(&line)
        })?;
        Ok(Self {
            script,
            seen,
            config_file,
        })
    }

    /// Waits until the script reports `all-ready`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let seen = Arc::clone(&self.seen);
        let lines = move || lock(&seen.other).clone();
        self.script.wait_until(
            timeout,
            || lines().iter().any(|l| l == "all-ready"),
            || lines().join("\n"),
        )
    }

    /// Asks the publisher to publish message `seq` to `topic`.
    pub(crate) fn publish(&mut self, topic: &str, seq: u64, qos: u8) -> io::Result<()> {
        self.script.send_line(&format!("pub {topic} {seq} {qos}"))
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

/// Several scripts, [`PER_NODE`] clients each; the first one also holds the publisher.
pub(crate) struct Nodes(Vec<Node>);

impl Nodes {
    /// Starts every script at once (each ramps its own clients); `churn` is the reconnect
    /// soak's timing (see `tests/js/soak.mjs`).
    pub(crate) fn start(
        js_dir: &Path,
        app_port: u16,
        subs: &[Sub],
        publisher_token: Option<&str>,
        limit: Duration,
        churn: Option<&serde_json::Value>,
    ) -> io::Result<Self> {
        let mut nodes = Vec::new();
        for (i, part) in subs.chunks(PER_NODE).enumerate() {
            let publisher = publisher_token.filter(|_| i == 0);
            nodes.push(Node::start(
                js_dir, app_port, part, publisher, limit, churn,
            )?);
        }
        if nodes.is_empty() {
            nodes.push(Node::start(
                js_dir,
                app_port,
                &[],
                publisher_token,
                limit,
                churn,
            )?);
        }
        Ok(Self(nodes))
    }

    /// Waits until every script reports `all-ready`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        self.0.iter_mut().try_for_each(|n| n.wait_ready(timeout))
    }

    /// Asks the publisher to publish message `seq` to `topic`.
    pub(crate) fn publish(&mut self, topic: &str, seq: u64, qos: u8) -> io::Result<()> {
        self.0[0].publish(topic, seq, qos)
    }

    pub(crate) fn count(&self) -> u64 {
        self.0.iter().map(Node::count).sum()
    }

    /// Takes the deliveries recorded since the last call.
    pub(crate) fn take(&self) -> Vec<Delivery> {
        self.0.iter().flat_map(Node::take).collect()
    }

    /// Every other output line so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.iter().flat_map(Node::lines).collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.config_file);
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
