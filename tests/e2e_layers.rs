//! The rate limit and request log layers on the real stack (Viceroy running the wasm app,
//! Pushpin holding the connections), configured through its Config Store.
//!
//! What Viceroy 0.22 does with Edge Rate Limiting: every host call succeeds and answers
//! zero (`check_rate`: not over; `penaltybox_has`: not in the box; `viceroy-lib`
//! `src/wiggle_abi/erl_impl.rs`), so locally no request is ever refused for rate, however
//! low the limit. The first test shows it, and fails when a Viceroy starts counting; the
//! refusals themselves are tested natively (`tests/layers.rs`, the layer's and the MQTT
//! handler's unit tests). Real-time log lines go to Viceroy's stdout as
//! `<endpoint> :: <line>`, which the stack writes to `viceroy.log`.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::{Duration, Instant};

use e2e::*;
use mqtt::Mqtt;
use pubsub_devstack::{Stack, StackOptions};
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason};
use rumqttc::v5::mqttbytes::QoS;

/// Every class limited to one request a second, and every request logged.
const SETTINGS: [(&str, &str); 2] = [
    (
        "rate-limits",
        "publish 1/s over 1s penalty 1m; subscribe 1/s over 1s; admin 1/s over 1s; \
         mqtt-publish 1/s over 1s",
    ),
    ("request-log", "requests"),
];

const ADMIN_TOKEN: &str = "local-admin-token";

#[test]
fn viceroys_edge_rate_limiting_counts_nothing_so_no_limit_is_reached() {
    stack_with(&SETTINGS);
    let topic = unique("erl");
    let t = token(&[&topic], &[&topic]);
    // Natively, the second of each of these is refused (tests/layers.rs).
    for i in 0..10 {
        let reply = publish(&topic, format!("m{i}").as_bytes(), &t);
        assert_eq!(reply.status, 200, "publish {i}: {}", reply.text());
    }
    for _ in 0..3 {
        Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    }
    for i in 0..5 {
        let reply = send("GET", "/admin/keys", &[("Fastly-Key", ADMIN_TOKEN)], b"");
        assert_eq!(reply.status, 200, "admin {i}: {}", reply.text());
    }
    let m = Mqtt::connect(&unique("erl"), &t).expect("connect");
    for i in 0..10 {
        m.client
            .publish(&topic, QoS::AtLeastOnce, false, format!("q{i}"))
            .expect("publish");
        match m.expect("PUBACK") {
            Packet::PubAck(ack) => assert_eq!(ack.reason, PubAckReason::Success, "{i}"),
            other => panic!("{other:?}"),
        }
    }
}

/// The request log lines in Viceroy's output so far, parsed.
fn log_lines() -> (String, Vec<serde_json::Value>) {
    let path = stack().run_dir().join("viceroy.log");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let lines = text
        .lines()
        .filter_map(|l| l.strip_prefix("requests :: "))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    (text, lines)
}

/// Waits up to 5 s for a logged line that `wanted` accepts.
fn logged(what: &str, wanted: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(line) = log_lines().1.into_iter().find(&wanted) {
            return line;
        }
        assert!(Instant::now() < deadline, "no log line for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn each_request_is_a_json_line_on_viceroys_stdout_without_secrets() {
    stack_with(&SETTINGS);
    let topic = unique("log");
    let t = token(&[&topic], &[&topic]);
    let payload = format!("payload-{topic}");
    assert_eq!(publish(&topic, payload.as_bytes(), &t).status, 200);
    let wrong = send(
        "GET",
        "/admin/keys",
        &[("Fastly-Key", "a-wrong-admin-key")],
        b"",
    );
    assert_eq!(wrong.status, 401);
    let m = Mqtt::connect(&unique("log"), &t).expect("connect");
    m.client
        .publish(&topic, QoS::AtLeastOnce, false, payload.clone())
        .expect("publish");
    assert!(matches!(m.expect("PUBACK"), Packet::PubAck(_)));

    let publish = logged("the HTTP publish", |l| {
        l["method"] == "POST" && l["route"] == "/events" && l["status"] == 200
    });
    assert_eq!(
        (publish["topics"].as_u64(), publish["kid"].as_str()),
        (Some(1), Some("dev"))
    );
    assert!(publish["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(publish["duration_us"].as_u64().is_some());
    logged("the refused admin request", |l| {
        l["route"] == "/admin/keys" && l["status"] == 401 && l["error"] == "unauthorized"
    });
    logged("the handoff of the MQTT WebSocket", |l| {
        l["route"] == "/mqtt" && l["method"] == "GET" && l["handoff"] == true
    });
    logged("the batch with the CONNECT", |l| {
        l["mqtt_in"]["CONNECT"] == 1 && l["mqtt_out"]["CONNACK"] == 1 && l["grip"] == true
    });
    let batch = logged("the batch with the PUBLISH", |l| {
        l["mqtt_in"]["PUBLISH"] == 1 && l["mqtt_out"]["PUBACK"] == 1
    });
    assert_eq!(batch["kid"], "dev");
    assert!(batch["connection"].as_str().is_some_and(|c| !c.is_empty()));

    let (text, _) = log_lines();
    let secrets = [
        t.as_str(),
        payload.as_str(),
        "a-wrong-admin-key",
        ADMIN_TOKEN,
        stack().grip_key(),
    ];
    for secret in secrets {
        assert!(!text.contains(secret), "{secret:?} is in Viceroy's output");
    }
}

#[test]
fn a_bad_setting_on_the_real_config_store_is_a_500_naming_its_key() {
    let bad = Stack::start(StackOptions {
        quiet: true,
        config: vec![("rate-limits".into(), "publish 20 per minute".into())],
        ..StackOptions::default()
    })
    .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"));
    let url = format!("{}/events?topic=a", bad.app_url());
    let reply = reply(agent().post(&url).send_bytes(b"x"));
    assert_eq!(reply.status, 500);
    assert!(
        reply.text().contains("`rate-limits`") && reply.text().contains("publish 20 per minute"),
        "{}",
        reply.text()
    );
}
