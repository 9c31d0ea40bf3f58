//! UNSUBACK (spec §3.11, packet type 11): in MQTT 5 one reason code per
//! filter; in 3.1.1 only the packet identifier.

use std::num::NonZeroU16;

use super::frame::open_frame;
use super::layout::{decode_reason_codes, IdHeader};
use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

reason_code_enum! {
    /// UNSUBACK reason codes (MQTT 5 §3.11.3).
    pub enum UnsubAckReasonCode {
        /// 0x00 Success.
        Success = 0x00,
        /// 0x11 No subscription existed.
        NoSubscriptionExisted = 0x11,
        /// 0x80 Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x83 Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87 Not authorized.
        NotAuthorized = 0x87,
        /// 0x8F Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x91 Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
    }
}

/// An UNSUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubAck {
    /// Identifier of the UNSUBSCRIBE being acknowledged.
    pub packet_id: NonZeroU16,
    /// One code per filter (5.0 only; always empty when decoded from 3.1.1
    /// and ignored when encoding 3.1.1).
    pub reason_codes: Vec<UnsubAckReasonCode>,
    /// Reason String and User Properties (5.0 only).
    pub properties: Properties,
}

impl UnsubAck {
    /// An UNSUBACK without properties.
    pub fn new(packet_id: NonZeroU16, reason_codes: Vec<UnsubAckReasonCode>) -> Self {
        Self {
            packet_id,
            reason_codes,
            properties: Properties::default(),
        }
    }

    /// Decodes one complete UNSUBACK frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::UnsubAck, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let packet_id = r.packet_id(PacketType::UnsubAck)?;
        if version == ProtocolVersion::V311 {
            r.finish(PacketType::UnsubAck)?;
            return Ok(Self::new(packet_id, Vec::new()));
        }
        let properties = Properties::decode(&mut r, &properties::UNSUBACK)?;
        let reason_codes = decode_reason_codes(&mut r, PacketType::UnsubAck, |_| true)?;
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    fn header(&self) -> IdHeader<'_> {
        IdHeader {
            packet: PacketType::UnsubAck,
            packet_id: self.packet_id,
            properties: &self.properties,
            context: &properties::UNSUBACK,
        }
    }

    /// The reason codes as written at `version`: none in 3.1.1.
    fn codes(&self, version: ProtocolVersion) -> &[UnsubAckReasonCode] {
        match version {
            ProtocolVersion::V5 => &self.reason_codes,
            ProtocolVersion::V311 => &[],
        }
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.header().packet_len(version, self.codes(version).len())
    }

    /// Appends the packet.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let codes = self.codes(version);
        self.header()
            .encode_packet(out, version, codes.len(), |out| {
                out.extend(codes.iter().map(|&c| u8::from(c)));
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex, id};
    use crate::mqtt::{decode, Packet};

    #[test]
    fn v311_unsuback_is_only_the_packet_id() {
        assert_round_trip(
            &Packet::UnsubAck(UnsubAck::new(id(7), Vec::new())),
            ProtocolVersion::V311,
            &hex("b002 0007"),
        );
        let mut out = Vec::new();
        UnsubAck::new(id(7), vec![UnsubAckReasonCode::Success])
            .encode(ProtocolVersion::V311, &mut out)
            .unwrap();
        assert_eq!(out, hex("b002 0007"));
    }

    #[test]
    fn v5_unsuback_has_a_code_per_filter() {
        let ack = UnsubAck::new(
            id(7),
            vec![
                UnsubAckReasonCode::Success,
                UnsubAckReasonCode::NoSubscriptionExisted,
            ],
        );
        assert_round_trip(
            &Packet::UnsubAck(ack),
            ProtocolVersion::V5,
            &hex("b005 0007 00 00 11"),
        );
    }

    #[test]
    fn invalid_unsubacks_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "b003 0007 00",
                ProtocolVersion::V311,
                E::TrailingBytes {
                    packet: PacketType::UnsubAck,
                    count: 1,
                },
            ),
            (
                "b004 0007 00 10",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::UnsubAck,
                    code: 0x10,
                },
            ),
            (
                "b002 0007",
                ProtocolVersion::V5,
                E::UnexpectedEnd {
                    field: "property length",
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }
}
