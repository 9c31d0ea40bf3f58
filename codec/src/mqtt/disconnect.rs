//! DISCONNECT (spec §3.14): empty in 3.1.1; in MQTT 5 a reason code and
//! properties, both omitted for a normal disconnection.

use super::frame::{encode_frame, frame_size, open_frame};
use super::layout::parse_reason_code;
use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

reason_code_enum! {
    /// DISCONNECT reason codes (MQTT 5 §3.14.2.1).
    pub enum DisconnectReasonCode {
        /// 0x00 Normal disconnection.
        NormalDisconnection = 0x00,
        /// 0x04 Disconnect with Will Message.
        DisconnectWithWillMessage = 0x04,
        /// 0x80 Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81 Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82 Protocol Error.
        ProtocolError = 0x82,
        /// 0x83 Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x87 Not authorized.
        NotAuthorized = 0x87,
        /// 0x89 Server busy.
        ServerBusy = 0x89,
        /// 0x8B Server shutting down.
        ServerShuttingDown = 0x8B,
        /// 0x8D Keep Alive timeout.
        KeepAliveTimeout = 0x8D,
        /// 0x8E Session taken over.
        SessionTakenOver = 0x8E,
        /// 0x8F Topic Filter invalid.
        TopicFilterInvalid = 0x8F,
        /// 0x90 Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x93 Receive Maximum exceeded.
        ReceiveMaximumExceeded = 0x93,
        /// 0x94 Topic Alias invalid.
        TopicAliasInvalid = 0x94,
        /// 0x95 Packet too large.
        PacketTooLarge = 0x95,
        /// 0x96 Message rate too high.
        MessageRateTooHigh = 0x96,
        /// 0x97 Quota exceeded.
        QuotaExceeded = 0x97,
        /// 0x98 Administrative action.
        AdministrativeAction = 0x98,
        /// 0x99 Payload format invalid.
        PayloadFormatInvalid = 0x99,
        /// 0x9A Retain not supported.
        RetainNotSupported = 0x9A,
        /// 0x9B QoS not supported.
        QoSNotSupported = 0x9B,
        /// 0x9C Use another server.
        UseAnotherServer = 0x9C,
        /// 0x9D Server moved.
        ServerMoved = 0x9D,
        /// 0x9E Shared Subscriptions not supported.
        SharedSubscriptionsNotSupported = 0x9E,
        /// 0x9F Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
        /// 0xA0 Maximum connect time.
        MaximumConnectTime = 0xA0,
        /// 0xA1 Subscription Identifiers not supported.
        SubscriptionIdentifiersNotSupported = 0xA1,
        /// 0xA2 Wildcard Subscriptions not supported.
        WildcardSubscriptionsNotSupported = 0xA2,
    }
}

/// A DISCONNECT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnect {
    /// Why the connection ends (always Normal in 3.1.1).
    pub reason_code: DisconnectReasonCode,
    /// Session Expiry Interval, Reason String, Server Reference and User
    /// Properties (5.0 only).
    pub properties: Properties,
}

impl Disconnect {
    /// A DISCONNECT with the given reason and no properties.
    pub fn new(reason_code: DisconnectReasonCode) -> Self {
        Self {
            reason_code,
            properties: Properties::default(),
        }
    }

    /// Decodes one complete DISCONNECT frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::Disconnect, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let mut disconnect = Self::new(DisconnectReasonCode::NormalDisconnection);
        if version == ProtocolVersion::V5 {
            if !r.is_empty() {
                let code = r.u8("reason code")?;
                disconnect.reason_code = parse_reason_code(PacketType::Disconnect, code)?;
            }
            // "If the Remaining Length is less than 2, a value of 0 is used."
            if !r.is_empty() {
                disconnect.properties = Properties::decode(&mut r, &properties::DISCONNECT)?;
            }
        }
        r.finish(PacketType::Disconnect)?;
        Ok(disconnect)
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V311 => 0,
            ProtocolVersion::V5 if !self.properties.is_empty() => 1 + self.properties.wire_len(),
            ProtocolVersion::V5
                if self.reason_code != DisconnectReasonCode::NormalDisconnection =>
            {
                1
            }
            ProtocolVersion::V5 => 0,
        }
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        frame_size(self.body_len(version))
    }

    /// Appends the packet in its shortest form. 3.1.1 DISCONNECT is always
    /// empty, so a server must not send it there (3.1.1 servers just close).
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let body_len = self.body_len(version);
        encode_frame(out, PacketType::Disconnect.first_byte(), body_len, |out| {
            if body_len > 0 {
                out.push(self.reason_code.into());
            }
            if body_len > 1 {
                self.properties.encode(out, &properties::DISCONNECT)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, PropertyId, PropertyValues};

    #[test]
    fn a_normal_disconnection_is_two_bytes_in_both_versions() {
        let normal = Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection));
        assert_round_trip(&normal, ProtocolVersion::V311, &hex("e000"));
        assert_round_trip(&normal, ProtocolVersion::V5, &hex("e000"));
    }

    #[test]
    fn v5_disconnect_with_a_reason_code_only_omits_the_properties() {
        let will = Disconnect::new(DisconnectReasonCode::DisconnectWithWillMessage);
        assert_round_trip(
            &Packet::Disconnect(will),
            ProtocolVersion::V5,
            &hex("e001 04"),
        );
    }

    #[test]
    fn v5_disconnect_with_properties() {
        let disconnect = Disconnect {
            reason_code: DisconnectReasonCode::UseAnotherServer,
            properties: PropertyValues {
                session_expiry_interval: Some(0),
                server_reference: Some("b".into()),
                ..PropertyValues::default()
            }
            .into(),
        };
        assert_round_trip(
            &Packet::Disconnect(disconnect),
            ProtocolVersion::V5,
            &hex("e00b 9c 09 1100000000 1c0001 62"),
        );
    }

    #[test]
    fn explicit_normal_reason_and_empty_properties_decode_as_the_short_form() {
        // MQTT.js 5.x sends this on end().
        let packet = decode(&hex("e002 0000"), ProtocolVersion::V5).unwrap();
        assert_eq!(
            packet,
            Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection))
        );
    }

    #[test]
    fn invalid_disconnects_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "e001 00",
                ProtocolVersion::V311,
                E::TrailingBytes {
                    packet: PacketType::Disconnect,
                    count: 1,
                },
            ),
            (
                "e001 05",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::Disconnect,
                    code: 0x05,
                },
            ),
            (
                "e004 00 02 2301",
                ProtocolVersion::V5,
                E::PropertyNotAllowed {
                    id: PropertyId::TopicAlias,
                    context: "DISCONNECT",
                },
            ),
            (
                "e003 00 05 11",
                ProtocolVersion::V5,
                E::UnexpectedEnd {
                    field: "properties",
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }
}
