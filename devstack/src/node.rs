//! A `tests/js` node script driven from Rust (the browser and docs-example tests, and the
//! measuring programs `pubsub-idle-cost` and `pubsub-soak` in `tools/measure`): started with its configuration as JSON in an environment variable,
//! every stdout line handed to a callback on a reader thread, commands written to its
//! stdin. Dropping it closes stdin (the script then ends its clients and exits) and, after
//! 5 s, kills it.

use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running node script; see the module documentation.
pub struct NodeScript {
    child: Child,
    stdin: Option<ChildStdin>,
    reader: Option<JoinHandle<()>>,
}

impl NodeScript {
    /// Runs `node <script>` in `js_dir` with `config` in environment variable `env_var`;
    /// `on_line` gets every line the script prints.
    pub fn start(
        js_dir: &Path,
        script: &str,
        env_var: &str,
        config: &serde_json::Value,
        mut on_line: impl FnMut(String) + Send + 'static,
    ) -> io::Result<Self> {
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(js_dir)
            .env(env_var, config.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot run node: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let reader = std::thread::Builder::new()
            .name("node output".into())
            .spawn(move || {
                let Some(out) = stdout else { return };
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    on_line(line);
                }
            })?;
        Ok(Self {
            child,
            stdin,
            reader: Some(reader),
        })
    }

    /// The script's exit status, if it has exited.
    pub fn exited(&mut self) -> io::Result<Option<ExitStatus>> {
        self.child.try_wait()
    }

    /// Writes one line to the script's stdin.
    pub fn send_line(&mut self, line: &str) -> io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| io::Error::other("node's stdin is closed"))?;
        writeln!(stdin, "{line}")?;
        stdin.flush()
    }

    /// Waits until `ready()` holds; an error with `output()` when the script exits first or
    /// `timeout` passes.
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        ready: impl Fn() -> bool,
        output: impl Fn() -> String,
    ) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ready() {
                return Ok(());
            }
            let exited = self.exited()?;
            if exited.is_some() || Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "the MQTT.js clients did not all connect and subscribe within {timeout:?} \
                     (node: {exited:?}); its output:\n{}",
                    output()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for NodeScript {
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
