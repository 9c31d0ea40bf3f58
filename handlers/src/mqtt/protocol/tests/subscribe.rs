//! SUBSCRIBE, UNSUBSCRIBE, DISCONNECT with subscriptions, and the retained checks, as
//! tables.

use pubsub_codec::mqtt::{
    Disconnect, DisconnectReasonCode, Publish, SubAck, SubAckReasonCode, UnsubAck,
    UnsubAckReasonCode, Unsubscribe,
};
use pubsub_core::retained::Version;
use pubsub_core::topic::Filter;

use super::*;
use crate::mqtt::protocol::effects::Follow;
use crate::mqtt::protocol::{on_retained, retained};
use crate::mqtt::tests::subscribe;

fn suback(version: ProtocolVersion, codes: &[SubAckReasonCode]) -> Effect {
    send(version, Packet::SubAck(SubAck::new(id(1), codes.to_vec())))
}

fn listen(channel: String) -> Effect {
    Effect::Listen {
        channel,
        skip_self: false,
    }
}

fn retained_of(topic: &str) -> Effect {
    Effect::DeliverRetained {
        topic: topic.into(),
        after: Version::ZERO,
        then: Follow::Check,
    }
}

#[test]
fn each_filter_of_a_subscribe_gets_its_code_its_channel_and_its_retained_message() {
    use SubAckReasonCode::*;
    check_table(vec![
        (
            "a topic the token may read",
            session(V5),
            subscribe(&["a"]),
            Fake::allowing(),
            vec![
                listen(Feed::Live.channel("a")),
                suback(V5, &[GrantedQoS0]),
                retained_of("a"),
            ],
        ),
        (
            "MQTT 3.1.1 listens on its own channel",
            session(V311),
            subscribe(&["a"]),
            Fake::allowing(),
            vec![
                listen(Feed::Mqtt311.channel("a")),
                suback(V311, &[GrantedQoS0]),
                retained_of("a"),
            ],
        ),
        (
            "a wildcard filter listens on its filter channel",
            session(V5),
            subscribe(&["w/+"]),
            Fake::allowing(),
            vec![
                listen(Feed::Filter.channel("w/+")),
                suback(V5, &[GrantedQoS0]),
                Effect::DeliverFilterRetained(Filter::parse("w/+").expect("filter")),
            ],
        ),
        (
            "refusals per filter: not authorised, shared, invalid",
            session(V5),
            subscribe(&["b", "$share/g/a", "a/#/b"]),
            Fake::allowing(),
            vec![suback(
                V5,
                &[
                    NotAuthorized,
                    SharedSubscriptionsNotSupported,
                    TopicFilterInvalid,
                ],
            )],
        ),
        (
            "a repeated filter is one subscription with a code per occurrence",
            session(V5),
            subscribe(&["a", "a"]),
            Fake::allowing(),
            vec![
                listen(Feed::Live.channel("a")),
                suback(V5, &[GrantedQoS0, GrantedQoS0]),
                retained_of("a"),
            ],
        ),
        (
            "the same subscription again keeps listening",
            subscribed(V5, "a"),
            subscribe(&["a"]),
            Fake::allowing(),
            vec![suback(V5, &[GrantedQoS0]), retained_of("a")],
        ),
        (
            "a wildcard filter the registry cannot take is refused; a topic is not affected",
            session(V5),
            subscribe(&["w/+", "a"]),
            Fake {
                registry_down: true,
                ..Fake::allowing()
            },
            vec![
                listen(Feed::Live.channel("a")),
                suback(V5, &[UnspecifiedError, GrantedQoS0]),
                retained_of("a"),
            ],
        ),
        (
            "a store failure is an implementation specific error",
            session(V5),
            subscribe(&["a"]),
            Fake::failing(Error::StoreUnavailable("kv".into())),
            vec![suback(V5, &[ImplementationSpecificError])],
        ),
        (
            "a token that no longer verifies ends the session",
            session(V5),
            subscribe(&["a"]),
            Fake::failing(Error::UnknownKey("k".into())),
            vec![
                disconnect(
                    DisconnectReasonCode::NotAuthorized,
                    "the token is no longer valid",
                ),
                Effect::Close(1008),
            ],
        ),
    ]);
}

#[test]
fn registered_feeds_are_registered_at_subscribe_and_on_every_later_request() {
    let config = Config::default();
    let ports = Fake::allowing();
    let mut state = State::new(session(V5));
    let mut fx = Effects::new();
    crate::mqtt::protocol::subscribe::subscribe(&mut state, &ctx(&ports, &config), &mut fx, {
        let Packet::Subscribe(s) = subscribe(&["a", "w/#"]) else {
            panic!("a SUBSCRIBE");
        };
        s
    });
    let filter = Feed::Filter.channel("w/#");
    assert_eq!(*ports.registered.borrow(), std::slice::from_ref(&filter));
    let later = Fake::allowing();
    let fx = crate::mqtt::protocol::liveness::check(&mut state, &ctx(&later, &config));
    assert!(fx.is_empty());
    assert_eq!(
        *later.registered.borrow(),
        [filter],
        "the plain topic is not"
    );
}

#[test]
fn subscriptions_beyond_the_quota_get_quota_exceeded() {
    let mut full = session(V5);
    for i in 0..super::super::subscribe::MAX_SUBSCRIPTIONS {
        full.subs.push(Sub::new(
            Feed::Live.channel(&format!("t{i}")),
            &Default::default(),
        ));
    }
    let (fx, state) = step(full, &subscribe(&["a"]), &Fake::allowing());
    assert_eq!(fx, [suback(V5, &[SubAckReasonCode::QuotaExceeded])]);
    assert_eq!(state.session.subs.len(), 32);
}

#[test]
fn unsubscribe_and_disconnect_end_subscriptions() {
    let unsubscribe = Packet::Unsubscribe(Unsubscribe {
        packet_id: id(1),
        filters: vec!["a".into(), "b".into()],
        properties: Default::default(),
    });
    let codes = vec![
        UnsubAckReasonCode::Success,
        UnsubAckReasonCode::NoSubscriptionExisted,
    ];
    let mut with_will = subscribed(V5, "a");
    let mut will = Vec::new();
    Packet::Publish(Publish::new("will", b"x".to_vec()))
        .encode(V5, &mut will)
        .expect("encodable");
    with_will.will = Some(will);
    let normal = Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection));
    let with_will_message = Packet::Disconnect(Disconnect::new(
        DisconnectReasonCode::DisconnectWithWillMessage,
    ));
    let unlisten = Effect::Unlisten(Feed::Live.channel("a"));
    check_table(vec![
        (
            "UNSUBSCRIBE: a code per filter",
            subscribed(V5, "a"),
            unsubscribe,
            Fake::allowing(),
            vec![
                unlisten.clone(),
                send(V5, Packet::UnsubAck(UnsubAck::new(id(1), codes))),
            ],
        ),
        (
            "a normal DISCONNECT discards the Will",
            with_will.clone(),
            normal,
            Fake::allowing(),
            vec![unlisten.clone(), Effect::Close(1000)],
        ),
        (
            "DISCONNECT 0x04 publishes the Will after the close",
            with_will,
            with_will_message,
            Fake::allowing(),
            vec![
                unlisten,
                Effect::Close(1000),
                Effect::Publish {
                    publication: crate::mqtt::protocol::effects::Publication {
                        topic: pubsub_core::topic::TopicName::parse("will").expect("topic"),
                        payload: b"x".to_vec(),
                        retain: false,
                        props: Default::default(),
                        expiry: None,
                        sender: CONN.into(),
                    },
                    ack: crate::mqtt::protocol::effects::Ack::Nothing,
                },
            ],
        ),
    ]);
}

#[test]
fn a_new_subscription_is_checked_again_on_the_next_request() {
    let config = Config::default();
    let fake = Fake::allowing();
    let v = |s: &str| -> Version { s.parse().expect("version") };
    let seen = v("0000691c2a5e-000000000002");
    // SUBSCRIBE: the version seen is remembered, zero when held back.
    for (delivered, check) in [(Ok(Some(seen)), seen), (Ok(None), Version::ZERO)] {
        let mut state = State::new(subscribed(V5, "a"));
        on_retained(&mut state, "a", Follow::Check, delivered);
        assert_eq!(state.session.subs[0].check, Some(check));
    }
    // The next request: delivered (or nothing newer) ends the check; held back keeps it.
    let mut checking = subscribed(V5, "a");
    checking.subs[0].check = Some(seen);
    let mut state = State::new(checking.clone());
    let fx = retained::recheck(&mut state, &ctx(&fake, &config));
    let expected = Effect::DeliverRetained {
        topic: "a".into(),
        after: seen,
        then: Follow::Recheck,
    };
    assert_eq!(fx, [expected]);
    on_retained(&mut state, "a", Follow::Recheck, Ok(None));
    assert_eq!(state.session.subs[0].check, Some(seen));
    on_retained(&mut state, "a", Follow::Recheck, Ok(Some(seen)));
    assert_eq!(state.session.subs[0].check, None);
    // A token that may no longer read the topic ends the check without a delivery.
    let mut state = State::new(checking);
    let denied = Fake {
        principal: Ok(principal(&[], &[])),
        ..Fake::allowing()
    };
    assert!(retained::recheck(&mut state, &ctx(&denied, &config)).is_empty());
    assert_eq!(state.session.subs[0].check, None);
}
