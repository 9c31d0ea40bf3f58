//! PUBLISH, its acknowledgement per outcome, and the QoS 2 exchange, as tables.

use pubsub_codec::mqtt::{
    DisconnectReasonCode, PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode,
    Publish, QoS,
};
use pubsub_core::Config;

use super::*;
use crate::mqtt::protocol::effects::{Ack, NotPublished, Publication, Published};
use crate::mqtt::protocol::on_published;

/// A case of an outcome: its name, the version, the acknowledgement asked for, the
/// outcome, the effects expected.
type OutcomeCase = (&'static str, ProtocolVersion, Ack, Published, Vec<Effect>);

fn publish(topic: &str, qos: QoS) -> Publish {
    let mut p = Publish::new(topic, b"hi".to_vec());
    p.qos = qos;
    p.packet_id = (qos != QoS::AtMostOnce).then(|| id(7));
    p
}

fn publication(topic: &str) -> Publication {
    Publication {
        topic: pubsub_core::topic::TopicName::parse(topic).expect("topic"),
        payload: b"hi".to_vec(),
        retain: false,
        props: Default::default(),
        expiry: None,
        sender: CONN.into(),
    }
}

/// A PUBACK (QoS 1) or PUBREC (QoS 2) for identifier 7.
fn ack(version: ProtocolVersion, qos: QoS, code: PubAckReasonCode, text: Option<&str>) -> Effect {
    let mut a = PubAck::new(id(7));
    a.reason_code = code;
    a.properties.reason_string = text.map(str::to_owned);
    let packet = match qos {
        QoS::ExactlyOnce => Packet::PubRec(PubRec {
            packet_id: a.packet_id,
            reason_code: a.reason_code,
            properties: a.properties,
        }),
        _ => Packet::PubAck(a),
    };
    send(version, packet)
}

#[test]
fn a_publish_is_checked_before_it_is_handed_to_the_driver() {
    let refused = "the token may not publish to \"b\"";
    let not_authorized = DisconnectReasonCode::NotAuthorized;
    let mut alias = publish("a", QoS::AtMostOnce);
    alias.properties.topic_alias = NonZeroU16::new(1);
    let large = Publish::new("a", vec![0; Config::default().max_message_bytes + 1]);
    let large_text = format!(
        "message is larger than {} bytes",
        Config::default().max_message_bytes
    );
    check_table(vec![
        (
            "QoS 0 is published and acknowledged with nothing",
            session(V5),
            Packet::Publish(publish("a", QoS::AtMostOnce)),
            Fake::allowing(),
            vec![Effect::Publish {
                publication: publication("a"),
                ack: Ack::Nothing,
            }],
        ),
        (
            "QoS 1 is published, then acknowledged",
            session(V5),
            Packet::Publish(publish("a", QoS::AtLeastOnce)),
            Fake::allowing(),
            vec![Effect::Publish {
                publication: publication("a"),
                ack: Ack::Publish {
                    qos: QoS::AtLeastOnce,
                    id: id(7),
                },
            }],
        ),
        (
            "MQTT 5 QoS 1 not authorised: PUBACK 0x87, the connection stays",
            session(V5),
            Packet::Publish(publish("b", QoS::AtLeastOnce)),
            Fake::allowing(),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::NotAuthorized,
                Some(refused),
            )],
        ),
        (
            "MQTT 5 QoS 2 not authorised: PUBREC 0x87",
            session(V5),
            Packet::Publish(publish("b", QoS::ExactlyOnce)),
            Fake::allowing(),
            vec![ack(
                V5,
                QoS::ExactlyOnce,
                PubAckReasonCode::NotAuthorized,
                Some(refused),
            )],
        ),
        (
            "MQTT 5 QoS 0 not authorised: DISCONNECT 0x87",
            session(V5),
            Packet::Publish(publish("b", QoS::AtMostOnce)),
            Fake::allowing(),
            vec![disconnect(not_authorized, refused), Effect::Close(1008)],
        ),
        (
            "MQTT 3.1.1 not authorised: closed",
            session(V311),
            Packet::Publish(publish("b", QoS::AtLeastOnce)),
            Fake::allowing(),
            vec![Effect::Close(1008)],
        ),
        (
            "a token that no longer verifies may not publish",
            session(V5),
            Packet::Publish(publish("a", QoS::AtMostOnce)),
            Fake::failing(Error::UnknownKey("k".into())),
            vec![
                disconnect(not_authorized, "the token may not publish to \"a\""),
                Effect::Close(1008),
            ],
        ),
        (
            "a topic alias",
            session(V5),
            Packet::Publish(alias),
            Fake::allowing(),
            vec![
                disconnect(
                    DisconnectReasonCode::TopicAliasInvalid,
                    "topic aliases are not supported (Topic Alias Maximum is 0)",
                ),
                Effect::Close(1008),
            ],
        ),
        (
            "a payload over max-message-bytes",
            session(V5),
            Packet::Publish(large),
            Fake::allowing(),
            vec![
                disconnect(DisconnectReasonCode::PacketTooLarge, &large_text),
                Effect::Close(1008),
            ],
        ),
        (
            "MQTT 5 QoS 1 over the rate limit: PUBACK 0x97",
            session(V5),
            Packet::Publish(publish("a", QoS::AtLeastOnce)),
            Fake::rate_limited(),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::QuotaExceeded,
                Some("over 2/s"),
            )],
        ),
        (
            "MQTT 5 QoS 0 over the rate limit: DISCONNECT 0x96",
            session(V5),
            Packet::Publish(publish("a", QoS::AtMostOnce)),
            Fake::rate_limited(),
            vec![
                disconnect(DisconnectReasonCode::MessageRateTooHigh, "over 2/s"),
                Effect::Close(1008),
            ],
        ),
        (
            "MQTT 3.1.1 over the rate limit: closed",
            session(V311),
            Packet::Publish(publish("a", QoS::AtLeastOnce)),
            Fake::rate_limited(),
            vec![Effect::Close(1008)],
        ),
    ]);
}

#[test]
fn the_acknowledgement_follows_the_outcome_per_version() {
    let qos1 = Ack::Publish {
        qos: QoS::AtLeastOnce,
        id: id(7),
    };
    let failed = |why: &str| NotPublished::NotDelivered(why.into());
    let cases: Vec<OutcomeCase> = vec![
        (
            "published at QoS 1",
            V5,
            qos1,
            Ok(()),
            vec![ack(V5, QoS::AtLeastOnce, PubAckReasonCode::Success, None)],
        ),
        (
            "QoS 0 is never acknowledged",
            V5,
            Ack::Nothing,
            Err(failed("x")),
            vec![],
        ),
        (
            "rate limited by the store",
            V5,
            qos1,
            Err(NotPublished::RateLimited("1/s".into())),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::QuotaExceeded,
                Some("1/s"),
            )],
        ),
        (
            "not stored",
            V5,
            qos1,
            Err(NotPublished::NotStored("kv".into())),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::ImplementationSpecificError,
                Some("kv"),
            )],
        ),
        (
            "not delivered",
            V5,
            qos1,
            Err(failed("api")),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::UnspecifiedError,
                Some("api"),
            )],
        ),
        (
            "too large a fan-out",
            V5,
            qos1,
            Err(NotPublished::TooLarge("big".into())),
            vec![ack(
                V5,
                QoS::AtLeastOnce,
                PubAckReasonCode::QuotaExceeded,
                Some("big"),
            )],
        ),
        (
            "MQTT 3.1.1 failure closes",
            V311,
            qos1,
            Err(failed("api")),
            vec![Effect::Close(1008)],
        ),
        (
            "MQTT 3.1.1 success",
            V311,
            qos1,
            Ok(()),
            vec![ack(V311, QoS::AtLeastOnce, PubAckReasonCode::Success, None)],
        ),
    ];
    let config = Config::default();
    let fake = Fake::allowing();
    for (name, version, ack, outcome, expected) in cases {
        let mut state = State::new(session(version));
        let fx = on_published(&mut state, &ctx(&fake, &config), ack, outcome);
        assert_eq!(fx, expected, "{name}");
        assert!(state.session.qos2.is_empty(), "{name}");
    }
}

#[test]
fn a_qos2_message_is_remembered_from_its_admission_and_forgotten_when_refused() {
    let config = Config::default();
    let fake = Fake::allowing();
    let mut state = State::new(session(V5));
    let ctx = ctx(&fake, &config);
    let mut fx = Effects::new();
    let mut p = Publish::new("a", b"x".as_slice());
    (p.qos, p.packet_id) = (QoS::ExactlyOnce, Some(id(7)));
    super::super::publish::publish(&mut state, &ctx, &mut fx, p);
    assert!(matches!(fx[..], [Effect::Publish { .. }]), "{fx:?}");
    // Remembered while its outcome waits (a re-sent copy is not published twice).
    assert_eq!(state.session.qos2, [id(7)]);
    let qos2 = Ack::Publish {
        qos: QoS::ExactlyOnce,
        id: id(7),
    };
    let fx = on_published(&mut state, &ctx, qos2, Ok(()));
    assert_eq!(
        fx,
        [ack(V5, QoS::ExactlyOnce, PubAckReasonCode::Success, None)]
    );
    assert_eq!(state.session.qos2, [id(7)]);
    // A refused one is forgotten.
    let refused = Err(NotPublished::NotStored("kv".into()));
    on_published(&mut state, &ctx, qos2, refused);
    assert!(state.session.qos2.is_empty());
}

#[test]
fn the_qos2_exchange_answers_duplicates_and_pubrels() {
    let mut awaiting = session(V5);
    awaiting.qos2 = vec![id(7)];
    let mut full = session(V5);
    full.qos2 = (100..164).map(id).collect();
    let mut unknown = PubComp::new(id(7));
    unknown.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
    unknown.properties.reason_string =
        Some("no QoS 2 publication with packet identifier 7 awaits PUBREL".into());
    check_table(vec![
        (
            "a re-sent QoS 2 PUBLISH gets PUBREC again and is not published",
            awaiting.clone(),
            Packet::Publish(publish("a", QoS::ExactlyOnce)),
            Fake::allowing(),
            vec![send(V5, Packet::PubRec(PubRec::new(id(7))))],
        ),
        (
            "beyond the Receive Maximum",
            full,
            Packet::Publish(publish("a", QoS::ExactlyOnce)),
            Fake::allowing(),
            vec![
                disconnect(
                    DisconnectReasonCode::ReceiveMaximumExceeded,
                    "more than 64 QoS 2 publications await PUBREL (Receive Maximum)",
                ),
                Effect::Close(1008),
            ],
        ),
        (
            "PUBREL of a remembered identifier",
            awaiting.clone(),
            Packet::PubRel(PubRel::new(id(7))),
            Fake::allowing(),
            vec![send(V5, Packet::PubComp(PubComp::new(id(7))))],
        ),
        (
            "PUBREL of an unknown identifier, MQTT 5",
            session(V5),
            Packet::PubRel(PubRel::new(id(7))),
            Fake::allowing(),
            vec![send(V5, Packet::PubComp(unknown))],
        ),
        (
            "PUBREL of an unknown identifier, MQTT 3.1.1",
            session(V311),
            Packet::PubRel(PubRel::new(id(7))),
            Fake::allowing(),
            vec![send(V311, Packet::PubComp(PubComp::new(id(7))))],
        ),
    ]);
    let (_, state) = step(
        awaiting,
        &Packet::PubRel(PubRel::new(id(7))),
        &Fake::allowing(),
    );
    assert!(state.session.qos2.is_empty());
}
