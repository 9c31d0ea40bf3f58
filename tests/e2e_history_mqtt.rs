//! MQTT publishes kept in history, through the real stack (Pushpin + Viceroy running the
//! release wasm, Config Store `history` = `# 1000 1h` as `scripts/run.sh` has it): real
//! rumqttc clients over WebSocket publish at QoS 0 and 1, retained, with MQTT 5
//! properties, binary, and over MQTT 3.1.1; an SSE stream with `lastEventId=earliest`
//! then replays them all in order, with the ids they had live, and `GET /history` answers
//! them with their retain flags.
//!
//! The MQTT 5 properties are stored with each record (the native tests read them back);
//! neither SSE nor `GET /history` shows them, so here they only must not stop the message
//! from being kept.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::Duration;

use e2e::*;
use mqtt::{Mqtt, Mqtt311};
use rumqttc::v5::mqttbytes::v5::{Packet, PubAckReason, PublishProperties};
use rumqttc::v5::mqttbytes::QoS;

const HISTORY: &[(&str, &str)] = &[("history", "# 1000 1h")];

fn stack() -> &'static pubsub_devstack::Stack {
    stack_with(HISTORY)
}

/// A live SSE subscription to `topic`, past its `stream-open`.
fn live(topic: &str, t: &str) -> Sse {
    Sse::subscribe_at(
        &stack().app_url(),
        &format!("/events?topic={}&auth={t}", enc(topic)),
        &[],
    )
}

/// The next event of `sse`, which must be a message of `event` type with `data`; its id.
fn expect_message(sse: &Sse, event: &str, data: &str) -> String {
    let ev = sse.next().unwrap_or_else(|| panic!("no {event} {data:?}"));
    assert_eq!(
        (ev.event.as_str(), ev.data.as_str()),
        (event, data),
        "{ev:?}"
    );
    ev.id.expect("a history event has an id")
}

/// Waits for the PUBACK of a QoS 1 publish of `m`.
fn puback(m: &Mqtt) {
    match m.expect("PUBACK") {
        Packet::PubAck(ack) => assert_eq!(ack.reason, PubAckReason::Success),
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

/// Waits for the PUBACK of a QoS 1 publish of the 3.1.1 client `m`.
fn puback_311(m: &Mqtt311) {
    match m.next_within(Duration::from_secs(10)) {
        Some(Ok(rumqttc::Packet::PubAck(_))) => {}
        other => panic!("expected PUBACK, got {other:?}"),
    }
}

/// `GET /history` of `topic`: its messages.
fn history(topic: &str, t: &str) -> Vec<serde_json::Value> {
    let reply = send(
        "GET",
        &format!("/history?topic={}&limit=100", enc(topic)),
        &[("Authorization", &format!("Bearer {t}"))],
        b"",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page: serde_json::Value = serde_json::from_str(&reply.text()).expect("json");
    assert!(page["next"].is_null(), "one page: {page}");
    page["messages"].as_array().expect("messages").clone()
}

/// What one message of the sequence is: SSE event type, SSE data, retain flag.
type Want = (&'static str, &'static str, bool);

const SEQUENCE: [Want; 6] = [
    ("message", "qos 0", false),
    ("message", "qos 1", false),
    ("message", "kept", true),
    ("message", r#"{"with":"properties"}"#, false),
    ("message-base64", "/wCA", false),
    ("message", "from 3.1.1", false),
];

/// Publishes [`SEQUENCE`] to `topic` over MQTT 5 and 3.1.1, each once the one before was
/// delivered live; answers the live events' ids.
fn publish_sequence(topic: &str, t: &str) -> Vec<String> {
    let sse = live(topic, t);
    let m = Mqtt::connect(&unique("h5"), t).expect("connect");
    let mut ids = Vec::new();
    let mut delivered = |n: usize| {
        let (event, data, _) = SEQUENCE[n];
        ids.push(expect_message(&sse, event, data));
    };
    m.client
        .publish(topic, QoS::AtMostOnce, false, "qos 0")
        .expect("publish");
    delivered(0);
    m.client
        .publish(topic, QoS::AtLeastOnce, false, "qos 1")
        .expect("publish");
    puback(&m);
    delivered(1);
    m.client
        .publish(topic, QoS::AtLeastOnce, true, "kept")
        .expect("publish");
    puback(&m);
    delivered(2);
    let properties = PublishProperties {
        content_type: Some("application/json".into()),
        user_properties: vec![("source".into(), "e2e".into())],
        ..PublishProperties::default()
    };
    m.client
        .publish_with_properties(topic, QoS::AtLeastOnce, false, SEQUENCE[3].1, properties)
        .expect("publish");
    puback(&m);
    delivered(3);
    m.client
        .publish(topic, QoS::AtLeastOnce, false, vec![0xff, 0x00, 0x80])
        .expect("publish");
    puback(&m);
    delivered(4);
    let v4 = Mqtt311::connect(&unique("h4"), t);
    v4.client
        .publish(topic, rumqttc::QoS::AtLeastOnce, false, "from 3.1.1")
        .expect("publish");
    puback_311(&v4);
    delivered(5);
    ids
}

#[test]
fn mqtt_publishes_of_every_kind_replay_in_order_from_earliest() {
    stack();
    let topic = unique("hmqtt");
    let t = token(&[&topic], &[&topic]);
    let live_ids = publish_sequence(&topic, &t);
    assert!(
        live_ids.windows(2).all(|w| w[0] < w[1]),
        "ids grow: {live_ids:?}"
    );
    let replay = Sse::subscribe_at(
        &stack().app_url(),
        &format!(
            "/events?topic={}&auth={t}&lastEventId=earliest",
            enc(&topic)
        ),
        &[],
    );
    let replayed: Vec<String> = SEQUENCE
        .iter()
        .map(|(event, data, _)| expect_message(&replay, event, data))
        .collect();
    assert_eq!(replayed, live_ids, "the replay carries the live ids");
    assert!(
        replay.next_within(Duration::from_millis(500)).is_none(),
        "each once"
    );
}

#[test]
fn the_history_api_answers_mqtt_publishes_with_their_retain_flags() {
    stack();
    let topic = unique("hmqttapi");
    let t = token(&[&topic], &[&topic]);
    let live_ids = publish_sequence(&topic, &t);
    let messages = history(&topic, &t);
    assert_eq!(messages.len(), SEQUENCE.len(), "{messages:?}");
    for ((m, (event, data, retain)), id) in messages.iter().zip(SEQUENCE).zip(&live_ids) {
        let field = if event == "message" {
            "data"
        } else {
            "data_base64"
        };
        assert_eq!(m[field], data, "{m}");
        assert_eq!(m["retain"], retain, "{m}");
        assert_eq!(m["event_id"], id.as_str(), "{m}");
    }
}

#[test]
fn mqtt_311_publishes_at_qos_0_and_retained_are_kept_too() {
    stack();
    let topic = unique("hmqtt311");
    let t = token(&[&topic], &[&topic]);
    let sse = live(&topic, &t);
    let v4 = Mqtt311::connect(&unique("h4only"), &t);
    v4.client
        .publish(&topic, rumqttc::QoS::AtMostOnce, false, "v4 qos 0")
        .expect("publish");
    expect_message(&sse, "message", "v4 qos 0");
    v4.client
        .publish(&topic, rumqttc::QoS::AtLeastOnce, true, "v4 kept")
        .expect("publish");
    puback_311(&v4);
    expect_message(&sse, "message", "v4 kept");
    let messages = history(&topic, &t);
    let got: Vec<(&str, bool)> = messages
        .iter()
        .map(|m| {
            let data = m["data"].as_str().expect("text");
            (data, m["retain"].as_bool().expect("retain"))
        })
        .collect();
    assert_eq!(got, [("v4 qos 0", false), ("v4 kept", true)]);
}
