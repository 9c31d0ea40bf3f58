//! Wildcard subscriptions through the real stack: SSE filter subscriptions read as a
//! curl-style client reads them, and rumqttc (MQTT 5) subscribing with `+` and `#`,
//! receiving HTTP and MQTT publishes, the `$` rule, overlapping subscriptions and the
//! publish budget. MQTT.js (5 and 3.1.1) runs its own wildcard scenarios in
//! `tests/js/mqtt_scenarios.mjs`.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::Duration;

use e2e::*;
use mqtt::Mqtt;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, PubAckReason, SubscribeReasonCode};
use rumqttc::v5::mqttbytes::QoS;

fn events_path(topics: &[&str], token: &str, extra: &str) -> String {
    let q: Vec<String> = topics.iter().map(|t| format!("topic={}", enc(t))).collect();
    format!("/events?{}&auth={token}{extra}", q.join("&"))
}

/// The `{"topic","data"}` object of a filter subscriber's event.
fn envelope(ev: &Event) -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_str(&ev.data).unwrap_or_else(|e| panic!("{:?} is not JSON: {e}", ev.data));
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    (field("topic"), field("data"))
}

#[test]
fn an_sse_filter_subscription_gets_each_matching_message_with_its_topic() {
    let base = unique("sse-wild");
    let t = token(&[&format!("{base}/#")], &[&format!("{base}/#")]);
    let sse = Sse::subscribe(&events_path(&[&format!("{base}/+/temp")], &t, ""));
    for (topic, body) in [
        (format!("{base}/1/temp"), &b"21.5"[..]),
        (format!("{base}/1/hum"), b"not matched"),
        (format!("{base}/2/temp"), b"line 1\nline 2"),
    ] {
        assert_eq!(publish(&topic, body, &t).status, 200, "{topic}");
    }
    let first = sse.next().expect("first");
    assert_eq!(first.event, "message");
    assert_eq!(envelope(&first), (format!("{base}/1/temp"), "21.5".into()));
    let second = sse.next().expect("second");
    assert_eq!(
        envelope(&second),
        (format!("{base}/2/temp"), "line 1\nline 2".into())
    );
    // Binary payloads: message-base64, the data base64 in the object.
    assert_eq!(
        publish(&format!("{base}/3/temp"), &[0xff, 0], &t).status,
        200
    );
    let bin = sse.next().expect("binary");
    assert_eq!(bin.event, "message-base64");
    assert_eq!(envelope(&bin), (format!("{base}/3/temp"), "/wA=".into()));
    assert!(sse.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn overlapping_sse_subscriptions_get_one_copy_each_and_plain_events_keep_their_format() {
    let base = unique("sse-overlap");
    let topic = format!("{base}/a/b");
    let t = token(&[&format!("{base}/#")], &[&topic]);
    let sse = Sse::subscribe(&events_path(&[&topic, &format!("{base}/#")], &t, ""));
    assert_eq!(publish(&topic, b"once", &t).status, 200);
    let mut got = [sse.next().expect("one"), sse.next().expect("two")];
    got.sort_by_key(|e| e.data.len());
    // The topic subscription: today's exact event. The filter: the JSON object.
    assert_eq!(
        (got[0].event.as_str(), got[0].data.as_str()),
        ("message", "once")
    );
    assert_eq!(envelope(&got[1]), (topic, "once".into()));
    assert!(sse.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn sse_filter_refusals_are_specific() {
    let base = unique("sse-refused");
    let t = token(&[&format!("{base}/#")], &[]);
    let cases = [
        (
            format!("{base}/+"),
            "&durable=true",
            400,
            "durable subscription takes topic names only",
        ),
        (format!("{base}/1/2/3/4/5/#"), "", 400, "at most 6 levels"),
        (format!("{base}/a#"), "", 400, "`#` must be a whole level"),
        ("#".to_owned(), "", 403, "does not grant read access"),
    ];
    for (filter, extra, status, needle) in cases {
        let sse = Sse::open(&events_path(&[&filter], &t, extra), &[]);
        assert_eq!(sse.status, status, "{filter}{extra}");
        let ev = sse.next().expect("stream-error");
        assert_eq!(ev.event, "stream-error", "{filter}");
        assert!(ev.data.contains(needle), "{filter}: {}", ev.data);
    }
}

fn suback(m: &Mqtt) -> Vec<SubscribeReasonCode> {
    match m.expect("SUBACK") {
        Packet::SubAck(ack) => ack.return_codes,
        other => panic!("{other:?}"),
    }
}

fn next_publish(m: &Mqtt) -> (String, Vec<u8>) {
    match m.expect("PUBLISH") {
        Packet::Publish(p) => (
            String::from_utf8_lossy(&p.topic).into_owned(),
            p.payload.to_vec(),
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn rumqttc_wildcards_receive_http_and_mqtt_publishes_and_keep_the_dollar_rule() {
    let id = unique("rq");
    let (plain, dollar) = (format!("dev/{id}"), format!("$dev/{id}"));
    let t = token(&["#", &format!("$dev/{id}/#")], &[&plain, &dollar]);
    let m = Mqtt::connect(&unique("rq-sub"), &t).expect("connect");
    m.client
        .subscribe_many([
            Filter::new(format!("+/{id}"), QoS::AtMostOnce),
            Filter::new(format!("$dev/{id}/#"), QoS::AtMostOnce),
        ])
        .expect("subscribe");
    assert_eq!(
        suback(&m),
        [SubscribeReasonCode::Success(QoS::AtMostOnce); 2]
    );
    // `+/id` matches dev/id, not $dev/id [MQTT-4.7.2-1]; `$dev/id/#` matches $dev/id.
    assert_eq!(publish(&plain, b"over http", &t).status, 200);
    assert_eq!(next_publish(&m), (plain.clone(), b"over http".to_vec()));
    assert_eq!(publish(&dollar, b"dollar", &t).status, 200);
    assert_eq!(next_publish(&m), (dollar, b"dollar".to_vec()));
    let tx = Mqtt::connect(&unique("rq-pub"), &t).expect("connect");
    tx.client
        .publish(&plain, QoS::AtLeastOnce, false, "over mqtt")
        .expect("publish");
    match tx.expect("PUBACK") {
        Packet::PubAck(ack) => assert_eq!(ack.reason, PubAckReason::Success),
        other => panic!("{other:?}"),
    }
    assert_eq!(next_publish(&m), (plain, b"over mqtt".to_vec()));
    assert!(m.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn a_publish_whose_wildcard_fan_out_is_over_the_budget_is_refused_whole() {
    let topic = format!("{}/b/c/d/e/f", unique("deep"));
    let t = token(&["#"], &[&topic]);
    let sse = Sse::subscribe(&events_path(&[&topic], &t, ""));
    // Publishers send to the filters someone listens on: 63 matching filters (every
    // level of the topic as written or `+`, one `+` at least), 9 to a stream, make a
    // 32,000-byte message's wildcard items (about 75 KB each) larger than the budget.
    let levels: Vec<&str> = topic.split('/').collect();
    let filters: Vec<String> = (1u32..64)
        .map(|mask| {
            let level = |(i, name): (usize, &&str)| match mask >> i & 1 {
                1 => "+".to_owned(),
                _ => (*name).to_owned(),
            };
            levels
                .iter()
                .enumerate()
                .map(level)
                .collect::<Vec<_>>()
                .join("/")
        })
        .collect();
    let _listeners: Vec<Sse> = filters
        .chunks(9)
        .map(|chunk| {
            let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
            Sse::subscribe(&events_path(&chunk, &t, ""))
        })
        .collect();
    let r = publish(&topic, &[b'x'; 32_000], &t);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("wildcard-max-levels"), "{}", r.text());
    // Nothing was delivered, not even to the topic's own subscribers.
    assert_eq!(publish(&topic, b"small", &t).status, 200);
    assert_eq!(sse.next().expect("the small one").data, "small");
}
