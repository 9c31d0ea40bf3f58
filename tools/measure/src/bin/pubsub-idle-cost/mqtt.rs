//! Idle MQTT.js connections: `node tests/js/idle.mjs`, whose output lines are collected
//! with the time they arrived.

use std::io;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use pubsub_devstack::NodeScript;

/// One MQTT.js client for the script.
pub(crate) struct ClientSpec {
    /// Client id and topic.
    pub(crate) id: String,
    /// 5, or 4 for MQTT 3.1.1.
    pub(crate) protocol_version: u8,
    pub(crate) token: String,
}

/// The running node script (`tests/js/idle.mjs`).
pub(crate) struct NodeClients {
    script: NodeScript,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl NodeClients {
    pub(crate) fn start(
        js_dir: &Path,
        app_port: u16,
        clients: &[ClientSpec],
        limit: Duration,
    ) -> io::Result<Self> {
        let config = serde_json::json!({
            "mqttUrl": format!("ws://127.0.0.1:{app_port}/mqtt"),
            "limitSecs": limit.as_secs(),
            "clients": clients.iter().map(|c| serde_json::json!({
                "id": c.id, "protocolVersion": c.protocol_version, "token": c.token,
            })).collect::<Vec<_>>(),
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let script = NodeScript::start(js_dir, "idle.mjs", "PUBSUB_IDLE", &config, move |line| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((Instant::now(), line));
        })?;
        Ok(Self { script, lines })
    }

    /// Waits until the script reports `all-ready`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let lines = Arc::clone(&self.lines);
        let all = move || -> Vec<String> {
            let lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
            lines.iter().map(|(_, l)| l.clone()).collect()
        };
        self.script.wait_until(
            timeout,
            || all().iter().any(|l| l == "all-ready"),
            || all().join("\n"),
        )
    }

    /// Whether the script is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.script.exited(), Ok(None))
    }

    /// Every output line so far, with the time it arrived.
    pub(crate) fn lines(&self) -> Vec<(Instant, String)> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}
