//! Client-id takeover on the real stack (Pushpin + Viceroy), with rumqttc for MQTT 5 and
//! MQTT 3.1.1: a second connection with a connected client id ends the first at once, by
//! a publish to the client id's channel (no polling); the new connection is not hit;
//! another identity using the same client id takes nothing over. The first connection's
//! Will is not published (measured here; the spec wants it): Pushpin reports the close it
//! made itself as a CLOSE without a status code, which is also what a key revocation's
//! close looks like, and a revoked connection's Will must not go out (`docs/mqtt.md`).

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::{Duration, Instant};

use e2e::*;
use mqtt::{options, Mqtt, Mqtt311};
use rumqttc::v5::mqttbytes::v5::{DisconnectReasonCode, LastWill, Packet};
use rumqttc::v5::mqttbytes::QoS;

const ADMIN_TOKEN: &str = "local-admin-token";

/// Waits up to `wait` for the MQTT 5 connection's DISCONNECT; its reason code.
fn disconnect_v5(client: &Mqtt, wait: Duration) -> Option<DisconnectReasonCode> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_within(left)? {
            Ok(Packet::Disconnect(d)) => return Some(d.reason_code),
            Ok(_) => continue,
            // rumqttc reports the server's DISCONNECT as the error that ends its loop.
            Err(e) if e.contains("Server sent disconnect") && e.contains("SessionTakenOver") => {
                return Some(DisconnectReasonCode::SessionTakenOver)
            }
            Err(e) => panic!("closed without a DISCONNECT 0x8E: {e}"),
        }
    }
}

/// Waits up to `wait` for a PUBLISH on `topic`; its payload.
fn publish_on(client: &Mqtt, topic: &str, wait: Duration) -> Option<Vec<u8>> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_within(left)? {
            Ok(Packet::Publish(p)) if p.topic == topic.as_bytes() => return Some(p.payload.into()),
            Ok(_) => continue,
            Err(e) => panic!("{topic}: the connection ended: {e}"),
        }
    }
}

/// Subscribes `client` to `topic` and waits for the SUBACK.
fn subscribe(client: &Mqtt, topic: &str) {
    client
        .client
        .subscribe(topic, QoS::AtMostOnce)
        .expect("subscribe");
    client.expect("SUBACK");
    // The control message that subscribes the connection reaches Pushpin with the SUBACK.
    std::thread::sleep(Duration::from_millis(300));
}

#[test]
fn a_second_mqtt5_connection_ends_the_first_with_0x8e_at_once() {
    let id = unique("take5");
    let (topic, will_topic) = (unique("take5-live"), unique("take5-will"));
    let t = token(&[&topic, &will_topic], &[&topic, &will_topic]);
    let watcher = Mqtt::connect(&unique("take5-watch"), &t).expect("watcher connects");
    subscribe(&watcher, &will_topic);
    let mut opts = options(&id, &t);
    opts.set_last_will(LastWill::new(
        &will_topic,
        "first gone",
        QoS::AtMostOnce,
        false,
        None,
    ));
    let first = Mqtt::connect_with(opts).expect("first connects");
    std::thread::sleep(Duration::from_millis(300));

    let start = Instant::now();
    let second = Mqtt::connect(&id, &t).expect("second connects");
    let bound = Duration::from_secs(5);
    assert_eq!(
        disconnect_v5(&first, bound),
        Some(DisconnectReasonCode::SessionTakenOver)
    );
    let took = start.elapsed();
    eprintln!("takeover ended the first connection {took:?} after the second CONNECT");
    assert!(took < bound, "{took:?}");
    // Fanout's close reads as a revocation's to the app: the Will is dropped.
    let will = publish_on(&watcher, &will_topic, Duration::from_secs(2));
    assert_eq!(will, None, "the Will of the connection taken over");
    // The new connection was not hit: it still subscribes and receives.
    subscribe(&second, &topic);
    let sent = publish(&topic, b"to the second", &t);
    assert!(sent.status < 300, "{}", sent.text());
    assert_eq!(
        publish_on(&second, &topic, bound).as_deref(),
        Some(&b"to the second"[..])
    );
}

#[test]
fn a_second_mqtt311_connection_closes_the_first() {
    let id = unique("take4");
    let topic = unique("take4-live");
    let t = token(&[&topic], &[&topic]);
    let first = Mqtt311::connect(&id, &t);
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let second = Mqtt311::connect(&id, &t);
    assert!(
        first.closed_within(Duration::from_secs(5)),
        "the first connection closed"
    );
    eprintln!("3.1.1 takeover closed the first in {:?}", start.elapsed());
    second
        .client
        .subscribe(&topic, rumqttc::QoS::AtMostOnce)
        .expect("subscribe");
    let got = second.next_within(Duration::from_secs(5));
    assert!(
        matches!(got, Some(Ok(rumqttc::Packet::SubAck(_)))),
        "the second lives: {got:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let sent = publish(&topic, b"m", &t);
    assert!(sent.status < 300, "{}", sent.text());
    let got = second.next_within(Duration::from_secs(5));
    assert!(
        matches!(got, Some(Ok(rumqttc::Packet::Publish(_)))),
        "{got:?}"
    );
}

/// A new HS256 key made through the admin API: its id and secret.
fn new_key() -> (String, String) {
    let created = send("POST", "/admin/keys", &[("Fastly-Key", ADMIN_TOKEN)], b"");
    assert_eq!(created.status, 200, "{}", created.text());
    let json: serde_json::Value = serde_json::from_slice(&created.body).expect("json");
    let field = |name: &str| json[name].as_str().expect(name).to_owned();
    (field("id"), field("value"))
}

#[test]
fn another_identity_with_the_same_client_id_takes_nothing_over() {
    let id = unique("take-other");
    let topic = unique("take-other-live");
    let t = token(&[&topic], &[&topic]);
    let first = Mqtt::connect(&id, &t).expect("first connects");
    subscribe(&first, &topic);
    // A token of another key (and no subject): another identity.
    let (kid, secret) = new_key();
    let key = pubsub_token::SigningKey::hs256(&secret).expect("secret");
    let topics = [topic.clone()];
    let other = pubsub_token::mint(&kid, &key, &topics, &topics, 600, pubsub_token::now_secs())
        .expect("token");
    let _second = Mqtt::connect(&id, &other).expect("the other identity connects");
    std::thread::sleep(Duration::from_secs(1));
    let sent = publish(&topic, b"still here", &t);
    assert!(sent.status < 300, "{}", sent.text());
    assert_eq!(
        publish_on(&first, &topic, Duration::from_secs(5)).as_deref(),
        Some(&b"still here"[..]),
        "the first connection was not taken over"
    );
}
