//! The browser: the demo page and browser clients (`EventSource`, `fetch`, MQTT.js over a
//! browser WebSocket) in real Chromium against the real local stack.
//!
//! Each test runs one scenario of `tests/js/browser/scenarios.mjs` (the AI-answer ones
//! are in `ai_answer.mjs`, with a Rust producer and a stack of their own:
//! `e2e_browser/ai_answer.rs`) with `node tests/js/browser/main.mjs` (devstack's
//! [`NodeScript`]), which drives Debian's `chromium` (headless; `PUBSUB_CHROMIUM` names
//! another binary) with `playwright-core` from `tests/js`. Pages reach only loopback: the pinned MQTT.js address the demo page
//! loads is answered from `tests/js/node_modules`, anything else is aborted and fails the
//! scenario. `curl` is the client outside the browser. Screenshots go to
//! `<target dir>/browser/`. `scripts/setup.sh` installs Chromium, curl and the npm
//! packages; without them the tests fail and say so.

#[path = "e2e_browser/ai_answer.rs"]
mod ai_answer;
#[path = "support/e2e.rs"]
mod e2e;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use pubsub_devstack::{NodeScript, Stack, StackOptions};
use serde_json::{json, Value};

use e2e::{stack_with, token, unique};

/// The stack of these scenarios: the shared one, with the Mercure hub on as
/// `scripts/run.sh` has it.
fn stack() -> &'static Stack {
    stack_with(&[("mercure", "on; anonymous; default-kid dev")])
}

/// A Mercure 0.x token of the dev key, without `kid` (the hub's default key), valid for
/// ten minutes.
fn mercure_token(publish: &[&str], subscribe: &[&str]) -> String {
    let claims = json!({
        "mercure": {"publish": publish, "subscribe": subscribe},
        "exp": pubsub_token::now_secs() + 600,
    });
    let key = jsonwebtoken::EncodingKey::from_secret(pubsub_devstack::DEV_KEY_SECRET.as_bytes());
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    jsonwebtoken::encode(&header, &claims, &key).expect("HS256 signs")
}

/// The node script's own bound on a scenario (`limitMs`; twice this for the restarts); the
/// test waits 30 s longer before giving up.
const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("js")
}

fn chromium() -> String {
    std::env::var("PUBSUB_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// `<target dir>/browser`: the screenshots.
fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("browser")
}

/// Fails (never skips) when something the scenarios need is missing.
fn check_prerequisites() {
    let playwright = js_dir().join("node_modules/playwright-core/package.json");
    assert!(
        playwright.is_file(),
        "playwright-core is not installed in tests/js: run scripts/setup.sh"
    );
    assert!(
        Path::new(&chromium()).is_file(),
        "no Chromium at {}: run scripts/setup.sh (apt-get install chromium) or set PUBSUB_CHROMIUM",
        chromium()
    );
    for (program, arg) in [("node", "--version"), ("curl", "--version")] {
        let ran = Command::new(program).arg(arg).output();
        assert!(
            matches!(&ran, Ok(out) if out.status.success()),
            "`{program}` is not runnable ({ran:?}): run scripts/setup.sh"
        );
    }
}

/// The scenario's configuration: the stack's address, a token that may read and write
/// topics `shown` and `fromPage` (not `forbidden`), a bad token, and `extra`.
fn config(stack: &Stack, scenario: &str, topics: Value, extra: Value) -> Value {
    let topic = |key: &str| topics[key].as_str().unwrap_or_default().to_owned();
    let mut mine = vec![topic("shown"), topic("fromPage")];
    mine.dedup();
    let mine: Vec<&str> = mine.iter().map(String::as_str).collect();
    let mut cfg = json!({
        "scenario": scenario,
        "appUrl": stack.app_url(),
        "chromium": chromium(),
        "mqttJsUrl": pubsub_handlers::demo::MQTT_JS_URL,
        "artifacts": artifacts_dir(),
        "limitMs": SCENARIO_LIMIT.as_millis() as u64,
        "token": token(&mine, &mine),
        "badToken": "not-a-token",
        "topics": topics,
    });
    if let (Some(cfg), Value::Object(extra)) = (cfg.as_object_mut(), extra) {
        cfg.extend(extra);
    }
    cfg
}

/// Fresh topics for one scenario.
fn topics() -> Value {
    json!({
        "shown": unique("browser-shown"),
        "fromPage": unique("browser-from-page"),
        "forbidden": unique("browser-forbidden"),
    })
}

/// Runs `scenario` and fails with its output unless it ends with `ok`. A line the script
/// prints as `ask <request>` goes to `answer`, whose reply is written to its stdin.
/// Returns the script's lines.
fn run_with(cfg: Value, mut answer: impl FnMut(&str) -> String) -> Vec<String> {
    check_prerequisites();
    std::fs::create_dir_all(artifacts_dir()).expect("create the artifacts directory");
    let scenario = cfg["scenario"].as_str().unwrap_or_default().to_owned();
    let (tx, rx) = mpsc::channel();
    let mut script = NodeScript::start(
        &js_dir(),
        "browser/main.mjs",
        "PUBSUB_BROWSER",
        &cfg,
        move |line| {
            let _ = tx.send(line);
        },
    )
    .expect("start node");
    let limit = Duration::from_millis(cfg["limitMs"].as_u64().unwrap_or_default());
    let deadline = Instant::now() + limit + Duration::from_secs(30);
    let mut lines = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                println!("[{scenario}] {line}");
                if let Some(request) = line.strip_prefix("ask ") {
                    let reply = answer(request);
                    script.send_line(&reply).expect("answer the script");
                }
                lines.push(line);
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) if Instant::now() > deadline => {
                panic!("{scenario} did not finish in time:\n{}", lines.join("\n"))
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    let passed = lines
        .iter()
        .any(|l| l.starts_with(&format!("ok {scenario}")));
    assert!(
        passed,
        "browser scenario {scenario} failed (PUBSUB_STACK_LOGS=1 shows the stack's logs):\n{}",
        lines.join("\n")
    );
    lines
}

/// The AI-answer scenarios measure a producer's rate: they run alone (write), the other
/// scenarios side by side (read).
static SOLO: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A turn among the scenarios that may run side by side.
fn shared_turn() -> std::sync::RwLockReadGuard<'static, ()> {
    SOLO.read().unwrap_or_else(|e| e.into_inner())
}

fn run(scenario: &str, extra: Value) -> Vec<String> {
    let _turn = shared_turn();
    let cfg = config(stack(), scenario, topics(), extra);
    run_with(cfg, |request| panic!("unexpected request {request:?}"))
}

#[test]
fn the_demo_page_shows_a_curl_publish_and_a_curl_subscriber_gets_its_publish() {
    run("demoPage", json!({}));
}

#[test]
fn a_page_on_another_origin_subscribes_and_publishes_past_the_cors_preflight() {
    run("crossOrigin", json!({}));
}

#[test]
fn a_mercure_event_source_gets_public_updates_and_with_the_cookie_private_ones() {
    let extra = json!({
        "mercurePublisher": mercure_token(&["*"], &[]),
        "mercureReader": mercure_token(&[], &["*"]),
    });
    run("mercure", extra);
}

#[test]
fn a_stream_error_reaches_the_page_which_closes_the_event_source_without_reconnecting() {
    run("streamError", json!({}));
}

#[test]
fn mqtt_js_5_in_the_page_gets_an_http_publish_and_the_puback_of_its_qos_1_publish() {
    run("mqttJs", json!({ "protocolVersion": 5 }));
}

#[test]
fn mqtt_js_3_1_1_in_the_page_gets_an_http_publish_and_the_puback_of_its_qos_1_publish() {
    run("mqttJs", json!({ "protocolVersion": 4 }));
}

/// The screenshots use topic `demo` and a token for it alone, as `scripts/run.sh` prints.
#[test]
fn the_demo_page_in_use_is_screenshotted_at_desktop_and_phone_width() {
    let _turn = shared_turn();
    let topics = json!({ "shown": "demo", "fromPage": "demo" });
    let cfg = config(stack(), "screenshots", topics, json!({}));
    let lines = run_with(cfg, |request| panic!("unexpected request {request:?}"));
    let shots: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("screenshot "))
        .collect();
    assert_eq!(shots.len(), 2, "{lines:?}");
    for shot in shots {
        let png = std::fs::read(shot).expect("read the screenshot");
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "{shot}");
    }
}

/// A stack of its own: this test stops and starts Pushpin and Viceroy.
#[test]
fn a_durable_event_source_survives_a_restart_and_resumes_with_last_event_id() {
    let _turn = shared_turn();
    let mut stack = Stack::start(StackOptions {
        quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("cannot start a stack: {e}"));
    let limit = 2 * SCENARIO_LIMIT.as_millis() as u64;
    let cfg = config(
        &stack,
        "durableRestart",
        topics(),
        json!({ "limitMs": limit }),
    );
    run_with(cfg, |request| {
        let restarted = match request {
            "restart pushpin viceroy" => stack
                .restart_pushpin()
                .and_then(|()| stack.restart_viceroy()),
            "restart pushpin" => stack.restart_pushpin(),
            other => panic!("unexpected request {other:?}"),
        };
        restarted.unwrap_or_else(|e| panic!("{request}: {e}\n{}", stack.logs()));
        "restarted".to_owned()
    });
}
