//! A KV store failing: Viceroy is configured without it, so the host call that opens it
//! fails, as a store that cannot be reached would.

use super::*;
use rumqttc::v5::mqttbytes::v5::ConnectReturnCode;

/// The admin credential of the local stack (Secret Store `admin-token`).
const ADMIN_TOKEN: &str = "local-admin-token";

#[test]
fn with_the_messages_store_failing_retained_writes_and_reads_answer_503() {
    let stack = start(StackOptions {
        missing_kv_stores: vec!["messages".into()],
        ..StackOptions::default()
    });
    let app = stack.app_url();
    let topic = Topic::new("kv-messages");
    let plain = Sse::subscribe_at(&app, &topic.path, &[]);
    let store = "storage unavailable: KV store `messages`";
    let refused = topic.publish(&app, "&retain=true", "retained");
    eprintln!(
        "retained publish without the store: {}",
        refused.text().trim()
    );
    assert_error(&refused, 503, &[store]);
    // Nothing was published: the next message the subscriber gets is a live one, which
    // needs no store.
    assert_eq!(topic.publish(&app, "", "live").status, 200);
    assert_eq!(message(&plain, WAIT).0, "live");

    let durable = Sse::open_at(&app, &topic.durable(), &[]);
    assert_eq!(durable.status, 503);
    let ev = durable.next().expect("a stream-error");
    assert_eq!(ev.event, "stream-error");
    let data: serde_json::Value = serde_json::from_str(&ev.data).expect("JSON");
    assert_eq!(data["condition"], "service-unavailable");
    assert!(
        data["text"].as_str().is_some_and(|t| t.contains(store)),
        "{data}"
    );

    let v5 = Mqtt::connect_with(options_at(&app, &unique("k5"), &topic.token)).expect("connects");
    v5.client
        .subscribe(&topic.name, QoS::AtMostOnce)
        .expect("subscribe");
    // The subscription is made; its retained message waits for a request that can read
    // the store.
    assert!(
        matches!(v5.expect("SUBACK"), Packet::SubAck(a) if a.return_codes
        == [rumqttc::v5::mqttbytes::v5::SubscribeReasonCode::Success(QoS::AtMostOnce)])
    );
    v5.client
        .publish(&topic.name, QoS::AtLeastOnce, true, "retained")
        .expect("publish");
    let error = mqtt_error(&v5);
    assert!(
        error.contains("'ImplementationSpecificError'"),
        "PUBACK 0x83: {error}"
    );
    let v311 = topic.mqtt311(&app);
    v311.client
        .publish(&topic.name, rumqttc::QoS::AtLeastOnce, true, "retained")
        .expect("publish");
    assert!(v311.closed_within(END_BOUND), "the 3.1.1 connection closed");
}

#[test]
fn with_the_keys_store_failing_every_token_check_answers_503() {
    let stack = start(StackOptions {
        missing_kv_stores: vec!["keys".into()],
        ..StackOptions::default()
    });
    let app = stack.app_url();
    let topic = Topic::new("kv-keys");
    let store = "storage unavailable: key lookup failed: KV Store \"keys\" not found";
    let publish = topic.publish(&app, "", "live");
    eprintln!("publish without the keys store: {}", publish.text().trim());
    assert_error(&publish, 503, &[store]);
    let sse = Sse::open_at(&app, &topic.path, &[]);
    assert_eq!(sse.status, 503);
    let ev = sse.next().expect("a stream-error");
    assert_eq!(ev.event, "stream-error");
    assert!(ev.data.contains("service-unavailable") && ev.data.contains("key lookup failed"));
    let admin = send_to(
        &app,
        "GET",
        "/admin/keys",
        &[("Fastly-Key", ADMIN_TOKEN)],
        b"",
    );
    assert_error(&admin, 503, &["storage unavailable: KV store `keys`"]);
    let v5 = Mqtt::connect_with(options_at(&app, &unique("k5"), &topic.token));
    assert_eq!(
        v5.err(),
        Some(ConnectReturnCode::ServerUnavailable),
        "CONNACK 0x88"
    );
    let v311 = Mqtt311::try_connect_at(&app, &unique("k4"), &topic.token);
    assert_eq!(
        v311.err(),
        Some(rumqttc::ConnectReturnCode::ServiceUnavailable),
        "CONNACK 0x03"
    );
}
