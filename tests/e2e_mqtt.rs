//! MQTT over WebSocket through the real stack with a real client (rumqttc, MQTT 5):
//! connect, subscribe, publish, and delivery across MQTT and SSE. MQTT.js (5 and 3.1.1)
//! runs the same scenarios in `tests/js/`, driven by `e2e_mqtt_js.rs`.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use e2e::*;
use mqtt::Mqtt;
use rumqttc::v5::mqttbytes::v5::{
    ConnectReturnCode, Filter, Packet, PubAckReason, PubCompReason, PubRecReason,
    SubscribeReasonCode, UnsubAckReason,
};
use rumqttc::v5::mqttbytes::QoS;

#[test]
fn a_good_token_connects_and_a_bad_one_is_not_authorized() {
    let t = token(&["x"], &[]);
    assert!(Mqtt::connect(&unique("good"), &t).is_ok());
    let bad = Mqtt::connect(&unique("bad"), "not-a-token").err();
    assert_eq!(bad, Some(ConnectReturnCode::NotAuthorized));
}

#[test]
fn one_subscribe_with_two_topics_receives_http_publishes_on_both() {
    let (a, b) = (unique("ma"), unique("mb"));
    let t = token(&[&a, &b], &[&a, &b]);
    let m = Mqtt::connect(&unique("two"), &t).expect("connect");
    m.client
        .subscribe_many([
            Filter::new(&a, QoS::AtMostOnce),
            Filter::new(&b, QoS::AtMostOnce),
        ])
        .expect("subscribe");
    match m.expect("SUBACK") {
        Packet::SubAck(ack) => assert_eq!(
            ack.return_codes,
            [SubscribeReasonCode::Success(QoS::AtMostOnce); 2]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(publish(&a, b"http to a", &t).status, 200);
    assert_eq!(publish(&b, b"http to b", &t).status, 200);
    for (topic, body) in [(&a, "http to a"), (&b, "http to b")] {
        match m.expect("PUBLISH") {
            Packet::Publish(p) => {
                assert_eq!(p.topic, topic.as_bytes());
                assert_eq!(p.payload, body.as_bytes());
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn an_mqtt_publish_reaches_sse_subscribers_and_qos1_gets_a_puback() {
    let topic = unique("m2s");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    let m = Mqtt::connect(&unique("pub"), &t).expect("connect");
    m.client
        .publish(&topic, QoS::AtLeastOnce, false, "from mqtt")
        .expect("publish");
    match m.expect("PUBACK") {
        Packet::PubAck(ack) => assert_eq!(ack.reason, PubAckReason::Success),
        other => panic!("{other:?}"),
    }
    let ev = sse.next().expect("SSE message");
    assert_eq!(
        (ev.event.as_str(), ev.data.as_str()),
        ("message", "from mqtt")
    );
}

/// rumqttc turns a refusal reason into an error of its event loop; the text names it.
fn refused(m: &Mqtt, what: &str, reason: &str) {
    match m.next() {
        Some(Err(e)) => assert!(e.contains(reason), "{what}: {e}"),
        other => panic!("expected {what} refused with {reason}, got {other:?}"),
    }
}

#[test]
fn unauthorized_subscribe_and_publish_get_not_authorized() {
    let mine = unique("mine");
    let theirs = unique("theirs");
    let t = token(&[&mine], &[&mine]);
    let m = Mqtt::connect(&unique("unauth"), &t).expect("connect");
    m.client
        .subscribe_many([
            Filter::new(&mine, QoS::AtMostOnce),
            Filter::new(&theirs, QoS::AtMostOnce),
        ])
        .expect("subscribe");
    refused(&m, "SUBACK", "NotAuthorized");
    let m = Mqtt::connect(&unique("wild"), &t).expect("connect");
    m.client
        .subscribe("wild/1/2/3/4/5/#", QoS::AtMostOnce)
        .expect("subscribe");
    // Deeper than `wildcard-max-levels` (6).
    refused(&m, "SUBACK", "WildcardSubscriptionsNotSupported");
    let m = Mqtt::connect(&unique("unauthpub"), &t).expect("connect");
    m.client
        .publish(&theirs, QoS::AtLeastOnce, false, "nope")
        .expect("publish");
    match m.next() {
        Some(Ok(Packet::PubAck(ack))) => assert_eq!(ack.reason, PubAckReason::NotAuthorized),
        Some(Err(e)) => assert!(e.contains("NotAuthorized"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsubscribe_stops_delivery() {
    let (topic, other) = (unique("unsub"), unique("still"));
    let t = token(&[&topic, &other], &[&topic, &other]);
    let m = Mqtt::connect(&unique("unsub"), &t).expect("connect");
    m.client
        .subscribe_many([
            Filter::new(&topic, QoS::AtMostOnce),
            Filter::new(&other, QoS::AtMostOnce),
        ])
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    m.client.unsubscribe(&topic).expect("unsubscribe");
    match m.expect("UNSUBACK") {
        Packet::UnsubAck(ack) => assert_eq!(ack.reasons, [UnsubAckReason::Success]),
        other => panic!("{other:?}"),
    }
    assert_eq!(publish(&topic, b"after", &t).status, 200);
    assert_eq!(publish(&other, b"still here", &t).status, 200);
    match m.expect("PUBLISH") {
        Packet::Publish(p) => assert_eq!(p.payload, "still here".as_bytes()),
        p => panic!("{p:?}"),
    }
    m.client.unsubscribe(&topic).expect("unsubscribe again");
    refused(&m, "UNSUBACK", "NoSubscriptionExisted");
}

#[test]
fn a_20_kb_payload_crosses_from_mqtt_to_mqtt() {
    let topic = unique("big");
    let t = token(&[&topic], &[&topic]);
    let rx = Mqtt::connect(&unique("bigrx"), &t).expect("connect");
    rx.client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(rx.expect("SUBACK"), Packet::SubAck(_)));
    let tx = Mqtt::connect(&unique("bigtx"), &t).expect("connect");
    let payload: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    tx.client
        .publish(&topic, QoS::AtLeastOnce, false, payload.clone())
        .expect("publish");
    assert!(matches!(tx.expect("PUBACK"), Packet::PubAck(_)));
    match rx.expect("PUBLISH") {
        Packet::Publish(p) => assert_eq!(p.payload, payload),
        other => panic!("{other:?}"),
    }
}

#[test]
fn no_local_keeps_a_clients_own_messages_from_it() {
    let topic = unique("nolocal");
    let t = token(&[&topic], &[&topic]);
    let me = Mqtt::connect(&unique("me"), &t).expect("connect");
    let other = Mqtt::connect(&unique("other"), &t).expect("connect");
    let mut filter = Filter::new(&topic, QoS::AtMostOnce);
    filter.nolocal = true;
    me.client.subscribe_many([filter]).expect("subscribe");
    assert!(matches!(me.expect("SUBACK"), Packet::SubAck(_)));
    other
        .client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(other.expect("SUBACK"), Packet::SubAck(_)));
    me.client
        .publish(&topic, QoS::AtLeastOnce, false, "mine")
        .expect("publish");
    assert!(matches!(me.expect("PUBACK"), Packet::PubAck(_)));
    match other.expect("PUBLISH") {
        Packet::Publish(p) => assert_eq!(p.payload, "mine".as_bytes()),
        p => panic!("{p:?}"),
    }
    // The sender's own subscription stays silent, while an HTTP publish still arrives.
    assert_eq!(publish(&topic, b"from http", &t).status, 200);
    match me.expect("PUBLISH") {
        Packet::Publish(p) => assert_eq!(p.payload, "from http".as_bytes()),
        p => panic!("no-local failed, got {p:?}"),
    }
}

#[test]
fn a_qos2_publish_completes_its_exchange_and_arrives_once() {
    let topic = unique("qos2");
    let t = token(&[&topic], &[&topic]);
    let rx = Mqtt::connect(&unique("q2rx"), &t).expect("connect");
    rx.client
        .subscribe(&topic, QoS::ExactlyOnce)
        .expect("subscribe");
    match rx.expect("SUBACK") {
        // The broker delivers at QoS 0 and says so.
        Packet::SubAck(ack) => assert_eq!(
            ack.return_codes,
            [SubscribeReasonCode::Success(QoS::AtMostOnce)]
        ),
        other => panic!("{other:?}"),
    }
    let tx = Mqtt::connect(&unique("q2tx"), &t).expect("connect");
    tx.client
        .publish(&topic, QoS::ExactlyOnce, false, "exactly once")
        .expect("publish");
    match tx.expect("PUBREC") {
        Packet::PubRec(rec) => assert_eq!(rec.reason, PubRecReason::Success),
        other => panic!("{other:?}"),
    }
    // rumqttc answers the PUBREC with PUBREL by itself.
    match tx.expect("PUBCOMP") {
        Packet::PubComp(comp) => assert_eq!(comp.reason, PubCompReason::Success),
        other => panic!("{other:?}"),
    }
    match rx.expect("PUBLISH") {
        Packet::Publish(p) => {
            assert_eq!(p.payload, "exactly once".as_bytes());
            assert_eq!(p.qos, QoS::AtMostOnce);
        }
        other => panic!("{other:?}"),
    }
    let again = rx.next_within(std::time::Duration::from_secs(1));
    assert!(again.is_none(), "a second copy: {again:?}");
}
