//! SUBACK (spec §3.9): one reason code per requested topic filter.

use std::num::NonZeroU16;

use super::frame::open_frame;
use super::layout::{decode_id_and_properties, decode_reason_codes, IdHeader};
use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion, QoS};

reason_code_enum! {
    /// SUBACK reason codes (MQTT 5 §3.9.3). 3.1.1 knows only the first three
    /// and 0x80; see [`SubAckReasonCode::to_v311`].
    pub enum SubAckReasonCode {
        /// 0x00 Granted QoS 0.
        GrantedQoS0 = 0x00,
        /// 0x01 Granted QoS 1.
        GrantedQoS1 = 0x01,
        /// 0x02 Granted QoS 2.
        GrantedQoS2 = 0x02,
        /// 0x80 Unspecified error (3.1.1: Failure).
        UnspecifiedError = 0x80,
        /// 0x83 Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87 Not authorized.
        NotAuthorized = 0x87,
        /// 0x8F Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x91 Packet Identifier in use.
        PacketIdentifierInUse = 0x91,
        /// 0x97 Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x9E Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0xA1 Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2 Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

impl SubAckReasonCode {
    /// The success code granting `qos`.
    pub fn granted(qos: QoS) -> Self {
        match qos {
            QoS::AtMostOnce => Self::GrantedQoS0,
            QoS::AtLeastOnce => Self::GrantedQoS1,
            QoS::ExactlyOnce => Self::GrantedQoS2,
        }
    }

    /// Whether the subscription was accepted.
    pub fn is_success(self) -> bool {
        (self as u8) < 0x80
    }

    /// The 3.1.1 equivalent: granted QoS codes unchanged, every failure
    /// becomes 0x80 Failure [MQTT-3.9.3-2] (3.1.1).
    pub fn to_v311(self) -> Self {
        if self.is_success() {
            self
        } else {
            Self::UnspecifiedError
        }
    }
}

/// A SUBACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Identifier of the SUBSCRIBE being acknowledged.
    pub packet_id: NonZeroU16,
    /// One code per filter, in the SUBSCRIBE's order.
    pub reason_codes: Vec<SubAckReasonCode>,
    /// Reason String and User Properties (5.0 only).
    pub properties: Properties,
}

impl SubAck {
    /// A SUBACK without properties.
    pub fn new(packet_id: NonZeroU16, reason_codes: Vec<SubAckReasonCode>) -> Self {
        Self {
            packet_id,
            reason_codes,
            properties: Properties::default(),
        }
    }

    /// Decodes one complete SUBACK frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::SubAck, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let (packet_id, properties) =
            decode_id_and_properties(&mut r, PacketType::SubAck, version, &properties::SUBACK)?;
        // 3.1.1 knows only the granted QoS codes and 0x80 Failure.
        let reason_codes =
            decode_reason_codes(&mut r, PacketType::SubAck, |c: SubAckReasonCode| {
                version == ProtocolVersion::V5 || c.to_v311() == c
            })?;
        Ok(Self {
            packet_id,
            reason_codes,
            properties,
        })
    }

    fn header(&self) -> IdHeader<'_> {
        IdHeader {
            packet: PacketType::SubAck,
            packet_id: self.packet_id,
            properties: &self.properties,
            context: &properties::SUBACK,
        }
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.header().packet_len(version, self.reason_codes.len())
    }

    /// Appends the packet. For 3.1.1 failures are written as 0x80 and
    /// properties are left out.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.header()
            .encode_packet(out, version, self.reason_codes.len(), |out| {
                out.extend(self.reason_codes.iter().map(|&c| match version {
                    ProtocolVersion::V5 => u8::from(c),
                    ProtocolVersion::V311 => u8::from(c.to_v311()),
                }));
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex, id};
    use crate::mqtt::{decode, Packet, PropertyValues};
    use SubAckReasonCode as C;

    #[test]
    fn v311_suback_lists_granted_qos_and_failures() {
        let ack = SubAck::new(
            id(1),
            vec![
                C::GrantedQoS0,
                C::GrantedQoS1,
                C::GrantedQoS2,
                C::UnspecifiedError,
            ],
        );
        assert_round_trip(
            &Packet::SubAck(ack),
            ProtocolVersion::V311,
            &hex("9006 0001 00 01 02 80"),
        );
    }

    #[test]
    fn v5_suback_has_properties_before_the_codes() {
        let ack = SubAck {
            properties: PropertyValues {
                reason_string: Some("no".into()),
                ..PropertyValues::default()
            }
            .into(),
            ..SubAck::new(
                id(2),
                vec![C::GrantedQoS1, C::WildcardSubscriptionsNotSupported],
            )
        };
        assert_round_trip(
            &Packet::SubAck(ack),
            ProtocolVersion::V5,
            &hex("900a 0002 05 1f0002 6e6f 01 a2"),
        );
    }

    #[test]
    fn v5_failure_codes_become_0x80_in_v311() {
        let all_v5 = vec![
            C::GrantedQoS1,
            C::ImplementationSpecificError,
            C::NotAuthorized,
            C::TopicFilterInvalid,
            C::PacketIdentifierInUse,
            C::QuotaExceeded,
            C::SharedSubscriptionsNotSupported,
            C::SubscriptionIdentifiersNotSupported,
            C::WildcardSubscriptionsNotSupported,
        ];
        let mut out = Vec::new();
        SubAck::new(id(3), all_v5)
            .encode(ProtocolVersion::V311, &mut out)
            .unwrap();
        assert_eq!(out, hex("900b 0003 01 80 80 80 80 80 80 80 80"));
    }

    #[test]
    fn granted_codes_follow_the_qos() {
        assert_eq!(C::granted(QoS::AtMostOnce), C::GrantedQoS0);
        assert_eq!(C::granted(QoS::ExactlyOnce), C::GrantedQoS2);
        assert!(C::GrantedQoS2.is_success());
        assert!(!C::NotAuthorized.is_success());
    }

    #[test]
    fn invalid_subacks_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "9003 0001 87",
                ProtocolVersion::V311,
                E::InvalidReasonCode {
                    packet: PacketType::SubAck,
                    code: 0x87,
                },
            ),
            (
                "9004 0001 00 03",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::SubAck,
                    code: 0x03,
                },
            ),
            (
                "9003 0000 00",
                ProtocolVersion::V311,
                E::ZeroPacketId {
                    packet: PacketType::SubAck,
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }
}
