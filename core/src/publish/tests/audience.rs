//! The publish requests follow the audience table: every item of a publication is the
//! table's rendering on the table's channel, in the table's order, with exactly the
//! formats that rendering has (`http-stream`, `ws-message`).

use serde_json::Value;

use crate::audience::registry::Listening;
use crate::audience::{publication, Rendering, FILTER_PUBLICATION, REVOCATION};
use crate::grip::revocation_requests;
use crate::ports::memory::InMemory;
use crate::publish::{live_requests, publish, Publication};
use crate::topic::wildcard::filters_matching;
use crate::topic::TopicName;
use crate::Config;

const TOPIC: &str = "a b/c";
const MAX_LEVELS: usize = 3;

/// Which formats an item of `rendering` carries: (`http-stream`, `ws-message`).
fn formats(rendering: Rendering) -> (bool, bool) {
    match rendering {
        Rendering::Event | Rendering::FilterEvent | Rendering::Revocation => (true, true),
        Rendering::SequencedEvent | Rendering::MercureUpdate | Rendering::MercurePrivateUpdate => {
            (true, false)
        }
        Rendering::Mqtt5
        | Rendering::Mqtt5AsPublished
        | Rendering::Mqtt311
        | Rendering::Filter311
        | Rendering::Revocation311 => (false, true),
    }
}

/// The (channel, formats) of every item of the publish request bodies.
fn items(bodies: &[Vec<u8>]) -> Vec<(String, (bool, bool))> {
    let mut out = Vec::new();
    for body in bodies {
        let v: Value = serde_json::from_slice(body).expect("json");
        for item in v["items"].as_array().expect("items") {
            let f = &item["formats"];
            let channel = item["channel"].as_str().expect("channel").to_owned();
            let has = |name| f.get(name).is_some();
            out.push((channel, (has("http-stream"), has("ws-message"))));
        }
    }
    out
}

fn expected(renderings: &[Rendering], topic: &str) -> Vec<(String, (bool, bool))> {
    renderings
        .iter()
        .map(|r| (r.channel(topic), formats(*r)))
        .collect()
}

fn publication_of(topics: &[TopicName], retain: bool) -> Publication<'_> {
    Publication {
        topics,
        payload: b"hi",
        retain,
        ttl_secs: None,
        mqtt: None,
        sender: None,
    }
}

fn config(max_levels: usize) -> Config {
    let mut config = Config::default();
    config.wildcard_max_levels = max_levels;
    config
}

#[test]
fn a_publication_sends_the_tables_renderings_on_the_tables_channels() {
    let topics = [TopicName::parse(TOPIC).expect("topic")];
    let plain = live_requests(
        &publication_of(&topics, false),
        &config(0),
        &Listening::Everything,
    )
    .expect("plain");
    assert_eq!(items(&plain), expected(publication(false), TOPIC));
    let ports = InMemory::new();
    crate::audience::registry::listen_everywhere(&*ports.env);
    let retained = publication_of(&topics, true);
    publish(&ports.platform, &config(0), &retained).expect("published");
    let sent = ports.publisher.published.lock().expect("lock").clone();
    assert_eq!(items(&sent), expected(publication(true), TOPIC));
}

#[test]
fn a_publication_sends_each_matching_filter_the_tables_filter_renderings() {
    let topics = [TopicName::parse(TOPIC).expect("topic")];
    let p = publication_of(&topics, false);
    let bodies =
        live_requests(&p, &config(MAX_LEVELS), &Listening::Everything).expect("within the budget");
    let mut want = expected(publication(false), TOPIC);
    filters_matching(TOPIC, MAX_LEVELS, |filter| {
        want.extend(expected(&FILTER_PUBLICATION, filter));
    });
    assert_eq!(items(&bodies), want);
}

#[test]
fn a_revocation_sends_the_tables_renderings_on_the_keys_channels() {
    let got = items(&revocation_requests("k1"));
    // The MQTT 5 DISCONNECT and SSE event first, then the close of both, on one channel.
    let key = Rendering::Revocation.channel("k1");
    assert_eq!(got[0], (key.clone(), formats(REVOCATION[0])));
    assert_eq!(got[1], (key, formats(REVOCATION[0])));
    assert_eq!(got[2..], expected(&REVOCATION[1..], "k1"));
}
