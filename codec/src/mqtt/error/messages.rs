//! The messages [`DecodeError`] displays, one arm per variant, each citing
//! the rule of the specification it enforces.

use std::fmt;

use super::super::PacketType;
use super::DecodeError;

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

#[cfg(test)]
mod tests {
    use super::super::super::PropertyId;
    use super::super::EncodeError;
    use super::*;

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
