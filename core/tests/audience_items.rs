//! The publish bodies follow the audience table: every item of a publication is the
//! table's rendering on the table's channel, in the table's order, with exactly the
//! formats that rendering has (`http-stream`, `ws-message`).

use pubsub_codec::mqtt::ProtocolVersion;
use pubsub_core::audience::{publication, Rendering, FILTER_PUBLICATION, REVOCATION};
use pubsub_core::message::{
    mqtt_publish, publish_body, retained_publish_body, revocation_body, wildcard_bodies, Outgoing,
    RetainedOutgoing,
};
use pubsub_core::retained::Stored;
use pubsub_core::topic::wildcard::filters_matching;
use serde_json::Value;

const TOPIC: &str = "a b/c";
const MAX_LEVELS: usize = 3;

/// Which formats an item of `rendering` carries: (`http-stream`, `ws-message`).
fn formats(rendering: Rendering) -> (bool, bool) {
    match rendering {
        Rendering::Event | Rendering::FilterEvent | Rendering::Revocation => (true, true),
        Rendering::SequencedEvent => (true, false),
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
            out.push((
                channel,
                (
                    f.get("http-stream").is_some(),
                    f.get("ws-message").is_some(),
                ),
            ));
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

fn outgoing() -> Outgoing<'static> {
    Outgoing {
        topic: TOPIC,
        payload: b"hi",
        mqtt_v5: mqtt_publish(ProtocolVersion::V5, TOPIC, b"hi", None, None, false),
        mqtt_v311: mqtt_publish(ProtocolVersion::V311, TOPIC, b"hi", None, None, false),
        sender: None,
    }
}

#[test]
fn a_publication_sends_the_tables_renderings_on_the_tables_channels() {
    let plain = publish_body(&[outgoing()]);
    assert_eq!(items(&[plain]), expected(publication(false), TOPIC));
    let version = "00006b49d200-000000000002".parse().expect("version");
    let previous = "00006b49d200-000000000001".parse().expect("version");
    let retained = retained_publish_body(&[RetainedOutgoing {
        message: outgoing(),
        stored: Stored { version, previous },
    }]);
    assert_eq!(items(&[retained]), expected(publication(true), TOPIC));
}

#[test]
fn a_publication_sends_each_matching_filter_the_tables_filter_renderings() {
    let bodies = wildcard_bodies(&[outgoing()], MAX_LEVELS).expect("within the budget");
    let mut want = Vec::new();
    filters_matching(TOPIC, MAX_LEVELS, |filter| {
        want.extend(expected(&FILTER_PUBLICATION, filter));
    });
    assert_eq!(items(&bodies), want);
}

#[test]
fn a_revocation_sends_the_tables_renderings_on_the_keys_channels() {
    let got = items(&[revocation_body("k1")]);
    // The MQTT 5 DISCONNECT and SSE event first, then the close of both, on one channel.
    let key = Rendering::Revocation.channel("k1");
    assert_eq!(got[0], (key.clone(), formats(REVOCATION[0])));
    assert_eq!(got[1], (key, formats(REVOCATION[0])));
    assert_eq!(got[2..], expected(&REVOCATION[1..], "k1"));
}
