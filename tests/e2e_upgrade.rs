//! A drop-in upgrade from Fastly's original Pub/Sub app, through the real stack (Pushpin +
//! Viceroy running the release wasm): KV store `messages` starts with records in the
//! original's format (`r:<topic>`, the payload as the value, `{"generation","seq",
//! "expires-at"}` as KV metadata), and clients resume with the original's event ids
//! (`<topic>:<generation, 16-wide hex>-<seq>`). See `docs/deployment.md`, "Upgrading from
//! Fastly's original app".
//!
//! This binary runs its own stack (seeded before it starts), not the shared one.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::sync::OnceLock;
use std::time::Duration;

use e2e::*;
use pubsub_core::retained::topic_tag;
use pubsub_devstack::{KvSeed, Stack, StackOptions};
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::mqttbytes::QoS;

/// The generation the original gave the seeded records (random per item in the original;
/// below 2^60, so its id form is space-padded).
const GENERATION: u64 = 0x0abc_def0_1234_5678;

/// Topics with a record of the original: `(topic, payload, seq, expires-at)`.
const RECORDS: [(&str, &str, u64, Option<&str>); 5] = [
    ("upgrade/kept", "kept by the original", 3, None),
    (
        "upgrade/until-2099",
        "expires in 2099",
        8,
        Some("[2099,1,0,0,0,0]"),
    ),
    (
        "upgrade/expired",
        "expired in 2020",
        2,
        Some("[2020,60,12,0,0,0]"),
    ),
    ("upgrade/taken-over", "about to be replaced", 5, None),
    ("upgrade/mqtt", "for an mqtt client", 1, None),
];

fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let messages = RECORDS
            .iter()
            .map(|(topic, payload, seq, expires)| KvSeed {
                key: format!("r:{topic}"),
                data: (*payload).to_owned(),
                metadata: Some(match expires {
                    Some(at) => {
                        format!(r#"{{"generation":{GENERATION},"seq":{seq},"expires-at":{at}}}"#)
                    }
                    None => format!(r#"{{"generation":{GENERATION},"seq":{seq}}}"#),
                }),
            })
            .collect();
        Stack::start(StackOptions {
            quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
            messages,
            ..StackOptions::default()
        })
        .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"))
    })
}

fn durable_path(topic: &str, token: &str) -> String {
    format!("/events?durable=true&topic={}&auth={token}", enc(topic))
}

/// The event id entry the original app gave `topic` at `seq`.
fn original_id(topic: &str, seq: u64) -> String {
    format!("{topic}:{GENERATION:16x}-{seq}")
}

/// A durable stream of `topic`, resuming from `last_event_id` if given; past `stream-open`.
fn durable(topic: &str, last_event_id: Option<&str>) -> Sse {
    let t = token(&[topic], &[topic]);
    let headers: Vec<(&str, &str)> = last_event_id
        .map(|id| vec![("Last-Event-ID", id)])
        .unwrap_or_default();
    Sse::subscribe_at(&stack().app_url(), &durable_path(topic, &t), &headers)
}

fn assert_quiet(sse: &Sse, wait: Duration) {
    if let Some(ev) = sse.next_within(wait) {
        panic!("expected no event, got {ev:?}");
    }
}

#[test]
fn a_durable_subscriber_receives_what_the_original_retained_and_not_what_expired() {
    let sse = durable("upgrade/kept", None);
    let ev = sse.next().expect("the original's retained message");
    assert_eq!(
        (ev.event.as_str(), ev.data.as_str()),
        ("message", "kept by the original")
    );
    let want = format!(
        "{:016x}:000000000000-000000000003",
        topic_tag("upgrade/kept")
    );
    assert_eq!(ev.id.as_deref(), Some(want.as_str()), "sequence 3, epoch 0");
    let later = durable("upgrade/until-2099", None);
    assert_eq!(later.next().expect("not expired").data, "expires in 2099");
    assert_quiet(
        &durable("upgrade/expired", None),
        Duration::from_millis(800),
    );
}

#[test]
fn an_original_last_event_id_resumes_as_seen_that_sequence() {
    let topic = "upgrade/kept";
    let seen = durable(topic, Some(&original_id(topic, 3)));
    assert_quiet(&seen, Duration::from_millis(800));
    let behind = durable(topic, Some(&original_id(topic, 2)));
    assert_eq!(behind.next().expect("newer").data, "kept by the original");
    // Several topics, as the original joins them; in the query parameter too.
    let t = token(&[topic], &[topic]);
    let id = format!("{},{}", original_id("other", 9), original_id(topic, 3));
    let path = format!("{}&lastEventId={}", durable_path(topic, &t), enc(&id));
    let by_query = Sse::subscribe_at(&stack().app_url(), &path, &[]);
    assert_quiet(&by_query, Duration::from_millis(800));
}

#[test]
fn an_original_last_event_id_with_a_foreign_entry_is_a_clear_400() {
    let topic = "upgrade/kept";
    let t = token(&[topic], &[]);
    let id = format!("{},junk", original_id(topic, 3));
    let sse = Sse::open_at(
        &stack().app_url(),
        &durable_path(topic, &t),
        &[("Accept", "text/event-stream"), ("Last-Event-ID", &id)],
    );
    let ev = sse.next().expect("stream-error");
    assert_eq!(ev.event, "stream-error", "{ev:?}");
    assert!(
        ev.data.contains("bad-request") && ev.data.contains("junk"),
        "{}",
        ev.data
    );
}

#[test]
fn the_first_retained_publish_takes_over_the_record_without_a_gap() {
    let topic = "upgrade/taken-over";
    let t = token(&[topic], &[topic]);
    let sse = durable(topic, None);
    assert_eq!(
        sse.next().expect("the original's").data,
        "about to be replaced"
    );
    let reply = send_to(
        &stack().app_url(),
        "POST",
        &format!("/events?topic={}&retain=true", enc(topic)),
        &[("Authorization", &format!("Bearer {t}"))],
        b"ours now",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(sse.next().expect("live").data, "ours now");
    // Later subscribers get ours, also those resuming with the original's id.
    let fresh = durable(topic, None);
    assert_eq!(fresh.next().expect("ours").data, "ours now");
    let resumed = durable(topic, Some(&original_id(topic, 5)));
    assert_eq!(resumed.next().expect("newer than seq 5").data, "ours now");
}

#[test]
fn an_mqtt_subscriber_gets_the_original_retained_message() {
    let topic = "upgrade/mqtt";
    let t = token(&[topic], &[]);
    let opts = mqtt::options_at(&stack().app_url(), &unique("upgrade"), &t);
    let m = mqtt::Mqtt::connect_with(opts).expect("connect");
    m.client
        .subscribe(topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    match m.expect("retained PUBLISH") {
        Packet::Publish(p) => {
            assert_eq!(p.payload, "for an mqtt client".as_bytes());
            assert!(p.retain);
        }
        other => panic!("expected a PUBLISH, got {other:?}"),
    }
}
