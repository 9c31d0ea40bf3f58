//! PUBACK, PUBREC, PUBREL and PUBCOMP (spec §3.4–§3.7): four packets with one
//! layout — packet identifier, then in MQTT 5 an optional reason code and
//! optional properties.
//!
//! MQTT 5 lets the tail be cut short: a Remaining Length of 2 means Success
//! with no properties, 3 means a reason code with no properties. The encoder
//! uses the shortest form that says the same thing.

use std::num::NonZeroU16;

use super::frame::{encode_frame, frame_size, open_frame};
use super::layout::parse_reason_code;
use super::primitives::{put_u16, Reader};
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

reason_code_enum! {
    /// PUBACK and PUBREC reason codes (MQTT 5 §3.4.2.1, §3.5.2.1).
    pub enum PubAckReasonCode {
        /// 0x00 Success.
        Success = 0x00,
        /// 0x10 No matching subscribers.
        NoMatchingSubscribers = 0x10,
        /// 0x80 Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x83 Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87 Not authorized.
        NotAuthorized = 0x87,
        /// 0x90 Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x91 Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x97 Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x99 Payload format invalid.
        PayloadFormatInvalid = 0x99,
    }
}

reason_code_enum! {
    /// PUBREL and PUBCOMP reason codes (MQTT 5 §3.6.2.1, §3.7.2.1).
    pub enum PubRelReasonCode {
        /// 0x00 Success.
        Success = 0x00,
        /// 0x92 Packet Identifier not found.
        PacketIdentifierNotFound = 0x92,
    }
}

/// Decodes the shared layout, returning the raw reason code byte.
fn decode_ack(
    packet: PacketType,
    body: &[u8],
    version: ProtocolVersion,
) -> Result<(NonZeroU16, u8, Properties), DecodeError> {
    let mut r = Reader::new(body);
    let packet_id = r.packet_id(packet)?;
    let mut code = 0;
    let mut props = Properties::default();
    if version == ProtocolVersion::V5 {
        if !r.is_empty() {
            code = r.u8("reason code")?;
        }
        if !r.is_empty() {
            props = Properties::decode(&mut r, &properties::ACK)?;
        }
    }
    r.finish(packet)?;
    Ok((packet_id, code, props))
}

fn ack_body_len(code: u8, props: &Properties, version: ProtocolVersion) -> usize {
    match version {
        ProtocolVersion::V311 => 2,
        ProtocolVersion::V5 if !props.is_empty() => 3 + props.wire_len(),
        ProtocolVersion::V5 if code != 0 => 3,
        ProtocolVersion::V5 => 2,
    }
}

/// Encodes the shared layout. 3.1.1 has no reason codes or properties, so a
/// 3.1.1 acknowledgement is always just the packet identifier.
fn encode_ack(
    packet: PacketType,
    packet_id: NonZeroU16,
    code: u8,
    props: &Properties,
    version: ProtocolVersion,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let body_len = ack_body_len(code, props, version);
    encode_frame(out, packet.first_byte(), body_len, |out| {
        put_u16(out, packet_id.get());
        if body_len > 2 {
            out.push(code);
        }
        if body_len > 3 {
            props.encode(out, &properties::ACK)?;
        }
        Ok(())
    })
}

macro_rules! ack_packet {
    ($(#[$meta:meta])* $name:ident, $packet:expr, $code:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            /// Identifier of the PUBLISH (or PUBREL) being acknowledged.
            pub packet_id: NonZeroU16,
            /// Outcome (always Success in 3.1.1).
            pub reason_code: $code,
            /// Reason String and User Properties (5.0 only).
            pub properties: Properties,
        }

        impl $name {
            /// A successful acknowledgement without properties.
            pub fn new(packet_id: NonZeroU16) -> Self {
                Self {
                    packet_id,
                    reason_code: $code::Success,
                    properties: Properties::default(),
                }
            }

            /// Decodes one complete frame of this type.
            pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
                let (_, body) = open_frame(packet, $packet, version)?;
                Self::decode_body(body, version)
            }

            pub(crate) fn decode_body(
                body: &[u8],
                version: ProtocolVersion,
            ) -> Result<Self, DecodeError> {
                let (packet_id, code, properties) = decode_ack($packet, body, version)?;
                let reason_code = parse_reason_code($packet, code)?;
                Ok(Self {
                    packet_id,
                    reason_code,
                    properties,
                })
            }

            /// Size of the encoded packet.
            pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
                frame_size(ack_body_len(self.reason_code.into(), &self.properties, version))
            }

            /// Appends the packet in its shortest form.
            pub fn encode(
                &self,
                version: ProtocolVersion,
                out: &mut Vec<u8>,
            ) -> Result<(), EncodeError> {
                encode_ack(
                    $packet,
                    self.packet_id,
                    self.reason_code.into(),
                    &self.properties,
                    version,
                    out,
                )
            }
        }
    };
}

ack_packet!(
    /// A PUBACK packet: acknowledges a QoS 1 PUBLISH.
    PubAck,
    PacketType::PubAck,
    PubAckReasonCode
);
ack_packet!(
    /// A PUBREC packet: first answer to a QoS 2 PUBLISH.
    PubRec,
    PacketType::PubRec,
    PubAckReasonCode
);
ack_packet!(
    /// A PUBREL packet: releases a QoS 2 PUBLISH after PUBREC.
    PubRel,
    PacketType::PubRel,
    PubRelReasonCode
);
ack_packet!(
    /// A PUBCOMP packet: completes a QoS 2 exchange.
    PubComp,
    PacketType::PubComp,
    PubRelReasonCode
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex, id};
    use crate::mqtt::{decode, Packet, PropertyId, PropertyValues};

    #[test]
    fn each_acknowledgement_has_its_own_type_and_flags() {
        let cases = [
            (Packet::PubAck(PubAck::new(id(1))), "4002 0001"),
            (Packet::PubRec(PubRec::new(id(2))), "5002 0002"),
            (Packet::PubRel(PubRel::new(id(3))), "6202 0003"),
            (Packet::PubComp(PubComp::new(id(0x1234))), "7002 1234"),
        ];
        for (packet, bytes) in cases {
            assert_round_trip(&packet, ProtocolVersion::V311, &hex(bytes));
            assert_round_trip(&packet, ProtocolVersion::V5, &hex(bytes));
        }
    }

    #[test]
    fn v5_short_forms_decode_as_success_or_a_bare_reason_code() {
        let v5 = ProtocolVersion::V5;
        assert_eq!(
            decode(&hex("4003 0001 00"), v5).unwrap(),
            Packet::PubAck(PubAck::new(id(1)))
        );
        assert_eq!(
            decode(&hex("4004 0001 00 00"), v5).unwrap(),
            Packet::PubAck(PubAck::new(id(1)))
        );
        let no_subscribers = PubAck {
            reason_code: PubAckReasonCode::NoMatchingSubscribers,
            ..PubAck::new(id(1))
        };
        assert_round_trip(&Packet::PubAck(no_subscribers), v5, &hex("4003 0001 10"));
        let not_found = PubComp {
            reason_code: PubRelReasonCode::PacketIdentifierNotFound,
            ..PubComp::new(id(9))
        };
        assert_round_trip(&Packet::PubComp(not_found), v5, &hex("7003 0009 92"));
    }

    #[test]
    fn v5_acknowledgement_with_a_reason_string_uses_the_long_form() {
        let ack = PubAck {
            reason_code: PubAckReasonCode::QuotaExceeded,
            properties: PropertyValues {
                reason_string: Some("full".into()),
                ..PropertyValues::default()
            }
            .into(),
            ..PubAck::new(id(5))
        };
        assert_round_trip(
            &Packet::PubAck(ack.clone()),
            ProtocolVersion::V5,
            &hex("400b 0005 97 07 1f0004 66756c6c"),
        );
        // 3.1.1 cannot say any of that.
        assert_round_trip(
            &Packet::PubAck(PubAck::new(id(5))),
            ProtocolVersion::V311,
            &{
                let mut out = Vec::new();
                ack.encode(ProtocolVersion::V311, &mut out).unwrap();
                out
            },
        );
    }

    #[test]
    fn invalid_acknowledgements_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "4002 0000",
                ProtocolVersion::V5,
                E::ZeroPacketId {
                    packet: PacketType::PubAck,
                },
            ),
            (
                "4001 00",
                ProtocolVersion::V5,
                E::UnexpectedEnd {
                    field: "packet identifier",
                },
            ),
            (
                "4003 0001 00",
                ProtocolVersion::V311,
                E::TrailingBytes {
                    packet: PacketType::PubAck,
                    count: 1,
                },
            ),
            (
                "4003 0001 92",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::PubAck,
                    code: 0x92,
                },
            ),
            (
                "6203 0001 10",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::PubRel,
                    code: 0x10,
                },
            ),
            (
                "5006 0001 00 02 0b01",
                ProtocolVersion::V5,
                E::PropertyNotAllowed {
                    id: PropertyId::SubscriptionIdentifier,
                    context: "PUBACK/PUBREC/PUBREL/PUBCOMP",
                },
            ),
            (
                "4005 0001 00 00 00",
                ProtocolVersion::V5,
                E::TrailingBytes {
                    packet: PacketType::PubAck,
                    count: 1,
                },
            ),
            (
                "6002 0001",
                ProtocolVersion::V311,
                E::InvalidFlags {
                    packet: PacketType::PubRel,
                    flags: 0,
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }

    #[test]
    fn typed_decoders_refuse_other_packet_types() {
        assert_eq!(
            PubAck::decode(&hex("5002 0001"), ProtocolVersion::V5),
            Err(DecodeError::UnexpectedPacketType {
                expected: PacketType::PubAck,
                found: 5
            })
        );
        assert_eq!(
            PubRec::decode(&hex("5002 0001"), ProtocolVersion::V5).unwrap(),
            PubRec::new(id(1))
        );
    }
}
