//! MQTT.js subscribers and publisher: `node tests/js/soak.mjs`. Its `d <client> <seq>
//! <latency>` lines become [`Delivery`]s (client ids are `m<subscriber index>`).

use std::io;
use std::path::Path;
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

/// The running script (`tests/js/soak.mjs`).
pub(crate) struct Node {
    script: NodeScript,
    seen: Arc<Seen>,
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
        let seen = Arc::new(Seen::default());
        let sink = Arc::clone(&seen);
        let script = NodeScript::start(js_dir, "soak.mjs", "PUBSUB_SOAK", &config, move |line| {
            sink.record(&line)
        })?;
        Ok(Self { script, seen })
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
