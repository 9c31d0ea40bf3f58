//! What is measured: one [`Path`] per kind of request, each built ahead of the timed loop
//! and checked when it comes back (a benchmark of error answers would be worthless).

use pubsub_devstack::dev_token;

use crate::client::{Answer, Req};
use crate::mqtt::{self, Meta};

/// Topics of the 10-topic subscribe and of the MQTT SUBSCRIBE (the stacks run with
/// `max-topics = 10`; the current default is 9).
pub(crate) const MANY: usize = 10;

/// Topic of the durable subscribe; it holds a retained message (see `measure.rs`).
pub(crate) const DURABLE_TOPIC: &str = "bench-durable";

/// HTTP publish body sizes: 100 B, and 32,000 B (just under the 32,512 B limit).
const SMALL: usize = 100;
const LARGE: usize = 32_000;

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Path {
    Noop,
    Handoff,
    Sub1,
    Sub10,
    Durable,
    Pub100,
    Pub32k,
    PubRetained,
    MqttConnect,
    MqttSub10,
    MqttQos0,
    MqttQos1,
}

impl Path {
    pub(crate) const ALL: [Path; 12] = [
        Path::Noop,
        Path::Handoff,
        Path::Sub1,
        Path::Sub10,
        Path::Durable,
        Path::Pub100,
        Path::Pub32k,
        Path::PubRetained,
        Path::MqttConnect,
        Path::MqttSub10,
        Path::MqttQos0,
        Path::MqttQos1,
    ];

    /// Short name (CSV).
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Path::Noop => "noop-404",
            Path::Handoff => "subscribe-handoff",
            Path::Sub1 => "subscribe-signed-1",
            Path::Sub10 => "subscribe-signed-10",
            Path::Durable => "subscribe-durable",
            Path::Pub100 => "publish-100b",
            Path::Pub32k => "publish-32kb",
            Path::PubRetained => "publish-retained",
            Path::MqttConnect => "mqtt-connect",
            Path::MqttSub10 => "mqtt-subscribe-10",
            Path::MqttQos0 => "mqtt-publish-qos0",
            Path::MqttQos1 => "mqtt-publish-qos1",
        }
    }

    /// What the request is (table).
    pub(crate) fn label(self) -> &'static str {
        match self {
            Path::Noop => "no-op: GET /bench-nothing (404)",
            Path::Handoff => "GET /events?topic=a, unsigned (handoff; incl. Pushpin's signed call)",
            Path::Sub1 => "signed subscribe, 1 topic (Grip-Sig + token)",
            Path::Sub10 => "signed subscribe, 10 topics",
            Path::Durable => "durable subscribe, retained message waiting",
            Path::Pub100 => "HTTP publish 100 B",
            Path::Pub32k => "HTTP publish 32,000 B",
            Path::PubRetained => "HTTP retained publish 100 B (a new topic each)",
            Path::MqttConnect => "MQTT OPEN + CONNECT",
            Path::MqttSub10 => "MQTT SUBSCRIBE, 10 filters",
            Path::MqttQos0 => "MQTT PUBLISH QoS 0, 100 B",
            Path::MqttQos1 => "MQTT PUBLISH QoS 1, 100 B",
        }
    }
}

/// What a module's requests need: its Grip-Sig, its MQTT connection state, and names that
/// keep topics and connections apart between modules and rounds.
pub(crate) struct Ctx<'a> {
    pub(crate) grip_sig: &'a str,
    pub(crate) meta: &'a Meta,
    /// `<module>-<round>`, e.g. `b3`.
    pub(crate) tag: String,
}

/// The `n` requests of `path` for one batch.
pub(crate) fn build(path: Path, ctx: &Ctx<'_>, n: usize) -> Vec<Req> {
    (0..n).map(|i| request(path, ctx, i)).collect()
}

/// Request `i` of a batch of `path`.
fn request(path: Path, ctx: &Ctx<'_>, i: usize) -> Req {
    match path {
        Path::MqttConnect | Path::MqttSub10 | Path::MqttQos0 | Path::MqttQos1 => {
            mqtt_request(path, ctx, i)
        }
        Path::Noop => Req::get("/bench-nothing".into()),
        Path::Handoff => Req::get("/events?topic=a".into()),
        Path::Sub1 => subscribe(ctx, &topics("bench-sub", 1), ""),
        Path::Sub10 => subscribe(ctx, &topics("bench-sub", MANY), ""),
        Path::Durable => subscribe(ctx, &[DURABLE_TOPIC.to_owned()], "&durable=true"),
        Path::Pub100 => publish("bench-pub", SMALL, ""),
        Path::Pub32k => publish("bench-pub", LARGE, ""),
        // KV allows one write per second per key: every retained publish has its topic.
        Path::PubRetained => publish(&format!("bench-ret-{}-{i}", ctx.tag), SMALL, "&retain=true"),
    }
}

/// A signed subscribe (the second pass, as Fanout sends it) to `topics`.
fn subscribe(ctx: &Ctx<'_>, topics: &[String], extra: &str) -> Req {
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let query: String = refs.iter().map(|t| format!("topic={t}&")).collect();
    let token = dev_token(&refs, &[]);
    Req::get(format!("/events?{query}auth={token}{extra}")).header("grip-sig", ctx.grip_sig)
}

/// An HTTP publish of `size` bytes to `topic`.
fn publish(topic: &str, size: usize, extra: &str) -> Req {
    let token = dev_token(&[], &[topic]);
    Req::post(format!("/events?topic={topic}{extra}"), vec![b'p'; size])
        .header("authorization", format!("Bearer {token}"))
}

/// A WebSocket-over-HTTP batch: a new connection's OPEN + CONNECT, or one packet on the
/// connection whose state `ctx.meta` holds.
fn mqtt_request(path: Path, ctx: &Ctx<'_>, i: usize) -> Req {
    let payload = [b'q'; SMALL];
    let packet = match path {
        Path::MqttConnect => {
            let id = format!("bench-{}-{i}", ctx.tag);
            let body = mqtt::events(true, &mqtt::connect(&id, &mqtt_token()));
            return mqtt::request(ctx.grip_sig, &id, &Meta::default(), body);
        }
        Path::MqttSub10 => mqtt::subscribe(1, &topics("bench-mqtt", MANY)),
        Path::MqttQos0 => mqtt::publish("bench-mqtt-pub", None, &payload),
        _ => mqtt::publish("bench-mqtt-pub", Some(1), &payload),
    };
    let id = format!("bench-{}-conn", ctx.tag);
    mqtt::request(ctx.grip_sig, &id, ctx.meta, mqtt::events(false, &packet))
}

/// `prefix-0` .. `prefix-<n-1>`.
fn topics(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// The MQTT connections' token: read the SUBSCRIBE's filters, write the publish topic.
pub(crate) fn mqtt_token() -> String {
    let read = topics("bench-mqtt", MANY);
    let read: Vec<&str> = read.iter().map(String::as_str).collect();
    dev_token(&read, &["bench-mqtt-pub"])
}

/// Whether `answer` is what `path` should get; `Err` says what came instead.
pub(crate) fn check(path: Path, answer: &Answer) -> Result<(), String> {
    let types = || mqtt::packet_types(&answer.body);
    let ok = match path {
        Path::Noop => answer.status == 404,
        // The status is reported as measured (Pushpin's answer for the signed call).
        Path::Handoff => answer.status < 500,
        Path::Sub1 | Path::Sub10 => {
            answer.status == 200 && answer.header("grip-hold") == Some("stream")
        }
        Path::Durable => {
            let delivered = answer.body.windows(14).any(|w| w == b"event: message");
            answer.status == 200 && answer.header("grip-hold") == Some("stream") && delivered
        }
        Path::Pub100 | Path::Pub32k | Path::PubRetained => answer.status == 200,
        Path::MqttConnect => answer.status == 200 && mqtt::connack_ok(&answer.body),
        Path::MqttSub10 => answer.status == 200 && types().contains(&9),
        Path::MqttQos0 => answer.status == 200 && !types().contains(&14),
        Path::MqttQos1 => answer.status == 200 && types().contains(&4),
    };
    if ok {
        return Ok(());
    }
    let body = String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]).into_owned();
    Err(format!(
        "{}: unexpected answer {} {:?}, body {body:?}",
        path.slug(),
        answer.status,
        answer.headers
    ))
}
