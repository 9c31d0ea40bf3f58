//! UNSUBSCRIBE (spec §3.10): a list of topic filters to remove.

use std::num::NonZeroU16;

use super::frame::open_frame;
use super::layout::{decode_id_and_properties, IdHeader};
use super::primitives::{prefixed_len, put_string, Reader};
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

/// An UNSUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet identifier, echoed in UNSUBACK.
    pub packet_id: NonZeroU16,
    /// Filters to remove, compared character by character with existing
    /// subscriptions; never empty when decoded.
    pub filters: Vec<String>,
    /// User Properties (5.0 only).
    pub properties: Properties,
}

impl Unsubscribe {
    /// Decodes one complete UNSUBSCRIBE frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::Unsubscribe, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let (packet_id, properties) = decode_id_and_properties(
            &mut r,
            PacketType::Unsubscribe,
            version,
            &properties::UNSUBSCRIBE,
        )?;
        let mut filters = Vec::new();
        while !r.is_empty() {
            filters.push(r.string("topic filter")?.to_owned());
        }
        if filters.is_empty() {
            return Err(DecodeError::EmptyUnsubscribe);
        }
        Ok(Self {
            packet_id,
            filters,
            properties,
        })
    }

    fn header(&self) -> IdHeader<'_> {
        IdHeader {
            packet: PacketType::Unsubscribe,
            packet_id: self.packet_id,
            properties: &self.properties,
            context: &properties::UNSUBSCRIBE,
        }
    }

    /// Size of the list after the header.
    fn list_len(&self) -> usize {
        self.filters
            .iter()
            .map(|f| prefixed_len(f.as_bytes()))
            .sum()
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.header().packet_len(version, self.list_len())
    }

    /// Appends the packet.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.header()
            .encode_packet(out, version, self.list_len(), |out| {
                for filter in &self.filters {
                    put_string(out, filter, "topic filter")?;
                }
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, PropertyId};

    fn unsubscribe(filters: &[&str]) -> Unsubscribe {
        Unsubscribe {
            packet_id: NonZeroU16::new(7).unwrap(),
            filters: filters.iter().map(|f| (*f).to_owned()).collect(),
            properties: Properties::default(),
        }
    }

    #[test]
    fn v311_unsubscribe_is_a_list_of_filters() {
        assert_round_trip(
            &Packet::Unsubscribe(unsubscribe(&["a", "b/#"])),
            ProtocolVersion::V311,
            &hex("a20a 0007 0001 61 0003 622f23"),
        );
    }

    #[test]
    fn v5_unsubscribe_may_carry_user_properties() {
        let mut packet = unsubscribe(&["a"]);
        packet.properties.user_properties = vec![("k".into(), "v".into())];
        assert_round_trip(
            &Packet::Unsubscribe(packet),
            ProtocolVersion::V5,
            &hex("a20d 0007 07 26 0001 6b 0001 76 0001 61"),
        );
    }

    #[test]
    fn invalid_unsubscribes_are_rejected() {
        use DecodeError as E;
        let cases = [
            ("a202 0007", ProtocolVersion::V311, E::EmptyUnsubscribe),
            ("a203 0007 00", ProtocolVersion::V5, E::EmptyUnsubscribe),
            (
                "a205 0000 0001 61",
                ProtocolVersion::V311,
                E::ZeroPacketId {
                    packet: PacketType::Unsubscribe,
                },
            ),
            (
                "a205 0007 02 0b01",
                ProtocolVersion::V5,
                E::PropertyNotAllowed {
                    id: PropertyId::SubscriptionIdentifier,
                    context: "UNSUBSCRIBE",
                },
            ),
            (
                "a205 0007 0002 61",
                ProtocolVersion::V311,
                E::UnexpectedEnd {
                    field: "topic filter",
                },
            ),
            (
                "a005 0007 0001 61",
                ProtocolVersion::V311,
                E::InvalidFlags {
                    packet: PacketType::Unsubscribe,
                    flags: 0,
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }
}
