//! PUBLISH (spec §3.3): an application message, whose QoS, DUP and RETAIN
//! live in the fixed-header flags.

use std::num::NonZeroU16;

use super::frame::{encode_frame, frame_size, open_frame};
use super::primitives::{prefixed_len, put_string, put_u16, var_int_len};
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion, PublishRef, QoS};

use super::publish_ref::{FLAG_DUP, FLAG_RETAIN, QOS_SHIFT};

/// A PUBLISH packet.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Publish {
    /// DUP: this is a re-delivery. Always false at QoS 0.
    pub dup: bool,
    /// Delivery QoS (0, 1 or 2; the value 3 is a decode error).
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic name; no wildcards. Empty only in MQTT 5 with a Topic Alias.
    pub topic: String,
    /// Packet identifier: present exactly when `qos` is above 0.
    pub packet_id: Option<NonZeroU16>,
    /// PUBLISH properties (5.0 only).
    pub properties: Properties,
    /// Application payload.
    pub payload: Vec<u8>,
}

impl Publish {
    /// A QoS 0, non-retained message.
    pub fn new(topic: impl Into<String>, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            topic: topic.into(),
            payload: payload.into(),
            ..Self::default()
        }
    }

    /// Decodes one complete PUBLISH frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (first, body) = open_frame(packet, PacketType::Publish, version)?;
        Self::decode_body(first, body, version)
    }

    pub(crate) fn decode_body(
        first: u8,
        body: &[u8],
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        PublishRef::decode_body(first, body, version).map(PublishRef::into_owned)
    }

    /// The property section's content length, `None` in 3.1.1 (no section).
    fn properties_len(&self, version: ProtocolVersion) -> Option<usize> {
        match version {
            ProtocolVersion::V5 => Some(self.properties.content_len()),
            ProtocolVersion::V311 => None,
        }
    }

    fn body_len(&self, properties_len: Option<usize>) -> usize {
        let mut len = prefixed_len(self.topic.as_bytes());
        if self.packet_id.is_some() {
            len += 2;
        }
        let section = properties_len.map_or(0, |l| var_int_len(l) + l);
        len + section + self.payload.len()
    }

    /// Size of the encoded packet — compare it with the receiver's Maximum
    /// Packet Size before sending.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        frame_size(self.body_len(self.properties_len(version)))
    }

    /// Appends the packet. 3.1.1 has no properties, so they are left out there.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if self.packet_id.is_some() != (self.qos != QoS::AtMostOnce) {
            return Err(EncodeError::PacketIdMismatch { qos: self.qos });
        }
        let mut first = ((PacketType::Publish as u8) << 4) | ((self.qos as u8) << QOS_SHIFT);
        if self.dup {
            first |= FLAG_DUP;
        }
        if self.retain {
            first |= FLAG_RETAIN;
        }
        let properties_len = self.properties_len(version);
        encode_frame(out, first, self.body_len(properties_len), |out| {
            put_string(out, &self.topic, "topic name")?;
            if let Some(id) = self.packet_id {
                put_u16(out, id.get());
            }
            if let Some(len) = properties_len {
                self.properties
                    .encode_sized(out, &properties::PUBLISH, len)?;
            }
            out.extend_from_slice(&self.payload);
            Ok(())
        })
    }
}

impl PublishRef<'_> {
    /// An owned copy of the message.
    pub fn into_owned(self) -> Publish {
        Publish {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: self.topic.to_owned(),
            packet_id: self.packet_id,
            properties: self.properties,
            payload: self.payload.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, PayloadFormat, PropertyId, PropertyValues};

    fn qos1(topic: &str, id: u16, payload: &[u8]) -> Publish {
        Publish {
            qos: QoS::AtLeastOnce,
            packet_id: NonZeroU16::new(id),
            ..Publish::new(topic, payload)
        }
    }

    #[test]
    fn qos0_publish_has_no_packet_id() {
        let publish = Publish::new("a/b", b"hi".to_vec());
        assert_round_trip(
            &Packet::Publish(publish.clone()),
            ProtocolVersion::V311,
            &hex("3007 0003 612f62 6869"),
        );
        assert_round_trip(
            &Packet::Publish(publish),
            ProtocolVersion::V5,
            &hex("3008 0003 612f62 00 6869"),
        );
    }

    #[test]
    fn qos1_retained_duplicate_publish_sets_all_three_flags() {
        let publish = Publish {
            dup: true,
            retain: true,
            ..qos1("t", 10, b"x")
        };
        assert_round_trip(
            &Packet::Publish(publish),
            ProtocolVersion::V311,
            &hex("3b06 0001 74 000a 78"),
        );
    }

    #[test]
    fn qos2_publish_decodes_so_it_can_be_refused() {
        let packet = decode(&hex("3406 0001 74 0001 78"), ProtocolVersion::V311).unwrap();
        let Packet::Publish(publish) = packet else {
            panic!("not a publish: {packet:?}")
        };
        assert_eq!(publish.qos, QoS::ExactlyOnce);
        assert_eq!(publish.packet_id, NonZeroU16::new(1));
    }

    #[test]
    fn v5_publish_carries_its_properties_and_an_empty_payload() {
        let publish = Publish {
            properties: PropertyValues {
                payload_format_indicator: Some(PayloadFormat::Utf8),
                message_expiry_interval: Some(120),
                response_topic: Some("r".into()),
                correlation_data: Some(vec![0xab]),
                subscription_identifiers: vec![1, 200],
                content_type: Some("c".into()),
                user_properties: vec![("k".into(), "v".into())],
                ..PropertyValues::default()
            }
            .into(),
            ..qos1("t", 2, b"")
        };
        let bytes = hex("3225 0001 74 0002 1f \
             0101 \
             0200000078 \
             030001 63 \
             080001 72 \
             090001 ab \
             0b01 \
             0bc801 \
             26 0001 6b 0001 76");
        assert_round_trip(&Packet::Publish(publish), ProtocolVersion::V5, &bytes);
    }

    #[test]
    fn v5_publish_may_have_an_empty_topic_with_a_topic_alias() {
        let publish = Publish {
            properties: PropertyValues {
                topic_alias: NonZeroU16::new(7),
                ..PropertyValues::default()
            }
            .into(),
            ..Publish::new("", b"p".to_vec())
        };
        assert_round_trip(
            &Packet::Publish(publish),
            ProtocolVersion::V5,
            &hex("3007 0000 03 230007 70"),
        );
    }

    #[test]
    fn invalid_publishes_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "3606 0001 74 0001 78",
                ProtocolVersion::V311,
                E::InvalidPublishQos,
            ),
            ("3804 0001 74 78", ProtocolVersion::V311, E::DupWithQos0),
            (
                "3005 0002 2b2b 78",
                ProtocolVersion::V311,
                E::WildcardInTopicName { topic: "++".into() },
            ),
            (
                "3006 0004 612f2362",
                ProtocolVersion::V311,
                E::WildcardInTopicName {
                    topic: "a/#b".into(),
                },
            ),
            ("3003 0000 78", ProtocolVersion::V311, E::EmptyTopicName),
            ("3004 0000 00 78", ProtocolVersion::V5, E::EmptyTopicName),
            (
                "3205 0001 74 0000",
                ProtocolVersion::V311,
                E::ZeroPacketId {
                    packet: PacketType::Publish,
                },
            ),
            (
                "3204 0001 74 00",
                ProtocolVersion::V311,
                E::UnexpectedEnd {
                    field: "packet identifier",
                },
            ),
            (
                "3003 0005 74",
                ProtocolVersion::V311,
                E::UnexpectedEnd {
                    field: "topic name",
                },
            ),
            (
                "3004 0002 74c0",
                ProtocolVersion::V311,
                E::InvalidUtf8 {
                    field: "topic name",
                },
            ),
            (
                "3004 0002 7400",
                ProtocolVersion::V311,
                E::NullCharacter {
                    field: "topic name",
                },
            ),
            (
                "3006 0001 74 02 2301",
                ProtocolVersion::V5,
                E::UnexpectedEnd {
                    field: "Topic Alias",
                },
            ),
            (
                "3007 0001 74 03 210001",
                ProtocolVersion::V5,
                E::PropertyNotAllowed {
                    id: PropertyId::ReceiveMaximum,
                    context: "PUBLISH",
                },
            ),
            (
                "300a 0001 74 06 230001 230002",
                ProtocolVersion::V5,
                E::DuplicateProperty {
                    id: PropertyId::TopicAlias,
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }

    #[test]
    fn encoding_insists_that_the_packet_id_matches_the_qos() {
        let mut out = Vec::new();
        let mut no_id = qos1("t", 1, b"");
        no_id.packet_id = None;
        assert_eq!(
            no_id.encode(ProtocolVersion::V5, &mut out),
            Err(EncodeError::PacketIdMismatch {
                qos: QoS::AtLeastOnce
            })
        );
        let mut stray_id = Publish::new("t", b"".to_vec());
        stray_id.packet_id = NonZeroU16::new(1);
        assert_eq!(
            stray_id.encode(ProtocolVersion::V5, &mut out),
            Err(EncodeError::PacketIdMismatch {
                qos: QoS::AtMostOnce
            })
        );
    }

    #[test]
    fn a_large_payload_uses_a_multi_byte_remaining_length() {
        let publish = Publish::new("t", vec![7u8; 200]);
        let mut out = Vec::new();
        publish.encode(ProtocolVersion::V311, &mut out).unwrap();
        assert_eq!(&out[..5], &hex("30cb01 0001")[..]);
        assert_eq!(out.len(), publish.encoded_len(ProtocolVersion::V311));
        assert_eq!(
            Publish::decode(&out, ProtocolVersion::V311).unwrap(),
            publish
        );
    }
}
