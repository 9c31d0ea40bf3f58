//! Fuzz target for topic names, query strings and channel names: `topics::from_query`,
//! `subscriptions_from_query`, `query_values`, `percent_decode`, `validate`,
//! `validate_subscription` and `channel::parse` must never panic; topics read from a query
//! are valid, distinct and within the limit; and every channel `Kind::of` names parses
//! back to its kind and topic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::channel::{self, Kind};
use pubsub_core::topics;

const KINDS: [Kind; 6] = [
    Kind::Live,
    Kind::Retained,
    Kind::Mqtt311,
    Kind::AsPublished,
    Kind::Key,
    Kind::Key311,
];

fn round_trip(topic: &str) {
    for kind in KINDS {
        let name = kind.of(topic);
        assert!(!name.contains('|'), "{name:?}");
        assert_eq!(
            channel::parse(&name),
            Some((kind, topic.to_owned())),
            "{kind:?} of {topic:?} is {name:?}"
        );
    }
    let live = channel::live(topic);
    assert!(!live.contains(['#', '|', ' ', ',', ';']));
}

fuzz_target!(|data: &[u8]| {
    let Some((&max, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let max = usize::from(max % 16);

    match topics::from_query(Some(text), max) {
        Ok(list) => {
            assert!(!list.is_empty() && list.len() <= max);
            for (i, topic) in list.iter().enumerate() {
                assert!(topics::validate(topic).is_ok());
                assert!(!list[..i].contains(topic), "{topic:?} twice");
                round_trip(topic);
            }
        }
        Err(err) => {
            assert_eq!(err.status(), 400);
            let _ = err.to_string();
        }
    }
    let subscribed = topics::subscriptions_from_query(Some(text), max);
    if let Ok(list) = &subscribed {
        assert!(!list.is_empty() && list.len() <= max);
        for topic in list {
            assert!(topics::validate(topic).is_ok());
        }
    }
    // A subscription is a topic name for now: both readings accept the same queries.
    assert_eq!(
        subscribed.is_ok(),
        topics::from_query(Some(text), max).is_ok()
    );
    let _ = topics::query_value(Some(text), "lastEventId");
    let values = topics::query_values(Some(text), "topic").count();
    assert_eq!(values, topics::query_values(Some(text), "topic").count());

    if let Some(decoded) = topics::percent_decode(text) {
        if !text.contains(['%', '+']) {
            assert_eq!(decoded, text);
        }
        assert!(decoded.len() <= text.len());
        if topics::validate(&decoded).is_ok() {
            round_trip(&decoded);
        }
    }
    assert_eq!(
        topics::validate_subscription(text).is_ok(),
        topics::validate(text).is_ok()
    );
    if topics::validate(text).is_ok() {
        assert!(!text.is_empty() && text.len() <= topics::MAX_TOPIC_BYTES);
    }
    round_trip(text);

    if let Some((kind, topic)) = channel::parse(text) {
        // Not every name parses from its canonical form (hex case, needless escapes), but
        // the canonical name of what it parsed to parses to the same.
        let canonical = kind.of(&topic);
        assert_eq!(channel::parse(&canonical), Some((kind, topic)));
    }
});
