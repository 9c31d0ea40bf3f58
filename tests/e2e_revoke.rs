//! Revocation and expiry reach open connections, on the real stack (Pushpin + Viceroy),
//! with real clients: ureq for SSE, rumqttc for MQTT 5 and MQTT 3.1.1.
//!
//! - Revoking a key (`DELETE /admin/keys/{id}`) ends every SSE stream (plain and durable)
//!   with a `stream-error` (condition `unauthorized`) and every MQTT connection (5:
//!   DISCONNECT 0x87; 3.1.1: closed) within 5 s: one publish to the key's channel, no
//!   polling.
//! - A token that expires ends its SSE streams through the `Grip-Link` Fanout requests at
//!   `exp` + leeway, and its MQTT connections at the callback the app asked for then (at
//!   least 20 s after the last request: Fanout's floor). The tests mint tokens that expired
//!   55 s ago, inside the 60 s leeway, so the deadline is 5 s away.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::{Duration, Instant};

use e2e::*;
use mqtt::{Mqtt, Mqtt311};
use rumqttc::v5::mqttbytes::v5::{DisconnectReasonCode, Packet};

const ADMIN_TOKEN: &str = "local-admin-token";

/// A new HS256 key made through the admin API: its id and secret.
fn new_key() -> (String, String) {
    let created = send("POST", "/admin/keys", &[("Fastly-Key", ADMIN_TOKEN)], b"");
    assert_eq!(created.status, 200, "{}", created.text());
    let json: serde_json::Value = serde_json::from_slice(&created.body).expect("json");
    let field = |name: &str| json[name].as_str().expect(name).to_owned();
    (field("id"), field("value"))
}

/// A token of key `kid` that reads and writes `topic`, minted as if at `now`.
fn mint(kid: &str, secret: &str, topic: &str, ttl: u64, now: u64) -> String {
    let key = pubsub_token::SigningKey::hs256(secret).expect("secret");
    let topics = [topic.to_owned()];
    pubsub_token::mint(kid, &key, &topics, &topics, ttl, now).expect("token")
}

/// Waits up to `wait` for the stream's `stream-error`; its condition.
fn stream_error(sse: &Sse, wait: Duration) -> Option<String> {
    let event = sse.next_within(wait)?;
    assert_eq!(event.event, "stream-error", "{event:?}");
    let data: serde_json::Value = serde_json::from_str(&event.data).expect("json");
    data["condition"].as_str().map(str::to_owned)
}

/// Waits up to `wait` for the MQTT 5 connection's DISCONNECT; its reason code.
fn disconnect_v5(client: &Mqtt, wait: Duration) -> Option<DisconnectReasonCode> {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_within(left)? {
            Ok(Packet::Disconnect(d)) => return Some(d.reason_code),
            Ok(_) => continue,
            // rumqttc reports the server's DISCONNECT as the error that ends its loop.
            Err(e) if e.contains("Server sent disconnect") && e.contains("'NotAuthorized'") => {
                return Some(DisconnectReasonCode::NotAuthorized)
            }
            Err(e) => panic!("closed without a DISCONNECT: {e}"),
        }
    }
}

#[test]
fn revoking_a_key_ends_every_connection_it_authorised_within_5_s() {
    let (kid, secret) = new_key();
    let topic = unique("revoke");
    let token = mint(&kid, &secret, &topic, 600, pubsub_token::now_secs());
    let path = format!("/events?topic={}&auth={token}", enc(&topic));
    let plain = Sse::subscribe(&path);
    let durable = Sse::subscribe(&format!("{path}&durable=true"));
    let v5 = Mqtt::connect(&unique("rv5"), &token).expect("MQTT 5 connects");
    let v311 = Mqtt311::connect(&unique("rv4"), &token);
    // The control messages that subscribe the connections reach Pushpin with the CONNACK.
    std::thread::sleep(Duration::from_millis(500));

    let start = Instant::now();
    let revoked = send(
        "DELETE",
        &format!("/admin/keys/{kid}"),
        &[("Fastly-Key", ADMIN_TOKEN)],
        b"",
    );
    assert_eq!(revoked.status, 204, "{}", revoked.text());
    let bound = Duration::from_secs(5);
    for (name, sse) in [("plain", &plain), ("durable", &durable)] {
        assert_eq!(
            stream_error(sse, bound).as_deref(),
            Some("unauthorized"),
            "{name} SSE"
        );
        assert!(sse.next_within(bound).is_none(), "the {name} stream ended");
    }
    assert_eq!(
        disconnect_v5(&v5, bound),
        Some(DisconnectReasonCode::NotAuthorized)
    );
    assert!(
        v311.closed_within(bound),
        "the MQTT 3.1.1 connection closed"
    );
    let took = start.elapsed();
    eprintln!("revocation ended 4 connections in {took:?}");
    assert!(took < bound, "{took:?}");
}

#[test]
fn an_expired_token_ends_its_streams_and_connections() {
    let (kid, secret) = new_key();
    let topic = unique("expire");
    // Expired 55 s ago: still inside the 60 s leeway, so accepted, and due in 5 s.
    let now = pubsub_token::now_secs();
    let token = mint(&kid, &secret, &topic, 10, now - 65);
    let path = format!("/events?topic={}&auth={token}", enc(&topic));
    let plain = Sse::subscribe(&path);
    let durable = Sse::subscribe(&format!("{path}&durable=true"));
    let v5 = Mqtt::connect(&unique("ev5"), &token).expect("MQTT 5 connects");
    let v311 = Mqtt311::connect(&unique("ev4"), &token);

    let start = Instant::now();
    for (name, sse) in [("plain", &plain), ("durable", &durable)] {
        assert_eq!(
            stream_error(sse, Duration::from_secs(15)).as_deref(),
            Some("unauthorized"),
            "{name} SSE"
        );
        assert!(sse.next_within(Duration::from_secs(5)).is_none());
    }
    eprintln!("expired SSE streams ended after {:?}", start.elapsed());
    // MQTT: the callback comes at least 20 s after the last request (Fanout's floor).
    let bound = Duration::from_secs(30);
    assert_eq!(
        disconnect_v5(&v5, bound),
        Some(DisconnectReasonCode::NotAuthorized)
    );
    assert!(
        v311.closed_within(bound),
        "the MQTT 3.1.1 connection closed"
    );
    eprintln!("expired MQTT connections ended after {:?}", start.elapsed());
}
