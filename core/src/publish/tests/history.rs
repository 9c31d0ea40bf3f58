//! Publishing to topics with history: the append before the send, the ids on the SSE
//! renderings and items, the slot's link, and topics without a rule left byte-identical.

use std::sync::atomic::Ordering;

use serde_json::Value;

use crate::config::HistoryRules;
use crate::history::{self, HistoryId, Position};
use crate::ports::memory::{InMemory, RecordingKv};
use crate::ports::{KvError, KvStore};
use crate::publish::{publish, Outbox, Publication, PublishError, Published};
use crate::retained::{self, topic_tag, EventId};
use crate::topic::TopicName;
use crate::Config;

fn config(rules: &str) -> Config {
    let mut config = Config::default();
    config.wildcard_max_levels = 2;
    config.history = HistoryRules::parse(rules).expect("rules");
    config
}

fn names(list: &[&str]) -> Vec<TopicName> {
    list.iter()
        .map(|t| TopicName::parse(t).expect("topic"))
        .collect()
}

fn publication<'a>(topics: &'a [TopicName], payload: &'a [u8]) -> Publication<'a> {
    Publication {
        topics,
        payload,
        retain: false,
        ttl_secs: None,
        mqtt: None,
        sender: None,
    }
}

fn items(ports: &InMemory) -> Vec<Value> {
    let bodies = ports.publisher.published.lock().expect("lock").clone();
    bodies
        .iter()
        .flat_map(|b| {
            let v: Value = serde_json::from_slice(b).expect("json");
            v["items"].as_array().expect("items").clone()
        })
        .collect()
}

fn item<'a>(items: &'a [Value], channel: &str) -> &'a Value {
    items
        .iter()
        .find(|i| i["channel"] == channel)
        .unwrap_or_else(|| panic!("no item on {channel}"))
}

fn content(item: &Value) -> &str {
    item["formats"]["http-stream"]["content"]
        .as_str()
        .expect("content")
}

#[test]
fn a_live_message_of_a_history_topic_is_appended_and_its_sse_renderings_carry_the_id() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let config = config("h/# 100 1h");
    let topics = names(&["h/a", "plain"]);
    let published = publish(&ports.platform, &config, &publication(&topics, b"hi")).expect("ok");
    let id = published.history_id().expect("a history id");
    assert_eq!(published.history, [(topics[0].clone(), id)]);
    let event_id = EventId::single_history("h/a", id).to_string();
    assert_eq!(event_id, format!("{:016x}:{id}", topic_tag("h/a")));
    let sent = items(&ports);
    let live = item(&sent, "h/a");
    assert_eq!(live["id"], id.to_string());
    assert_eq!(
        content(live),
        format!("id: {event_id}\nevent: message\ndata: hi\n\n")
    );
    for channel in ["v4#h/a", "a#h/a", "f4#h/+"] {
        assert!(
            item(&sent, channel).get("id").is_none(),
            "{channel}: MQTT only"
        );
    }
    let filter = item(&sent, "f#h/+");
    assert_eq!(filter["id"], id.to_string());
    assert!(content(filter).starts_with(&format!("id: {event_id}\nevent: message\n")));
    let plain = item(&sent, "plain");
    assert!(plain.get("id").is_none());
    assert_eq!(content(plain), "event: message\ndata: hi\n\n");
    let t = &topics[0];
    let rule = config.history.rule_for(t).expect("rule");
    let page = history::read(&ports.platform, rule, t, Position::Earliest, 10, 1000).expect("read");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(
        (page.messages[0].id, &page.messages[0].payload[..]),
        (id, &b"hi"[..])
    );
}

#[test]
fn a_retained_message_of_a_history_topic_goes_on_the_live_chain_and_links_the_slot() {
    let ports = InMemory::new();
    let topics = names(&["h/a"]);
    let config = config("h/# 100 1h");
    let first = publish(&ports.platform, &config, &publication(&topics, b"before")).expect("ok");
    let before = first.history_id().expect("id");
    let p = Publication {
        retain: true,
        ..publication(&topics, b"kept")
    };
    let published = publish(&ports.platform, &config, &p).expect("ok");
    let id = published.history_id().expect("id");
    let sent = items(&ports);
    assert!(
        !sent.iter().any(|i| i["channel"] == "r#h/a"),
        "a history topic's retained event is not on the retained channel"
    );
    let live: Vec<&Value> = sent
        .iter()
        .filter(|i| i["channel"] == "h/a" && i["formats"]["http-stream"].is_object())
        .collect();
    assert_eq!(live.len(), 2, "both messages on the live channel");
    assert_eq!(live[1]["id"], id.to_string());
    assert_eq!(
        live[1]["prev-id"],
        before.to_string(),
        "chained to the previous"
    );
    assert!(live[0].get("prev-id").is_none(), "nothing before the first");
    let event_id = EventId::single_history("h/a", id);
    assert!(content(live[1]).starts_with(&format!("id: {event_id}\n")));
    let slot = retained::load(
        &*ports.platform.kv,
        ports.env.now.load(std::sync::atomic::Ordering::Relaxed),
        "h/a",
    );
    assert_eq!(slot.expect("read").expect("kept").history_id, Some(id));
    let held = history::held_ids(&*ports.platform.kv, "h/a").expect("listed");
    assert_eq!(held, [before, id]);
}

#[test]
fn topics_without_a_rule_are_published_byte_for_byte_as_without_history() {
    let topics = names(&["a/b", "c"]);
    for retain in [false, true] {
        let p = Publication {
            retain,
            sender: Some("conn"),
            ..publication(&topics, b"same")
        };
        let without = InMemory::new();
        let with = InMemory::new();
        publish(&without.platform, &config(""), &p).expect("ok");
        let published = publish(&with.platform, &config("other/# 10 1h"), &p).expect("ok");
        assert_eq!(published.history, []);
        assert_eq!(
            *with.publisher.published.lock().expect("lock"),
            *without.publisher.published.lock().expect("lock"),
            "retain {retain}"
        );
        assert_eq!(with.kv.list("messages"), without.kv.list("messages"));
    }
}

#[test]
fn a_failed_append_is_not_stored_and_nothing_is_published() {
    let ports = InMemory::new();
    ports
        .kv
        .fail
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let topics = names(&["h/a"]);
    let err = publish(
        &ports.platform,
        &config("# 10 1h"),
        &publication(&topics, b"x"),
    )
    .expect_err("not stored");
    assert!(matches!(err, PublishError::NotStored(_)), "{err:?}");
    assert_eq!(crate::Error::from(err).status(), 503);
    assert!(ports.publisher.published.lock().expect("lock").is_empty());
}

#[test]
fn one_requests_publications_get_growing_ids_across_outbox_sends() {
    let ports = InMemory::new();
    let config = config("# 10000 1h");
    let topics = names(&["t"]);
    let mut outbox = Outbox::new();
    let mut ids: Vec<HistoryId> = Vec::new();
    for round in 0..3 {
        for _ in 0..50 {
            outbox.add(&ports.platform, &config, &publication(&topics, b"m"));
        }
        let sent = outbox.take().send(&*ports.platform.publisher, &config);
        ids.extend(sent.into_iter().map(|o| {
            let published: Published = o.expect("published");
            published.history_id().expect("id")
        }));
        assert!(outbox.is_empty(), "round {round}");
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly growing");
    let live: Vec<String> = items(&ports)
        .iter()
        .filter(|i| i["channel"] == "t")
        .map(|i| i["id"].as_str().expect("id").to_owned())
        .collect();
    let want: Vec<String> = ids.iter().map(HistoryId::to_string).collect();
    assert_eq!(live, want, "subscribers receive them in id order");
    assert_eq!(
        history::held_ids(&*ports.platform.kv, "t").expect("listed"),
        ids
    );
}

/// `ports` whose KV records its calls, and that recorder.
fn recorded(ports: InMemory) -> (InMemory, std::sync::Arc<RecordingKv>) {
    let mut ports = ports;
    let kv = std::sync::Arc::new(RecordingKv::new(ports.kv.clone()));
    ports.platform.kv = kv.clone();
    (ports, kv)
}

#[test]
fn a_topics_marker_is_written_once_per_half_max_age_per_pop_not_per_publish() {
    let (ports, kv) = recorded(InMemory::new());
    let config = config("h/# 100 1h");
    let topics = names(&["h/a"]);
    let send = |ports: &InMemory| {
        publish(&ports.platform, &config, &publication(&topics, b"m")).expect("published");
    };
    for _ in 0..50 {
        send(&ports);
    }
    let marker = history::marker_key("h/a");
    let markers = kv.inserts(history::MARKER_PREFIX);
    assert_eq!(markers.len(), 1, "50 publishes, one marker write");
    assert_eq!(markers[0].0, marker);
    assert_eq!(markers[0].1.ttl_secs, Some(5400), "max-age × 1.5");
    assert_eq!(kv.inserts("h/").len(), 50, "one record per publish");
    ports.env.now.fetch_add(1799, Ordering::Relaxed);
    send(&ports);
    assert_eq!(kv.inserts(history::MARKER_PREFIX).len(), 1, "still fresh");
    ports.env.now.fetch_add(1, Ordering::Relaxed);
    send(&ports);
    send(&ports);
    assert_eq!(
        kv.inserts(history::MARKER_PREFIX).len(),
        2,
        "half max-age on"
    );
    // Another POP (its own cache) over the same store refreshes it once too.
    let (mut other, _) = recorded(InMemory::new());
    other.platform.kv = kv.clone();
    send(&other);
    send(&other);
    assert_eq!(kv.inserts(history::MARKER_PREFIX).len(), 3);
    let listed = history::topics_with_history(
        &*ports.platform.kv,
        &crate::topic::Filter::parse("h/+").expect("filter"),
        10,
    );
    assert_eq!(listed.expect("listed"), ["h/a"]);
}

#[test]
fn a_publish_whose_marker_write_fails_still_succeeds() {
    let (ports, kv) = recorded(InMemory::new());
    let config = config("# 100 1h");
    let topics = names(&["t"]);
    let marker_writes = || kv.inserts(history::MARKER_PREFIX).len();
    let down = KvError::Unavailable("marker store down".into());
    kv.refuse(Some((history::MARKER_PREFIX, down)));
    for n in 1..=2 {
        let published = publish(&ports.platform, &config, &publication(&topics, b"x"));
        assert!(published.expect("published").history_id().is_some());
        assert_eq!(marker_writes(), n, "a failed write is tried again");
    }
    assert_eq!(
        items(&ports).iter().filter(|i| i["channel"] == "t").count(),
        2
    );
    assert_eq!(history::held_ids(&*kv, "t").expect("listed").len(), 2);
    // Refused for rate: someone refreshed it just now, so this POP takes it as fresh.
    kv.refuse(Some((history::MARKER_PREFIX, KvError::RateLimited)));
    for _ in 0..3 {
        publish(&ports.platform, &config, &publication(&topics, b"x")).expect("published");
    }
    assert_eq!(marker_writes(), 3, "tried once, then fresh");
}

/// Requests that publish to one topic in the same millisecond (a fast sequential
/// publisher) get ids in publish order: each follows the topic's head at this POP, not a
/// random part that may sort it before the one published just before.
#[test]
fn sequential_publishes_in_one_millisecond_get_ids_in_publish_order() {
    let ports = InMemory::new();
    let config = config("# 1000 1h");
    let topics = names(&["fast"]);
    let mut last: Option<HistoryId> = None;
    for i in 0..300 {
        let payload = format!("m{i}");
        let published = publish(
            &ports.platform,
            &config,
            &publication(&topics, payload.as_bytes()),
        )
        .expect("published");
        let id = published.history_id().expect("an id");
        assert!(
            last.is_none_or(|last| last < id),
            "publish {i}: {last:?} then {id}"
        );
        last = Some(id);
    }
}
