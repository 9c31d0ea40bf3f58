//! One JavaScript example of the documentation, run for `tests/docs_examples.rs`: in Node
//! when it imports a package (a module next to a link to `tests/js/node_modules`), else in a
//! Chromium page on the stack's origin (`tests/js/docs_example.mjs`). Its console output is
//! collected until it shows the documented lines, the wait passes or the example exits.
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pubsub_devstack::NodeScript;
use serde_json::json;

use super::examples::{indent, missing};

/// An example to run: where it is, its code (addresses already pointed at the stack), the
/// lines it must print.
pub struct Example<'a> {
    pub here: &'a str,
    pub code: &'a str,
    pub expect: &'a [String],
    pub dir: &'a Path,
    pub app_url: &'a str,
}

impl Example<'_> {
    /// Runs it; `None` when it printed the documented lines without an uncaught error.
    pub fn run(&self, wait: Duration) -> Option<String> {
        let output = Arc::new(Mutex::new(String::new()));
        let collect = {
            let output = Arc::clone(&output);
            move |line: String| {
                if let Ok(mut out) = output.lock() {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        };
        let in_node = self.code.contains("import ");
        let running = if in_node {
            node_example(self.code, self.dir, collect)
        } else {
            browser_example(self.code, self.app_url, collect)
        };
        let mut running = match running {
            Ok(r) => r,
            Err(e) => return Some(format!("{}: cannot run it: {e}", self.here)),
        };
        let deadline = Instant::now() + wait;
        let text = || output.lock().map(|o| o.clone()).unwrap_or_default();
        while missing(self.expect, &text()).is_some()
            && Instant::now() < deadline
            && running.alive()
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        running.stop();
        let printed = text();
        let errors = printed.lines().any(|l| l.starts_with("pageerror:"));
        match missing(self.expect, &printed) {
            None if !errors => None,
            lacking => Some(format!(
                "{} ({}): {}; it printed:\n{}",
                self.here,
                if in_node { "Node" } else { "Chromium" },
                lacking.map_or("an uncaught error".to_owned(), |l| format!(
                    "lacks the documented line {l:?}"
                )),
                indent(&printed)
            )),
        }
    }
}

/// A running JavaScript example.
enum Running {
    Node(Child),
    Browser(Option<NodeScript>),
}

impl Running {
    fn alive(&mut self) -> bool {
        match self {
            Running::Node(child) => matches!(child.try_wait(), Ok(None)),
            Running::Browser(Some(script)) => matches!(script.exited(), Ok(None)),
            Running::Browser(None) => false,
        }
    }

    fn stop(&mut self) {
        match self {
            Running::Node(child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Running::Browser(script) => drop(script.take()),
        }
    }
}

pub fn js_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

/// `node` on the block written to a module next to a link to `tests/js/node_modules`.
fn node_example(
    code: &str,
    dir: &Path,
    on_line: impl FnMut(String) + Send + 'static,
) -> std::io::Result<Running> {
    let modules = dir.join("node_modules");
    if !modules.exists() {
        std::os::unix::fs::symlink(js_dir().join("node_modules"), &modules)?;
    }
    let file = dir.join("example.mjs");
    std::fs::write(&file, code)?;
    let mut child = std::process::Command::new("node")
        .arg(&file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let on_line = Arc::new(Mutex::new(on_line));
    for pipe in [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let on_line = Arc::clone(&on_line);
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Ok(mut f) = on_line.lock() {
                    f(line);
                }
            }
        });
    }
    Ok(Running::Node(child))
}

/// `tests/js/docs_example.mjs`: the block in a Chromium page on the stack's origin.
fn browser_example(
    code: &str,
    app_url: &str,
    on_line: impl FnMut(String) + Send + 'static,
) -> std::io::Result<Running> {
    let chromium =
        std::env::var("PUBSUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let cfg = json!({
        "chromium": chromium,
        "appUrl": app_url,
        "mqttJsUrl": pubsub_handlers::demo::MQTT_JS_URL,
        "code": code,
        "limitMs": 60_000,
    });
    NodeScript::start(
        &js_dir(),
        "docs_example.mjs",
        "PUBSUB_DOCS_JS",
        &cfg,
        on_line,
    )
    .map(|script| Running::Browser(Some(script)))
}
