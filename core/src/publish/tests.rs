//! The publish use case over the in-memory ports: every outcome, and the items it sends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use pubsub_codec::mqtt::{ProtocolVersion, Publish};
use serde_json::Value;

use super::*;
use crate::audience::registry::{Listening, Registered};
use crate::audience::Feed;
use crate::grip::REQUEST_BYTES;
use crate::ports::memory::{InMemory, MemoryKv};
use crate::retained::{EventId, MqttProps, Version};
use crate::topic::wildcard;
use crate::topic::TopicName;
use crate::Error;

mod audience;
mod history;

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

fn topics(names: &[&str]) -> Vec<TopicName> {
    names
        .iter()
        .map(|t| TopicName::parse(t).expect("topic"))
        .collect()
}

/// Every item sent, in order, across requests.
fn sent_items(ports: &InMemory) -> Vec<Value> {
    let published = ports.publisher.published.lock().expect("lock").clone();
    published
        .iter()
        .flat_map(|body| {
            let v: Value = serde_json::from_slice(body).expect("json body");
            v["items"].as_array().expect("items").clone()
        })
        .collect()
}

fn requests(ports: &InMemory) -> Vec<Vec<u8>> {
    ports.publisher.published.lock().expect("lock").clone()
}

fn bin(item: &Value) -> Vec<u8> {
    let text = item["formats"]["ws-message"]["content-bin"]
        .as_str()
        .expect("bin");
    BASE64.decode(text).expect("base64")
}

fn no_wildcards() -> Config {
    let mut config = Config::default();
    config.wildcard_max_levels = 0;
    config
}

#[test]
fn a_live_message_goes_to_its_topics_channels_and_registered_ones_in_one_request() {
    let ports = InMemory::new();
    // One Retain As Published subscription, on `a b` only, and 3.1.1 topic subscribers.
    for listened in ["a#a%20b", crate::audience::registry::ANY_311] {
        crate::audience::registry::register(&*ports.kv, &*ports.env, 3_600, listened)
            .expect("registered");
    }
    let names = topics(&["a b", "c"]);
    let p = Publication {
        sender: Some("conn-1"),
        ..publication(&names, b"hi")
    };
    let published = publish(&ports.platform, &no_wildcards(), &p).expect("published");
    assert_eq!(published, Published::default());
    assert_eq!(requests(&ports).len(), 1);
    let items = sent_items(&ports);
    let channels: Vec<&str> = items.iter().filter_map(|i| i["channel"].as_str()).collect();
    assert_eq!(channels, ["a%20b", "v4#a%20b", "a#a%20b", "c", "v4#c"]);
    let live = &items[0];
    assert_eq!(
        live["formats"]["http-stream"]["content"],
        "event: message\ndata: hi\n\n"
    );
    assert_eq!(live["meta"]["sender"], "conn-1");
    let v5 = Publish::decode(&bin(live), ProtocolVersion::V5).expect("MQTT 5 PUBLISH");
    assert_eq!(
        (v5.topic.as_str(), &v5.payload[..], v5.retain),
        ("a b", &b"hi"[..], false)
    );
    let v311 = Publish::decode(&bin(&items[1]), ProtocolVersion::V311).expect("3.1.1");
    assert_eq!(v311.topic, "a b");
    assert!(items[1]["formats"].get("http-stream").is_none());
    assert_eq!(bin(&items[2]), bin(live), "as published: the MQTT 5 packet");
    assert!(items.iter().all(|i| i["meta"]["sender"] == "conn-1"));
    assert!(items
        .iter()
        .all(|i| i.get("id").is_none() && i.get("prev-id").is_none()));
}

#[test]
fn a_retained_message_is_stored_then_sequenced_on_its_retained_channel() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a b"]);
    let p = Publication {
        retain: true,
        ttl_secs: Some(60),
        ..publication(&names, b"hi")
    };
    let first = publish(&ports.platform, &no_wildcards(), &p).expect("published");
    let second = publish(&ports.platform, &no_wildcards(), &p).expect("published");
    let [one] = first.stored[..] else {
        panic!("one version: {first:?}")
    };
    let [two] = second.stored[..] else {
        panic!("one version: {second:?}")
    };
    assert_eq!((one.previous, two.previous), (Version::ZERO, one.version));
    assert_eq!(second.versions(), two.version.to_string());
    let items = sent_items(&ports);
    assert_eq!(items.len(), 8);
    let sse = &items[4];
    assert_eq!(sse["channel"], "r#a%20b");
    assert_eq!(sse["id"], two.version.to_string());
    assert_eq!(sse["prev-id"], one.version.to_string());
    assert!(sse.get("meta").is_none() && sse["formats"].get("ws-message").is_none());
    let event_id = EventId::single("a b", two.version);
    assert_eq!(
        sse["formats"]["http-stream"]["content"],
        format!("id: {event_id}\nevent: message\ndata: hi\n\n")
    );
    for (item, channel, retain) in [(&items[5], "a%20b", false), (&items[7], "a#a%20b", true)] {
        assert_eq!(item["channel"], channel);
        assert!(item.get("id").is_none() && item["formats"].get("http-stream").is_none());
        let packet = Publish::decode(&bin(item), ProtocolVersion::V5).expect("MQTT 5");
        assert_eq!(packet.retain, retain, "{channel}");
        assert_eq!(
            packet.properties.message_expiry_interval, None,
            "HTTP ttl stays in the store"
        );
    }
    assert_eq!(items[6]["channel"], "v4#a%20b");
    let stored =
        retained::load(&*ports.platform.kv, ports.platform.env.now(), "a b").expect("read");
    assert_eq!(
        stored.map(|m| (m.payload, m.expires_at.is_some())),
        Some((b"hi".to_vec(), true))
    );
}

#[test]
fn an_mqtt_publication_carries_its_properties_and_expiry_in_mqtt_5_only() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["t"]);
    let props = MqttProps {
        content_type: Some("text/plain".into()),
        ..MqttProps::default()
    };
    let p = Publication {
        ttl_secs: Some(30),
        mqtt: Some(props.clone()),
        ..publication(&names, b"x")
    };
    publish(&ports.platform, &no_wildcards(), &p).expect("published");
    let items = sent_items(&ports);
    let v5 = Publish::decode(&bin(&items[0]), ProtocolVersion::V5).expect("MQTT 5");
    assert_eq!(v5.properties.message_expiry_interval, Some(30));
    assert_eq!(crate::render::mqtt_props(&v5.properties), props);
    assert!(Publish::decode(&bin(&items[1]), ProtocolVersion::V311).is_ok());
}

#[test]
fn only_registered_filters_that_match_get_items_and_a_plain_publish_is_one_item() {
    let ports = InMemory::new();
    let names = topics(&["a/b"]);
    let p = publication(&names, b"hi");
    publish(&ports.platform, &Config::default(), &p).expect("published");
    let channels = |ports: &InMemory| -> Vec<String> {
        let items = sent_items(ports);
        let names = items.iter().filter_map(|i| i["channel"].as_str());
        names.map(str::to_owned).collect()
    };
    assert_eq!(channels(&ports), ["a/b"], "nobody listens elsewhere");

    let ports = InMemory::new();
    let register = |channel: &str| {
        crate::audience::registry::register(&*ports.kv, &*ports.env, 3_600, channel)
            .expect("registered")
    };
    // Matching: `a/+` (MQTT 5 / SSE), `#` (3.1.1); not matching: `c/#`, `a/b/+`;
    // deeper than `wildcard-max-levels` = 2: `+/+/#`.
    for channel in ["f#a/+", "f4#%23", "f#c/%23", "f#a/b/+", "f#+/+/%23"] {
        register(channel);
    }
    let mut config = Config::default();
    config.wildcard_max_levels = 2;
    publish(&ports.platform, &config, &p).expect("published");
    assert_eq!(channels(&ports), ["a/b", "f#a/+", "f4#%23"]);
    let items = sent_items(&ports);
    assert!(items[1]["formats"].get("http-stream").is_some());
    assert!(items[2]["formats"].get("http-stream").is_none());
    let v311 = Publish::decode(&bin(&items[2]), ProtocolVersion::V311).expect("3.1.1");
    assert_eq!(v311.topic, "a/b");
}

#[test]
fn each_matching_filter_gets_an_sse_and_mqtt_5_item_and_an_mqtt_311_item() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a/b"]);
    let p = Publication {
        sender: Some("c1"),
        ..publication(&names, b"hi\nthere")
    };
    publish(&ports.platform, &Config::default(), &p).expect("published");
    assert_eq!(
        requests(&ports).len(),
        1,
        "the wildcard items share the request"
    );
    let items = ports.publisher.filter_items();
    // a/+, +/b, +/+, #, a/#, +/#, a/b/#, a/+/#, +/b/#, +/+/#: 10 filters, 2 items each.
    assert_eq!(items.len(), 2 * wildcard::count(2, 6));
    let first = &items[0];
    assert_eq!(first["channel"], "f#+/b");
    assert_eq!(first["meta"]["sender"], "c1");
    assert_eq!(
        first["formats"]["http-stream"]["content"],
        "event: message\ndata: {\"topic\":\"a/b\",\"data\":\"hi\\nthere\"}\n\n"
    );
    assert_eq!(bin(first), bin(&sent_items(&ports)[0]), "the MQTT 5 packet");
    assert_eq!(items[1]["channel"], "f4#+/b");
    assert!(items[1]["formats"].get("http-stream").is_none());
    assert_eq!(
        bin(&items[1]),
        bin(&sent_items(&ports)[1]),
        "the MQTT 3.1.1 packet"
    );
    let channels: Vec<&str> = items.iter().filter_map(|i| i["channel"].as_str()).collect();
    assert!(channels.contains(&"f#%23") && channels.contains(&"f4#+/b/%23"));
    assert_eq!(
        sent_items(&ports)[3]["channel"],
        "f#+/b",
        "after the own items"
    );
}

#[test]
fn channels_of_topics_with_json_specials_stay_valid_json() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a\"b\\c/d"]);
    publish(
        &ports.platform,
        &Config::default(),
        &publication(&names, b"x"),
    )
    .expect("published");
    let channels: Vec<String> = sent_items(&ports)
        .iter()
        .filter_map(|i| i["channel"].as_str().map(str::to_owned))
        .collect();
    assert!(
        channels.contains(&"f#a%22b%5Cc/+".to_owned()),
        "{channels:?}"
    );
}

#[test]
fn a_large_fan_out_is_split_into_requests_within_fanouts_limit() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a/b/c"]);
    let big = vec![b'x'; 30_000];
    publish(
        &ports.platform,
        &Config::default(),
        &publication(&names, &big),
    )
    .expect("published");
    let sent = requests(&ports);
    assert!(sent.len() > 1, "{} requests", sent.len());
    assert!(sent.iter().all(|b| b.len() <= REQUEST_BYTES));
    assert_eq!(sent_items(&ports).len(), 3 + 2 * wildcard::count(3, 6));
    // As few requests as the limit allows: every request but the last is nearly full.
    let item = sent.iter().map(Vec::len).sum::<usize>() / sent_items(&ports).len();
    assert!(sent[..sent.len() - 1]
        .iter()
        .all(|b| b.len() + 2 * item > REQUEST_BYTES));
}

#[test]
fn a_fan_out_over_the_budget_is_too_large_and_nothing_is_stored_or_published() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a/b/c/d/e"]);
    let big = vec![b'x'; 32_000];
    let p = Publication {
        retain: true,
        ..publication(&names, &big)
    };
    let err = publish(&ports.platform, &Config::default(), &p).expect_err("over the budget");
    let PublishError::TooLarge(Error::FanoutTooLarge { filters, .. }) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*filters, 94);
    assert_eq!(Error::from(err).status(), 413);
    assert!(requests(&ports).is_empty());
    let slot = retained::read(&*ports.platform.kv, 0, "a/b/c/d/e").expect("read");
    assert!(slot.message.is_none(), "nothing stored");
    publish(&ports.platform, &no_wildcards(), &p).expect("no fan-out, no budget");
}

#[test]
fn a_retained_write_refused_for_rate_is_rate_limited_and_nothing_is_published() {
    let ports = InMemory::new().with_kv_write_limit();
    let names = topics(&["a"]);
    let p = Publication {
        retain: true,
        ..publication(&names, b"x")
    };
    publish(&ports.platform, &no_wildcards(), &p).expect("first");
    let err = publish(&ports.platform, &no_wildcards(), &p).expect_err("second");
    assert!(matches!(err, PublishError::RateLimited(_)), "{err:?}");
    let err = Error::from(err);
    assert_eq!(
        (err.status().as_u16(), err.retry_after_secs()),
        (429, Some(1))
    );
    assert_eq!(requests(&ports).len(), 1, "nothing more published");
}

#[test]
fn a_store_failure_is_not_stored_and_nothing_is_published() {
    let ports = InMemory::new();
    let kv = Arc::new(MemoryKv::default());
    kv.fail.store(true, Ordering::Relaxed);
    let platform = Platform {
        kv,
        ..ports.platform.clone()
    };
    let names = topics(&["a"]);
    let p = Publication {
        retain: true,
        ..publication(&names, b"x")
    };
    let err = publish(&platform, &no_wildcards(), &p).expect_err("store down");
    assert!(matches!(err, PublishError::NotStored(_)), "{err:?}");
    assert_eq!(Error::from(err).status(), 503);
    assert!(requests(&ports).is_empty());
    // A live publication does not touch the store.
    publish(&platform, &no_wildcards(), &publication(&names, b"x")).expect("live");
}

#[test]
fn a_failed_publish_is_not_delivered_and_says_whether_it_was_stored() {
    let ports = InMemory::new();
    *ports.publisher.fail.lock().expect("lock") = Some("connection refused".into());
    let names = topics(&["a"]);
    let live = publication(&names, b"x");
    let err = publish(&ports.platform, &no_wildcards(), &live).expect_err("not delivered");
    assert_eq!(err.to_string(), "connection refused");
    assert_eq!(
        Error::from(err).to_string(),
        "publish failed: connection refused"
    );

    let retained = Publication {
        retain: true,
        ..live
    };
    let err = publish(&ports.platform, &no_wildcards(), &retained).expect_err("not delivered");
    let PublishError::NotDelivered { stored, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(stored.len(), 1);
    let text = err.to_string();
    assert!(text.contains(&stored[0].version.to_string()), "{text}");
    assert!(text.starts_with("the message was stored as the retained message (version "));
    assert!(
        text.ends_with("but not delivered live: connection refused"),
        "{text}"
    );
    let err = Error::from(err);
    assert_eq!(err.status(), 502);
    assert_eq!(err.to_string(), format!("publish failed: {text}"));
    assert!(
        retained::load(&*ports.platform.kv, ports.platform.env.now(), "a")
            .expect("read")
            .is_some()
    );
}

/// A publisher that accepts `ok` requests, then fails.
struct FailsAfter {
    ok: usize,
    calls: AtomicUsize,
}

impl Publisher for FailsAfter {
    fn publish(&self, _config: &Config, _body: Vec<u8>) -> Result<(), String> {
        match self.calls.fetch_add(1, Ordering::Relaxed) < self.ok {
            true => Ok(()),
            false => Err("down".into()),
        }
    }
}

#[test]
fn a_failure_after_the_topics_own_items_says_only_wildcards_missed_it() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a/b/c"]);
    let big = vec![b'x'; 30_000];
    for (ok, expected) in [
        (0, "down".to_owned()),
        (
            1,
            "delivered to the topic's subscribers but not to every wildcard subscription: down"
                .to_owned(),
        ),
    ] {
        let publisher = Arc::new(FailsAfter {
            ok,
            calls: AtomicUsize::new(0),
        });
        let platform = Platform {
            publisher,
            ..ports.platform.clone()
        };
        let err =
            publish(&platform, &Config::default(), &publication(&names, &big)).expect_err("fails");
        assert_eq!(err.to_string(), expected);
    }
}

#[test]
fn an_unrenderable_message_is_an_internal_error_and_nothing_is_published() {
    let ports = InMemory::new();
    // A Correlation Data property over 65,535 bytes cannot be encoded.
    let props = MqttProps {
        correlation_data: Some(vec![0; 70_000]),
        ..MqttProps::default()
    };
    let names = topics(&["a"]);
    let p = Publication {
        mqtt: Some(props),
        ..publication(&names, b"x")
    };
    let err = publish(&ports.platform, &no_wildcards(), &p).expect_err("unencodable");
    assert!(matches!(err, PublishError::Unrenderable(_)), "{err:?}");
    assert_eq!(Error::from(err).status(), 500);
    assert!(requests(&ports).is_empty());
}

#[test]
fn live_requests_are_what_a_live_publish_sends() {
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let names = topics(&["a/b"]);
    let p = publication(&names, b"hi");
    publish(&ports.platform, &Config::default(), &p).expect("published");
    assert_eq!(
        live_requests(&p, &Config::default(), &Listening::Everything).expect("fits"),
        requests(&ports)
    );
}

/// A plain publish, with no wildcard or Retain As Published listener, is one item on a
/// service without MQTT 3.1.1 topic subscribers, two with them: for 100 bytes to a
/// one-level topic, 379 and 595 bytes. Fastly's original app sends one item of 380 bytes
/// for it (measured on its build for issue 25); before the registry this was 11 items and
/// 3,299 bytes.
#[test]
fn a_plain_publish_is_one_item_of_at_most_400_bytes_two_with_311_subscribers() {
    let names = topics(&["sensor"]);
    let p = publication(&names, &[b'x'; 100]);
    let any_311 = Registered {
        feed: Feed::Mqtt311,
        channel: crate::audience::registry::ANY_311.into(),
        filter: None,
        mercure: None,
    };
    for (listening, items, most) in [
        (Listening::Only(Vec::new()), 1, 400),
        (Listening::Only(vec![any_311]), 2, 600),
    ] {
        let requests = live_requests(&p, &Config::default(), &listening).expect("fits");
        let body: Value = serde_json::from_slice(&requests[0]).expect("json");
        assert_eq!(body["items"].as_array().map(Vec::len), Some(items));
        let bytes: usize = requests.iter().map(Vec::len).sum();
        assert!(bytes <= most, "{bytes} bytes");
        eprintln!("{items} items: {bytes} bytes");
    }
}
