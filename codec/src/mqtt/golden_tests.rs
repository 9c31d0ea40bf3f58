//! Golden tests against real client traffic: bytes captured from MQTT.js
//! 5.16.0 (npm `mqtt`) connecting with `mqtt://` to a recording TCP server,
//! once with the default protocol level (4) and once with
//! `protocolVersion: 5`. Packet identifiers are whatever the client picked.

use std::num::{NonZeroU16, NonZeroU32};

use super::test_util::{assert_round_trip, hex};
use super::*;

const V311: ProtocolVersion = ProtocolVersion::V311;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn id(n: u16) -> Option<NonZeroU16> {
    NonZeroU16::new(n)
}

/// `mqtt.connect(url, { clientId: 'mqttjs_test', keepalive: 60 })`.
const MQTTJS_CONNECT_V311: &str = "101700044d5154540402003c000b6d7174746a735f74657374";

/// The same with `protocolVersion: 5, properties: { sessionExpiryInterval:
/// 300, receiveMaximum: 10 }`.
const MQTTJS_CONNECT_V5: &str =
    "102000044d5154540502003c08110000012c21000a000b6d7174746a735f74657374";

/// Adds `clean: false`, user name `alice`, password `s3cret` and a retained
/// QoS 1 will `offline` on `status/mqttjs_test`.
const MQTTJS_CONNECT_WILL_V311: &str = "104300044d51545404ec003c000b6d7174746a735f74657374\
     00127374617475732f6d7174746a735f74657374\
     00076f66666c696e65\
     0005616c696365\
     0006733363726574";

/// The same at level 5, with `will.properties: { willDelayInterval: 5 }`.
const MQTTJS_CONNECT_WILL_V5: &str =
    "105200044d51545405ec003c08110000012c21000a000b6d7174746a735f74657374\
     051800000005\
     00127374617475732f6d7174746a735f74657374\
     00076f66666c696e65\
     0005616c696365\
     0006733363726574";

fn mqttjs_connect(protocol: ProtocolVersion) -> Connect {
    let mut connect = Connect {
        keep_alive: 60,
        ..Connect::new(protocol, "mqttjs_test")
    };
    if protocol == V5 {
        connect.properties.session_expiry_interval = Some(300);
        connect.properties.receive_maximum = NonZeroU16::new(10);
    }
    connect
}

fn with_will_and_credentials(mut connect: Connect) -> Connect {
    connect.clean_start = false;
    connect.will = Some(Will {
        topic: "status/mqttjs_test".into(),
        payload: b"offline".to_vec(),
        qos: QoS::AtLeastOnce,
        retain: true,
        properties: PropertyValues {
            will_delay_interval: (connect.protocol == V5).then_some(5),
            ..PropertyValues::default()
        }
        .into(),
    });
    connect.username = Some("alice".into());
    connect.password = Some(b"s3cret".to_vec());
    connect
}

#[test]
fn mqttjs_v311_connect_round_trips_byte_for_byte() {
    let connect = mqttjs_connect(V311);
    assert_eq!(decode_connect(&hex(MQTTJS_CONNECT_V311)).unwrap(), connect);
    assert_round_trip(
        &Packet::Connect(Box::new(connect)),
        V311,
        &hex(MQTTJS_CONNECT_V311),
    );
}

#[test]
fn mqttjs_v5_connect_round_trips_byte_for_byte() {
    let connect = mqttjs_connect(V5);
    assert_eq!(decode_connect(&hex(MQTTJS_CONNECT_V5)).unwrap(), connect);
    assert_round_trip(
        &Packet::Connect(Box::new(connect)),
        V5,
        &hex(MQTTJS_CONNECT_V5),
    );
}

#[test]
fn mqttjs_connect_with_will_and_credentials_round_trips_in_both_versions() {
    for (protocol, bytes) in [
        (V311, MQTTJS_CONNECT_WILL_V311),
        (V5, MQTTJS_CONNECT_WILL_V5),
    ] {
        let connect = with_will_and_credentials(mqttjs_connect(protocol));
        assert_eq!(decode_connect(&hex(bytes)).unwrap(), connect, "{protocol}");
        assert_round_trip(&Packet::Connect(Box::new(connect)), protocol, &hex(bytes));
    }
}

#[test]
fn mqttjs_subscribe_round_trips_in_both_versions() {
    let cases = [
        (V311, 0x16b3, "821316b3000e73656e736f72732f2b2f74656d7001"),
        (V5, 0xbcf9, "8214bcf900000e73656e736f72732f2b2f74656d7001"),
    ];
    for (version, packet_id, bytes) in cases {
        let subscribe = Subscribe {
            packet_id: NonZeroU16::new(packet_id).unwrap(),
            subscriptions: vec![Subscription {
                filter: "sensors/+/temp".into(),
                options: SubscriptionOptions::qos(QoS::AtLeastOnce),
            }],
            properties: Properties::default(),
        };
        assert_round_trip(&Packet::Subscribe(subscribe), version, &hex(bytes));
    }
}

#[test]
fn mqttjs_v311_publishes_arrive_coalesced_and_split_by_frame_len() {
    // A QoS 1 "hello" then a retained QoS 0 "21.5", read in one TCP segment.
    let stream = hex("3217000e73656e736f72732f612f74656d7091b568656c6c6f\
         3114000e73656e736f72732f612f74656d7032312e35");
    let first = frame_len(&stream, 32_768).unwrap().unwrap();
    assert_eq!(first, 25);
    let second = frame_len(&stream[first..], 32_768).unwrap().unwrap();
    assert_eq!(first + second, stream.len());

    let hello = Publish {
        qos: QoS::AtLeastOnce,
        packet_id: id(0x91b5),
        ..Publish::new("sensors/a/temp", b"hello".to_vec())
    };
    assert_round_trip(&Packet::Publish(hello), V311, &stream[..first]);
    let retained = Publish {
        retain: true,
        ..Publish::new("sensors/a/temp", b"21.5".to_vec())
    };
    assert_round_trip(&Packet::Publish(retained), V311, &stream[first..]);
}

#[test]
fn mqttjs_v5_retained_qos0_publish_has_an_empty_property_section() {
    let retained = Publish {
        retain: true,
        ..Publish::new("sensors/a/temp", b"21.5".to_vec())
    };
    assert_round_trip(
        &Packet::Publish(retained),
        V5,
        &hex("3115000e73656e736f72732f612f74656d700032312e35"),
    );
}

#[test]
fn mqttjs_v5_publish_with_properties_decodes_and_re_encodes_in_canonical_order() {
    // MQTT.js writes the User Property (0x26) before the Content Type (0x03);
    // properties may come in any order, and this encoder writes them sorted.
    let captured = hex("322f000e73656e736f72732f612f74656d70 bcfa \
         17 260004756e69740001 43 03000a746578742f706c61696e \
         68656c6c6f");
    let publish = Publish {
        qos: QoS::AtLeastOnce,
        packet_id: id(0xbcfa),
        properties: PropertyValues {
            user_properties: vec![("unit".into(), "C".into())],
            content_type: Some("text/plain".into()),
            ..PropertyValues::default()
        }
        .into(),
        ..Publish::new("sensors/a/temp", b"hello".to_vec())
    };
    assert_eq!(
        decode(&captured, V5).unwrap(),
        Packet::Publish(publish.clone())
    );
    let canonical = hex("322f000e73656e736f72732f612f74656d70 bcfa \
         17 03000a746578742f706c61696e 260004756e69740001 43 \
         68656c6c6f");
    assert_round_trip(&Packet::Publish(publish), V5, &canonical);
}

#[test]
fn mqttjs_unsubscribe_round_trips_in_both_versions() {
    let cases = [
        (V311, 0x16b5, "a21216b5000e73656e736f72732f2b2f74656d70"),
        (V5, 0xbcfb, "a213bcfb00000e73656e736f72732f2b2f74656d70"),
    ];
    for (version, packet_id, bytes) in cases {
        let unsubscribe = Unsubscribe {
            packet_id: NonZeroU16::new(packet_id).unwrap(),
            filters: vec!["sensors/+/temp".into()],
            properties: Properties::default(),
        };
        assert_round_trip(&Packet::Unsubscribe(unsubscribe), version, &hex(bytes));
    }
}

#[test]
fn mqttjs_disconnects_are_normal_disconnections() {
    let normal = Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection));
    assert_eq!(decode(&hex("e000"), V311).unwrap(), normal);
    assert_eq!(decode(&hex("e0020000"), V5).unwrap(), normal);
}

#[test]
fn the_server_side_of_a_v5_session_encodes_as_expected() {
    let connack = ConnAck {
        properties: PropertyValues {
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(true),
            maximum_packet_size: NonZeroU32::new(32_768),
            shared_subscription_available: Some(false),
            ..PropertyValues::default()
        }
        .into(),
        ..ConnAck::new(ConnectReasonCode::Success)
    };
    assert_round_trip(
        &Packet::ConnAck(connack),
        V5,
        &hex("200e 0000 0b 2401 2501 2700008000 2a00"),
    );
    let suback = SubAck::new(
        NonZeroU16::new(0xbcf9).unwrap(),
        vec![SubAckReasonCode::GrantedQoS1],
    );
    assert_round_trip(&Packet::SubAck(suback), V5, &hex("9004 bcf9 00 01"));
    let puback = PubAck::new(NonZeroU16::new(0xbcfa).unwrap());
    assert_round_trip(&Packet::PubAck(puback), V5, &hex("4002 bcfa"));
}
