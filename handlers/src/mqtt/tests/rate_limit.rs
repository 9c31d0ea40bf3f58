//! The per-connection PUBLISH limit (`protocol/publish.rs`, counted by `driver/ports.rs`),
//! through the simulated proxy.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use pubsub_core::ports::memory::{MemoryKv, MemoryRateLimiter};

use super::*;

/// A connected client whose connection may publish 2 messages a second (penalty 1 min);
/// the limiter and the KV store, to inspect and steer.
fn limited(version: ProtocolVersion) -> (Proxy, Arc<MemoryRateLimiter>, Arc<MemoryKv>) {
    let mut p = Proxy::new(version);
    let kv = Arc::new(MemoryKv::default());
    let record = serde_json::json!({"kind": "hs256", "secret": SECRET, "created": 0});
    let options = pubsub_core::ports::InsertOptions::default();
    pubsub_core::ports::KvStore::insert(&*kv, "keys", "k", record.to_string().as_bytes(), options)
        .unwrap();
    let rate = Arc::new(MemoryRateLimiter::new(p.env.clone()));
    p.platform.kv = kv.clone();
    p.platform.rate = rate.clone();
    p.config = Config::load(|k| {
        (k == "rate-limits").then(|| "mqtt-publish 2/s over 1s penalty 1m".to_owned())
    })
    .unwrap();
    let t = p.token(&[], &["a"], 3600);
    p.connect(&t);
    (p, rate, kv)
}

/// The reason codes of the PUBACKs among `events`.
fn puback_codes(p: &Proxy, events: &[Vec<u8>]) -> Vec<PubAckReasonCode> {
    p.packets(events)
        .into_iter()
        .map(|packet| match packet {
            Packet::PubAck(ack) => ack.reason_code,
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn mqtt5_qos1_over_the_limit_gets_quota_exceeded_until_the_penalty_ends() {
    let (mut p, rate, _) = limited(ProtocolVersion::V5);
    let three = [0, 1, 2].map(|_| publish("a", QoS::AtLeastOnce, b"x"));
    let events = p.send(&three);
    use PubAckReasonCode::{QuotaExceeded, Success};
    assert_eq!(puback_codes(&p, &events), [Success, Success, QuotaExceeded]);
    match p.packets(&events).last() {
        Some(Packet::PubAck(ack)) => {
            let why = ack.properties.reason_string.as_deref().unwrap_or_default();
            assert!(why.contains("mqtt-publish allows 2/s over 1s"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.publisher.live_items().len(), 2);
    assert_eq!(rate.penalised_entries(), ["mqtt-publish|c:conn-1"]);
    // The connection stays; a second later it is still in the penalty box.
    p.env.now.fetch_add(1, Ordering::Relaxed);
    let events = p.send(&[publish("a", QoS::AtLeastOnce, b"y")]);
    assert_eq!(puback_codes(&p, &events), [QuotaExceeded]);
    p.env.now.fetch_add(59, Ordering::Relaxed);
    let events = p.send(&[publish("a", QoS::AtLeastOnce, b"z")]);
    assert_eq!(puback_codes(&p, &events), [Success]);
    assert_eq!(p.publisher.live_items().len(), 3);
}

#[test]
fn a_penalised_connection_is_refused_without_touching_the_stores() {
    let (mut p, _, kv) = limited(ProtocolVersion::V5);
    let three = [0, 1, 2].map(|_| publish("a", QoS::AtLeastOnce, b"x"));
    p.send(&three);
    // Reading the key store now fails (0x87, not authorised); the limit answers first.
    kv.fail.store(true, Ordering::Relaxed);
    let events = p.send(&[publish("a", QoS::AtLeastOnce, b"y")]);
    assert_eq!(puback_codes(&p, &events), [PubAckReasonCode::QuotaExceeded]);
    let mut retained = Publish::new("a", b"r".as_slice());
    (retained.qos, retained.packet_id, retained.retain) = (QoS::ExactlyOnce, Some(id(9)), true);
    let events = p.send(&[Packet::Publish(retained)]);
    match p.packets(&events).as_slice() {
        [Packet::PubRec(rec)] => assert_eq!(rec.reason_code, PubAckReasonCode::QuotaExceeded),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.publisher.live_items().len(), 2);
}

#[test]
fn mqtt5_qos0_over_the_limit_is_disconnected_with_message_rate_too_high() {
    let (mut p, ..) = limited(ProtocolVersion::V5);
    let three = [0, 1, 2].map(|_| publish("a", QoS::AtMostOnce, b"x"));
    let events = p.send(&three);
    match p.packets(&events).as_slice() {
        [Packet::Disconnect(d)] => {
            assert_eq!(d.reason_code, DisconnectReasonCode::MessageRateTooHigh)
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(events.last(), Some(&b"CLOSE:1008".to_vec()));
    assert_eq!(p.publisher.live_items().len(), 2);
}

#[test]
fn mqtt_3_1_1_over_the_limit_is_closed() {
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce] {
        let (mut p, ..) = limited(ProtocolVersion::V311);
        let three = [0, 1, 2].map(|_| publish("a", qos, b"x"));
        let events = p.send(&three);
        assert_eq!(events.last(), Some(&b"CLOSE:1008".to_vec()), "{qos:?}");
        assert!(
            !events.iter().any(|e| e.starts_with(&[b'm', b':', 0xe0])),
            "no DISCONNECT"
        );
        assert_eq!(p.publisher.live_items().len(), 2, "{qos:?}");
    }
}

#[test]
fn without_a_limit_publishes_are_not_counted() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let rate = Arc::new(MemoryRateLimiter::new(p.env.clone()));
    p.platform.rate = rate.clone();
    let t = p.token(&[], &["a"], 3600);
    p.connect(&t);
    let many = [0; 20].map(|_| publish("a", QoS::AtLeastOnce, b"x"));
    let events = p.send(&many);
    assert_eq!(puback_codes(&p, &events), [PubAckReasonCode::Success; 20]);
    assert!(rate.entries().is_empty());
}
