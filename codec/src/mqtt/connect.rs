//! CONNECT (spec §3.1): the first packet of every connection, and the one
//! that tells the server which protocol level the client speaks.

use super::frame::{encode_frame, frame_size, open_frame};
use super::primitives::{prefixed_len, put_binary, put_string, put_u16, Reader};
use super::properties::{self, Properties};
use super::{topic, DecodeError, EncodeError, PacketType, ProtocolVersion, QoS};

const PROTOCOL_NAME: &str = "MQTT";

const FLAG_RESERVED: u8 = 0x01;
const FLAG_CLEAN_START: u8 = 0x02;
const FLAG_WILL: u8 = 0x04;
const WILL_QOS_SHIFT: u8 = 3;
const FLAG_WILL_RETAIN: u8 = 0x20;
const FLAG_PASSWORD: u8 = 0x40;
const FLAG_USERNAME: u8 = 0x80;

/// A CONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Protocol level the client speaks; every later packet uses it.
    pub protocol: ProtocolVersion,
    /// Clean Start (5.0) / Clean Session (3.1.1).
    pub clean_start: bool,
    /// Keep alive in seconds; 0 disables it.
    pub keep_alive: u16,
    /// Client identifier; may be empty (the server then assigns one).
    pub client_id: String,
    /// The will message, if the Will Flag was set.
    pub will: Option<Will>,
    /// User name.
    pub username: Option<String>,
    /// Password (binary data).
    pub password: Option<Vec<u8>>,
    /// CONNECT properties (5.0 only; empty for 3.1.1).
    pub properties: Properties,
}

/// The will message carried in CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Will {
    /// Topic the will is published to; a valid topic name.
    pub topic: String,
    /// Will payload.
    pub payload: Vec<u8>,
    /// QoS of the will publication.
    pub qos: QoS,
    /// Whether the will is retained.
    pub retain: bool,
    /// Will properties (5.0 only): delay interval, payload format, message
    /// expiry, content type, response topic, correlation data, user properties.
    pub properties: Properties,
}

impl Connect {
    /// A clean-start CONNECT with no will or credentials.
    pub fn new(protocol: ProtocolVersion, client_id: impl Into<String>) -> Self {
        Self {
            protocol,
            clean_start: true,
            keep_alive: 0,
            client_id: client_id.into(),
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }

    /// Decodes one complete CONNECT frame, whatever its protocol level.
    pub fn decode(packet: &[u8]) -> Result<Self, DecodeError> {
        // The version only matters for type 15, which is not CONNECT anyway.
        let (_, body) = open_frame(packet, PacketType::Connect, ProtocolVersion::V5)?;
        Self::decode_body(body)
    }

    /// Decodes the body field by field, in wire order, so the first bad
    /// field is the one reported.
    pub(crate) fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let protocol = decode_protocol(&mut r)?;
        let flags = Flags::decode(r.u8("connect flags")?, protocol)?;
        let keep_alive = r.u16("keep alive")?;
        let properties = Properties::decode_if_v5(&mut r, protocol, &properties::CONNECT)?;
        let client_id = r.string("client identifier")?.to_owned();
        let will = match flags.will {
            Some((qos, retain)) => Some(Will::decode(&mut r, protocol, qos, retain)?),
            None => None,
        };
        let username = match flags.username {
            true => Some(r.string("user name")?.to_owned()),
            false => None,
        };
        let password = match flags.password {
            true => Some(r.binary("password")?.to_vec()),
            false => None,
        };
        r.finish(PacketType::Connect)?;

        // MQTT 5 lets the server assign an identifier even for a resumed
        // session; 3.1.1 requires a clean session for that.
        if protocol == ProtocolVersion::V311 && client_id.is_empty() && !flags.clean_start {
            return Err(DecodeError::ClientIdRejected);
        }

        Ok(Self {
            protocol,
            clean_start: flags.clean_start,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    fn body_len(&self) -> usize {
        let mut len = prefixed_len(PROTOCOL_NAME.as_bytes()) + 1 + 1 + 2;
        len += self.properties.wire_len_if_v5(self.protocol);
        len += prefixed_len(self.client_id.as_bytes());
        if let Some(will) = &self.will {
            len += will.properties.wire_len_if_v5(self.protocol);
            len += prefixed_len(will.topic.as_bytes()) + prefixed_len(&will.payload);
        }
        if let Some(username) = &self.username {
            len += prefixed_len(username.as_bytes());
        }
        if let Some(password) = &self.password {
            len += prefixed_len(password);
        }
        len
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self) -> usize {
        frame_size(self.body_len())
    }

    /// Appends the packet at its own `protocol` level. 3.1.1 has no
    /// properties, so they are left out there.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let protocol = self.protocol;
        if protocol == ProtocolVersion::V311 && self.password.is_some() && self.username.is_none() {
            return Err(EncodeError::PasswordWithoutUsername);
        }
        let flags = Flags::of(self).encode();
        encode_frame(
            out,
            PacketType::Connect.first_byte(),
            self.body_len(),
            |out| {
                put_string(out, PROTOCOL_NAME, "protocol name")?;
                out.push(protocol.level());
                out.push(flags);
                put_u16(out, self.keep_alive);
                self.properties
                    .encode_if_v5(out, protocol, &properties::CONNECT)?;
                put_string(out, &self.client_id, "client identifier")?;
                if let Some(will) = &self.will {
                    will.encode(out, protocol)?;
                }
                if let Some(username) = &self.username {
                    put_string(out, username, "user name")?;
                }
                if let Some(password) = &self.password {
                    put_binary(out, password, "password")?;
                }
                Ok(())
            },
        )
    }
}

impl Will {
    /// Reads the will fields that follow the client identifier when the Will
    /// Flag is set; QoS and retain come from the CONNECT flags.
    fn decode(
        r: &mut Reader<'_>,
        protocol: ProtocolVersion,
        qos: QoS,
        retain: bool,
    ) -> Result<Self, DecodeError> {
        let properties = Properties::decode_if_v5(r, protocol, &properties::WILL)?;
        let topic = r.string("will topic")?;
        check_topic_name(topic)?;
        Ok(Self {
            topic: topic.to_owned(),
            payload: r.binary("will payload")?.to_vec(),
            qos,
            retain,
            properties,
        })
    }

    fn encode(&self, out: &mut Vec<u8>, protocol: ProtocolVersion) -> Result<(), EncodeError> {
        self.properties
            .encode_if_v5(out, protocol, &properties::WILL)?;
        put_string(out, &self.topic, "will topic")?;
        put_binary(out, &self.payload, "will payload")
    }
}

/// Reads the protocol name and level, accepting only MQTT 3.1.1 and 5.0.
fn decode_protocol(r: &mut Reader<'_>) -> Result<ProtocolVersion, DecodeError> {
    let name = r.string("protocol name")?;
    let level = r.u8("protocol level")?;
    match (name, level) {
        (PROTOCOL_NAME, 4) => Ok(ProtocolVersion::V311),
        (PROTOCOL_NAME, 5) => Ok(ProtocolVersion::V5),
        _ => Err(DecodeError::UnsupportedProtocol {
            name: name.to_owned(),
            level,
        }),
    }
}

/// The Connect Flags byte (spec §3.1.2.3): which optional fields follow.
struct Flags {
    clean_start: bool,
    /// The will's QoS and retain flag, when the Will Flag is set.
    will: Option<(QoS, bool)>,
    username: bool,
    password: bool,
}

impl Flags {
    /// Checks the byte's rules [MQTT-3.1.2-3] [MQTT-3.1.2-11] [MQTT-3.1.2-12]
    /// [MQTT-3.1.2-13], and for 3.1.1 [MQTT-3.1.2-22] (3.1.1).
    fn decode(flags: u8, protocol: ProtocolVersion) -> Result<Self, DecodeError> {
        if flags & FLAG_RESERVED != 0 {
            return Err(DecodeError::ConnectReservedFlag);
        }
        let has_will = flags & FLAG_WILL != 0;
        let will_qos = (flags >> WILL_QOS_SHIFT) & 0x03;
        let will_retain = flags & FLAG_WILL_RETAIN != 0;
        if !has_will && (will_qos != 0 || will_retain) {
            return Err(DecodeError::WillFlagsWithoutWill);
        }
        let will_qos = QoS::try_from(will_qos).map_err(|_| DecodeError::InvalidWillQos)?;
        let username = flags & FLAG_USERNAME != 0;
        let password = flags & FLAG_PASSWORD != 0;
        if protocol == ProtocolVersion::V311 && password && !username {
            return Err(DecodeError::PasswordWithoutUsername);
        }
        Ok(Self {
            clean_start: flags & FLAG_CLEAN_START != 0,
            will: has_will.then_some((will_qos, will_retain)),
            username,
            password,
        })
    }

    /// The flags describing `connect`'s optional fields.
    fn of(connect: &Connect) -> Self {
        Self {
            clean_start: connect.clean_start,
            will: connect.will.as_ref().map(|will| (will.qos, will.retain)),
            username: connect.username.is_some(),
            password: connect.password.is_some(),
        }
    }

    fn encode(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= FLAG_CLEAN_START;
        }
        if let Some((qos, retain)) = self.will {
            flags |= FLAG_WILL | ((qos as u8) << WILL_QOS_SHIFT);
            if retain {
                flags |= FLAG_WILL_RETAIN;
            }
        }
        if self.username {
            flags |= FLAG_USERNAME;
        }
        if self.password {
            flags |= FLAG_PASSWORD;
        }
        flags
    }
}

/// A will topic is published like a PUBLISH topic name, so the same rules
/// apply [MQTT-3.3.2-2] [MQTT-4.7.3-1].
fn check_topic_name(topic: &str) -> Result<(), DecodeError> {
    if topic.is_empty() {
        return Err(DecodeError::EmptyTopicName);
    }
    if topic::has_wildcard(topic) {
        return Err(DecodeError::WildcardInTopicName {
            topic: topic.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU16, NonZeroU32};

    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, decode_connect, Packet, PayloadFormat, PropertyValues};

    fn minimal_v311() -> Connect {
        Connect {
            keep_alive: 60,
            ..Connect::new(ProtocolVersion::V311, "c1")
        }
    }

    #[test]
    fn a_minimal_v311_connect_has_this_wire_form() {
        let bytes = hex("100e 0004 4d515454 04 02 003c 0002 6331");
        assert_eq!(decode_connect(&bytes).unwrap(), minimal_v311());
        assert_round_trip(
            &Packet::Connect(Box::new(minimal_v311())),
            ProtocolVersion::V311,
            &bytes,
        );
    }

    #[test]
    fn a_minimal_v5_connect_has_an_empty_property_section() {
        let connect = Connect {
            keep_alive: 60,
            ..Connect::new(ProtocolVersion::V5, "c1")
        };
        let bytes = hex("100f 0004 4d515454 05 02 003c 00 0002 6331");
        assert_eq!(decode_connect(&bytes).unwrap(), connect);
        assert_round_trip(
            &Packet::Connect(Box::new(connect)),
            ProtocolVersion::V5,
            &bytes,
        );
    }

    #[test]
    fn a_full_v5_connect_round_trips_every_field() {
        let connect = Connect {
            protocol: ProtocolVersion::V5,
            clean_start: false,
            keep_alive: 30,
            client_id: "dev-1".into(),
            will: Some(Will {
                topic: "status/dev-1".into(),
                payload: b"gone".to_vec(),
                qos: QoS::AtLeastOnce,
                retain: true,
                properties: PropertyValues {
                    will_delay_interval: Some(10),
                    payload_format_indicator: Some(PayloadFormat::Utf8),
                    content_type: Some("text/plain".into()),
                    ..PropertyValues::default()
                }
                .into(),
            }),
            username: Some("alice".into()),
            password: Some(b"pw".to_vec()),
            properties: PropertyValues {
                session_expiry_interval: Some(3600),
                receive_maximum: NonZeroU16::new(20),
                maximum_packet_size: NonZeroU32::new(65_536),
                topic_alias_maximum: Some(5),
                request_response_information: Some(true),
                request_problem_information: Some(false),
                user_properties: vec![("app".into(), "test".into())],
                authentication_method: Some("TOKEN".into()),
                authentication_data: Some(vec![1, 2]),
                ..PropertyValues::default()
            }
            .into(),
        };
        let mut out = Vec::new();
        connect.encode(&mut out).unwrap();
        assert_eq!(out.len(), connect.encoded_len());
        assert_eq!(
            out[9], 0xec,
            "connect flags: user, password, will retain, will QoS 1, will"
        );
        assert_eq!(decode_connect(&out).unwrap(), connect);
        assert_eq!(
            decode(&out, ProtocolVersion::V311).unwrap(),
            Packet::Connect(Box::new(connect))
        );
    }

    #[test]
    fn v311_encoding_leaves_properties_out() {
        let mut connect = minimal_v311();
        connect.properties.session_expiry_interval = Some(1);
        let mut out = Vec::new();
        connect.encode(&mut out).unwrap();
        assert_eq!(out, hex("100e 0004 4d515454 04 02 003c 0002 6331"));
    }

    #[test]
    fn v5_allows_a_password_without_a_user_name_but_v311_does_not() {
        let bytes = hex("1011 0004 4d515454 05 42 0000 00 0000 0002 7077");
        let connect = decode_connect(&bytes).unwrap();
        assert_eq!(connect.password.as_deref(), Some(&b"pw"[..]));
        assert_eq!(connect.username, None);

        let bytes = hex("1010 0004 4d515454 04 42 0000 0000 0002 7077");
        assert_eq!(
            decode_connect(&bytes),
            Err(DecodeError::PasswordWithoutUsername)
        );
        let mut connect = minimal_v311();
        connect.password = Some(b"pw".to_vec());
        assert_eq!(
            connect.encode(&mut Vec::new()),
            Err(EncodeError::PasswordWithoutUsername)
        );
    }

    #[test]
    fn v5_allows_an_empty_client_id_with_clean_start_0_but_v311_rejects_it() {
        let v5 = hex("100d 0004 4d515454 05 00 0000 00 0000");
        assert_eq!(decode_connect(&v5).unwrap().client_id, "");
        let v311 = hex("100c 0004 4d515454 04 00 0000 0000");
        let err = decode_connect(&v311).unwrap_err();
        assert_eq!(err, DecodeError::ClientIdRejected);
        assert_eq!(err.reason_code(), 0x85);
        assert_eq!(err.connack_return_code_v311(), Some(0x02));
        let v311_clean = hex("100c 0004 4d515454 04 02 0000 0000");
        assert_eq!(decode_connect(&v311_clean).unwrap().client_id, "");
    }

    #[test]
    fn unsupported_protocols_map_to_unsupported_protocol_version() {
        let cases = [
            // MQTT 3.1 clients say "MQIsdp" at level 3.
            ("100e 0006 4d5149736470 03 02 003c 0000", "MQIsdp", 3),
            ("100c 0004 4d515454 03 02 003c 0000", "MQTT", 3),
            ("100c 0004 4d515454 06 02 003c 0000", "MQTT", 6),
            ("100c 0004 4d515458 04 02 003c 0000", "MQTX", 4),
        ];
        for (bytes, name, level) in cases {
            let err = decode_connect(&hex(bytes)).unwrap_err();
            assert_eq!(
                err,
                DecodeError::UnsupportedProtocol {
                    name: name.into(),
                    level
                },
                "{bytes}"
            );
            assert_eq!(err.reason_code(), 0x84);
            assert_eq!(err.connack_return_code_v311(), Some(0x01));
        }
    }

    #[test]
    fn malformed_connects_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "100e 0004 4d515454 04 03 003c 0002 6331",
                E::ConnectReservedFlag,
            ),
            (
                "100e 0004 4d515454 04 0a 003c 0002 6331",
                E::WillFlagsWithoutWill,
            ),
            (
                "100e 0004 4d515454 04 22 003c 0002 6331",
                E::WillFlagsWithoutWill,
            ),
            (
                "1014 0004 4d515454 04 1e 003c 0002 6331 0001 74 0001 70",
                E::InvalidWillQos,
            ),
            (
                "1014 0004 4d515454 04 06 003c 0002 6331 0001 2b 0001 70",
                E::WildcardInTopicName { topic: "+".into() },
            ),
            (
                "1013 0004 4d515454 04 06 003c 0002 6331 0000 0001 70",
                E::EmptyTopicName,
            ),
            (
                "100f 0004 4d515454 04 02 003c 0002 6331 00",
                E::TrailingBytes {
                    packet: PacketType::Connect,
                    count: 1,
                },
            ),
            (
                "100d 0004 4d515454 04 02 003c 0002 63",
                E::UnexpectedEnd {
                    field: "client identifier",
                },
            ),
            (
                "100e 0004 4d515454 04 82 003c 0002 6331",
                E::UnexpectedEnd { field: "user name" },
            ),
            (
                "100e 0004 4d515454 04 02 003c 0002 63c3",
                E::InvalidUtf8 {
                    field: "client identifier",
                },
            ),
            (
                "100e 0004 4d515454 04 02 003c 0002 6300",
                E::NullCharacter {
                    field: "client identifier",
                },
            ),
            (
                "1004 0002 4d51",
                E::UnexpectedEnd {
                    field: "protocol level",
                },
            ),
        ];
        for (bytes, err) in cases {
            let got = decode_connect(&hex(bytes)).unwrap_err();
            assert_eq!(got, err, "{bytes}");
        }
    }

    #[test]
    fn will_properties_only_accept_will_properties() {
        // Will properties carrying a Topic Alias (0x23).
        let bytes = hex("1016 0004 4d515454 05 06 0000 00 0000 03 230001 0001 74 0000");
        assert_eq!(
            decode_connect(&bytes),
            Err(DecodeError::PropertyNotAllowed {
                id: crate::mqtt::PropertyId::TopicAlias,
                context: "will properties"
            })
        );
    }
}
