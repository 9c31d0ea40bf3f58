//! [`DecodeError`]: why a byte sequence is not an acceptable packet, and
//! which reason code answers it.

use super::super::{PacketType, PropertyId};

/// Why a byte sequence is not an acceptable MQTT packet.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A Variable Byte Integer continued past its fourth byte.
    VarIntTooLong,
    /// A Variable Byte Integer used more bytes than its value needs.
    NonMinimalVarInt,
    /// The packet is larger than the maximum packet size in force.
    PacketTooLarge {
        /// Total packet size in bytes, fixed header included.
        size: usize,
        /// The limit it exceeded.
        max: u32,
    },
    /// The slice given to a decoder is not exactly one frame long.
    FrameLengthMismatch {
        /// Size the fixed header declares, itself included.
        declared: usize,
        /// Size of the slice.
        actual: usize,
    },
    /// Packet type 0, or 15 under MQTT 3.1.1.
    ReservedPacketType(u8),
    /// Fixed-header flags other than those the packet type requires.
    InvalidFlags {
        /// The packet type.
        packet: PacketType,
        /// The flag nibble received.
        flags: u8,
    },
    /// A specific packet type was expected (CONNECT first, or a typed decoder).
    UnexpectedPacketType {
        /// The type that was expected.
        expected: PacketType,
        /// The type nibble received.
        found: u8,
    },
    /// The packet ended in the middle of a field.
    UnexpectedEnd {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes were left over after the last field of the packet.
    TrailingBytes {
        /// The packet type.
        packet: PacketType,
        /// How many bytes were left.
        count: usize,
    },
    /// A string field is not well-formed UTF-8.
    InvalidUtf8 {
        /// The field being read.
        field: &'static str,
    },
    /// A string field contains U+0000.
    NullCharacter {
        /// The field being read.
        field: &'static str,
    },
    /// A packet identifier of 0 where a non-zero one is required.
    ZeroPacketId {
        /// The packet type.
        packet: PacketType,
    },
    /// A reason code that the packet type does not define.
    InvalidReasonCode {
        /// The packet type.
        packet: PacketType,
        /// The byte received.
        code: u8,
    },
    /// A property identifier that MQTT 5 does not define.
    UnknownProperty {
        /// The identifier received.
        id: u32,
    },
    /// A property that is defined, but not for this packet.
    PropertyNotAllowed {
        /// The property.
        id: PropertyId,
        /// Where it appeared, e.g. `"SUBSCRIBE"` or `"will properties"`.
        context: &'static str,
    },
    /// A property that may appear once appeared again.
    DuplicateProperty {
        /// The property.
        id: PropertyId,
    },
    /// A property value outside its allowed range (e.g. Receive Maximum 0).
    InvalidPropertyValue {
        /// The property.
        id: PropertyId,
        /// The value received.
        value: u32,
    },
    /// Authentication Data without Authentication Method, or an AUTH packet
    /// whose properties omit the method.
    AuthenticationMethodMissing,
    /// CONNECT for a protocol other than MQTT 3.1.1 or 5.0.
    UnsupportedProtocol {
        /// The protocol name received (e.g. `"MQIsdp"` for MQTT 3.1).
        name: String,
        /// The protocol level received.
        level: u8,
    },
    /// CONNECT flag bit 0 is set.
    ConnectReservedFlag,
    /// Will QoS or Will Retain set without the Will Flag.
    WillFlagsWithoutWill,
    /// Will QoS 3.
    InvalidWillQos,
    /// 3.1.1 CONNECT with the Password Flag but not the User Name Flag.
    PasswordWithoutUsername,
    /// 3.1.1 CONNECT with an empty client identifier and Clean Session 0.
    ClientIdRejected,
    /// CONNACK acknowledge flags with bits 7–1 set.
    ConnAckReservedFlags {
        /// The flags byte received.
        flags: u8,
    },
    /// CONNACK with Session Present set alongside a failure code.
    SessionPresentOnFailure,
    /// PUBLISH with both QoS bits set.
    InvalidPublishQos,
    /// PUBLISH with DUP set on a QoS 0 message.
    DupWithQos0,
    /// A topic name (PUBLISH or will topic) containing `+` or `#`.
    WildcardInTopicName {
        /// The offending topic.
        topic: String,
    },
    /// An empty topic name (allowed in MQTT 5 PUBLISH only with a Topic Alias).
    EmptyTopicName,
    /// A Response Topic containing `+` or `#`.
    WildcardInResponseTopic,
    /// Subscription options with reserved bits set.
    ReservedSubscriptionOptions {
        /// The options byte received.
        options: u8,
    },
    /// Subscription options requesting QoS 3.
    InvalidSubscriptionQos {
        /// The options byte received.
        options: u8,
    },
    /// Subscription options with Retain Handling 3.
    InvalidRetainHandling {
        /// The options byte received.
        options: u8,
    },
    /// No Local set on a shared subscription.
    NoLocalOnSharedSubscription {
        /// The shared subscription's filter.
        filter: String,
    },
    /// SUBSCRIBE without any topic filter.
    EmptySubscribe,
    /// UNSUBSCRIBE without any topic filter.
    EmptyUnsubscribe,
}

impl DecodeError {
    /// Whether the specification calls this a Malformed Packet (as opposed to
    /// a Protocol Error or a more specific refusal).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::VarIntTooLong
                | Self::NonMinimalVarInt
                | Self::FrameLengthMismatch { .. }
                | Self::ReservedPacketType(_)
                | Self::InvalidFlags { .. }
                | Self::UnexpectedEnd { .. }
                | Self::TrailingBytes { .. }
                | Self::InvalidUtf8 { .. }
                | Self::NullCharacter { .. }
                | Self::InvalidReasonCode { .. }
                | Self::UnknownProperty { .. }
                | Self::PropertyNotAllowed { .. }
                | Self::ConnectReservedFlag
                | Self::WillFlagsWithoutWill
                | Self::InvalidWillQos
                | Self::PasswordWithoutUsername
                | Self::ConnAckReservedFlags { .. }
                | Self::InvalidPublishQos
                | Self::ReservedSubscriptionOptions { .. }
        )
    }

    /// The MQTT 5 reason code to answer with: in CONNACK when the failure is
    /// in CONNECT, in DISCONNECT otherwise. Every value returned is valid in
    /// both, except 0x84 and 0x85 which only occur for CONNECT.
    ///
    /// * 0x81 Malformed Packet
    /// * 0x82 Protocol Error
    /// * 0x84 Unsupported Protocol Version
    /// * 0x85 Client Identifier not valid
    /// * 0x95 Packet too large
    pub fn reason_code(&self) -> u8 {
        match self {
            Self::UnsupportedProtocol { .. } => 0x84,
            Self::ClientIdRejected => 0x85,
            Self::PacketTooLarge { .. } => 0x95,
            _ if self.is_malformed() => 0x81,
            _ => 0x82,
        }
    }

    /// The MQTT 3.1.1 CONNACK return code to send before closing, where 3.1.1
    /// defines one: 0x01 (unacceptable protocol version, [MQTT-3.1.2-2]
    /// (3.1.1)) and 0x02 (identifier rejected, [MQTT-3.1.3-8] (3.1.1)). For
    /// every other failure 3.1.1 says to close the connection without a
    /// CONNACK ([MQTT-3.1.4-1] (3.1.1)), hence `None`.
    pub fn connack_return_code_v311(&self) -> Option<u8> {
        match self {
            Self::UnsupportedProtocol { .. } => Some(0x01),
            Self::ClientIdRejected => Some(0x02),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_protocol_and_specific_errors_map_to_their_reason_codes() {
        let cases = [
            (DecodeError::VarIntTooLong, 0x81),
            (DecodeError::InvalidPublishQos, 0x81),
            (DecodeError::UnknownProperty { id: 0x7f }, 0x81),
            (
                DecodeError::DuplicateProperty {
                    id: PropertyId::TopicAlias,
                },
                0x82,
            ),
            (
                DecodeError::ZeroPacketId {
                    packet: PacketType::Subscribe,
                },
                0x82,
            ),
            (DecodeError::EmptySubscribe, 0x82),
            (
                DecodeError::UnsupportedProtocol {
                    name: "MQIsdp".into(),
                    level: 3,
                },
                0x84,
            ),
            (DecodeError::ClientIdRejected, 0x85),
            (DecodeError::PacketTooLarge { size: 10, max: 5 }, 0x95),
        ];
        for (err, code) in cases {
            assert_eq!(err.reason_code(), code, "{err}");
        }
    }

    #[test]
    fn only_version_and_client_id_failures_get_a_v311_connack() {
        let unsupported = DecodeError::UnsupportedProtocol {
            name: "MQIsdp".into(),
            level: 3,
        };
        assert_eq!(unsupported.connack_return_code_v311(), Some(0x01));
        assert_eq!(
            DecodeError::ClientIdRejected.connack_return_code_v311(),
            Some(0x02)
        );
        assert_eq!(
            DecodeError::ConnectReservedFlag.connack_return_code_v311(),
            None
        );
    }
}
