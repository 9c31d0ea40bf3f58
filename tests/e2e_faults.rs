//! Faults on the real local stack (Pushpin + Viceroy running the release wasm), with real
//! clients: ureq for SSE, rumqttc for MQTT 5 and 3.1.1. The tests that take a part down
//! and bring it back (the publish API, Pushpin, Viceroy) share one stack, one test at a
//! time; the KV tests run a stack of their own each, without a store.
//!
//! - The publish API down (a relay in front of Pushpin's publish port, switched off):
//!   HTTP publishes answer 502, MQTT QoS 1 PUBLISHes get PUBACK 0x80 (5) or a closed
//!   connection (3.1.1); a retained message is stored all the same, and durable SSE
//!   subscribers get it within `durable-recovery-interval` (2 s here).
//! - The KV store failing (store `messages`, then `keys`, missing from Viceroy's
//!   configuration, so the host calls that open them fail): 503 naming the store.
//! - Pushpin restarted: every SSE stream and MQTT connection ends; clients reconnect, and a
//!   durable subscriber that resumes with `Last-Event-ID` gets the retained message
//!   published (stored, answered 502) while Pushpin was down. No Will is published.
//! - Viceroy restarted: the connections it proxies to Pushpin end (a local artefact), the
//!   connections Pushpin holds (the production path) survive it, and publishing works
//!   again.
//!
//! `PUBSUB_STACK_LOGS=1` shows the stacks' logs; `--nocapture` shows the measured times.

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use e2e::{enc, send_to, token, unique, Reply, Sse};
use mqtt::{options_at, Mqtt, Mqtt311};
use pubsub_devstack::{Stack, StackOptions};
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::mqttbytes::QoS;

/// `durable-recovery-interval` of the publish-API test, in seconds.
const RECOVERY_SECS: u64 = 2;

/// How long a message may take to arrive when nothing is in its way.
const WAIT: Duration = Duration::from_secs(10);

/// How long a client may take to notice that its connection ended.
const END_BOUND: Duration = Duration::from_secs(5);

/// Starts a stack of its own for one test.
fn start(opts: StackOptions) -> Stack {
    Stack::start(StackOptions {
        quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
        ..opts
    })
    .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"))
}

/// The stack shared by the tests that break it and mend it, for one test at a time: with
/// the publish relay and `durable-recovery-interval` at [`RECOVERY_SECS`]. Whatever a
/// failed test left down is brought back first.
fn shared() -> MutexGuard<'static, Stack> {
    static STACK: OnceLock<Mutex<Stack>> = OnceLock::new();
    let mut stack = STACK
        .get_or_init(|| {
            Mutex::new(start(StackOptions {
                publish_relay: true,
                config: vec![(
                    "durable-recovery-interval".into(),
                    RECOVERY_SECS.to_string(),
                )],
                ..StackOptions::default()
            }))
        })
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    stack.start_pushpin().expect("Pushpin runs");
    stack.start_viceroy().expect("Viceroy runs");
    stack.set_publish_api(true).expect("the publish API is up");
    stack
}

/// A topic, a token that reads and writes it, and its subscribe path (without `durable`).
struct Topic {
    name: String,
    token: String,
    path: String,
}

impl Topic {
    fn new(name: &str) -> Topic {
        let name = unique(name);
        let token = token(&[&name], &[&name]);
        let path = format!("/events?topic={}&auth={token}", enc(&name));
        Topic { name, token, path }
    }

    fn durable(&self) -> String {
        format!("{}&durable=true", self.path)
    }

    /// Publishes `body` through the app at `app`, with `query` (e.g. `&retain=true`).
    fn publish(&self, app: &str, query: &str, body: &str) -> Reply {
        let path = format!("/events?topic={}{query}", enc(&self.name));
        let auth = format!("Bearer {}", self.token);
        send_to(
            app,
            "POST",
            &path,
            &[("Authorization", &auth)],
            body.as_bytes(),
        )
    }

    /// A retained publish that must succeed.
    fn retain(&self, app: &str, body: &str) {
        let reply = self.publish(app, "&retain=true", body);
        assert_eq!(reply.status, 200, "{}", reply.text());
    }

    /// An MQTT 5 client of the app at `app`, subscribed to the topic.
    fn mqtt5(&self, app: &str) -> Mqtt {
        self.mqtt5_with(options_at(app, &unique("m5"), &self.token))
    }

    /// An MQTT 5 client connected with `opts`, subscribed to the topic.
    fn mqtt5_with(&self, opts: rumqttc::v5::MqttOptions) -> Mqtt {
        let client = Mqtt::connect_with(opts).expect("MQTT 5 connects");
        client
            .client
            .subscribe(&self.name, QoS::AtMostOnce)
            .expect("subscribe");
        assert!(matches!(client.expect("SUBACK"), Packet::SubAck(_)));
        client
    }

    /// An MQTT 3.1.1 client of the app at `app`.
    fn mqtt311(&self, app: &str) -> Mqtt311 {
        Mqtt311::connect_at(app, &unique("m4"), &self.token)
    }
}

/// The next event of `sse`, which must be a message; its data and id.
fn message(sse: &Sse, wait: Duration) -> (String, Option<String>) {
    let ev = sse
        .next_within(wait)
        .unwrap_or_else(|| panic!("no message within {wait:?}"));
    assert!(ev.event == "message", "expected a message, got {ev:?}");
    (ev.data, ev.id)
}

/// The payload of the next PUBLISH `client` receives.
fn mqtt_message(client: &Mqtt) -> String {
    match client.expect("PUBLISH") {
        Packet::Publish(p) => String::from_utf8_lossy(&p.payload).into_owned(),
        other => panic!("expected PUBLISH, got {other:?}"),
    }
}

/// The error that ended an MQTT 5 connection, waiting at most [`END_BOUND`].
fn mqtt_error(client: &Mqtt) -> String {
    let deadline = Instant::now() + END_BOUND;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.next_within(left) {
            Some(Ok(_)) => continue,
            Some(Err(e)) => return e,
            None => panic!("the MQTT 5 connection did not end within {END_BOUND:?}"),
        }
    }
}

/// Asserts that an error answer is a single line (plus its final newline) that contains
/// every piece of `needles`.
fn assert_error(reply: &Reply, status: u16, needles: &[&str]) {
    let text = reply.text();
    assert_eq!(reply.status, status, "{text}");
    assert_eq!(text.trim_end().lines().count(), 1, "one line: {text:?}");
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} in {text:?}");
    }
}

#[path = "e2e_faults/kv.rs"]
mod kv;
#[path = "e2e_faults/publish_api.rs"]
mod publish_api;
#[path = "e2e_faults/restart.rs"]
mod restart;
