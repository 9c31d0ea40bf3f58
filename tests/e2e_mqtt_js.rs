//! MQTT over WebSocket through the real stack with MQTT.js (npm `mqtt`), the client most
//! browser and Node users of the broker run: once with `protocolVersion: 5` and once with
//! MQTT.js's default, MQTT 3.1.1 (protocol level 4).
//!
//! The scenarios live in `tests/js/mqtt_scenarios.mjs`; this test starts the stack, mints
//! the tokens, runs `node` with them and fails with the script's output when a scenario
//! fails. The script's dependencies are installed by `scripts/setup.sh`
//! (`npm ci --prefix tests/js`); without them the tests fail and say so.

#[path = "support/e2e.rs"]
mod e2e;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{stack, token, unique};

/// The node script bounds itself at 60 s; this is the last resort if node itself hangs.
const NODE_LIMIT: Duration = Duration::from_secs(90);

/// Topic keys the script uses. `theirs` and `readOnly` are left out of the token's write
/// list, `theirs` out of its read list too.
const TOPICS: &[&str] = &[
    "will",
    "twoA",
    "twoB",
    "http2mqtt",
    "mqtt2sse",
    "qos1",
    "mine",
    "theirs",
    "readOnly",
    "unsubGone",
    "unsubKept",
    "neverSubscribed",
    "big",
    "noLocal",
    "wild",
];

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

/// Fails (never skips) when the script cannot run here.
fn check_prerequisites(dir: &Path) {
    let installed = dir
        .join("node_modules")
        .join("mqtt")
        .join("package.json")
        .is_file();
    assert!(
        installed,
        "MQTT.js is not installed in {}: run scripts/setup.sh (it runs `npm ci --prefix tests/js`)",
        dir.display()
    );
    let node = Command::new("node").arg("--version").output();
    assert!(
        matches!(&node, Ok(out) if out.status.success()),
        "`node` is not runnable ({node:?}): install Node.js 18 or later, then run scripts/setup.sh"
    );
}

/// The same token with a different, well-formed signature.
fn tampered(token: &str) -> String {
    let (head, sig) = token.rsplit_once('.').expect("a JWT has three parts");
    let mut sig = sig.to_owned();
    let first = if sig.starts_with('A') { "B" } else { "A" };
    sig.replace_range(..1, first);
    format!("{head}.{sig}")
}

fn as_refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn read_all(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = pipe.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    })
}

/// Runs every scenario of the script at `protocol_version` (5, or `None` for MQTT.js's
/// default) and fails with its output unless all passed.
fn run_scenarios(protocol_version: Option<u8>) {
    let dir = js_dir();
    check_prerequisites(&dir);
    let app_url = stack().app_url();
    let mqtt_url = format!("{}/mqtt", app_url.replacen("http://", "ws://", 1));

    let topics: serde_json::Map<String, serde_json::Value> = TOPICS
        .iter()
        .map(|key| ((*key).to_owned(), unique(&format!("js-{key}")).into()))
        .collect();
    let topic = |key: &str| topics[key].as_str().expect("topic").to_owned();
    let readable: Vec<String> = TOPICS
        .iter()
        .filter(|k| **k != "theirs")
        .map(|k| topic(k))
        .collect();
    let writable: Vec<String> = TOPICS
        .iter()
        .filter(|k| !matches!(**k, "theirs" | "readOnly"))
        .map(|k| topic(k))
        .collect();
    // Wildcard subscriptions under `wild` need a claim that covers them.
    let wild = format!("{}/#", topic("wild"));
    let (mut readable, mut writable) = (readable, writable);
    readable.push(wild.clone());
    writable.push(wild);
    let good = token(&as_refs(&readable), &as_refs(&writable));

    let cfg = serde_json::json!({
        "mqttUrl": mqtt_url,
        "appUrl": app_url,
        "protocolVersion": protocol_version.map_or(serde_json::json!("default"), |v| v.into()),
        "token": good,
        "badTokens": {
            "not a JWT": "not-a-token",
            "a JWT with a wrong signature": tampered(&good),
        },
        "topics": topics,
    });

    let started = Instant::now();
    let mut child = Command::new("node")
        .arg(dir.join("mqtt_scenarios.mjs"))
        .current_dir(&dir)
        .env("PUBSUB_MQTTJS", cfg.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start node");
    let stdout = read_all(child.stdout.take().expect("stdout"));
    let stderr = read_all(child.stderr.take().expect("stderr"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if started.elapsed() > NODE_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = started.elapsed();
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    // Shown by `cargo test -- --nocapture`, and with the failure below.
    println!("{stdout}");
    eprintln!("{stderr}");
    let output = format!(
        "node tests/js/mqtt_scenarios.mjs ({elapsed:.1?}):\n{stdout}\n--- stderr ---\n{stderr}"
    );
    match status {
        None => panic!("node did not finish within {NODE_LIMIT:?}\n{output}"),
        Some(status) => assert!(
            status.success(),
            "MQTT.js scenarios failed ({status}); PUBSUB_STACK_LOGS=1 shows the stack's logs\n\
             {output}"
        ),
    }
}

#[test]
fn mqttjs_with_protocol_version_5() {
    run_scenarios(Some(5));
}

#[test]
fn mqttjs_with_its_default_protocol_3_1_1() {
    run_scenarios(None);
}
