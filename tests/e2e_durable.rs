//! Durable messaging through the real stack (Pushpin + Viceroy running the release wasm):
//! retained HTTP publishes, durable SSE subscribes, TTL, clearing, resume with
//! `Last-Event-ID`, GRIP recovery, and two concurrency tests (a subscribe racing a burst of
//! retained publishes; concurrent retained publishes to one topic).
//!
//! `PUBSUB_STACK_LOGS=1` shows the stack's logs; the race test prints its duration and
//! what each subscriber saw (run with `--nocapture`).

#[path = "support/e2e.rs"]
mod e2e;
#[path = "support/mqtt.rs"]
mod mqtt;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use e2e::*;
use mqtt::Mqtt;
use rumqttc::v5::mqttbytes::v5::Packet;
use rumqttc::v5::mqttbytes::QoS;

/// Publishes `body` to `topic` through the app with `query` appended (e.g.
/// `retain=true&ttl=5`), the token in the `Authorization` header.
fn publish_with(topic: &str, query: &str, body: &[u8], token: &str) -> Reply {
    send(
        "POST",
        &format!("/events?topic={}&{query}", enc(topic)),
        &[("Authorization", &format!("Bearer {token}"))],
        body,
    )
}

/// A successful retained publish; returns its `Pubsub-Version`.
fn retain(topic: &str, body: &[u8], token: &str) -> String {
    let reply = publish_with(topic, "retain=true", body, token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply
        .header("pubsub-version")
        .expect("a retained publish reports its version")
        .to_owned()
}

fn durable_path(topics: &[&str], token: &str) -> String {
    let mut path = String::from("/events?durable=true");
    for t in topics {
        path.push_str("&topic=");
        path.push_str(&enc(t));
    }
    path.push_str("&auth=");
    path.push_str(token);
    path
}

/// Asserts that nothing but keep-alives arrives for `wait`.
fn assert_quiet(sse: &Sse, wait: Duration) {
    if let Some(ev) = sse.next_within(wait) {
        panic!("expected no event, got {ev:?}");
    }
}

#[test]
fn a_durable_subscriber_after_a_retained_publish_receives_the_last_retained_message() {
    let topic = unique("late");
    let t = token(&[&topic], &[&topic]);
    retain(&topic, b"first", &t);
    let version = retain(&topic, b"second", &t);
    let sse = Sse::subscribe(&durable_path(&[&topic], &t));
    let ev = sse.next().expect("the retained message");
    assert_eq!((ev.event.as_str(), ev.data.as_str()), ("message", "second"));
    let id = ev.id.expect("a retained event has an id");
    assert!(id.ends_with(&format!(":{version}")), "{id} names {version}");
    assert_quiet(&sse, Duration::from_millis(800));
    // The stream then carries live messages, retained or not.
    retain(&topic, b"third", &t);
    assert_eq!(sse.next().expect("live retained").data, "third");
    assert_eq!(publish(&topic, b"plain", &t).status, 200);
    let ev = sse.next().expect("live plain");
    assert_eq!((ev.data.as_str(), ev.id), ("plain", None));
}

#[test]
fn a_retained_message_past_its_ttl_is_not_delivered() {
    let (fresh, brief) = (unique("ttl-fresh"), unique("ttl-brief"));
    let t = token(&[&fresh, &brief], &[&fresh, &brief]);
    for (topic, ttl) in [(&fresh, 60), (&brief, 1)] {
        let reply = publish_with(
            topic,
            &format!("retain=true&ttl={ttl}"),
            topic.as_bytes(),
            &t,
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    // TTLs are whole seconds: a 1 s TTL may already be over, a 60 s one is not.
    let early = Sse::subscribe(&durable_path(&[&fresh], &t));
    assert_eq!(early.next().expect("within its TTL").data, *fresh);
    std::thread::sleep(Duration::from_millis(2200));
    let late = Sse::subscribe(&durable_path(&[&brief], &t));
    assert_quiet(&late, Duration::from_millis(1000));
    // The version sequence survives expiry: the next message is delivered in order.
    retain(&brief, b"after", &t);
    assert_eq!(late.next().expect("live").data, "after");
}

#[test]
fn bad_retain_and_ttl_values_are_400s() {
    let topic = unique("bad");
    let t = token(&[], &[&topic]);
    for query in [
        "retain=yes",
        "retain=true&ttl=0",
        "retain=true&ttl=x",
        "ttl=5",
    ] {
        let reply = publish_with(&topic, query, b"x", &t);
        assert_eq!(reply.status, 400, "{query}: {}", reply.text());
    }
}

#[test]
fn a_resume_with_last_event_id_gets_only_newer_messages() {
    let (a, b) = (unique("resume-a"), unique("resume-b"));
    let t = token(&[&a, &b], &[&a, &b]);
    retain(&a, b"a1", &t);
    retain(&b, b"b1", &t);
    let first = Sse::subscribe(&durable_path(&[&a, &b], &t));
    let got: Vec<String> = (0..2)
        .map(|_| first.next().expect("initial").data)
        .collect();
    assert_eq!(got, ["a1", "b1"]);
    retain(&a, b"a2", &t);
    let live = first.next().expect("live a2");
    assert_eq!(live.data, "a2");
    let last_id = live.id.expect("id");
    drop(first);
    retain(&a, b"a3", &t);

    // The live event's id names topic a only: a resumes after a2, b is sent again.
    let resumed = Sse::open(&durable_path(&[&a, &b], &t), &[("Last-Event-ID", &last_id)]);
    assert_eq!(resumed.next().expect("open").event, "stream-open");
    let mut got: Vec<String> = (0..2)
        .map(|_| resumed.next().expect("resumed").data)
        .collect();
    got.sort();
    assert_eq!(got, ["a3", "b1"]);
    assert_quiet(&resumed, Duration::from_millis(800));

    // An initial answer's id names every topic it covers: nothing is sent again.
    let all_id = resumed_id(&a, &b, &t);
    let path = format!(
        "{}&lastEventId={}",
        durable_path(&[&a, &b], &t),
        enc(&all_id)
    );
    let caught_up = Sse::subscribe(&path);
    assert_quiet(&caught_up, Duration::from_millis(800));
}

/// The id of the last event of a fresh durable subscribe to `a` and `b` (both retained).
fn resumed_id(a: &str, b: &str, t: &str) -> String {
    let sse = Sse::subscribe(&durable_path(&[a, b], t));
    let _ = sse.next().expect("first");
    sse.next().expect("second").id.expect("id")
}

#[test]
fn a_malformed_last_event_id_is_a_clear_error_not_a_500() {
    let topic = unique("badid");
    let t = token(&[&topic], &[]);
    let es = Sse::open(
        &durable_path(&[&topic], &t),
        &[("Accept", "text/event-stream"), ("Last-Event-ID", "junk")],
    );
    assert_eq!(es.status, 200);
    let ev = es.next().expect("stream-error");
    assert_eq!(ev.event, "stream-error");
    assert!(
        ev.data.contains("\"condition\":\"bad-request\""),
        "{}",
        ev.data
    );
    assert!(ev.data.contains("last event id"), "{}", ev.data);
    let path = format!("{}&lastEventId=zz", durable_path(&[&topic], &t));
    assert_eq!(Sse::open(&path, &[]).status, 400);
}

#[test]
fn a_non_durable_subscriber_receives_retained_publishes_live() {
    let topic = unique("plain-sub");
    let t = token(&[&topic], &[&topic]);
    retain(&topic, b"before", &t);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    let version = retain(&topic, b"retained", &t);
    let ev = sse.next().expect("retained, live");
    assert_eq!(ev.data, "retained");
    assert!(ev.id.is_some_and(|id| id.ends_with(&version)));
    assert_eq!(publish(&topic, b"plain", &t).status, 200);
    assert_eq!(sse.next().expect("plain").data, "plain");
    assert_quiet(&sse, Duration::from_millis(500));
}

#[test]
fn an_mqtt_subscriber_receives_retained_http_publishes_live() {
    let topic = unique("to-mqtt");
    let t = token(&[&topic], &[&topic]);
    let m = Mqtt::connect(&unique("live"), &t).expect("connect");
    m.client
        .subscribe(topic.as_str(), QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    retain(&topic, b"retained, live", &t);
    match m.expect("PUBLISH") {
        Packet::Publish(p) => {
            assert_eq!(p.topic, topic.as_bytes());
            assert_eq!(p.payload, b"retained, live".as_slice());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_retained_publish_clears_the_message() {
    let topic = unique("clear");
    let t = token(&[&topic], &[&topic]);
    retain(&topic, b"soon gone", &t);
    let watcher = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    retain(&topic, b"", &t);
    let ev = watcher.next().expect("the clearing publish, live");
    assert_eq!((ev.event.as_str(), ev.data.as_str()), ("message", ""));
    let later = Sse::subscribe(&durable_path(&[&topic], &t));
    assert_quiet(&later, Duration::from_millis(1000));
}

#[test]
fn a_gap_in_the_version_sequence_is_recovered_through_the_next_link() {
    let topic = unique("gap");
    let t = token(&[&topic], &[&topic]);
    let v1 = retain(&topic, b"one", &t);
    // The token in a header: the recovery link must carry it itself.
    let sse = Sse::open(
        &format!("/events?durable=true&topic={}", enc(&topic)),
        &[("Authorization", &format!("Bearer {t}"))],
    );
    assert_eq!(sse.next().expect("open").event, "stream-open");
    assert_eq!(sse.next().expect("retained").data, "one");
    // An invisible item moves the subscription's last id off the app's sequence, as a lost
    // publish would: the next retained message no longer follows it, so Pushpin drops it
    // and recovers through the link, which answers from the store.
    let item = serde_json::json!({"items": [{
        "channel": format!("r#{}", enc(&topic)),
        "id": "not-a-version",
        "prev-id": v1,
        "formats": {"http-stream": {"content": ""}},
    }]});
    let direct = agent()
        .post(&stack().publish_url())
        .set("Content-Type", "application/json")
        .send_string(&item.to_string())
        .expect("direct publish");
    assert_eq!(direct.status(), 200);
    std::thread::sleep(Duration::from_millis(200));
    retain(&topic, b"two", &t);
    let ev = sse
        .next_within(Duration::from_secs(15))
        .expect("recovered message");
    assert_eq!(ev.data, "two");
    // Back in sequence: the next message arrives live, once.
    retain(&topic, b"three", &t);
    assert_eq!(sse.next().expect("live").data, "three");
    assert_quiet(&sse, Duration::from_millis(500));
}

/// Issue 4's concurrency test: 4 publishers × 50 retained messages on one topic.
#[test]
fn concurrent_retained_publishers_get_distinct_strictly_increasing_versions() {
    let topic = unique("concurrent");
    let t = token(&[&topic], &[&topic]);
    let start = Arc::new(Barrier::new(4));
    let publishers: Vec<_> = (0..4)
        .map(|p| {
            let (topic, t, start) = (topic.clone(), t.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut versions = Vec::new();
                let mut refused = 0;
                for i in 0..50 {
                    let reply =
                        publish_with(&topic, "retain=true", format!("{p}-{i}").as_bytes(), &t);
                    match reply.status {
                        200 => versions
                            .push(reply.header("pubsub-version").expect("version").to_owned()),
                        503 => refused += 1,
                        other => panic!("publish answered {other}: {}", reply.text()),
                    }
                }
                (versions, refused)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut refused = 0;
    for p in publishers {
        let (versions, r) = p.join().expect("publisher");
        // Each publisher's own writes happen one after the other: increasing versions.
        assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
        all.extend(versions);
        refused += r;
    }
    eprintln!(
        "concurrency: {} stored, {refused} refused with 503",
        all.len()
    );
    assert!(all.len() >= 150, "too many 503s: {refused}");
    all.sort();
    let sequences: Vec<u64> = all
        .iter()
        .map(|v| u64::from_str_radix(v.split_once('-').expect("version").1, 16).expect("hex"))
        .collect();
    let mut distinct = sequences.clone();
    distinct.dedup();
    // No lost write: the successful versions are the slot's sequence 1..=n, no gap.
    assert_eq!(distinct, (1..=distinct.len() as u64).collect::<Vec<_>>());
    // Viceroy 0.22's local KV store checks `if-generation-match` under a read lock and
    // writes under a separate write lock, so two writes that overlap by microseconds can
    // both pass: the second silently replaces the first, and both publishes report the same
    // version. The algorithm never does this on a store with an atomic compare-and-swap
    // (see the native test `concurrent_writers_never_lose_an_update_nor_reuse_a_version`).
    // Measured here: with compare-and-swap, 0 to 4 repeats per run (most runs 0), and 9 once
    // in the whole suite on a cold clone under load (2026-12-04, with one-item publishes,
    // which overlap more); with the compare-and-swap removed on purpose, 22 repeats in a run
    // then, and 24, 32 and 35 in three runs alone with one-item publishes. So the bound
    // below tolerates Viceroy's race and still fails an algorithm that does not swap
    // atomically.
    let repeated = sequences.len() - distinct.len();
    if repeated > 0 {
        eprintln!(
            "concurrency: {repeated} version(s) reported twice: Viceroy's non-atomic \
             generation check let two overlapping writes both succeed"
        );
    }
    assert!(
        repeated <= 16,
        "{repeated} versions reported twice: {all:?}"
    );
    let sse = Sse::subscribe(&durable_path(&[&topic], &t));
    let ev = sse.next().expect("the last write");
    assert!(ev.id.expect("id").ends_with(all.last().expect("some")));
}

/// Issue 4's race test, SSE half: 200 retained messages published as fast as possible while
/// 20 durable subscribers connect at random moments. Each must end with message 200, and
/// the numbers each one receives must never go backwards.
#[test]
fn durable_subscribers_joining_during_a_publish_burst_converge_in_order() {
    const MESSAGES: u32 = 200;
    const SUBSCRIBERS: usize = 20;
    const MQTT_SUBSCRIBERS: usize = 5;
    let topic = unique("race");
    let t = token(&[&topic], &[&topic]);
    let started = Instant::now();
    let published = Arc::new(AtomicUsize::new(0));
    let publisher = {
        let (topic, t, published) = (topic.clone(), t.clone(), published.clone());
        std::thread::spawn(move || {
            for n in 1..=MESSAGES {
                retain(&topic, n.to_string().as_bytes(), &t);
                published.store(n as usize, Ordering::SeqCst);
            }
            started.elapsed()
        })
    };
    // Each subscriber joins once a random number of messages is out (a small LCG: no
    // dependency needed), so the joins are spread over the burst whatever its speed.
    let mut seed = u64::from(started.elapsed().subsec_nanos()) | 1;
    let subscribers: Vec<_> = (0..SUBSCRIBERS)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let join_at = usize::try_from((seed >> 33) % u64::from(MESSAGES)).unwrap_or(0);
            let (path, published) = (durable_path(&[&topic], &t), published.clone());
            std::thread::spawn(move || {
                while published.load(Ordering::SeqCst) < join_at {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let joined_after = published.load(Ordering::SeqCst);
                let sse = Sse::subscribe(&path);
                let mut seen: Vec<u32> = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(90);
                while seen.last() != Some(&MESSAGES) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let Some(ev) = sse.next_within(left) else {
                        break;
                    };
                    seen.push(
                        ev.data
                            .parse()
                            .unwrap_or_else(|_| panic!("subscriber {i}: {ev:?}")),
                    );
                }
                (i, joined_after, seen, started.elapsed())
            })
        })
        .collect();
    // MQTT subscribers (Retain Handling 0) join the same way. A short keep alive makes
    // their PINGREQ carry the request on which a missed retained message is recovered.
    let mqtt_subscribers: Vec<_> = (0..MQTT_SUBSCRIBERS)
        .map(|i| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let join_at = usize::try_from((seed >> 33) % u64::from(MESSAGES)).unwrap_or(0);
            let (topic, t, published) = (topic.clone(), t.clone(), published.clone());
            std::thread::spawn(move || {
                while published.load(Ordering::SeqCst) < join_at {
                    std::thread::sleep(Duration::from_millis(1));
                }
                let joined_after = published.load(Ordering::SeqCst);
                let mut opts = mqtt::options(&unique("race-mqtt"), &t);
                opts.set_keep_alive(Duration::from_secs(5));
                let m = Mqtt::connect_with(opts).expect("connect");
                m.client
                    .subscribe(&topic, QoS::AtMostOnce)
                    .expect("subscribe");
                let mut seen: Vec<u32> = Vec::new();
                let deadline = Instant::now() + Duration::from_secs(90);
                while seen.last() != Some(&MESSAGES) {
                    let left = deadline.saturating_duration_since(Instant::now());
                    match m.next_within(left) {
                        Some(Ok(Packet::Publish(p))) => seen.push(
                            String::from_utf8_lossy(&p.payload)
                                .parse()
                                .unwrap_or_else(|_| panic!("mqtt subscriber {i}: {p:?}")),
                        ),
                        Some(Ok(_)) => {}
                        other => {
                            eprintln!("race: mqtt subscriber {i}: {other:?}");
                            break;
                        }
                    }
                }
                (100 + i, joined_after, seen, started.elapsed())
            })
        })
        .collect();
    let publish_time = publisher.join().expect("publisher");
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    for s in subscribers.into_iter().chain(mqtt_subscribers) {
        let (i, joined_after, seen, done) = s.join().expect("subscriber");
        slowest = slowest.max(done);
        let backwards: Vec<_> = seen.windows(2).filter(|w| w[1] < w[0]).collect();
        eprintln!(
            "race: subscriber {i:2} joined after #{joined_after:3}, got {:3} events, first {:?}, \
             last {:?}, done at {done:?}, backwards steps: {backwards:?}",
            seen.len(),
            seen.first(),
            seen.last()
        );
        if seen.last() != Some(&MESSAGES) {
            failures.push(format!("subscriber {i} never got #{MESSAGES}: {seen:?}"));
        }
        if !backwards.is_empty() {
            failures.push(format!("subscriber {i} went backwards: {backwards:?}"));
        }
    }
    eprintln!(
        "race: {MESSAGES} publishes took {publish_time:?}; all subscribers done at {slowest:?}"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

// MQTT: Retain Handling, the retain flag, Message Expiry and retained publishes from MQTT.

fn expect_publish(m: &Mqtt, what: &str) -> rumqttc::v5::mqttbytes::v5::Publish {
    loop {
        match m.expect(what) {
            Packet::Publish(p) => return p,
            Packet::SubAck(_) | Packet::PubAck(_) => continue,
            other => panic!("{what}: expected PUBLISH, got {other:?}"),
        }
    }
}

#[test]
fn an_mqtt_subscriber_gets_the_retained_message_after_suback_with_retain_and_expiry() {
    let topic = unique("mqtt-rh0");
    let t = token(&[&topic], &[&topic]);
    let reply = publish_with(&topic, "retain=true&ttl=60", b"kept", &t);
    assert_eq!(reply.status, 200, "{}", reply.text());
    let m = Mqtt::connect(&unique("rh0"), &t).expect("connect");
    m.client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    let p = expect_publish(&m, "retained PUBLISH");
    assert_eq!(p.payload, "kept".as_bytes());
    assert!(
        p.retain,
        "a retained message sent at subscribe has RETAIN set"
    );
    let expiry = p
        .properties
        .and_then(|p| p.message_expiry_interval)
        .expect("the remaining expiry");
    assert!((1..=60).contains(&expiry), "{expiry}");
}

#[test]
fn retain_handling_2_sends_nothing_and_1_only_for_a_new_subscription() {
    use rumqttc::v5::mqttbytes::v5::{Filter, RetainForwardRule};
    let topic = unique("mqtt-rh");
    let t = token(&[&topic], &[&topic]);
    retain(&topic, b"kept", &t);
    let m = Mqtt::connect(&unique("rh"), &t).expect("connect");
    let with = |rule| {
        let mut f = Filter::new(&topic, QoS::AtMostOnce);
        f.retain_forward_rule = rule;
        f
    };
    m.client
        .subscribe_many([with(RetainForwardRule::Never)])
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    assert!(
        m.next_within(Duration::from_secs(2)).is_none(),
        "RH 2 sends nothing"
    );
    m.client
        .subscribe_many([with(RetainForwardRule::OnNewSubscribe)])
        .expect("subscribe");
    assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
    assert!(
        m.next_within(Duration::from_secs(2)).is_none(),
        "RH 1 on an existing subscription sends nothing"
    );
    let fresh = Mqtt::connect(&unique("rh1"), &t).expect("connect");
    fresh
        .client
        .subscribe_many([with(RetainForwardRule::OnNewSubscribe)])
        .expect("subscribe");
    assert!(matches!(fresh.expect("SUBACK"), Packet::SubAck(_)));
    assert_eq!(
        expect_publish(&fresh, "RH 1, new").payload,
        "kept".as_bytes()
    );
}

#[test]
fn an_mqtt_retained_publish_is_stored_with_its_properties_for_later_subscribers() {
    use rumqttc::v5::mqttbytes::v5::PublishProperties;
    let topic = unique("mqtt-retain");
    let t = token(&[&topic], &[&topic]);
    let publisher = Mqtt::connect(&unique("rpub"), &t).expect("connect");
    let props = PublishProperties {
        content_type: Some("text/plain".into()),
        user_properties: vec![("origin".into(), "test".into())],
        ..PublishProperties::default()
    };
    publisher
        .client
        .publish_with_properties(&topic, QoS::AtLeastOnce, true, "from mqtt", props)
        .expect("publish");
    assert!(matches!(publisher.expect("PUBACK"), Packet::PubAck(_)));

    let sse = Sse::subscribe(&durable_path(&[&topic], &t));
    assert_eq!(sse.next().expect("retained").data, "from mqtt");

    let later = Mqtt::connect(&unique("rsub"), &t).expect("connect");
    later
        .client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    let p = expect_publish(&later, "retained PUBLISH");
    assert!(p.retain);
    let got = p.properties.expect("properties");
    assert_eq!(got.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        got.user_properties,
        [("origin".to_owned(), "test".to_owned())]
    );

    // An empty retained payload clears it.
    publisher
        .client
        .publish(&topic, QoS::AtLeastOnce, true, Vec::<u8>::new())
        .expect("publish");
    assert!(matches!(publisher.expect("PUBACK"), Packet::PubAck(_)));
    let none = Mqtt::connect(&unique("rnone"), &t).expect("connect");
    none.client
        .subscribe(&topic, QoS::AtMostOnce)
        .expect("subscribe");
    assert!(matches!(none.expect("SUBACK"), Packet::SubAck(_)));
    assert!(none.next_within(Duration::from_secs(2)).is_none());
}

#[test]
fn retain_as_published_keeps_the_retain_flag_on_live_messages() {
    use rumqttc::v5::mqttbytes::v5::{Filter, RetainForwardRule};
    let topic = unique("rap");
    let t = token(&[&topic], &[&topic]);
    let subscribe = |rap: bool| {
        let m = Mqtt::connect(&unique("rap"), &t).expect("connect");
        let mut f = Filter::new(&topic, QoS::AtMostOnce);
        f.preserve_retain = rap;
        f.retain_forward_rule = RetainForwardRule::Never;
        m.client.subscribe_many([f]).expect("subscribe");
        assert!(matches!(m.expect("SUBACK"), Packet::SubAck(_)));
        m
    };
    let (rap, plain) = (subscribe(true), subscribe(false));
    retain(&topic, b"retained", &t);
    assert_eq!(publish(&topic, b"live", &t).status, 200);
    for (m, retain_flags) in [(&rap, [true, false]), (&plain, [false, false])] {
        for (payload, flag) in ["retained", "live"].into_iter().zip(retain_flags) {
            let p = expect_publish(m, payload);
            assert_eq!(p.payload, payload.as_bytes());
            assert_eq!(p.retain, flag, "{payload}");
        }
    }
}
