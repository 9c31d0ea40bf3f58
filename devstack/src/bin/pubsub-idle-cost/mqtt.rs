//! Idle MQTT.js connections: `node tests/js/idle.mjs`, whose output lines are collected
//! with the time they arrived.

use std::io::{self, BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One MQTT.js client for the script.
pub(crate) struct ClientSpec {
    /// Client id and topic.
    pub(crate) id: String,
    /// 5, or 4 for MQTT 3.1.1.
    pub(crate) protocol_version: u8,
    pub(crate) token: String,
}

/// The running node script. Dropping it closes its stdin (it then ends its clients and
/// exits) and, after 5 s, kills it.
pub(crate) struct NodeClients {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<JoinHandle<()>>,
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
        let mut child = Command::new("node")
            .arg("idle.mjs")
            .current_dir(js_dir)
            .env("PUBSUB_IDLE", config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run node: {e}")))?;
        let stdin = child.stdin.take();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let stdout = child.stdout.take();
        let reader = std::thread::Builder::new()
            .name("node output".into())
            .spawn(move || {
                let Some(out) = stdout else { return };
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((Instant::now(), line));
                }
            })?;
        Ok(Self {
            child,
            stdin,
            lines,
            reader: Some(reader),
        })
    }

    /// Waits until the script reports `all-ready`.
    pub(crate) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lines().iter().any(|(_, l)| l == "all-ready") {
                return Ok(());
            }
            let exited = self.child.try_wait()?;
            if exited.is_some() || Instant::now() > deadline {
                let output: Vec<String> = self.lines().into_iter().map(|(_, l)| l).collect();
                return Err(io::Error::other(format!(
                    "the MQTT.js clients did not all connect and subscribe within {timeout:?} \
                     (node: {exited:?}); its output:\n{}",
                    output.join("\n")
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether the script is still running.
    pub(crate) fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Every output line so far, with the time it arrived.
    pub(crate) fn lines(&self) -> Vec<(Instant, String)> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for NodeClients {
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
