//! Fuzz target for topic names, query strings and channel names: `query::topics`,
//! `query::selectors`, `query_values`, `percent_decode`, `TopicName::parse`,
//! `Selector::subscription` and `feed::parse` must never panic; topics read from a query
//! are valid, distinct and within the limit; and every channel `Feed::channel` names
//! parses back to its feed and topic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::audience::feed::{self, Feed};
use pubsub_core::topic::{query, Selector, TopicName, MAX_TOPIC_BYTES};

fn round_trip(topic: &str) {
    for kind in Feed::ALL {
        let name = kind.channel(topic);
        assert!(!name.contains('|'), "{name:?}");
        assert_eq!(
            feed::parse(&name),
            Some((kind, topic.to_owned())),
            "{kind:?} of {topic:?} is {name:?}"
        );
    }
    let live = feed::live(topic);
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
    let levels = max % 9;

    match query::topics(Some(text), max) {
        Ok(list) => {
            assert!(!list.is_empty() && list.len() <= max);
            for (i, topic) in list.iter().enumerate() {
                assert!(TopicName::parse(topic).is_ok());
                assert!(!list[..i].contains(topic), "{topic:?} twice");
                round_trip(topic);
            }
        }
        Err(err) => {
            assert_eq!(err.status(), 400);
            let _ = err.to_string();
        }
    }
    let subscribed = query::selectors(Some(text), max, levels);
    if let Ok(list) = &subscribed {
        assert!(!list.is_empty() && list.len() <= max);
        for selector in list {
            let again = Selector::subscription(selector.as_str().to_owned(), levels);
            assert_eq!(again.as_ref(), Ok(selector));
            round_trip(selector.as_str());
        }
    }
    // Every list of topic names is a list of selectors too.
    if query::topics(Some(text), max).is_ok() {
        assert!(subscribed.is_ok());
    }
    let _ = query::query_value(Some(text), "lastEventId");
    let values = query::query_values(Some(text), "topic").count();
    assert_eq!(values, query::query_values(Some(text), "topic").count());

    if let Some(decoded) = query::percent_decode(text) {
        if !text.contains(['%', '+']) {
            assert_eq!(decoded, text);
        }
        assert!(decoded.len() <= text.len());
        if TopicName::parse(&decoded).is_ok() {
            round_trip(&decoded);
        }
    }
    let name = TopicName::parse(text);
    match Selector::subscription(text.to_owned(), levels) {
        Ok(Selector::Name(n)) => assert_eq!(name.as_ref(), Ok(&n)),
        Ok(Selector::Filter(_)) => assert!(name.is_err()),
        Err(_) => {}
    }
    if name.is_ok() {
        assert!(!text.is_empty() && text.len() <= MAX_TOPIC_BYTES);
    }
    round_trip(text);

    if let Some((kind, topic)) = feed::parse(text) {
        // Not every name parses from its canonical form (hex case, needless escapes), but
        // the canonical name of what it parsed to parses to the same.
        let canonical = kind.channel(&topic);
        assert_eq!(feed::parse(&canonical), Some((kind, topic)));
    }
});
