//! MQTT size and loop edges on the real stack (Pushpin + Viceroy, default settings), with
//! a real MQTT 5 client (rumqttc over WebSocket). Each gets a precise answer, never a
//! crash or lost data:
//!
//! - a retained message whose Message Expiry Interval is `u32::MAX` (about 136 years) is
//!   stored and delivered with (almost) all of it left;
//! - a CONNECT carrying user properties close to the packet size limit connects, and a
//!   Will carrying them close to its own 4096-byte limit is published, all of them
//!   kept, when the connection is lost;
//! - re-subscribing with Retain Handling 0, again and again, gets one copy of the
//!   retained message per SUBSCRIBE (the spec's rule), nothing more.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::time::Duration;

use e2e::*;
use mqtt::Mqtt;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, PublishProperties, RetainForwardRule};
use rumqttc::v5::mqttbytes::QoS;

fn expect_publish(m: &Mqtt, what: &str) -> Publish {
    loop {
        match m.expect(what) {
            Packet::Publish(p) => return p,
            Packet::SubAck(_) => continue,
            other => panic!("expected {what}, got {other:?}"),
        }
    }
}

#[test]
fn a_retained_message_with_the_largest_expiry_interval_is_kept_and_delivered() {
    let topic = unique("edge-expiry");
    let t = token(&[&topic], &[&topic]);
    let publisher = Mqtt::connect(&unique("xpub"), &t).expect("connect");
    let props = PublishProperties {
        message_expiry_interval: Some(u32::MAX),
        ..PublishProperties::default()
    };
    publisher
        .client
        .publish_with_properties(&topic, QoS::AtLeastOnce, true, "for ages", props)
        .expect("publish");
    assert!(matches!(publisher.expect("PUBACK"), Packet::PubAck(_)));
    let later = Mqtt::connect(&unique("xsub"), &t).expect("connect");
    later
        .client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    let p = expect_publish(&later, "the retained PUBLISH");
    assert!(p.retain && p.payload == "for ages".as_bytes(), "{p:?}");
    let left = p.properties.and_then(|p| p.message_expiry_interval);
    let left = left.expect("the remaining expiry");
    assert!(left >= u32::MAX - 60, "{left}");
}

/// `n` user properties of `size` bytes of value each.
fn user_properties(n: usize, size: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| (format!("k{i}"), "v".repeat(size)))
        .collect()
}

fn put_vbi(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = u8::try_from(n % 128).expect("7 bits");
        n /= 128;
        out.push(if n > 0 { byte | 0x80 } else { byte });
        if n == 0 {
            return;
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&u16::try_from(s.len()).expect("short").to_be_bytes());
    out.extend_from_slice(s);
}

/// Properties made of user properties only, with their length first.
fn user_property_section(props: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in props {
        body.push(0x26);
        put_str(&mut body, k.as_bytes());
        put_str(&mut body, v.as_bytes());
    }
    let mut out = Vec::new();
    put_vbi(&mut out, body.len());
    out.extend(body);
    out
}

/// An MQTT 5 CONNECT with `props` as its user properties and a QoS 0 Will to `topic`
/// carrying `will_props`; the token is the password.
fn connect_with_will(
    token: &str,
    topic: &str,
    props: &[(String, String)],
    will_props: &[(String, String)],
) -> Vec<u8> {
    let mut body = Vec::new();
    put_str(&mut body, b"MQTT");
    body.extend_from_slice(&[5, 0x46, 0, 60]); // level 5; password, Will, clean start; keep alive
    body.extend(user_property_section(props));
    put_str(&mut body, unique("will").as_bytes());
    body.extend(user_property_section(will_props));
    put_str(&mut body, topic.as_bytes());
    put_str(&mut body, b"gone");
    put_str(&mut body, token.as_bytes());
    let mut packet = vec![0x10];
    put_vbi(&mut packet, body.len());
    packet.extend(body);
    packet
}

#[test]
fn connect_and_will_user_properties_up_to_the_packet_limit_are_kept() {
    use tungstenite::client::IntoClientRequest;
    let topic = unique("edge-will");
    let t = token(&[&topic], &[&topic]);
    let watcher = Mqtt::connect(&unique("wwatch"), &t).expect("connect");
    watcher
        .client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(watcher.expect("SUBACK"), Packet::SubAck(_)));

    // About 20 KB of user properties in the CONNECT (within the default
    // `max-packet-bytes` of 32768), and 3.5 KB in its Will (within the 4096 bytes a Will
    // may take as stored, since it waits in connection metadata).
    let (props, will_props) = (user_properties(20, 1_000), user_properties(7, 500));
    let url = stack().app_url().replace("http://", "ws://") + "/mqtt";
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", "mqtt".parse().expect("value"));
    let tcp =
        std::net::TcpStream::connect(format!("127.0.0.1:{}", stack().app_port())).expect("tcp");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (mut socket, _) = tungstenite::client(req, tcp).expect("handshake");
    let connect = connect_with_will(&t, &topic, &props, &will_props);
    socket
        .send(tungstenite::Message::binary(connect))
        .expect("CONNECT");
    let connack = loop {
        match socket.read().expect("an answer") {
            tungstenite::Message::Binary(b) => break b,
            _ => continue,
        }
    };
    assert_eq!(
        &connack[..4],
        [0x20, connack[1], 0, 0],
        "a successful CONNACK"
    );
    // Lost without a DISCONNECT or a close frame: the Will goes out, properties and all.
    drop(socket);
    let will = expect_publish(&watcher, "the Will");
    assert_eq!(will.payload, "gone".as_bytes());
    let got = will
        .properties
        .map(|p| p.user_properties)
        .unwrap_or_default();
    assert_eq!(got, will_props);
}

#[test]
fn re_subscribing_with_retain_handling_0_sends_one_copy_per_subscribe() {
    let topic = unique("edge-rh0");
    let t = token(&[&topic], &[&topic]);
    let r = send(
        "POST",
        &format!("/events?topic={}&retain=true", enc(&topic)),
        &[("Authorization", &format!("Bearer {t}"))],
        b"kept",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let m = Mqtt::connect(&unique("rh0"), &t).expect("connect");
    for round in 0..5 {
        let mut f = Filter::new(&topic, QoS::AtMostOnce);
        f.retain_forward_rule = RetainForwardRule::OnEverySubscribe;
        m.client.subscribe_many([f]).expect("subscribe");
        let p = expect_publish(&m, "the retained copy");
        assert_eq!(p.payload, "kept".as_bytes(), "round {round}");
    }
    assert!(
        m.next_within(Duration::from_secs(2)).is_none(),
        "one copy per SUBSCRIBE, nothing more"
    );
}
