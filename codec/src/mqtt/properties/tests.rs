//! Tests of the property table, its contexts and its wire encodings.

use super::*;
use crate::mqtt::primitives::VAR_INT_MAX;
use crate::mqtt::test_util::hex;
use crate::mqtt::EncodeError;
use PropertyId as P;

fn decode_in(bytes: &str, context: &PropertyContext) -> Result<Properties, DecodeError> {
    let bytes = hex(bytes);
    let mut r = Reader::new(&bytes);
    let props = Properties::decode(&mut r, context)?;
    assert!(
        r.is_empty(),
        "property section length disagrees with its content"
    );
    Ok(props)
}

fn encode_in(props: &Properties, context: &PropertyContext) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    props.encode(&mut out, context)?;
    assert_eq!(out.len(), props.wire_len());
    Ok(out)
}

#[test]
fn every_property_round_trips_in_a_context_that_allows_it() {
    let everything: Properties = PropertyValues {
        payload_format_indicator: Some(PayloadFormat::Utf8),
        message_expiry_interval: Some(60),
        content_type: Some("text/plain".into()),
        response_topic: Some("replies/1".into()),
        correlation_data: Some(vec![1, 2, 3]),
        subscription_identifiers: vec![1, 268_435_455],
        session_expiry_interval: Some(u32::MAX),
        assigned_client_identifier: Some("auto-1".into()),
        server_keep_alive: Some(30),
        authentication_method: Some("SCRAM-SHA-1".into()),
        authentication_data: Some(vec![9]),
        request_problem_information: Some(false),
        will_delay_interval: Some(5),
        request_response_information: Some(true),
        response_information: Some("resp".into()),
        server_reference: Some("other:1883".into()),
        reason_string: Some("because".into()),
        receive_maximum: NonZeroU16::new(10),
        topic_alias_maximum: Some(0),
        topic_alias: NonZeroU16::new(3),
        maximum_qos: Some(QoS::AtLeastOnce),
        retain_available: Some(false),
        user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        maximum_packet_size: NonZeroU32::new(32_768),
        wildcard_subscription_available: Some(true),
        subscription_identifiers_available: Some(false),
        shared_subscription_available: Some(true),
    }
    .into();
    let all = PropertyContext {
        name: "test",
        allowed: u64::MAX,
        repeatable: u64::MAX,
    };
    let bytes = encode_in(&everything, &all).unwrap();
    let mut r = Reader::new(&bytes);
    assert_eq!(Properties::decode(&mut r, &all).unwrap(), everything);
}

#[test]
fn properties_are_written_in_identifier_order_with_user_properties_kept_in_order() {
    let props = PropertyValues {
        topic_alias: NonZeroU16::new(1),
        content_type: Some("a".into()),
        user_properties: vec![("z".into(), "1".into()), ("a".into(), "2".into())],
        ..PropertyValues::default()
    }
    .into();
    let bytes = encode_in(&props, &PUBLISH).unwrap();
    assert_eq!(
        bytes,
        hex("15 03 0001 61 23 0001 26 0001 7a 0001 31 26 0001 61 0001 32")
    );
}

#[test]
fn empty_properties_encode_as_a_single_zero() {
    assert_eq!(encode_in(&Properties::default(), &CONNECT).unwrap(), [0]);
    assert!(Properties::default().is_empty());
}

#[test]
fn decoding_rejects_bad_property_sections() {
    use DecodeError as E;
    let cases: Vec<(&str, &PropertyContext, DecodeError)> = vec![
        (
            "02 2300",
            &PUBLISH,
            E::UnexpectedEnd {
                field: "Topic Alias",
            },
        ),
        (
            "05 0b01",
            &PUBLISH,
            E::UnexpectedEnd {
                field: "properties",
            },
        ),
        ("01 7f", &PUBLISH, E::UnknownProperty { id: 0x7f }),
        ("02 8001", &PUBLISH, E::UnknownProperty { id: 0x80 }),
        ("02 8000", &PUBLISH, E::NonMinimalVarInt),
        (
            "03 2300 01",
            &CONNACK,
            E::PropertyNotAllowed {
                id: P::TopicAlias,
                context: "CONNACK",
            },
        ),
        (
            "05 1800 0000 05",
            &CONNECT,
            E::PropertyNotAllowed {
                id: P::WillDelayInterval,
                context: "CONNECT",
            },
        ),
        (
            "02 0b01",
            &UNSUBSCRIBE,
            E::PropertyNotAllowed {
                id: P::SubscriptionIdentifier,
                context: "UNSUBSCRIBE",
            },
        ),
        (
            "06 2300 01 2300 02",
            &PUBLISH,
            E::DuplicateProperty { id: P::TopicAlias },
        ),
        (
            "08 1f0001 61 1f0001 62",
            &SUBACK,
            E::DuplicateProperty {
                id: P::ReasonString,
            },
        ),
        (
            "04 0b01 0b02",
            &SUBSCRIBE,
            E::DuplicateProperty {
                id: P::SubscriptionIdentifier,
            },
        ),
        (
            "02 0b00",
            &SUBSCRIBE,
            E::InvalidPropertyValue {
                id: P::SubscriptionIdentifier,
                value: 0,
            },
        ),
        (
            "03 2100 00",
            &CONNECT,
            E::InvalidPropertyValue {
                id: P::ReceiveMaximum,
                value: 0,
            },
        ),
        (
            "05 2700 0000 00",
            &CONNECT,
            E::InvalidPropertyValue {
                id: P::MaximumPacketSize,
                value: 0,
            },
        ),
        (
            "03 2300 00",
            &PUBLISH,
            E::InvalidPropertyValue {
                id: P::TopicAlias,
                value: 0,
            },
        ),
        (
            "02 2402",
            &CONNACK,
            E::InvalidPropertyValue {
                id: P::MaximumQos,
                value: 2,
            },
        ),
        (
            "02 1702",
            &CONNECT,
            E::InvalidPropertyValue {
                id: P::RequestProblemInformation,
                value: 2,
            },
        ),
        (
            "02 0102",
            &PUBLISH,
            E::InvalidPropertyValue {
                id: P::PayloadFormatIndicator,
                value: 2,
            },
        ),
        ("04 1600 0101", &CONNECT, E::AuthenticationMethodMissing),
        ("04 0800 0123", &PUBLISH, E::WildcardInResponseTopic),
        (
            "04 0300 01ff",
            &PUBLISH,
            E::InvalidUtf8 {
                field: "Content Type",
            },
        ),
        (
            "07 2600 0161 0001 00",
            &PUBLISH,
            E::NullCharacter {
                field: "User Property",
            },
        ),
    ];
    for (bytes, context, err) in cases {
        assert_eq!(
            decode_in(bytes, context),
            Err(err),
            "{bytes} in {}",
            context.name
        );
    }
}

#[test]
fn publish_may_repeat_subscription_identifiers() {
    let props = decode_in("04 0b01 0b7f", &PUBLISH).unwrap();
    assert_eq!(props.subscription_identifiers, [1, 127]);
}

#[test]
fn user_properties_may_repeat_and_keep_their_order() {
    let props = decode_in("0e 26 0001 61 0001 31 26 0001 61 0001 32", &DISCONNECT).unwrap();
    assert_eq!(
        props.user_properties,
        [
            ("a".to_owned(), "1".to_owned()),
            ("a".to_owned(), "2".to_owned())
        ]
    );
}

#[test]
fn encoding_refuses_properties_the_peer_would_reject() {
    let cases = [
        (
            PropertyValues {
                topic_alias: NonZeroU16::new(1),
                ..PropertyValues::default()
            }
            .into(),
            &CONNACK,
            EncodeError::PropertyNotAllowed {
                id: P::TopicAlias,
                context: "CONNACK",
            },
        ),
        (
            PropertyValues {
                subscription_identifiers: vec![0],
                ..PropertyValues::default()
            }
            .into(),
            &PUBLISH,
            EncodeError::InvalidPropertyValue {
                id: P::SubscriptionIdentifier,
            },
        ),
        (
            PropertyValues {
                subscription_identifiers: vec![VAR_INT_MAX + 1],
                ..PropertyValues::default()
            }
            .into(),
            &PUBLISH,
            EncodeError::InvalidPropertyValue {
                id: P::SubscriptionIdentifier,
            },
        ),
        (
            PropertyValues {
                subscription_identifiers: vec![1, 2],
                ..PropertyValues::default()
            }
            .into(),
            &SUBSCRIBE,
            EncodeError::InvalidPropertyValue {
                id: P::SubscriptionIdentifier,
            },
        ),
        (
            PropertyValues {
                maximum_qos: Some(QoS::ExactlyOnce),
                ..PropertyValues::default()
            }
            .into(),
            &CONNACK,
            EncodeError::InvalidPropertyValue { id: P::MaximumQos },
        ),
        (
            PropertyValues {
                reason_string: Some("a\0".into()),
                ..PropertyValues::default()
            }
            .into(),
            &SUBACK,
            EncodeError::NullCharacter {
                field: "Reason String",
            },
        ),
    ];
    for (props, context, err) in cases {
        assert_eq!(encode_in(&props, context), Err(err));
    }
}

#[test]
fn property_ids_map_to_and_from_the_wire() {
    for id in PropertyId::ALL {
        assert_eq!(PropertyId::from_id(u32::from(id as u8)), Some(id));
    }
    assert_eq!(PropertyId::from_id(0x04), None);
    assert_eq!(PropertyId::from_id(0x126), None);
    assert_eq!(P::ReasonString.to_string(), "Reason String (0x1f)");
}
