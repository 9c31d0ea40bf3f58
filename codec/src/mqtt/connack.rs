//! CONNACK (spec §3.2): the server's answer to CONNECT, with the MQTT 5
//! reason codes and their mapping to 3.1.1 return codes.

use super::frame::{encode_frame, frame_size, open_frame};
use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

reason_code_enum! {
    /// CONNACK reason codes (MQTT 5 §3.2.2.2). 3.1.1 return codes decode to
    /// the equivalent variant; see [`ConnectReasonCode::to_v311`].
    pub enum ConnectReasonCode {
        /// 0x00 Success.
        Success = 0x00,
        /// 0x80 Unspecified error.
        UnspecifiedError = 0x80,
        /// 0x81 Malformed Packet.
        MalformedPacket = 0x81,
        /// 0x82 Protocol Error.
        ProtocolError = 0x82,
        /// 0x83 Implementation specific error.
        ImplementationSpecificError = 0x83,
        /// 0x84 Unsupported Protocol Version.
        UnsupportedProtocolVersion = 0x84,
        /// 0x85 Client Identifier not valid.
        ClientIdentifierNotValid = 0x85,
        /// 0x86 Bad User Name or Password.
        BadUserNameOrPassword = 0x86,
        /// 0x87 Not authorized.
        NotAuthorized = 0x87,
        /// 0x88 Server unavailable.
        ServerUnavailable = 0x88,
        /// 0x89 Server busy.
        ServerBusy = 0x89,
        /// 0x8A Banned.
        Banned = 0x8A,
        /// 0x8C Bad authentication method.
        BadAuthenticationMethod = 0x8C,
        /// 0x90 Topic Name invalid.
        TopicNameInvalid = 0x90,
        /// 0x95 Packet too large.
        PacketTooLarge = 0x95,
        /// 0x97 Quota exceeded.
        QuotaExceeded = 0x97,
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
        /// 0x9F Connection rate exceeded.
        ConnectionRateExceeded = 0x9F,
    }
}

impl ConnectReasonCode {
    /// The 3.1.1 return code with the same meaning, or `None` when 3.1.1 has
    /// none — a 3.1.1 server then closes the connection without a CONNACK
    /// ([MQTT-3.2.2-6] (3.1.1)).
    pub fn to_v311(self) -> Option<u8> {
        match self {
            Self::Success => Some(0x00),
            Self::UnsupportedProtocolVersion => Some(0x01),
            Self::ClientIdentifierNotValid => Some(0x02),
            Self::ServerUnavailable
            | Self::ServerBusy
            | Self::UseAnotherServer
            | Self::ServerMoved
            | Self::ConnectionRateExceeded
            | Self::QuotaExceeded => Some(0x03),
            Self::BadUserNameOrPassword => Some(0x04),
            Self::NotAuthorized | Self::Banned | Self::BadAuthenticationMethod => Some(0x05),
            Self::UnspecifiedError
            | Self::MalformedPacket
            | Self::ProtocolError
            | Self::ImplementationSpecificError
            | Self::TopicNameInvalid
            | Self::PacketTooLarge
            | Self::PayloadFormatInvalid
            | Self::RetainNotSupported
            | Self::QoSNotSupported => None,
        }
    }

    /// Reads a 3.1.1 return code (0x00–0x05).
    pub fn from_v311(code: u8) -> Option<Self> {
        Some(match code {
            0x00 => Self::Success,
            0x01 => Self::UnsupportedProtocolVersion,
            0x02 => Self::ClientIdentifierNotValid,
            0x03 => Self::ServerUnavailable,
            0x04 => Self::BadUserNameOrPassword,
            0x05 => Self::NotAuthorized,
            _ => return None,
        })
    }

    /// Whether the connection was accepted.
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

/// A CONNACK packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnAck {
    /// Session Present; must be false when `reason_code` is a failure.
    pub session_present: bool,
    /// The outcome.
    pub reason_code: ConnectReasonCode,
    /// CONNACK properties (5.0 only).
    pub properties: Properties,
}

impl ConnAck {
    /// A CONNACK with the given outcome, no session and no properties.
    pub fn new(reason_code: ConnectReasonCode) -> Self {
        Self {
            session_present: false,
            reason_code,
            properties: Properties::default(),
        }
    }

    /// Decodes one complete CONNACK frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::ConnAck, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let flags = r.u8("connect acknowledge flags")?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::ConnAckReservedFlags { flags });
        }
        let session_present = flags & 0x01 != 0;
        let code = r.u8("connect reason code")?;
        let parsed = match version {
            ProtocolVersion::V5 => ConnectReasonCode::try_from(code).ok(),
            ProtocolVersion::V311 => ConnectReasonCode::from_v311(code),
        };
        let Some(reason_code) = parsed else {
            return Err(DecodeError::InvalidReasonCode {
                packet: PacketType::ConnAck,
                code,
            });
        };
        if session_present && !reason_code.is_success() {
            return Err(DecodeError::SessionPresentOnFailure);
        }
        let properties = Properties::decode_if_v5(&mut r, version, &properties::CONNACK)?;
        r.finish(PacketType::ConnAck)?;
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        2 + self.properties.wire_len_if_v5(version)
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        frame_size(self.body_len(version))
    }

    /// Appends the packet. For 3.1.1 the reason code is translated with
    /// [`ConnectReasonCode::to_v311`] and properties are left out.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let code = match version {
            ProtocolVersion::V5 => u8::from(self.reason_code),
            ProtocolVersion::V311 => {
                self.reason_code
                    .to_v311()
                    .ok_or(EncodeError::NoV311ReturnCode {
                        code: self.reason_code.into(),
                    })?
            }
        };
        encode_frame(
            out,
            PacketType::ConnAck.first_byte(),
            self.body_len(version),
            |out| {
                out.push(u8::from(self.session_present));
                out.push(code);
                self.properties
                    .encode_if_v5(out, version, &properties::CONNACK)
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::num::{NonZeroU16, NonZeroU32};

    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, PropertyId, PropertyValues, QoS};

    #[test]
    fn v311_connack_is_flags_and_return_code() {
        let accepted = ConnAck {
            session_present: true,
            ..ConnAck::new(ConnectReasonCode::Success)
        };
        assert_round_trip(
            &Packet::ConnAck(accepted),
            ProtocolVersion::V311,
            &hex("2002 0100"),
        );
        let refused = ConnAck::new(ConnectReasonCode::NotAuthorized);
        assert_round_trip(
            &Packet::ConnAck(refused),
            ProtocolVersion::V311,
            &hex("2002 0005"),
        );
    }

    #[test]
    fn v5_connack_with_no_properties_still_has_a_property_length() {
        let ack = ConnAck::new(ConnectReasonCode::Success);
        assert_round_trip(
            &Packet::ConnAck(ack),
            ProtocolVersion::V5,
            &hex("2003 0000 00"),
        );
    }

    #[test]
    fn v5_connack_carries_the_server_capabilities() {
        let ack = ConnAck {
            session_present: false,
            reason_code: ConnectReasonCode::Success,
            properties: PropertyValues {
                receive_maximum: NonZeroU16::new(10),
                maximum_qos: Some(QoS::AtLeastOnce),
                retain_available: Some(false),
                maximum_packet_size: NonZeroU32::new(32_768),
                assigned_client_identifier: Some("a1".into()),
                topic_alias_maximum: Some(0),
                wildcard_subscription_available: Some(true),
                subscription_identifiers_available: Some(false),
                shared_subscription_available: Some(false),
                server_keep_alive: Some(60),
                ..PropertyValues::default()
            }
            .into(),
        };
        let bytes = hex("2020 0000 1d \
             120002 6131 \
             13003c \
             21000a \
             220000 \
             2401 \
             2500 \
             2700008000 \
             2801 \
             2900 \
             2a00");
        assert_round_trip(&Packet::ConnAck(ack), ProtocolVersion::V5, &bytes);
    }

    #[test]
    fn v5_reason_codes_translate_to_v311_return_codes_where_they_can() {
        let cases = [
            (ConnectReasonCode::Success, Some(0)),
            (ConnectReasonCode::UnsupportedProtocolVersion, Some(1)),
            (ConnectReasonCode::ClientIdentifierNotValid, Some(2)),
            (ConnectReasonCode::ServerBusy, Some(3)),
            (ConnectReasonCode::BadUserNameOrPassword, Some(4)),
            (ConnectReasonCode::Banned, Some(5)),
            (ConnectReasonCode::MalformedPacket, None),
        ];
        for (code, v311) in cases {
            assert_eq!(code.to_v311(), v311, "{code:?}");
        }
        let mut out = Vec::new();
        assert_eq!(
            ConnAck::new(ConnectReasonCode::ProtocolError).encode(ProtocolVersion::V311, &mut out),
            Err(EncodeError::NoV311ReturnCode { code: 0x82 })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn every_v311_return_code_maps_back_to_itself() {
        for code in 0..=5 {
            let reason = ConnectReasonCode::from_v311(code).unwrap();
            assert_eq!(reason.to_v311(), Some(code));
        }
        assert_eq!(ConnectReasonCode::from_v311(6), None);
    }

    #[test]
    fn invalid_connacks_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "2002 0200",
                ProtocolVersion::V311,
                E::ConnAckReservedFlags { flags: 2 },
            ),
            (
                "2002 0006",
                ProtocolVersion::V311,
                E::InvalidReasonCode {
                    packet: PacketType::ConnAck,
                    code: 6,
                },
            ),
            (
                "2003 0001 00",
                ProtocolVersion::V5,
                E::InvalidReasonCode {
                    packet: PacketType::ConnAck,
                    code: 1,
                },
            ),
            (
                "2003 0180 00",
                ProtocolVersion::V5,
                E::SessionPresentOnFailure,
            ),
            (
                "2002 0105",
                ProtocolVersion::V311,
                E::SessionPresentOnFailure,
            ),
            (
                "2002 0000",
                ProtocolVersion::V5,
                E::UnexpectedEnd {
                    field: "property length",
                },
            ),
            (
                "2003 0000 00",
                ProtocolVersion::V311,
                E::TrailingBytes {
                    packet: PacketType::ConnAck,
                    count: 1,
                },
            ),
            (
                "2005 0000 02 0101",
                ProtocolVersion::V5,
                E::PropertyNotAllowed {
                    id: PropertyId::PayloadFormatIndicator,
                    context: "CONNACK",
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }
}
