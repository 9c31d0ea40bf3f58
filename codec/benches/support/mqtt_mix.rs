//! The MQTT 5 packets the codec benchmark decodes and encodes: what a broker's connection
//! sees over its life, in proportion. No DISCONNECT: rumqttc 0.24 cannot read a bare one
//! (remaining length 0, `PayloadRequired`) and writes one with a reason code with a wrong
//! remaining length (`e0 01 04 00`). Built with rumqttc's types and encoded by rumqttc,
//! so both codecs work on the same bytes, produced by a codec other than ours.
//! Shared by `benches/codec.rs` and `tests/codec_vs_rumqttc.rs`.

use bytes::BytesMut;
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnAckProperties, Connect, ConnectProperties, ConnectReturnCode, Filter, LastWill,
    Login, Packet, PingReq, PingResp, PubAck, Publish, PublishProperties, SubAck, Subscribe,
    SubscribeReasonCode, Unsubscribe,
};
use rumqttc::v5::mqttbytes::QoS;

/// A JWT-sized password, as clients of this broker send their token.
const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImRldiIsInR5cCI6IkpXVCJ9.eyJ4LWZhc3RseS1yZWFkIjpbInNlbnNvcnMvIyJdLCJ4LWZhc3RseS13cml0ZSI6WyJzZW5zb3JzL3Jvb20tMTIvdGVtcGVyYXR1cmUiXSwiZXhwIjoxNzk1ODE1OTYxfQ.Zm9yLXRoZS1iZW5jaG1hcmstb25seS1ub3QtYS1yZWFsLXNpZ25hdHVyZQ";

/// The packets of the mix, each with how many times it occurs in it.
pub(crate) fn packets() -> Vec<(&'static str, usize, Packet)> {
    vec![
        (
            "PUBLISH QoS 0, 100 B",
            40,
            publish(QoS::AtMostOnce, 0, 100, None),
        ),
        (
            "PUBLISH QoS 1, 1 KB, properties",
            15,
            publish(QoS::AtLeastOnce, 7, 1024, Some(props())),
        ),
        (
            "PUBLISH QoS 1, 16 KB",
            3,
            publish(QoS::AtLeastOnce, 8, 16 * 1024, None),
        ),
        ("PUBACK", 18, Packet::PubAck(PubAck::new(7, None))),
        ("PINGREQ", 10, Packet::PingReq(PingReq)),
        ("PINGRESP", 4, Packet::PingResp(PingResp)),
        ("SUBSCRIBE, 3 filters", 3, subscribe()),
        ("SUBACK, 3 codes", 2, suback()),
        ("CONNECT, token, will, properties", 2, connect()),
        ("CONNACK, properties", 1, connack()),
        ("UNSUBSCRIBE, 2 filters", 1, unsubscribe()),
    ]
}

/// One packet in rumqttc's encoding.
pub(crate) fn encode(packet: &Packet) -> Vec<u8> {
    let mut out = BytesMut::new();
    packet.write(&mut out).expect("rumqttc encodes the mix");
    out.to_vec()
}

/// The whole mix as one byte stream, each packet as often as its weight, interleaved
/// (round robin over the packet kinds), as it would arrive on a connection.
pub(crate) fn stream() -> Vec<u8> {
    let mix: Vec<(usize, Vec<u8>)> = packets()
        .iter()
        .map(|(_, weight, packet)| (*weight, encode(packet)))
        .collect();
    let rounds = mix.iter().map(|(w, _)| *w).max().unwrap_or(0);
    let mut out = Vec::new();
    for round in 0..rounds {
        for (weight, bytes) in &mix {
            if round < *weight {
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

fn publish(qos: QoS, pkid: u16, len: usize, properties: Option<PublishProperties>) -> Packet {
    let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
    let mut p = Publish::new("sensors/room-12/temperature", qos, payload, properties);
    p.pkid = pkid;
    Packet::Publish(p)
}

fn props() -> PublishProperties {
    PublishProperties {
        payload_format_indicator: Some(1),
        message_expiry_interval: Some(3600),
        content_type: Some("application/json".into()),
        user_properties: vec![("source".into(), "gateway-4".into())],
        ..PublishProperties::default()
    }
}

fn subscribe() -> Packet {
    let filters = ["sensors/room-12/#", "alerts/+", "config/room-12"]
        .map(|f| Filter::new(f, QoS::AtLeastOnce));
    let mut s = Subscribe::new_many(filters, None);
    s.pkid = 3;
    Packet::Subscribe(s)
}

fn suback() -> Packet {
    Packet::SubAck(SubAck {
        pkid: 3,
        return_codes: vec![SubscribeReasonCode::Success(QoS::AtLeastOnce); 3],
        properties: None,
    })
}

fn connect() -> Packet {
    let mut properties = ConnectProperties::new();
    properties.session_expiry_interval = Some(300);
    properties.receive_maximum = Some(64);
    properties.max_packet_size = Some(32_768);
    let connect = Connect {
        keep_alive: 60,
        client_id: "gateway-4-7f3a9c".into(),
        clean_start: true,
        properties: Some(properties),
    };
    let will = LastWill::new(
        "status/gateway-4",
        b"offline".to_vec(),
        QoS::AtLeastOnce,
        true,
        None,
    );
    Packet::Connect(connect, Some(will), Some(Login::new("gateway-4", TOKEN)))
}

fn connack() -> Packet {
    Packet::ConnAck(ConnAck {
        session_present: false,
        code: ConnectReturnCode::Success,
        properties: Some(ConnAckProperties {
            session_expiry_interval: None,
            receive_max: Some(64),
            max_qos: None,
            retain_available: None,
            max_packet_size: Some(32_768),
            assigned_client_identifier: None,
            topic_alias_max: Some(0),
            reason_string: None,
            user_properties: Vec::new(),
            wildcard_subscription_available: None,
            subscription_identifiers_available: None,
            shared_subscription_available: None,
            server_keep_alive: Some(300),
            response_information: None,
            server_reference: None,
            authentication_method: None,
            authentication_data: None,
        }),
    })
}

fn unsubscribe() -> Packet {
    Packet::Unsubscribe(Unsubscribe {
        pkid: 4,
        filters: vec!["alerts/+".into(), "config/room-12".into()],
        properties: None,
    })
}
