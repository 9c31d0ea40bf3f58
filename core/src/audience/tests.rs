//! The table test: the subscribe side and the publish side of [`super`] agree.

use std::collections::BTreeSet;

use super::*;
use crate::topic::wildcard::filters_matching;

const MAX_LEVELS: usize = 3;

const AUDIENCES: [Audience; 4] = [
    Audience::Sse,
    Audience::Mqtt5,
    Audience::Mqtt5AsPublished,
    Audience::Mqtt311,
];

const TOPICS: [&str; 10] = [
    "a", "b", "a/b", "c/b", "/b", "a/b/c", "$SYS/x", "x y", "100%", "a/b/c/d",
];

fn selectors() -> Vec<Selector> {
    [
        "a", "a/b", "$SYS/x", "x y", "100%", "a/+", "+/b", "#", "a/#", "$SYS/#", "+/+/+",
    ]
    .iter()
    .map(|s| Selector::subscription((*s).to_owned(), MAX_LEVELS).expect(s))
    .collect()
}

/// Every item a publication to `topic` sends: its channel and rendering.
fn published(topic: &str, retained: bool) -> Vec<(String, Rendering)> {
    let mut items: Vec<(String, Rendering)> = publication(retained)
        .iter()
        .map(|r| (r.channel(topic), *r))
        .collect();
    filters_matching(topic, MAX_LEVELS, |filter| {
        items.extend(FILTER_PUBLICATION.map(|r| (r.channel(filter), r)));
    });
    items
}

fn listened(audience: Audience, selector: &Selector) -> BTreeSet<String> {
    audience.channels(selector).map(|(_, c)| c).collect()
}

#[test]
fn every_channel_a_subscriber_listens_on_is_fed_a_rendering_it_reads() {
    for audience in AUDIENCES {
        for selector in selectors() {
            for channel in listened(audience, &selector) {
                let fed = TOPICS
                    .iter()
                    .filter(|t| selector.matches(t))
                    .flat_map(|t| [published(t, false), published(t, true)])
                    .flatten()
                    .any(|(c, r)| c == channel && audience.reads(r));
                assert!(fed, "{audience:?} on {channel} for {selector} is never fed");
            }
        }
        let key = audience.key_channel("k1");
        let fed = REVOCATION
            .iter()
            .any(|r| r.channel("k1") == key && audience.reads(*r));
        assert!(fed, "{audience:?} on {key} never hears of a revocation");
    }
}

#[test]
fn each_publication_reaches_each_matching_subscription_exactly_once() {
    for audience in AUDIENCES {
        for selector in selectors() {
            let channels = listened(audience, &selector);
            for topic in TOPICS {
                for retained in [false, true] {
                    let deliveries = published(topic, retained)
                        .into_iter()
                        .filter(|(c, r)| channels.contains(c) && audience.reads(*r))
                        .count();
                    let want = usize::from(selector.matches(topic));
                    assert_eq!(
                        deliveries, want,
                        "{audience:?} of {selector} gets {topic} (retained: {retained})"
                    );
                }
            }
        }
        let key = audience.key_channel("k1");
        let ends = REVOCATION
            .iter()
            .filter(|r| r.channel("k1") == key && audience.reads(**r))
            .count();
        assert_eq!(ends, 1, "{audience:?}");
    }
}

#[test]
fn an_mqtt_subscription_has_one_channel_and_every_feed_has_a_reader_and_a_writer() {
    let renderings = publication(false)
        .iter()
        .chain(publication(true))
        .chain(&FILTER_PUBLICATION)
        .chain(&REVOCATION)
        .chain(&MERCURE_PUBLICATION);
    let written: BTreeSet<Feed> = renderings.map(|r| r.feed()).collect();
    let mut read = BTreeSet::new();
    for audience in AUDIENCES {
        read.insert(audience.key_feed());
        for selector in selectors() {
            let feeds = audience.feeds(&selector);
            if audience != Audience::Sse {
                assert_eq!(feeds.len(), 1, "{audience:?} {selector}");
            }
            read.extend(feeds);
        }
    }
    read.extend(MERCURE_FEEDS);
    let all: BTreeSet<Feed> = Feed::ALL.into();
    assert_eq!((&written, &read), (&all, &all));
}

#[test]
fn the_channels_of_a_stream_are_named_after_its_selectors_and_key() {
    let s = |t: &str| Selector::subscription(t.to_owned(), MAX_LEVELS).expect(t);
    let names =
        |a: Audience, sel: &Selector| -> Vec<String> { a.channels(sel).map(|(_, c)| c).collect() };
    assert_eq!(names(Audience::Sse, &s("a b")), ["a%20b", "r#a%20b"]);
    assert_eq!(names(Audience::Sse, &s("a/#")), ["f#a/%23"]);
    assert_eq!(names(Audience::Mqtt5AsPublished, &s("x")), ["a#x"]);
    assert_eq!(names(Audience::Mqtt311, &s("+")), ["f4#+"]);
    assert_eq!(
        Audience::mqtt(ProtocolVersion::V311, true).key_channel("k1"),
        "k4#k1"
    );
    assert_eq!(Audience::Sse.key_channel("k1"), "k#k1");
}
