//! [`EncodeError`]: why a packet value cannot be put on the wire.

use std::fmt;

use super::super::{PacketType, PropertyId, ProtocolVersion, QoS};

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
