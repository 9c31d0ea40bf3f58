//! The `/mqtt` endpoint natively: a simulated proxy carries connection metadata from one
//! request to the next, as Fanout does, and the client's packets are encoded with the
//! codec. The same behaviours through Pushpin with real clients: `tests/e2e_mqtt*.rs`.

use std::num::NonZeroU16;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use http::HeaderMap;
use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_codec::mqtt::{
    self, Connect, DisconnectReasonCode, Packet, ProtocolVersion, PubAckReasonCode, Publish, QoS,
    SubAckReasonCode, Subscribe, Subscription, SubscriptionOptions,
};
use pubsub_codec::wsevents::{self, Event};
use pubsub_core::extensions::GripVerified;
use pubsub_core::ports::memory::{InMemory, RecordingPublisher, TestEnv};
use pubsub_core::ports::{Environment, Platform};
use pubsub_core::Config;

mod rate_limit;

const SECRET: &str = "mqtt-test-secret";

/// One WebSocket connection as the proxy sees it.
struct Proxy {
    platform: Platform,
    env: Arc<TestEnv>,
    publisher: Arc<RecordingPublisher>,
    meta: HeaderMap,
    version: ProtocolVersion,
    /// The `Keep-Alive-Interval` of the last answer.
    interval: Option<u64>,
    /// The configuration each request carries.
    config: Config,
}

impl Proxy {
    fn new(version: ProtocolVersion) -> Self {
        let ports = InMemory::new().with_hs256_key("k", SECRET);
        // These tests look at the whole fan-out, whoever is subscribed.
        pubsub_core::audience::registry::listen_everywhere(&*ports.env);
        Self {
            platform: ports.platform,
            env: ports.env,
            publisher: ports.publisher,
            meta: HeaderMap::new(),
            version,
            interval: None,
            config: Config::default(),
        }
    }

    fn token(&self, read: &[&str], write: &[&str], ttl: u64) -> String {
        let header = Header {
            kid: Some("k".into()),
            ..Header::default()
        };
        let claims = serde_json::json!({
            "x-fastly-read": read, "x-fastly-write": write, "exp": self.env.now() + ttl,
        });
        encode(
            &header,
            &claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap()
    }

    /// Sends one request with `body` (events); returns the response's events, and keeps
    /// its `Set-Meta-*` as the connection's metadata.
    fn request(&mut self, body: Vec<u8>) -> Vec<Vec<u8>> {
        let mut req = http::Request::post("/mqtt")
            .header("content-type", "application/websocket-events")
            .header("connection-id", "conn-1")
            .header("sec-websocket-protocol", "mqtt")
            .body(body)
            .unwrap();
        for (name, value) in &self.meta {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        req.extensions_mut().insert(GripVerified);
        req.extensions_mut().insert(self.config.clone());
        let res = super::websocket(&self.platform, req).unwrap();
        self.interval = res
            .headers()
            .get("keep-alive-interval")
            .map(|v| v.to_str().unwrap().parse().unwrap());
        for (name, value) in res.headers() {
            if let Some(meta) = name.as_str().strip_prefix("set-meta-") {
                let name = http::HeaderName::try_from(format!("meta-{meta}")).unwrap();
                if value.is_empty() {
                    self.meta.remove(name);
                } else {
                    self.meta.insert(name, value.clone());
                }
            }
        }
        wsevents::parse(res.body())
            .unwrap()
            .into_iter()
            .map(|e| match e {
                Event::Binary(b) => b.to_vec(),
                Event::Text(t) => [b"TEXT:".as_slice(), t].concat(),
                Event::Close(code, _) => format!("CLOSE:{}", code.unwrap_or(0)).into_bytes(),
                Event::Open => b"OPEN".to_vec(),
                other => format!("{other:?}").into_bytes(),
            })
            .collect()
    }

    fn send(&mut self, packets: &[Packet]) -> Vec<Vec<u8>> {
        let mut body = Vec::new();
        for p in packets {
            let mut bytes = Vec::new();
            p.encode(self.version, &mut bytes).unwrap();
            wsevents::write_binary(&mut body, &bytes);
        }
        self.request(body)
    }

    fn connect(&mut self, token: &str) -> Vec<Vec<u8>> {
        self.connect_with_will(token, None)
    }

    fn connect_with_will(&mut self, token: &str, will: Option<mqtt::Will>) -> Vec<Vec<u8>> {
        let mut open = Vec::new();
        wsevents::write_open(&mut open);
        assert_eq!(self.request(open), [b"OPEN".to_vec()]);
        let mut c = connect_packet(self.version, token);
        c.will = will;
        self.send(&[Packet::Connect(Box::new(c))])
    }

    /// Decodes the MQTT packets among `events` (messages carry the grip `m:` prefix).
    fn packets(&self, events: &[Vec<u8>]) -> Vec<Packet> {
        events
            .iter()
            .filter_map(|e| e.strip_prefix(b"m:"))
            .map(|p| mqtt::decode(p, self.version).unwrap())
            .collect()
    }
}

/// A CONNECT with `token` as its password and MQTT.js's default keep alive, 60 s.
fn connect_packet(version: ProtocolVersion, token: &str) -> Connect {
    let mut c = Connect::new(version, "client");
    c.password = Some(token.as_bytes().to_vec());
    c.username = Some("u".into());
    c.keep_alive = 60;
    c
}

fn id(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).unwrap()
}

/// A SUBSCRIBE (identifier 1) of `filters` at QoS 0; the core's tables use it too.
pub(crate) fn subscribe(filters: &[&str]) -> Packet {
    Packet::Subscribe(Subscribe {
        packet_id: id(1),
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

fn publish(topic: &str, qos: QoS, payload: &[u8]) -> Packet {
    let mut p = Publish::new(topic, payload);
    p.qos = qos;
    p.packet_id = (qos != QoS::AtMostOnce).then(|| id(7));
    Packet::Publish(p)
}

#[test]
fn a_good_token_connects_and_a_bad_one_gets_not_authorized_and_a_close() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut good = Proxy::new(version);
        let t = good.token(&["a"], &[], 3600);
        let events = good.connect(&t);
        match good.packets(&events).as_slice() {
            [Packet::ConnAck(ack)] => assert!(ack.reason_code.is_success(), "{version:?}"),
            other => panic!("{other:?}"),
        }
        let mut bad = Proxy::new(version);
        let events = bad.connect("nope");
        assert_eq!(events.last().unwrap(), b"CLOSE:1008");
        let raw = events[0].strip_prefix(b"m:").unwrap();
        // CONNACK return code: v5 0x87, 3.1.1 0x05.
        let code = match version {
            ProtocolVersion::V5 => 0x87,
            ProtocolVersion::V311 => 0x05,
        };
        assert_eq!((raw[0], raw[3]), (0x20, code), "{version:?}");
    }
}

#[test]
fn every_filter_of_a_subscribe_gets_its_own_reason_code_and_a_control_message() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&["a", "b", "x/#"], &[], 3600);
    p.connect(&t);
    let events = p.send(&[subscribe(&[
        "a",
        "b",
        "c",
        "x/+",
        "x/1/2/3/4/5/#",
        "$share/g/a",
    ])]);
    let controls: Vec<_> = events
        .iter()
        .filter(|e| e.starts_with(b"TEXT:c:"))
        .collect();
    assert_eq!(controls.len(), 3);
    match p.packets(&events).as_slice() {
        [Packet::SubAck(ack)] => assert_eq!(
            ack.reason_codes,
            [
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::NotAuthorized,
                SubAckReasonCode::GrantedQoS0,
                // 7 levels: over `wildcard-max-levels` (6).
                SubAckReasonCode::WildcardSubscriptionsNotSupported,
                SubAckReasonCode::SharedSubscriptionsNotSupported,
            ]
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_packet_split_across_requests_is_reassembled_from_metadata() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&[], &["a"], 3600);
    p.connect(&t);
    let mut bytes = Vec::new();
    publish("a", QoS::AtLeastOnce, &[7; 3000])
        .encode(ProtocolVersion::V5, &mut bytes)
        .unwrap();
    for chunk in bytes.chunks(1000) {
        let mut body = Vec::new();
        wsevents::write_binary(&mut body, chunk);
        let events = p.request(body);
        if events.is_empty() {
            assert!(p.meta.contains_key("meta-mqtt-buf"));
            continue;
        }
        match p.packets(&events).as_slice() {
            [Packet::PubAck(ack)] => assert_eq!(ack.reason_code, PubAckReasonCode::Success),
            other => panic!("{other:?}"),
        }
    }
    assert!(
        !p.meta.contains_key("meta-mqtt-buf"),
        "the buffer is cleared"
    );
    assert_eq!(p.publisher.live_items().len(), 1);
}

#[test]
fn a_second_connect_and_auth_end_the_session_with_the_right_reason() {
    let cases: [(Packet, DisconnectReasonCode); 2] = [
        (
            Packet::Connect(Box::new(Connect::new(ProtocolVersion::V5, "again"))),
            DisconnectReasonCode::ProtocolError,
        ),
        (
            Packet::Auth(mqtt::Auth {
                reason_code: mqtt::AuthReasonCode::ContinueAuthentication,
                properties: Default::default(),
            }),
            DisconnectReasonCode::ProtocolError,
        ),
    ];
    for (packet, reason) in cases {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&["a"], &["a"], 3600);
        p.connect(&t);
        let events = p.send(&[packet]);
        match p.packets(&events).as_slice() {
            [Packet::Disconnect(d)] => assert_eq!(d.reason_code, reason),
            other => panic!("{other:?}"),
        }
        assert_eq!(events.last().unwrap(), b"CLOSE:1008");
        assert!(p.publisher.live_items().is_empty());
    }
}

#[test]
fn an_unauthorised_publish_is_refused_per_qos_and_version() {
    let mut v5 = Proxy::new(ProtocolVersion::V5);
    let t = v5.token(&[], &["mine"], 3600);
    v5.connect(&t);
    let events = v5.send(&[publish("theirs", QoS::AtLeastOnce, b"x")]);
    match v5.packets(&events).as_slice() {
        [Packet::PubAck(ack)] => assert_eq!(ack.reason_code, PubAckReasonCode::NotAuthorized),
        other => panic!("{other:?}"),
    }
    let events = v5.send(&[publish("theirs", QoS::AtMostOnce, b"x")]);
    match v5.packets(&events).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, DisconnectReasonCode::NotAuthorized),
        other => panic!("{other:?}"),
    }
    let mut v311 = Proxy::new(ProtocolVersion::V311);
    let t = v311.token(&[], &["mine"], 3600);
    v311.connect(&t);
    let events = v311.send(&[publish("theirs", QoS::AtLeastOnce, b"x")]);
    assert_eq!(events, [b"CLOSE:1008".to_vec()]);
    assert!(v5.publisher.live_items().is_empty() && v311.publisher.live_items().is_empty());
}

#[test]
fn an_expired_token_ends_the_session_at_the_next_request() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&["a"], &[], 100);
    p.connect(&t);
    let pong = p.send(&[Packet::PingReq]);
    assert!(matches!(p.packets(&pong).as_slice(), [Packet::PingResp]));
    p.env.now.fetch_add(100 + 61, Ordering::Relaxed);
    let events = p.send(&[Packet::PingReq]);
    match p.packets(&events).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, DisconnectReasonCode::NotAuthorized),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_silent_connection_is_closed_after_one_and_a_half_keep_alives() {
    // MQTT 5: the Server Keep Alive (300 s) the CONNACK announced; 3.1.1: the client's 60 s.
    for (version, ka) in [(ProtocolVersion::V5, 300), (ProtocolVersion::V311, 60)] {
        let mut p = Proxy::new(version);
        let t = p.token(&["a"], &[], 3600);
        p.connect(&t);
        p.env.now.fetch_add(ka * 3 / 2 - 1, Ordering::Relaxed);
        assert!(
            p.request(Vec::new()).is_empty(),
            "{version:?}: within 1.5 x {ka} s"
        );
        p.env.now.fetch_add(2, Ordering::Relaxed);
        let events = p.request(Vec::new());
        assert_eq!(events.last().map(Vec::as_slice), Some(&b"CLOSE:1008"[..]));
        match (version, p.packets(&events).as_slice()) {
            (ProtocolVersion::V5, [Packet::Disconnect(d)]) => {
                assert_eq!(d.reason_code, DisconnectReasonCode::KeepAliveTimeout);
            }
            (ProtocolVersion::V311, []) => {}
            (_, other) => panic!("{version:?}: {other:?}"),
        }
    }
}

#[test]
fn an_mqtt5_connack_asks_for_a_300_s_keep_alive_and_3_1_1_keeps_its_own() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut p = Proxy::new(version);
        let t = p.token(&["a"], &[], 3600);
        let events = p.connect(&t);
        let packets = p.packets(&events);
        let [Packet::ConnAck(ack)] = packets.as_slice() else {
            panic!("{events:?}")
        };
        let want = (version == ProtocolVersion::V5).then_some(300);
        assert_eq!(ack.properties.server_keep_alive, want, "{version:?}");
    }
}

#[test]
fn an_accepted_connection_listens_on_its_keys_channel() {
    for (version, channel) in [
        (ProtocolVersion::V5, "k#k"),
        (ProtocolVersion::V311, "k4#k"),
    ] {
        let mut p = Proxy::new(version);
        let t = p.token(&["a"], &[], 3600);
        let events = p.connect(&t);
        let control = format!("TEXT:c:{{\"channel\":\"{channel}\",\"type\":\"subscribe\"}}");
        assert!(
            events.iter().any(|e| e == control.as_bytes()),
            "{version:?}: {:?}",
            events
                .iter()
                .map(|e| String::from_utf8_lossy(e))
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn fanout_calls_again_when_the_next_deadline_passes_and_not_before() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let mut open = Vec::new();
    wsevents::write_open(&mut open);
    p.request(open);
    assert_eq!(p.interval, Some(30), "the CONNECT deadline");
    let t = p.token(&["a"], &[], 3600);
    p.send(&[Packet::Connect(Box::new(connect_packet(p.version, &t)))]);
    assert_eq!(
        p.interval,
        Some(451),
        "1.5 x the 300 s keep alive, and a second"
    );
    let mut v311 = Proxy::new(ProtocolVersion::V311);
    let soon = v311.token(&["a"], &[], 100);
    v311.connect(&soon);
    assert_eq!(v311.interval, Some(91), "1.5 x 60 s, and a second");
    v311.env.now.fetch_add(80, Ordering::Relaxed);
    v311.send(&[Packet::PingReq]);
    assert_eq!(
        v311.interval,
        Some(81),
        "the token's exp + 60 s leeway, and a second"
    );
    v311.env.now.fetch_add(75, Ordering::Relaxed);
    v311.send(&[Packet::PingReq]);
    assert_eq!(v311.interval, Some(20), "never below Fanout's 20 s");
}

#[test]
fn a_websocket_without_a_connect_is_closed_after_30_s() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let mut open = Vec::new();
    wsevents::write_open(&mut open);
    p.request(open);
    p.env.now.fetch_add(29, Ordering::Relaxed);
    assert!(p.request(Vec::new()).is_empty());
    p.env.now.fetch_add(1, Ordering::Relaxed);
    assert_eq!(p.request(Vec::new()), [b"CLOSE:1008".to_vec()]);
    assert_eq!(p.interval, None);
}

/// A KV store that counts the reads of retained slots (KV store `messages`).
struct CountingKv {
    inner: Arc<dyn pubsub_core::ports::KvStore>,
    slot_reads: std::sync::atomic::AtomicUsize,
    lists: std::sync::atomic::AtomicUsize,
}

impl pubsub_core::ports::KvStore for CountingKv {
    fn lookup(
        &self,
        store: &str,
        key: &str,
    ) -> Result<Option<pubsub_core::ports::KvItem>, pubsub_core::ports::KvError> {
        if store == pubsub_core::retained::STORE {
            self.slot_reads.fetch_add(1, Ordering::Relaxed);
        }
        self.inner.lookup(store, key)
    }
    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: pubsub_core::ports::InsertOptions,
    ) -> Result<(), pubsub_core::ports::KvError> {
        self.inner.insert(store, key, value, options)
    }
    fn delete(&self, store: &str, key: &str) -> Result<(), pubsub_core::ports::KvError> {
        self.inner.delete(store, key)
    }
    fn list(&self, store: &str) -> Result<Vec<String>, pubsub_core::ports::KvError> {
        self.lists.fetch_add(1, Ordering::Relaxed);
        self.inner.list(store)
    }
}

/// A connected proxy whose retained slot reads are counted, with a `size`-byte retained
/// message on each of `topics`.
fn with_retained(topics: &[String], size: usize) -> (Proxy, Arc<CountingKv>) {
    let read: Vec<&str> = topics.iter().map(String::as_str).collect();
    with_retained_reading(topics, size, &read)
}

/// [`with_retained`] with a token that may read `read`.
fn with_retained_reading(
    topics: &[String],
    size: usize,
    read: &[&str],
) -> (Proxy, Arc<CountingKv>) {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let kv = Arc::new(CountingKv {
        inner: p.platform.kv.clone(),
        slot_reads: Default::default(),
        lists: Default::default(),
    });
    p.platform.kv = kv.clone();
    for topic in topics {
        let msg = pubsub_core::retained::NewRetained {
            payload: &vec![b'r'; size],
            ttl_secs: None,
            mqtt: None,
        };
        pubsub_core::retained::store(&*kv, p.env.now(), topic, msg).unwrap();
    }
    let t = p.token(read, &[], 3600);
    p.connect(&t);
    kv.slot_reads.store(0, Ordering::Relaxed);
    (p, kv)
}

/// The bytes of an answer's events as Fanout receives them.
fn answer_bytes(events: &[Vec<u8>]) -> usize {
    events.iter().map(|e| e.len() + 16).sum()
}

fn retained_deliveries(p: &Proxy, events: &[Vec<u8>]) -> Vec<String> {
    p.packets(events)
        .into_iter()
        .filter_map(|packet| match packet {
            Packet::Publish(publish) if publish.retain => Some(publish.topic),
            _ => None,
        })
        .collect()
}

#[test]
fn a_subscribe_repeating_one_filter_8000_times_reads_its_slot_once_and_answers_once() {
    let (mut p, kv) = with_retained(&["a".to_owned()], 32_000);
    let events = p.send(&[subscribe(&["a"; 8000])]);
    assert_eq!(kv.slot_reads.load(Ordering::Relaxed), 1);
    assert!(answer_bytes(&events) < 50_000, "{}", answer_bytes(&events));
    assert_eq!(retained_deliveries(&p, &events), ["a"]);
    let controls = events.iter().filter(|e| e.starts_with(b"TEXT:c:")).count();
    assert_eq!(controls, 1, "one Fanout subscription");
    match p.packets(&events).first() {
        Some(Packet::SubAck(ack)) => {
            assert_eq!(
                ack.reason_codes.len(),
                8000,
                "one reason code per filter sent"
            );
            assert!(ack
                .reason_codes
                .iter()
                .all(|c| *c == SubAckReasonCode::GrantedQoS0));
        }
        other => panic!("{other:?}"),
    }
    // The same filters again in the next request: the subscription is replaced as is.
    let events = p.send(&[subscribe(&["a"; 8000])]);
    assert!(!events.iter().any(|e| e.starts_with(b"TEXT:c:")));
    assert_eq!(retained_deliveries(&p, &events), ["a"], "Retain Handling 0");
}

#[test]
fn wildcard_subscribes_in_one_request_list_each_filter_once_within_a_budget() {
    let topics: Vec<String> = (0..40).map(|i| format!("w/{i}/x")).collect();
    let (mut p, kv) = with_retained_reading(&topics, 10, &["w/#"]);
    p.config.mqtt_limits.control_per_request = 10_000;
    // 500 SUBSCRIBE packets of one wildcard filter: one listing.
    let same: Vec<Packet> = (0..500).map(|_| subscribe(&["w/+/x"])).collect();
    let events = p.send(&same);
    assert!(kv.lists.load(Ordering::Relaxed) <= 1, "one listing");
    assert_eq!(
        retained_deliveries(&p, &events).len(),
        16,
        "wildcard-retained-max"
    );
    // Churn over distinct filters: at most MAX_FILTER_LISTINGS listings per request.
    kv.lists.store(0, Ordering::Relaxed);
    let churn: Vec<Packet> = (0..40)
        .flat_map(|i| {
            let filter = format!("w/{i}/+");
            let unsubscribe = Packet::Unsubscribe(mqtt::Unsubscribe {
                packet_id: id(2),
                filters: vec![filter.clone()],
                properties: Default::default(),
            });
            [subscribe(&[&filter]), unsubscribe]
        })
        .collect();
    p.send(&churn);
    let lists = kv.lists.load(Ordering::Relaxed);
    assert!(lists <= super::MAX_FILTER_LISTINGS, "{lists} listings");
}

#[test]
fn filters_beyond_the_subscription_quota_get_quota_exceeded_without_being_looked_at() {
    for (version, quota) in [(ProtocolVersion::V5, 0x97), (ProtocolVersion::V311, 0x80)] {
        let mut p = Proxy::new(version);
        p.config.mqtt_limits.channels_per_connection = 34;
        let topics: Vec<String> = (0..32).map(|i| format!("t{i}")).collect();
        let read: Vec<&str> = topics.iter().map(String::as_str).collect();
        let t = p.token(&read, &[], 3600);
        p.connect(&t);
        let mut filters = read.clone();
        filters.extend(["x/+", "t0", "$share/g/t1"]);
        let events = p.send(&[subscribe(&filters)]);
        let packets = p.packets(&events);
        let Some(Packet::SubAck(ack)) = packets.first() else {
            panic!("{packets:?}")
        };
        let codes: Vec<u8> = ack.reason_codes.iter().map(|c| *c as u8).collect();
        assert_eq!(codes[..32], [0; 32], "{version:?}");
        // The 33rd distinct filter is refused for quota whatever it is; a repeat of a
        // granted filter is granted.
        assert_eq!(codes[32..], [quota, 0, quota], "{version:?}");
    }
}

#[test]
fn subscriptions_past_the_channels_fanout_delivers_get_quota_exceeded() {
    for (version, quota) in [(ProtocolVersion::V5, 0x97), (ProtocolVersion::V311, 0x80)] {
        // Default `channels 20`: the key and client id channels and 18 subscriptions.
        let mut p = Proxy::new(version);
        let topics: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        let read: Vec<&str> = topics.iter().map(String::as_str).collect();
        let t = p.token(&read, &[], 3600);
        p.connect(&t);
        let events = p.send(&[subscribe(&read[..17])]);
        assert!(matches!(p.packets(&events)[..], [Packet::SubAck(_)]));
        let events = p.send(&[subscribe(&read[17..])]);
        let Some(Packet::SubAck(ack)) = p.packets(&events).first().cloned() else {
            panic!("no SUBACK")
        };
        let codes: Vec<u8> = ack.reason_codes.iter().map(|c| *c as u8).collect();
        assert_eq!(codes, [0, quota, quota], "{version:?}");
        // A subscription that ends makes room; replacing a held one needs none.
        let unsubscribe = Packet::Unsubscribe(mqtt::Unsubscribe {
            packet_id: id(2),
            filters: vec!["t0".into()],
            properties: Default::default(),
        });
        let events = p.send(&[unsubscribe, subscribe(&["t18", "t1"])]);
        let Some(Packet::SubAck(ack)) = p.packets(&events).get(1).cloned() else {
            panic!("no SUBACK")
        };
        let codes: Vec<u8> = ack.reason_codes.iter().map(|c| *c as u8).collect();
        assert_eq!(codes, [0, 0], "{version:?}");
    }
}

#[test]
fn retained_messages_beyond_the_answer_budget_go_out_in_the_next_request() {
    let topics: Vec<String> = (0..32).map(|i| format!("t{i}")).collect();
    let (mut p, kv) = with_retained(&topics, 32_000);
    // A Fanout that lets a connection listen on 34 channels: 32 subscriptions fit.
    p.config.mqtt_limits.channels_per_connection = 34;
    let filters: Vec<&str> = topics.iter().map(String::as_str).collect();
    let events = p.send(&[subscribe(&filters)]);
    let first = retained_deliveries(&p, &events);
    assert!(answer_bytes(&events) <= super::ANSWER_BUDGET_BYTES);
    assert!(first.len() < 32, "the 32 messages do not fit one answer");
    assert_eq!(p.interval, Some(super::MIN_CALLBACK_SECS), "call back soon");
    p.env.now.fetch_add(20, Ordering::Relaxed);
    let events = p.request(Vec::new());
    let second = retained_deliveries(&p, &events);
    let mut all = [first, second].concat();
    all.sort();
    let mut want = topics.clone();
    want.sort();
    assert_eq!(all, want, "each once");
    assert_eq!(kv.slot_reads.load(Ordering::Relaxed), 64);
    assert_eq!(p.interval, Some(451 - 20), "nothing held back any more");
}

#[test]
fn the_connect_deadline_comes_from_the_config_store() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    p.config = Config::load(|k| (k == "mqtt-connect-deadline").then(|| "25".to_owned())).unwrap();
    let mut open = Vec::new();
    wsevents::write_open(&mut open);
    p.request(open);
    assert_eq!(p.interval, Some(25));
    p.env.now.fetch_add(24, Ordering::Relaxed);
    assert!(p.request(Vec::new()).is_empty());
    p.env.now.fetch_add(1, Ordering::Relaxed);
    assert_eq!(p.request(Vec::new()), [b"CLOSE:1008".to_vec()]);
    // Below Fanout's 20 s floor, a silent client is called back at 20 s.
    let mut p = Proxy::new(ProtocolVersion::V5);
    p.config = Config::load(|k| (k == "mqtt-connect-deadline").then(|| "5".to_owned())).unwrap();
    let mut open = Vec::new();
    wsevents::write_open(&mut open);
    p.request(open);
    assert_eq!(p.interval, Some(20));
    p.env.now.fetch_add(5, Ordering::Relaxed);
    assert_eq!(p.request(Vec::new()), [b"CLOSE:1008".to_vec()]);
}

#[test]
fn a_will_whose_properties_make_it_too_large_is_refused_at_connect() {
    let mut w = will("gone", b"bye").unwrap();
    w.properties.user_properties = vec![("k".into(), "v".repeat(30_000))];
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&[], &["gone"], 3600);
    let events = p.connect_with_will(&t, Some(w));
    match p.packets(&events).as_slice() {
        [Packet::ConnAck(ack)] => {
            assert_eq!(ack.reason_code as u8, 0x97);
            let why = ack.properties.reason_string.as_deref().unwrap();
            assert!(why.contains("4096"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!p.meta.contains_key("meta-mqtt-will"));
}

#[test]
fn metadata_stays_under_the_proxys_header_limits() {
    // Whatever `max-packet-bytes` says, a packet that would wait in `mqtt-buf` beyond
    // 32,768 bytes is refused, and the CONNACK says so.
    let mut p = Proxy::new(ProtocolVersion::V5);
    p.config = Config::load(|k| (k == "max-packet-bytes").then(|| "1048576".to_owned())).unwrap();
    let t = p.token(&[], &["a"], 3600);
    let events = p.connect(&t);
    match p.packets(&events).as_slice() {
        [Packet::ConnAck(ack)] => assert_eq!(
            ack.properties.maximum_packet_size.map(|m| m.get()),
            Some(super::MAX_CARRIED_PACKET_BYTES as u32)
        ),
        other => panic!("{other:?}"),
    }
    let mut bytes = Vec::new();
    publish("a", QoS::AtLeastOnce, &[7; 200_000])
        .encode(ProtocolVersion::V5, &mut bytes)
        .unwrap();
    let mut body = Vec::new();
    wsevents::write_binary(&mut body, &bytes[..100_000]);
    let events = p.request(body);
    match p.packets(&events).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, DisconnectReasonCode::PacketTooLarge),
        other => panic!("{other:?}"),
    }
    let largest = p.meta.values().map(|v| v.len()).max().unwrap_or(0);
    assert!(largest < 44_000, "{largest}");
    // A token longer than a connection carries: bad user name or password.
    for (version, code) in [(ProtocolVersion::V5, 0x86), (ProtocolVersion::V311, 0x04)] {
        let mut p = Proxy::new(version);
        let long = "x".repeat(super::MAX_TOKEN_BYTES + 1);
        let events = p.connect(&long);
        let raw = events[0].strip_prefix(b"m:").unwrap();
        assert_eq!((raw[0], raw[3]), (0x20, code), "{version:?}");
        assert!(!p.meta.contains_key("meta-mqtt-token"));
    }
}

#[test]
fn the_will_of_a_connection_whose_key_was_revoked_is_not_published() {
    for revoke in [false, true] {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&["a"], &["w"], 3600);
        p.connect_with_will(&t, will("w", b"gone"));
        if revoke {
            p.platform.kv.delete("keys", "k").unwrap();
        }
        let mut lost = Vec::new();
        wsevents::write_disconnect(&mut lost);
        p.request(lost);
        assert_eq!(
            p.publisher.live_items().is_empty(),
            revoke,
            "revoked: {revoke}"
        );
    }
}

fn will(topic: &str, payload: &[u8]) -> Option<mqtt::Will> {
    Some(mqtt::Will {
        topic: topic.into(),
        payload: payload.to_vec(),
        qos: QoS::AtMostOnce,
        retain: false,
        properties: Default::default(),
    })
}

/// The channels of the first items of what was published, client id takeovers left out.
fn will_topics(p: &Proxy) -> Vec<String> {
    p.publisher
        .items()
        .iter()
        .map(|body| {
            body["items"][0]["channel"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .filter(|channel| !channel.starts_with("c#") && !channel.starts_with("c4#"))
        .collect()
}

#[test]
fn the_will_is_published_when_the_connection_ends_without_a_normal_disconnect() {
    let mut disconnect_event = Vec::new();
    wsevents::write_disconnect(&mut disconnect_event);
    let mut close_event = Vec::new();
    wsevents::write_close(&mut close_event, 1001);
    for (name, body) in [
        ("lost connection", disconnect_event),
        ("client close", close_event),
    ] {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&[], &["gone"], 3600);
        p.connect_with_will(&t, will("gone", b"bye"));
        assert!(p.meta.contains_key("meta-mqtt-will"));
        p.request(body);
        assert_eq!(will_topics(&p), ["gone"], "{name}");
    }
}

#[test]
fn a_close_fanout_may_have_made_for_a_revocation_drops_the_will_though_the_key_verifies() {
    let mut revoked = Vec::new();
    wsevents::write_close(&mut revoked, 1008);
    for (name, body, published) in [
        ("CLOSE without a code", b"CLOSE\r\n".to_vec(), false),
        ("CLOSE 1008", revoked, false),
    ] {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&[], &["gone"], 3600);
        p.connect_with_will(&t, will("gone", b"bye"));
        p.request(body);
        assert_eq!(will_topics(&p).is_empty(), !published, "{name}");
    }
}

#[test]
fn a_normal_disconnect_discards_the_will_and_reason_0x04_publishes_it() {
    for (reason, published) in [
        (DisconnectReasonCode::NormalDisconnection, 0),
        (DisconnectReasonCode::DisconnectWithWillMessage, 1),
    ] {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&[], &["gone"], 3600);
        p.connect_with_will(&t, will("gone", b"bye"));
        let events = p.send(&[Packet::Disconnect(mqtt::Disconnect::new(reason))]);
        assert_eq!(events.last().unwrap(), b"CLOSE:1000");
        assert_eq!(will_topics(&p).len(), published, "{reason:?}");
    }
}

#[test]
fn a_will_the_token_may_not_publish_or_too_large_is_refused_at_connect() {
    let cases = [
        (will("not-mine", b"bye"), 0x87),
        (will("gone", &vec![0; super::MAX_WILL_BYTES + 1]), 0x97),
    ];
    for (w, code) in cases {
        let mut p = Proxy::new(ProtocolVersion::V5);
        let t = p.token(&[], &["gone"], 3600);
        let events = p.connect_with_will(&t, w);
        let raw = events[0].strip_prefix(b"m:").unwrap();
        assert_eq!((raw[0], raw[3]), (0x20, code));
        assert_eq!(events.last().unwrap(), b"CLOSE:1008");
        assert!(will_topics(&p).is_empty());
    }
}

#[test]
fn a_disconnect_and_a_close_in_one_request_are_a_normal_end() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&[], &["gone"], 3600);
    p.connect_with_will(&t, will("gone", b"bye"));
    let mut body = Vec::new();
    let mut disconnect = Vec::new();
    Packet::Disconnect(mqtt::Disconnect::new(
        DisconnectReasonCode::NormalDisconnection,
    ))
    .encode(ProtocolVersion::V5, &mut disconnect)
    .unwrap();
    wsevents::write_binary(&mut body, &disconnect);
    wsevents::write_close(&mut body, 1000);
    let events = p.request(body);
    assert_eq!(events, [b"CLOSE:1000".to_vec()]);
    assert!(will_topics(&p).is_empty(), "the DISCONNECT came first");
}

/// A connected proxy whose KV refuses a second write to one key within a second of its
/// clock, as Fastly KV does in production.
fn rate_limited(version: ProtocolVersion) -> Proxy {
    use pubsub_core::ports::memory::RateLimitedKv;
    let mut p = Proxy::new(version);
    p.platform.kv = Arc::new(RateLimitedKv::new(p.platform.kv.clone(), p.env.clone()));
    let t = p.token(&[], &["r"], 3600);
    p.connect(&t);
    p
}

fn retained_publish(qos: QoS, payload: &[u8]) -> Packet {
    let mut p = Publish::new("r", payload);
    p.qos = qos;
    p.packet_id = (qos != QoS::AtMostOnce).then(|| id(7));
    p.retain = true;
    Packet::Publish(p)
}

fn retained_payload(p: &Proxy) -> Option<Vec<u8>> {
    pubsub_core::retained::load(&*p.platform.kv, p.env.now(), "r")
        .unwrap()
        .map(|m| m.payload)
}

#[test]
fn a_retained_publish_refused_for_rate_gets_quota_exceeded_at_qos_1_and_is_dropped_at_qos_0() {
    let mut p = rate_limited(ProtocolVersion::V5);
    let acks = |p: &Proxy, events: &[Vec<u8>]| -> Vec<PubAckReasonCode> {
        p.packets(events)
            .into_iter()
            .map(|packet| match packet {
                Packet::PubAck(ack) => ack.reason_code,
                other => panic!("{other:?}"),
            })
            .collect()
    };
    let events = p.send(&[retained_publish(QoS::AtLeastOnce, b"first")]);
    assert_eq!(acks(&p, &events), [PubAckReasonCode::Success]);
    let events = p.send(&[retained_publish(QoS::AtLeastOnce, b"second")]);
    match p.packets(&events).as_slice() {
        [Packet::PubAck(ack)] => {
            assert_eq!(ack.reason_code, PubAckReasonCode::QuotaExceeded);
            let why = ack.properties.reason_string.as_deref().unwrap();
            assert!(why.contains("one per second"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // QoS 0: dropped without an answer; the connection stays.
    let events = p.send(&[retained_publish(QoS::AtMostOnce, b"third")]);
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        p.publisher.live_items().len(),
        1,
        "only the first was published"
    );
    assert_eq!(retained_payload(&p), Some(b"first".to_vec()));
    p.env.now.fetch_add(1, Ordering::Relaxed);
    let events = p.send(&[retained_publish(QoS::AtLeastOnce, b"fourth")]);
    assert_eq!(acks(&p, &events), [PubAckReasonCode::Success]);
    assert_eq!(p.publisher.live_items().len(), 2);
    assert_eq!(retained_payload(&p), Some(b"fourth".to_vec()));
}

#[test]
fn mqtt_3_1_1_closes_on_a_qos_1_retained_publish_refused_for_rate_and_drops_qos_0() {
    let mut p = rate_limited(ProtocolVersion::V311);
    let events = p.send(&[retained_publish(QoS::AtMostOnce, b"first")]);
    assert!(events.is_empty(), "{events:?}");
    let events = p.send(&[retained_publish(QoS::AtMostOnce, b"second")]);
    assert!(
        events.is_empty(),
        "QoS 0 is dropped, the connection stays: {events:?}"
    );
    let events = p.send(&[retained_publish(QoS::AtLeastOnce, b"third")]);
    assert_eq!(
        events,
        [b"CLOSE:1008".to_vec()],
        "no PUBACK for an unstored message"
    );
    assert_eq!(p.publisher.live_items().len(), 1);
    assert_eq!(retained_payload(&p), Some(b"first".to_vec()));
}

// QoS 2 from publishers (`qos2.rs`).

fn pubrel(n: u16) -> Packet {
    Packet::PubRel(mqtt::PubRel::new(id(n)))
}

fn qos2_publish(topic: &str, n: u16, dup: bool) -> Packet {
    let mut p = Publish::new(topic, b"two".as_slice());
    p.qos = QoS::ExactlyOnce;
    p.packet_id = Some(id(n));
    p.dup = dup;
    Packet::Publish(p)
}

/// The acknowledgements among `events` as (type, packet id, reason code).
fn acks(p: &Proxy, events: &[Vec<u8>]) -> Vec<(&'static str, u16, u8)> {
    p.packets(events)
        .into_iter()
        .map(|packet| match packet {
            Packet::PubRec(a) => ("PUBREC", a.packet_id.get(), a.reason_code.into()),
            Packet::PubComp(a) => ("PUBCOMP", a.packet_id.get(), a.reason_code.into()),
            Packet::PubAck(a) => ("PUBACK", a.packet_id.get(), a.reason_code.into()),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn qos2_proxy(version: ProtocolVersion) -> Proxy {
    let mut p = Proxy::new(version);
    let t = p.token(&[], &["a"], 3600);
    p.connect(&t);
    p
}

#[test]
fn a_qos2_publish_is_published_once_however_often_it_is_resent_before_pubrel() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut p = qos2_proxy(version);
        let events = p.send(&[qos2_publish("a", 7, false), qos2_publish("a", 7, true)]);
        assert_eq!(acks(&p, &events), [("PUBREC", 7, 0), ("PUBREC", 7, 0)]);
        assert_eq!(p.publisher.live_items().len(), 1, "{version:?}");
        assert_eq!(p.meta.get("meta-mqtt-qos2").unwrap(), "7");
        // A re-send in a later request (the PUBREC was lost): PUBREC again, not published.
        let events = p.send(&[qos2_publish("a", 7, true)]);
        assert_eq!(acks(&p, &events), [("PUBREC", 7, 0)]);
        assert_eq!(p.publisher.live_items().len(), 1, "{version:?}");
        let events = p.send(&[pubrel(7)]);
        assert_eq!(acks(&p, &events), [("PUBCOMP", 7, 0)]);
        assert!(!p.meta.contains_key("meta-mqtt-qos2"));
        // After PUBCOMP the identifier is free: a new message with it is published.
        let events = p.send(&[qos2_publish("a", 7, false), pubrel(7)]);
        assert_eq!(acks(&p, &events), [("PUBREC", 7, 0), ("PUBCOMP", 7, 0)]);
        assert_eq!(p.publisher.live_items().len(), 2, "{version:?}");
    }
}

#[test]
fn a_pubrel_for_an_unknown_identifier_gets_pubcomp_packet_identifier_not_found() {
    let mut v5 = qos2_proxy(ProtocolVersion::V5);
    let events = v5.send(&[pubrel(9)]);
    assert_eq!(acks(&v5, &events), [("PUBCOMP", 9, 0x92)]);
    // 3.1.1 has no reason codes: a plain PUBCOMP; the connection stays in both.
    let mut v311 = qos2_proxy(ProtocolVersion::V311);
    let events = v311.send(&[pubrel(9)]);
    assert_eq!(acks(&v311, &events), [("PUBCOMP", 9, 0)]);
    let events = v311.send(&[qos2_publish("a", 9, false)]);
    assert_eq!(acks(&v311, &events), [("PUBREC", 9, 0)]);
}

#[test]
fn connack_announces_the_receive_maximum_and_no_maximum_qos() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&[], &["a"], 3600);
    let events = p.connect(&t);
    match p.packets(&events).as_slice() {
        [Packet::ConnAck(ack)] => {
            assert_eq!(ack.properties.maximum_qos, None);
            assert_eq!(
                ack.properties.receive_maximum.map(NonZeroU16::get),
                Some(super::RECEIVE_MAXIMUM)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn qos2_publications_beyond_the_receive_maximum_end_the_connection() {
    let max = super::RECEIVE_MAXIMUM;
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut p = qos2_proxy(version);
        let all: Vec<Packet> = (1..=max).map(|n| qos2_publish("a", n, false)).collect();
        let events = p.send(&all);
        assert_eq!(acks(&p, &events).len(), usize::from(max));
        // A PUBREL frees one place; a QoS 1 PUBLISH never holds one.
        let events = p.send(&[
            pubrel(1),
            qos2_publish("a", max + 1, false),
            publish("a", QoS::AtLeastOnce, b"one"),
        ]);
        assert_eq!(
            acks(&p, &events),
            [("PUBCOMP", 1, 0), ("PUBREC", max + 1, 0), ("PUBACK", 7, 0)]
        );
        // A duplicate of an awaited one is still answered; a new one is one too many.
        let events = p.send(&[
            qos2_publish("a", 2, true),
            qos2_publish("a", max + 2, false),
        ]);
        assert_eq!(events.last().unwrap(), b"CLOSE:1008", "{version:?}");
        let packets = p.packets(&events);
        assert!(matches!(packets[0], Packet::PubRec(_)), "{packets:?}");
        if version == ProtocolVersion::V5 {
            match &packets[1..] {
                [Packet::Disconnect(d)] => {
                    assert_eq!(d.reason_code, DisconnectReasonCode::ReceiveMaximumExceeded)
                }
                other => panic!("{other:?}"),
            }
        } else {
            assert_eq!(packets.len(), 1, "{packets:?}");
        }
        assert_eq!(p.publisher.live_items().len(), usize::from(max) + 2);
    }
}

/// A KV store that refuses every write to retained slots (KV store `messages`).
struct BrokenSlots(Arc<dyn pubsub_core::ports::KvStore>);

impl pubsub_core::ports::KvStore for BrokenSlots {
    fn lookup(
        &self,
        store: &str,
        key: &str,
    ) -> Result<Option<pubsub_core::ports::KvItem>, pubsub_core::ports::KvError> {
        self.0.lookup(store, key)
    }
    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: pubsub_core::ports::InsertOptions,
    ) -> Result<(), pubsub_core::ports::KvError> {
        if store == pubsub_core::retained::STORE {
            return Err(pubsub_core::ports::KvError::Unavailable("test".into()));
        }
        self.0.insert(store, key, value, options)
    }
    fn delete(&self, store: &str, key: &str) -> Result<(), pubsub_core::ports::KvError> {
        self.0.delete(store, key)
    }
    fn list(&self, store: &str) -> Result<Vec<String>, pubsub_core::ports::KvError> {
        self.0.list(store)
    }
}

#[test]
fn a_refused_qos2_publish_gets_a_negative_pubrec_and_is_not_remembered() {
    let mut p = qos2_proxy(ProtocolVersion::V5);
    // Not authorised: PUBREC 0x87.
    let events = p.send(&[qos2_publish("theirs", 3, false), pubrel(3)]);
    assert_eq!(
        acks(&p, &events),
        [("PUBREC", 3, 0x87), ("PUBCOMP", 3, 0x92)]
    );
    // The publish API fails: PUBREC 0x80.
    *p.publisher.fail.lock().unwrap() = Some("down".into());
    let events = p.send(&[qos2_publish("a", 4, false)]);
    assert_eq!(acks(&p, &events), [("PUBREC", 4, 0x80)]);
    *p.publisher.fail.lock().unwrap() = None;
    // The retained store fails: PUBREC 0x83.
    p.platform.kv = Arc::new(BrokenSlots(p.platform.kv.clone()));
    let mut retained = Publish::new("a", b"r".as_slice());
    (retained.qos, retained.packet_id, retained.retain) = (QoS::ExactlyOnce, Some(id(5)), true);
    let events = p.send(&[Packet::Publish(retained)]);
    assert_eq!(acks(&p, &events), [("PUBREC", 5, 0x83)]);
    assert!(!p.meta.contains_key("meta-mqtt-qos2"));
    assert!(p.publisher.live_items().is_empty());
    // Too large: DISCONNECT 0x95 (PUBREC has no such reason code).
    p.config.max_message_bytes = 2;
    let events = p.send(&[qos2_publish("a", 6, false)]);
    match p.packets(&events).as_slice() {
        [Packet::Disconnect(d)] => assert_eq!(d.reason_code, DisconnectReasonCode::PacketTooLarge),
        other => panic!("{other:?}"),
    }
    assert!(p.publisher.live_items().is_empty());
}

#[test]
fn a_qos2_retained_publish_refused_for_rate_gets_pubrec_quota_exceeded() {
    let mut p = rate_limited(ProtocolVersion::V5);
    let events = p.send(&[retained_publish(QoS::ExactlyOnce, b"first"), pubrel(7)]);
    assert_eq!(acks(&p, &events), [("PUBREC", 7, 0), ("PUBCOMP", 7, 0)]);
    let events = p.send(&[retained_publish(QoS::ExactlyOnce, b"second")]);
    assert_eq!(acks(&p, &events), [("PUBREC", 7, 0x97)]);
    assert_eq!(p.publisher.live_items().len(), 1);
    assert_eq!(retained_payload(&p), Some(b"first".to_vec()));
}

#[test]
fn mqtt_3_1_1_closes_on_a_refused_qos2_publish() {
    let mut p = qos2_proxy(ProtocolVersion::V311);
    let events = p.send(&[qos2_publish("theirs", 3, false)]);
    assert_eq!(events, [b"CLOSE:1008".to_vec()], "not authorised");
    let mut p = rate_limited(ProtocolVersion::V311);
    let events = p.send(&[retained_publish(QoS::ExactlyOnce, b"first"), pubrel(7)]);
    assert_eq!(acks(&p, &events), [("PUBREC", 7, 0), ("PUBCOMP", 7, 0)]);
    let events = p.send(&[retained_publish(QoS::ExactlyOnce, b"second")]);
    assert_eq!(events, [b"CLOSE:1008".to_vec()], "refused for rate");
    assert_eq!(p.publisher.live_items().len(), 1);
}

#[test]
fn a_pattern_claim_authorises_the_topics_it_matches() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&["sensors/+/temp", "a/#/b"], &["sensors/+/temp"], 3600);
    p.connect(&t);
    let filters = ["sensors/1/temp", "sensors/1/hum", "sensors/+/temp", "a/x/b"];
    let events = p.send(&[subscribe(&filters)]);
    match p.packets(&events).as_slice() {
        [Packet::SubAck(ack)] => assert_eq!(
            ack.reason_codes,
            [
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::NotAuthorized,
                // The claim covers the filter.
                SubAckReasonCode::GrantedQoS0,
                // A malformed claim (`a/#/b`) matches nothing.
                SubAckReasonCode::NotAuthorized,
            ]
        ),
        other => panic!("{other:?}"),
    }
    for (topic, code) in [
        ("sensors/1/temp", PubAckReasonCode::Success),
        ("sensors/1/hum", PubAckReasonCode::NotAuthorized),
    ] {
        let events = p.send(&[publish(topic, QoS::AtLeastOnce, b"21.5")]);
        match p.packets(&events).as_slice() {
            [Packet::PubAck(ack)] => assert_eq!(ack.reason_code, code, "{topic}"),
            other => panic!("{topic}: {other:?}"),
        }
    }
    assert_eq!(p.publisher.live_items().len(), 1);
}

mod wildcard;

#[test]
fn the_publishes_of_one_request_share_a_call_and_its_outcome_answers_each_in_order() {
    for version in [ProtocolVersion::V5, ProtocolVersion::V311] {
        let mut p = Proxy::new(version);
        let t = p.token(&[], &["a"], 3600);
        p.connect(&t);
        let publisher = p.publisher.clone();
        let calls = || publisher.published.lock().unwrap().len();
        let before = calls();
        let burst: Vec<Packet> = (0..5)
            .map(|_| publish("a", QoS::AtLeastOnce, b"x"))
            .collect();
        let events = p.send(&burst);
        assert_eq!(
            calls() - before,
            1,
            "one publish call for five PUBLISH packets"
        );
        assert_eq!(acks(&p, &events).len(), 5, "{version:?}");
        assert_eq!(p.publisher.live_items().len(), 5);
        // The call fails: v5 negatively acknowledges every message of it, in order;
        // 3.1.1 closes at the first and answers nothing more.
        *p.publisher.fail.lock().unwrap() = Some("down".into());
        let events = p.send(&burst);
        let codes: Vec<u8> = acks(&p, &events).iter().map(|a| a.2).collect();
        match version {
            ProtocolVersion::V5 => assert_eq!(codes, [0x80; 5]),
            ProtocolVersion::V311 => {
                assert!(codes.is_empty(), "{codes:?}");
                assert_eq!(events.last().unwrap(), b"CLOSE:1008");
            }
        }
    }
}
