//! Wildcard subscriptions over MQTT, natively: reason codes, filter channels, retained
//! messages on subscribe, the wildcard fan-out of a publish and its budget. Through
//! Pushpin with real clients: `tests/e2e_wildcard.rs`.

use super::*;

/// The channels the answer's control messages subscribe to.
fn subscribed(events: &[Vec<u8>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e.strip_prefix(b"TEXT:c:"))
        .filter_map(|c| serde_json::from_slice::<serde_json::Value>(c).ok())
        .filter(|c| c["type"] == "subscribe")
        .filter_map(|c| c["channel"].as_str().map(str::to_owned))
        .collect()
}

fn suback(p: &Proxy, events: &[Vec<u8>]) -> Vec<SubAckReasonCode> {
    p.packets(events)
        .into_iter()
        .find_map(|packet| match packet {
            Packet::SubAck(ack) => Some(ack.reason_codes),
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn a_wildcard_filter_listens_on_its_filter_channel_in_each_version() {
    for (version, plus, hash, too_deep) in [
        (
            ProtocolVersion::V5,
            "f#s/+/t",
            "f#site/%23",
            SubAckReasonCode::WildcardSubscriptionsNotSupported,
        ),
        (
            ProtocolVersion::V311,
            "f4#s/+/t",
            "f4#site/%23",
            SubAckReasonCode::UnspecifiedError,
        ),
    ] {
        let mut p = Proxy::new(version);
        let t = p.token(&["s/#", "site/#", "a/#"], &[], 3600);
        p.connect(&t);
        let filters = ["s/+/t", "site/#", "a/1/2/3/4/5/#", "a/+x", "#"];
        let events = p.send(&[subscribe(&filters)]);
        assert_eq!(
            suback(&p, &events),
            [
                SubAckReasonCode::GrantedQoS0,
                SubAckReasonCode::GrantedQoS0,
                too_deep,
                SubAckReasonCode::TopicFilterInvalid.to_v311_if(version),
                // `#` is wider than every read claim.
                SubAckReasonCode::NotAuthorized.to_v311_if(version),
            ],
            "{version:?}"
        );
        assert_eq!(subscribed(&events), [plus, hash], "{version:?}");
    }
}

trait V311 {
    fn to_v311_if(self, version: ProtocolVersion) -> Self;
}

impl V311 for SubAckReasonCode {
    fn to_v311_if(self, version: ProtocolVersion) -> Self {
        match version {
            ProtocolVersion::V5 => self,
            ProtocolVersion::V311 => self.to_v311(),
        }
    }
}

#[test]
fn connack_says_wildcards_are_available_unless_turned_off() {
    for (levels, want) in [(6, None), (0, Some(false))] {
        let mut p = Proxy::new(ProtocolVersion::V5);
        p.config.wildcard_max_levels = levels;
        let t = p.token(&["#"], &[], 3600);
        let events = p.connect(&t);
        match p.packets(&events).as_slice() {
            [Packet::ConnAck(ack)] => {
                assert_eq!(ack.properties.wildcard_subscription_available, want)
            }
            other => panic!("{other:?}"),
        }
        let events = p.send(&[subscribe(&["a/+"])]);
        let code = match levels {
            0 => SubAckReasonCode::WildcardSubscriptionsNotSupported,
            _ => SubAckReasonCode::GrantedQoS0,
        };
        assert_eq!(suback(&p, &events), [code], "levels {levels}");
    }
}

#[test]
fn a_wildcard_subscribe_receives_the_retained_messages_it_matches_up_to_the_cap() {
    let topics: Vec<String> = ["r/a", "r/b", "r/c", "r/a/deep", "other"]
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    let (mut p, _) = with_retained(&topics, 10);
    let t = p.token(&["#"], &[], 3600);
    p.meta.clear();
    p.connect(&t);
    let events = p.send(&[subscribe(&["r/+"])]);
    assert_eq!(retained_deliveries(&p, &events), ["r/a", "r/b", "r/c"]);

    p.config.wildcard_retained_max = 2;
    let events = p.send(&[subscribe(&["r/#"])]);
    assert_eq!(retained_deliveries(&p, &events), ["r/a", "r/a/deep"]);
}

#[test]
fn a_publish_goes_to_every_matching_filter_channel_in_both_versions() {
    let mut p = Proxy::new(ProtocolVersion::V5);
    let t = p.token(&[], &["a/b"], 3600);
    p.connect(&t);
    let events = p.send(&[publish("a/b", QoS::AtLeastOnce, b"hi")]);
    match p.packets(&events).as_slice() {
        [Packet::PubAck(ack)] => assert_eq!(ack.reason_code, PubAckReasonCode::Success),
        other => panic!("{other:?}"),
    }
    let items = p.publisher.filter_items();
    let channels: Vec<&str> = items.iter().filter_map(|i| i["channel"].as_str()).collect();
    assert_eq!(
        channels.len(),
        2 * pubsub_core::topic::wildcard::count(2, 6)
    );
    for channel in ["f#a/+", "f4#a/+", "f#%23", "f4#+/b/%23"] {
        assert!(channels.contains(&channel), "{channel} in {channels:?}");
    }
    let sse = items[0]["formats"]["http-stream"]["content"]
        .as_str()
        .unwrap();
    assert!(sse.contains(r#"{"topic":"a/b","data":"hi"}"#), "{sse}");
    assert_eq!(
        items[0]["meta"]["sender"], "conn-1",
        "No Local still applies"
    );
}

#[test]
fn a_publish_whose_wildcard_fan_out_is_over_the_budget_is_refused_and_not_published() {
    for (version, last) in [
        (ProtocolVersion::V5, None),
        (ProtocolVersion::V311, Some(b"CLOSE:1008".to_vec())),
    ] {
        let mut p = Proxy::new(version);
        let t = p.token(&[], &["#"], 3600);
        p.connect(&t);
        let events = p.send(&[publish("a/b/c/d/e/f", QoS::AtLeastOnce, &[b'x'; 32_000])]);
        if version == ProtocolVersion::V5 {
            match p.packets(&events).as_slice() {
                [Packet::PubAck(ack)] => {
                    assert_eq!(ack.reason_code, PubAckReasonCode::QuotaExceeded);
                    let why = ack.properties.reason_string.clone().unwrap_or_default();
                    assert!(why.contains("wildcard-max-levels"), "{why}");
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(events.last().cloned().filter(|_| last.is_some()), last);
        assert!(p.publisher.live_items().is_empty(), "{version:?}");
        assert!(p.publisher.filter_items().is_empty(), "{version:?}");
    }
}
