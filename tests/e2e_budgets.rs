//! The per-request budgets of MQTT on the real stack (Pushpin + Viceroy running the
//! release wasm): many packets in one client write, raw WebSocket frames (tungstenite) so
//! that a write holds exactly what the test packs into it.
//!
//! - publish calls: one write of 150 tiny PUBLISH packets makes one publish API call
//!   (counted on the stack's publish relay), and the subscriber gets all 150 in order;
//!   one PUBLISH over `mqtt-limits`' `publishes` ends the session with DISCONNECT 0x97;
//! - KV listings: wildcard SUBSCRIBE churn over 40 filters in one request lists at most
//!   `MAX_FILTER_LISTINGS` (32) filters' retained topics;
//! - control packets: one PINGREQ over `control` ends the session with DISCONNECT 0x97;
//!   the keep alive floor (`min-keep-alive`) answers an MQTT 5 keep alive of 1 s with
//!   Server Keep Alive 30, and keeps a 3.1.1 client with keep alive 1 s that is silent
//!   for 3 s;
//! - revocation: a revocation close (code 1008) reaching a connection while its key is
//!   still in KV drops the Will;
//! - channels: subscriptions past Fanout's channels per connection get SUBACK 0x97.
//!
//! `PUBSUB_BUDGETS_WASM` names another wasm to run (e.g. a build of the code before the
//! budgets), to see these tests fail there.

#[path = "support/e2e.rs"]
mod e2e;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use e2e::{enc, send_to, unique, Sse};
use pubsub_codec::mqtt::{
    self, Connect, Packet, ProtocolVersion, Publish, QoS, Subscribe, Subscription,
    SubscriptionOptions,
};
use pubsub_devstack::{dev_token, Stack, StackOptions};
use tungstenite::client::IntoClientRequest;
use tungstenite::Message;

const ADMIN_TOKEN: &str = "local-admin-token";

type Socket = tungstenite::WebSocket<TcpStream>;

/// The stack of this binary: publish requests counted, MQTT 5's own keep alive kept
/// (`mqtt-server-keep-alive` 0) so that the floor shows.
fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let mut opts = StackOptions {
            quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
            publish_relay: true,
            count_app_requests: true,
            config: vec![("mqtt-server-keep-alive".into(), "0".into())],
            ..StackOptions::default()
        };
        if let Some(wasm) = std::env::var_os("PUBSUB_BUDGETS_WASM") {
            opts.wasm = wasm.into();
        }
        Stack::start(opts).unwrap_or_else(|e| panic!("cannot start the local stack: {e}"))
    })
}

fn encode(packet: Packet, version: ProtocolVersion) -> Vec<u8> {
    let mut out = Vec::new();
    packet.encode(version, &mut out).expect("encodes");
    out
}

fn connect_packet(version: ProtocolVersion, token: &str, keep_alive: u16) -> Connect {
    let mut c = Connect::new(version, unique("budget"));
    // 3.1.1 allows no password without a user name [MQTT-3.1.2-22].
    c.username = Some("u".into());
    c.password = Some(token.as_bytes().to_vec());
    c.keep_alive = keep_alive;
    c
}

/// A raw MQTT WebSocket on the app, CONNECTed with `c`; the CONNACK.
fn open(c: Connect) -> (Socket, Packet) {
    let version = c.protocol;
    let url = format!("ws://127.0.0.1:{}/mqtt", stack().app_port());
    let mut req = url.into_client_request().expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", "mqtt".parse().expect("value"));
    let stream = TcpStream::connect(format!("127.0.0.1:{}", stack().app_port())).expect("tcp");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let (mut socket, _) = tungstenite::client(req, stream).expect("handshake");
    let connect = encode(Packet::Connect(Box::new(c)), version);
    socket.send(Message::Binary(connect)).expect("CONNECT");
    let ack = next_packets(&mut socket, version, 1).into_iter().next();
    (socket, ack.expect("CONNACK"))
}

/// Reads until `n` packets came, the socket closed or 10 s passed; the packets, and
/// `Packet::Disconnect`-less closes show as the end of the list.
fn next_packets(socket: &mut Socket, version: ProtocolVersion, n: usize) -> Vec<Packet> {
    let mut packets = Vec::new();
    let mut pending: Vec<u8> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while packets.len() < n && Instant::now() < deadline {
        match socket.read() {
            Ok(Message::Binary(bytes)) => {
                pending.extend_from_slice(&bytes);
                while let Ok(Some(len)) = mqtt::frame_len(&pending, 1 << 20) {
                    let packet = mqtt::decode(&pending[..len], version).expect("decodes");
                    packets.push(packet);
                    pending.drain(..len);
                }
            }
            Ok(Message::Close(_)) => break,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
            {
                break
            }
            Err(_) => break,
        }
    }
    packets
}

fn publish(topic: &str, payload: &[u8], qos: QoS, id: u16) -> Packet {
    let mut p = Publish::new(topic, payload);
    p.qos = qos;
    p.packet_id = std::num::NonZeroU16::new(id);
    Packet::Publish(p)
}

fn subscribe(id: u16, filters: &[&str]) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: std::num::NonZeroU16::new(id).expect("id"),
        subscriptions: filters
            .iter()
            .map(|f| Subscription {
                filter: (*f).into(),
                options: SubscriptionOptions::qos(QoS::AtMostOnce),
            })
            .collect(),
        properties: Default::default(),
    })
}

/// One client write holding every packet of `packets`.
fn write_all(socket: &mut Socket, packets: Vec<Packet>, version: ProtocolVersion) -> usize {
    let bytes: Vec<u8> = packets
        .into_iter()
        .flat_map(|p| encode(p, version))
        .collect();
    let len = bytes.len();
    socket.send(Message::Binary(bytes)).expect("write");
    len
}

/// The publish API calls that carried `topic` (tests share the stack, and every CONNECT
/// of another test makes a call of its own: the client-id takeover).
fn publish_calls(topic: &str) -> usize {
    let log = stack().publish_requests().expect("publish relay");
    let needle = format!("\"channel\":\"{topic}\"");
    let needle = needle.as_bytes();
    log.snapshot()
        .iter()
        .filter(|r| r.body.windows(needle.len()).any(|w| w == needle))
        .count()
}

fn disconnect_reason(packets: &[Packet]) -> Option<(u8, String)> {
    packets.iter().find_map(|p| match p {
        Packet::Disconnect(d) => Some((
            d.reason_code as u8,
            d.properties.reason_string.clone().unwrap_or_default(),
        )),
        _ => None,
    })
}

#[test]
fn one_write_of_150_publishes_is_one_publish_call_in_order() {
    let v5 = ProtocolVersion::V5;
    // A short topic: 150 PUBLISH packets of one byte in about 1,800 bytes.
    let topic = format!("z{}", std::process::id() % 10_000);
    let token = dev_token(&[&topic], &[&topic]);
    let (mut subscriber, _) = open(connect_packet(v5, &token, 60));
    write_all(&mut subscriber, vec![subscribe(1, &[&topic])], v5);
    assert!(matches!(
        next_packets(&mut subscriber, v5, 1)[..],
        [Packet::SubAck(_)]
    ));
    let (mut publisher, _) = open(connect_packet(v5, &token, 60));
    let before = publish_calls(&topic);
    let mut burst: Vec<Packet> = (0..150u8)
        .map(|i| publish(&topic, &[i], QoS::AtMostOnce, 0))
        .collect();
    burst.push(Packet::PingReq);
    let bytes = write_all(&mut publisher, burst, v5);
    assert!(matches!(
        next_packets(&mut publisher, v5, 1)[..],
        [Packet::PingResp]
    ));
    let calls = publish_calls(&topic) - before;
    eprintln!("one write of {bytes} bytes, 150 PUBLISH: {calls} publish calls");
    assert_eq!(calls, 1, "{calls} publish calls for one write");
    let got: Vec<u8> = next_packets(&mut subscriber, v5, 150)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => p.payload.first().copied(),
            _ => None,
        })
        .collect();
    assert_eq!(
        got,
        (0..150u8).collect::<Vec<_>>(),
        "every message, in order"
    );
}

#[test]
fn a_qos1_burst_is_acknowledged_after_its_call_and_one_publish_too_many_is_refused() {
    let v5 = ProtocolVersion::V5;
    let topic = unique("cap");
    let token = dev_token(&[&topic], &[&topic]);
    let (mut socket, _) = open(connect_packet(v5, &token, 60));
    let before = publish_calls(&topic);
    let burst: Vec<Packet> = (1..=200u16)
        .map(|i| publish(&topic, b"x", QoS::AtLeastOnce, i))
        .collect();
    write_all(&mut socket, burst, v5);
    let acks = next_packets(&mut socket, v5, 200);
    let ids: Vec<u16> = acks
        .iter()
        .filter_map(|p| match p {
            Packet::PubAck(a) if a.reason_code as u8 == 0 => Some(a.packet_id.get()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, (1..=200).collect::<Vec<_>>(), "every PUBACK, in order");
    assert_eq!(publish_calls(&topic) - before, 1);
    // The default budget is 200 PUBLISH packets per request: the 201st ends the session.
    let burst: Vec<Packet> = (0..201)
        .map(|_| publish(&topic, b"x", QoS::AtMostOnce, 0))
        .collect();
    write_all(&mut socket, burst, v5);
    let packets = next_packets(&mut socket, v5, 1);
    let (code, why) = disconnect_reason(&packets).expect("a DISCONNECT");
    assert_eq!(code, 0x97, "{why}");
    assert!(why.contains("publishes"), "{why}");
}

#[test]
fn a_ping_flood_is_cut_at_the_control_budget() {
    let v5 = ProtocolVersion::V5;
    let token = dev_token(&["p"], &[]);
    let (mut socket, _) = open(connect_packet(v5, &token, 60));
    let flood: Vec<Packet> = (0..101).map(|_| Packet::PingReq).collect();
    write_all(&mut socket, flood, v5);
    let packets = next_packets(&mut socket, v5, 101);
    let pongs = packets
        .iter()
        .filter(|p| matches!(p, Packet::PingResp))
        .count();
    eprintln!("101 PINGREQ in one write: {pongs} handled");
    assert_eq!(pongs, 100);
    let (code, why) = disconnect_reason(&packets).expect("a DISCONNECT");
    assert_eq!(code, 0x97, "{why}");
    assert!(why.contains("control"), "{why}");
}

#[test]
fn the_keep_alive_floor_holds_a_one_second_keep_alive_to_30_s() {
    let token = dev_token(&["p"], &[]);
    let (_, ack) = open(connect_packet(ProtocolVersion::V5, &token, 1));
    let Packet::ConnAck(ack) = ack else {
        panic!("{ack:?}")
    };
    assert_eq!(ack.properties.server_keep_alive, Some(30));
    // MQTT 3.1.1 cannot be told: the broker's deadline follows the floor.
    let v311 = ProtocolVersion::V311;
    let (mut socket, _) = open(connect_packet(v311, &token, 1));
    std::thread::sleep(Duration::from_secs(3));
    write_all(&mut socket, vec![Packet::PingReq], v311);
    let packets = next_packets(&mut socket, v311, 1);
    assert!(
        matches!(packets[..], [Packet::PingResp]),
        "silent 3 s with keep alive 1: {packets:?}"
    );
}

#[test]
fn wildcard_subscribe_churn_lists_at_most_32_filters_per_request() {
    let v5 = ProtocolVersion::V5;
    let root = unique("list");
    let token = dev_token(&[&format!("{root}/#")], &[&format!("{root}/#")]);
    let (mut socket, _) = open(connect_packet(v5, &token, 60));
    let app = stack().app_url();
    let auth = format!("Bearer {token}");
    for i in 0..40 {
        let path = format!(
            "/events?topic={}&retain=true",
            enc(&format!("{root}/{i}/x"))
        );
        let stored = send_to(&app, "POST", &path, &[("Authorization", &auth)], b"r");
        assert!(stored.status < 300, "{}", stored.text());
    }
    let churn: Vec<Packet> = (0..40u16)
        .flat_map(|i| {
            let filter = format!("{root}/{i}/+");
            let unsubscribe = Packet::Unsubscribe(mqtt::Unsubscribe {
                packet_id: std::num::NonZeroU16::new(i + 100).expect("id"),
                filters: vec![filter.clone()],
                properties: Default::default(),
            });
            [subscribe(i + 1, &[&filter]), unsubscribe]
        })
        .collect();
    write_all(&mut socket, churn, v5);
    let retained = next_packets(&mut socket, v5, 120)
        .into_iter()
        .filter(|p| matches!(p, Packet::Publish(p) if p.retain))
        .count();
    eprintln!("40 wildcard filters in one request: {retained} listed and delivered");
    assert_eq!(retained, 32, "MAX_FILTER_LISTINGS");
}

/// A new HS256 key made through the admin API: its id and secret.
fn new_key() -> (String, String) {
    let app = stack().app_url();
    let created = send_to(
        &app,
        "POST",
        "/admin/keys",
        &[("Fastly-Key", ADMIN_TOKEN)],
        b"",
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let json: serde_json::Value = serde_json::from_slice(&created.body).expect("json");
    let field = |name: &str| json[name].as_str().expect(name).to_owned();
    (field("id"), field("value"))
}

#[test]
fn a_revocation_close_drops_the_will_while_the_key_is_still_in_kv() {
    let v5 = ProtocolVersion::V5;
    let (kid, secret) = new_key();
    let topic = unique("will");
    let key = pubsub_token::SigningKey::hs256(&secret).expect("secret");
    let topics = [topic.clone()];
    let now = pubsub_token::now_secs();
    let token = pubsub_token::mint(&kid, &key, &topics, &topics, 600, now).expect("token");
    let watcher = dev_token(&[&topic], &[]);
    let path = format!("/events?topic={}&auth={watcher}", enc(&topic));
    let sse = Sse::subscribe_at(&stack().app_url(), &path, &[]);
    let mut c = connect_packet(v5, &token, 60);
    c.will = Some(mqtt::Will {
        topic: topic.clone(),
        payload: b"gone".to_vec(),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    });
    let (mut socket, ack) = open(c);
    assert!(matches!(ack, Packet::ConnAck(ref a) if a.reason_code as u8 == 0));
    let requests = stack().app_requests().expect("counted");
    let seen = requests.len();
    // The revocation's close, published straight to Pushpin: the key stays in KV.
    let body = format!(
        "{{\"items\":[{{\"channel\":\"k#{kid}\",\"formats\":{{\"ws-message\":\
         {{\"action\":\"close\",\"code\":1008}}}}}}]}}"
    );
    let published = ureq::post(&stack().publish_url())
        .set("Content-Type", "application/json")
        .send_bytes(body.as_bytes());
    assert!(published.is_ok(), "{published:?}");
    let closed = next_packets(&mut socket, v5, 1);
    eprintln!("the client saw {closed:?} and the close");
    std::thread::sleep(Duration::from_secs(2));
    // What Pushpin tells the app about a connection it closed itself: a CLOSE event
    // without a status code (though the client echoed 1008), not a DISCONNECT.
    let ends: Vec<String> = requests
        .snapshot()
        .into_iter()
        .skip(seen)
        .filter(|r| r.connection_id.is_some())
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .filter(|body| body.starts_with("CLOSE") || body.starts_with("DISCONNECT"))
        .collect();
    eprintln!("the app was told: {ends:?}");
    assert!(ends.iter().any(|e| e == "CLOSE\r\n"), "{ends:?}");
    let will = sse.next_within(Duration::from_secs(3));
    assert!(
        will.as_ref().is_none_or(|e| e.event != "message"),
        "the Will arrived: {will:?}"
    );
}

#[test]
fn subscriptions_past_fanouts_channels_per_connection_are_refused() {
    let v5 = ProtocolVersion::V5;
    let root = unique("chan");
    let names: Vec<String> = (0..20).map(|i| format!("{root}/{i}")).collect();
    let filters: Vec<&str> = names.iter().map(String::as_str).collect();
    let token = dev_token(&[&format!("{root}/#")], &[&format!("{root}/#")]);
    let (mut socket, _) = open(connect_packet(v5, &token, 60));
    write_all(&mut socket, vec![subscribe(1, &filters)], v5);
    let Some(Packet::SubAck(ack)) = next_packets(&mut socket, v5, 1).into_iter().next() else {
        panic!("no SUBACK")
    };
    let codes: Vec<u8> = ack.reason_codes.iter().map(|c| *c as u8).collect();
    // What Fanout does with the channels past its limit: publish to the last two.
    let app = stack().app_url();
    let auth = format!("Bearer {token}");
    std::thread::sleep(Duration::from_millis(500));
    for name in &names[17..] {
        let path = format!("/events?topic={}", enc(name));
        let sent = send_to(&app, "POST", &path, &[("Authorization", &auth)], b"m");
        assert!(sent.status < 300, "{}", sent.text());
    }
    let delivered: Vec<String> = next_packets(&mut socket, v5, 3)
        .into_iter()
        .filter_map(|p| match p {
            Packet::Publish(p) => Some(p.topic),
            _ => None,
        })
        .collect();
    eprintln!("SUBACK {codes:?}; delivered of the last three: {delivered:?}");
    // The key channel, the client id's channel and 18 subscriptions.
    assert_eq!(&codes[..18], [0; 18]);
    assert_eq!(&codes[18..], [0x97, 0x97], "the 21st and 22nd channels");
    assert_eq!(
        delivered,
        [names[17].clone()],
        "what was granted is delivered"
    );
}

/// The channels of the items of the last publish API call that carried `topic`.
fn last_publish_channels(topic: &str) -> Vec<String> {
    let log = stack().publish_requests().expect("publish relay");
    let needle = format!("\"channel\":\"{topic}\"");
    let needle = needle.as_bytes();
    let requests = log.snapshot();
    let body = requests
        .iter()
        .rev()
        .find(|r| r.body.windows(needle.len()).any(|w| w == needle))
        .map(|r| r.body.clone())
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&body).expect("a publish body");
    json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["channel"].as_str().expect("channel").to_owned())
        .collect()
}

#[test]
fn a_publish_sends_one_item_unless_a_311_wildcard_or_as_published_subscription_listens() {
    let prefix = unique("reg");
    let topic = format!("{prefix}/x");
    let token = dev_token(&["#"], &[&topic]);
    let auth = format!("Bearer {token}");
    let app = stack().app_url();
    let path = format!("/events?topic={}", enc(&topic));
    let publish = |body: &[u8]| {
        let sent = send_to(&app, "POST", &path, &[("Authorization", &auth)], body);
        assert_eq!(sent.status, 200, "{}", sent.text());
    };
    // No MQTT 3.1.1 client subscribes to a topic on this stack yet: one item.
    publish(b"nobody listens on a filter");
    assert_eq!(last_publish_channels(&topic), std::slice::from_ref(&topic));

    // An MQTT 3.1.1 topic subscription registers that 3.1.1 clients listen, before its
    // SUBACK: every publish then also carries the 3.1.1 PUBLISH.
    let v311 = ProtocolVersion::V311;
    let (mut old, _) = open(connect_packet(v311, &token, 60));
    write_all(&mut old, vec![subscribe(1, &[&topic])], v311);
    assert!(matches!(
        next_packets(&mut old, v311, 1)[..],
        [Packet::SubAck(_)]
    ));
    publish(b"a 3.1.1 listener");
    let own = [topic.clone(), format!("v4#{topic}")];
    assert_eq!(last_publish_channels(&topic), own);
    match &next_packets(&mut old, v311, 1)[..] {
        [Packet::Publish(p)] => assert_eq!(&p.payload[..], b"a 3.1.1 listener"),
        other => panic!("{other:?}"),
    }

    // A wildcard stream registers its filter before it is held; the next publish has it.
    let filter = format!("{prefix}/+");
    let events = format!("/events?topic={}&auth={token}", enc(&filter));
    let sse = Sse::subscribe_at(&app, &events, &[]);
    publish(b"one filter");
    let mut expected = own.to_vec();
    expected.push(format!("f#{filter}"));
    assert_eq!(last_publish_channels(&topic), expected);
    let event = sse.next().expect("the filter's event");
    assert_eq!(
        event.data,
        format!("{{\"topic\":\"{topic}\",\"data\":\"one filter\"}}")
    );

    // So does an MQTT 5 subscription with Retain As Published, before its SUBACK.
    let v5 = ProtocolVersion::V5;
    let (mut socket, _) = open(connect_packet(v5, &token, 60));
    let mut options = SubscriptionOptions::qos(QoS::AtMostOnce);
    options.retain_as_published = true;
    let rap = Packet::Subscribe(Subscribe {
        packet_id: std::num::NonZeroU16::new(1).expect("id"),
        subscriptions: vec![Subscription {
            filter: topic.clone(),
            options,
        }],
        properties: Default::default(),
    });
    write_all(&mut socket, vec![rap], v5);
    assert!(matches!(
        next_packets(&mut socket, v5, 1)[..],
        [Packet::SubAck(_)]
    ));
    publish(b"as published");
    expected.insert(2, format!("a#{topic}"));
    assert_eq!(last_publish_channels(&topic), expected);
    match &next_packets(&mut socket, v5, 1)[..] {
        [Packet::Publish(p)] => assert_eq!(&p.payload[..], b"as published"),
        other => panic!("{other:?}"),
    }
}
