//! Decode and encode errors, and the single mapping from a decode failure to
//! the code the server answers with.
//!
//! The MQTT 5 specification (§4.13) separates a *Malformed Packet* (it cannot
//! be parsed: bad lengths, reserved bits set, unknown or misplaced property
//! identifiers, invalid UTF-8, unknown reason codes) from a *Protocol Error*
//! (it parses, but its content is not allowed: duplicate properties, packet
//! identifier 0, an empty subscription list, ...). The variants below follow
//! that split; [`DecodeError::reason_code`] turns it into 0x81 or 0x82 and
//! picks the more specific codes where the specification has them.

use std::fmt;

use super::{PacketType, PropertyId, ProtocolVersion, QoS};

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

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::VarIntTooLong => {
                f.write_str("[§1.5.5] a Variable Byte Integer is at most 4 bytes long")
            }
            Self::NonMinimalVarInt => f.write_str(
                "[MQTT-1.5.5-1] a Variable Byte Integer must use the minimum number of bytes",
            ),
            Self::PacketTooLarge { size, max } => write!(
                f,
                "[§3.2.2.3.6] packet too large: {size} bytes exceeds the maximum of {max}"
            ),
            Self::FrameLengthMismatch { declared, actual } => write!(
                f,
                "[§2.1.4] the fixed header declares a {declared}-byte packet but {actual} bytes were given"
            ),
            Self::ReservedPacketType(t) => {
                write!(f, "[§2.1.2] packet type {t} is reserved")
            }
            Self::InvalidFlags { packet, flags } => write!(
                f,
                "[MQTT-2.1.3-1] invalid fixed header flags {flags:#06b} for {packet}"
            ),
            Self::UnexpectedPacketType { expected, found } => {
                if *expected == PacketType::Connect {
                    write!(f, "[MQTT-3.1.0-1] the first packet must be CONNECT, got type {found}")
                } else {
                    write!(f, "expected a {expected} packet, got type {found}")
                }
            }
            Self::UnexpectedEnd { field } => {
                write!(f, "[§2.1.4] the packet ends inside the {field}")
            }
            Self::TrailingBytes { packet, count } => write!(
                f,
                "[§2.1.4] {count} unexpected byte(s) after the last field of {packet}"
            ),
            Self::InvalidUtf8 { field } => {
                write!(f, "[MQTT-1.5.4-1] the {field} is not well-formed UTF-8")
            }
            Self::NullCharacter { field } => {
                write!(f, "[MQTT-1.5.4-2] the {field} contains U+0000")
            }
            Self::ZeroPacketId { packet } => {
                write!(f, "[MQTT-2.2.1-3] {packet} requires a non-zero packet identifier")
            }
            Self::InvalidReasonCode { packet, code } => {
                write!(f, "[§2.4] {code:#04x} is not a {packet} reason code")
            }
            Self::UnknownProperty { id } => {
                write!(f, "[§2.2.2.2] unknown property identifier {id:#04x}")
            }
            Self::PropertyNotAllowed { id, context } => {
                write!(f, "[§2.2.2.2] {id} is not allowed in {context}")
            }
            Self::DuplicateProperty { id } => {
                write!(f, "[§2.2.2.2] it is a Protocol Error to include {id} more than once")
            }
            Self::InvalidPropertyValue { id, value } => {
                write!(f, "[§2.2.2.2] {value} is not a valid value for {id}")
            }
            Self::AuthenticationMethodMissing => f.write_str(
                "[§3.1.2.11.10] Authentication Data or AUTH requires an Authentication Method",
            ),
            Self::UnsupportedProtocol { name, level } => write!(
                f,
                "[MQTT-3.1.2-2] unsupported protocol {name:?} level {level}; only MQTT 3.1.1 (4) and 5.0 (5) are supported"
            ),
            Self::ConnectReservedFlag => {
                f.write_str("[MQTT-3.1.2-3] the reserved CONNECT flag must be 0")
            }
            Self::WillFlagsWithoutWill => f.write_str(
                "[MQTT-3.1.2-11] [MQTT-3.1.2-13] Will QoS and Will Retain must be 0 when the Will Flag is 0",
            ),
            Self::InvalidWillQos => f.write_str("[MQTT-3.1.2-12] Will QoS 3 is not allowed"),
            Self::PasswordWithoutUsername => f.write_str(
                "[MQTT-3.1.2-22] (3.1.1) the Password Flag requires the User Name Flag",
            ),
            Self::ClientIdRejected => f.write_str(
                "[MQTT-3.1.3-8] (3.1.1) an empty client identifier requires Clean Session 1",
            ),
            Self::ConnAckReservedFlags { flags } => write!(
                f,
                "[MQTT-3.2.2-1] CONNACK acknowledge flags {flags:#04x} have reserved bits set"
            ),
            Self::SessionPresentOnFailure => f.write_str(
                "[MQTT-3.2.2-6] Session Present must be 0 when the CONNACK reports a failure",
            ),
            Self::InvalidPublishQos => f.write_str("[MQTT-3.3.1-4] QoS 3 is not allowed"),
            Self::DupWithQos0 => {
                f.write_str("[MQTT-3.3.1-2] the DUP flag must be 0 for QoS 0 messages")
            }
            Self::WildcardInTopicName { topic } => write!(
                f,
                "[MQTT-3.3.2-2] the topic name {topic:?} must not contain wildcard characters"
            ),
            Self::EmptyTopicName => f.write_str(
                "[MQTT-4.7.3-1] the topic name is empty (allowed in MQTT 5 only with a Topic Alias)",
            ),
            Self::WildcardInResponseTopic => f.write_str(
                "[MQTT-3.3.2-14] the Response Topic must not contain wildcard characters",
            ),
            Self::ReservedSubscriptionOptions { options } => write!(
                f,
                "[MQTT-3.8.3-5] subscription options {options:#04x} have reserved bits set"
            ),
            Self::InvalidSubscriptionQos { options } => write!(
                f,
                "[§3.8.3.1] subscription options {options:#04x} request QoS 3"
            ),
            Self::InvalidRetainHandling { options } => write!(
                f,
                "[§3.8.3.1] subscription options {options:#04x} use Retain Handling 3"
            ),
            Self::NoLocalOnSharedSubscription { filter } => write!(
                f,
                "[MQTT-3.8.3-4] No Local must not be set on the shared subscription {filter:?}"
            ),
            Self::EmptySubscribe => {
                f.write_str("[MQTT-3.8.3-2] SUBSCRIBE must contain at least one topic filter")
            }
            Self::EmptyUnsubscribe => {
                f.write_str("[MQTT-3.10.3-2] UNSUBSCRIBE must contain at least one topic filter")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Why a packet value cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// A string longer than 65,535 bytes.
    StringTooLong {
        /// The field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// Binary data longer than 65,535 bytes.
    BinaryTooLong {
        /// The field.
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A string containing U+0000, which no MQTT string may hold.
    NullCharacter {
        /// The field.
        field: &'static str,
    },
    /// A body longer than the largest Remaining Length (268,435,455 bytes).
    PacketTooLarge {
        /// The body length that was needed.
        remaining_length: usize,
    },
    /// A PUBLISH whose packet identifier presence does not match its QoS
    /// (present iff QoS > 0).
    PacketIdMismatch {
        /// The PUBLISH QoS.
        qos: QoS,
    },
    /// A property set on a packet that may not carry it.
    PropertyNotAllowed {
        /// The property.
        id: PropertyId,
        /// The packet or section, e.g. `"CONNACK"`.
        context: &'static str,
    },
    /// A property value that the wire format cannot express or forbids
    /// (Subscription Identifier 0 or above 268,435,455, several Subscription
    /// Identifiers outside PUBLISH, Maximum QoS 2, a wildcard in the Response
    /// Topic, Authentication Data without Authentication Method).
    InvalidPropertyValue {
        /// The property.
        id: PropertyId,
    },
    /// A 3.1.1 CONNECT with a password but no user name.
    PasswordWithoutUsername,
    /// A CONNACK reason code that 3.1.1 has no return code for; a 3.1.1
    /// server closes the connection without CONNACK in that case.
    NoV311ReturnCode {
        /// The MQTT 5 reason code.
        code: u8,
    },
    /// A packet type that does not exist in the protocol version (AUTH in 3.1.1).
    NotInVersion {
        /// The packet type.
        packet: PacketType,
        /// The version.
        version: ProtocolVersion,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StringTooLong { field, len } => {
                write!(
                    f,
                    "the {field} is {len} bytes; MQTT strings hold at most 65535"
                )
            }
            Self::BinaryTooLong { field, len } => {
                write!(
                    f,
                    "the {field} is {len} bytes; MQTT binary data holds at most 65535"
                )
            }
            Self::NullCharacter { field } => write!(f, "the {field} contains U+0000"),
            Self::PacketTooLarge { remaining_length } => write!(
                f,
                "a {remaining_length}-byte body exceeds the largest Remaining Length (268435455)"
            ),
            Self::PacketIdMismatch { qos } => write!(
                f,
                "a PUBLISH at {qos:?} must {}carry a packet identifier",
                if *qos == QoS::AtMostOnce { "not " } else { "" }
            ),
            Self::PropertyNotAllowed { id, context } => {
                write!(f, "{id} is not allowed in {context}")
            }
            Self::InvalidPropertyValue { id } => write!(f, "invalid value for {id}"),
            Self::PasswordWithoutUsername => {
                f.write_str("MQTT 3.1.1 does not allow a password without a user name")
            }
            Self::NoV311ReturnCode { code } => {
                write!(
                    f,
                    "CONNACK reason code {code:#04x} has no MQTT 3.1.1 return code"
                )
            }
            Self::NotInVersion { packet, version } => {
                write!(f, "{packet} does not exist in {version}")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

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

    #[test]
    fn messages_name_the_rule_they_enforce() {
        assert_eq!(
            DecodeError::InvalidPublishQos.to_string(),
            "[MQTT-3.3.1-4] QoS 3 is not allowed"
        );
        assert!(DecodeError::DuplicateProperty {
            id: PropertyId::ReasonString
        }
        .to_string()
        .contains("Reason String (0x1f)"));
        assert!(EncodeError::NoV311ReturnCode { code: 0x81 }
            .to_string()
            .contains("0x81"));
    }
}
