//! MQTT control packet codec for protocol levels 4 (3.1.1) and 5 (5.0).
//!
//! Framing is kept apart from parsing so the caller can buffer a byte stream
//! (for example the BINARY events of a WebSocket-over-HTTP request) without
//! this module doing any I/O:
//!
//! 1. [`frame_len`] looks at the start of a buffer and says whether a whole
//!    packet is there yet, and how long it is. It also enforces the maximum
//!    packet size before any body bytes are buffered.
//! 2. [`decode_connect`] parses the first packet of a connection, which is
//!    where the protocol version is learned.
//! 3. [`decode`] parses every later packet for that version;
//!    [`decode_borrowed`] does the same but leaves a PUBLISH's topic and
//!    payload in the caller's buffer ([`PublishRef`]).
//! 4. [`Packet::encode`] (or each packet type's own `encode`) appends the wire
//!    form to a `Vec<u8>`; `encoded_len` tells the size beforehand so the
//!    caller can honour the peer's Maximum Packet Size.
//!
//! A failed decode yields a [`DecodeError`]; [`DecodeError::reason_code`] is
//! the one place that decides which v5 reason code answers it (CONNACK for a
//! bad CONNECT, DISCONNECT otherwise) and
//! [`DecodeError::connack_return_code_v311`] gives the 3.1.1 return code where
//! 3.1.1 has one.
//!
//! Error messages cite the rule they enforce: normative statements as
//! `[MQTT-3.3.1-4]`, other requirements by section as `[§2.2.2.2]`, both from
//! the OASIS MQTT 5.0 specification unless marked "(3.1.1)".
//!
//! The decoder checks every rule that can be judged from a single packet. It
//! does not know connection state, so rules such as "a client must not send a
//! Subscription Identifier in PUBLISH" or topic-alias bookkeeping belong to the
//! caller. The encoder checks lengths and structural consistency but trusts the
//! caller on semantics (it will, for example, encode a SUBSCRIBE whose filter
//! list is empty).
//!
//! ```
//! use pubsub_codec::mqtt::{self, Packet, ProtocolVersion, QoS};
//!
//! // CONNECT captured from MQTT.js 5.16 (protocol level 4, client id "mqttjs_test").
//! let bytes = [
//!     0x10, 0x17, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x0b,
//!     b'm', b'q', b't', b't', b'j', b's', b'_', b't', b'e', b's', b't',
//! ];
//! let len = mqtt::frame_len(&bytes, 32_768)?.expect("whole packet present");
//! let connect = mqtt::decode_connect(&bytes[..len])?;
//! assert_eq!(connect.protocol, ProtocolVersion::V311);
//! assert_eq!(connect.client_id, "mqttjs_test");
//!
//! let mut out = Vec::new();
//! Packet::PingResp.encode(connect.protocol, &mut out)?;
//! assert_eq!(out, [0xd0, 0x00]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

/// Declares a `#[repr(u8)]` reason-code enum together with its `TryFrom<u8>`
/// (the error is the unknown byte) and `From<Self> for u8` conversions, so the
/// byte values are written exactly once.
macro_rules! reason_code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )+
        }

        impl TryFrom<u8> for $name {
            type Error = u8;

            fn try_from(value: u8) -> Result<Self, u8> {
                match value {
                    $( $value => Ok(Self::$variant), )+
                    other => Err(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code as u8
            }
        }
    };
}

mod auth;
mod borrowed;
mod connack;
mod connect;
mod disconnect;
mod error;
mod frame;
mod layout;
mod packet;
mod ping;
mod primitives;
mod properties;
mod puback;
mod publish;
mod publish_ref;
mod suback;
mod subscribe;
mod text;
mod topic;
mod unsuback;
mod unsubscribe;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod test_util;

pub use auth::{Auth, AuthReasonCode};
pub use borrowed::{decode_borrowed, PacketRef};
pub use connack::{ConnAck, ConnectReasonCode};
pub use connect::{Connect, Will};
pub use disconnect::{Disconnect, DisconnectReasonCode};
pub use error::{DecodeError, EncodeError};
pub use frame::frame_len;
pub use packet::{decode, decode_connect, Packet, PacketType};
pub use ping::{PINGREQ_BYTES, PINGRESP_BYTES};
pub use properties::{PayloadFormat, Properties, PropertyId, PropertyValues};
pub use puback::{PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode};
pub use publish::Publish;
pub use publish_ref::PublishRef;
pub use suback::{SubAck, SubAckReasonCode};
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use topic::{is_valid_topic_filter, is_valid_topic_name, shared_subscription};
pub use unsuback::{UnsubAck, UnsubAckReasonCode};
pub use unsubscribe::Unsubscribe;

/// The MQTT protocol level spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1, protocol level 4: no properties, no reason codes on most acks.
    V311,
    /// MQTT 5.0, protocol level 5.
    V5,
}

impl ProtocolVersion {
    /// The "Protocol Level" byte sent in CONNECT.
    pub fn level(self) -> u8 {
        match self {
            Self::V311 => 4,
            Self::V5 => 5,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V311 => "MQTT 3.1.1",
            Self::V5 => "MQTT 5.0",
        })
    }
}

/// Quality of service of a message or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum QoS {
    /// QoS 0: fire and forget.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: acknowledged with PUBACK.
    AtLeastOnce = 1,
    /// QoS 2: four-way PUBREC/PUBREL/PUBCOMP handshake.
    ExactlyOnce = 2,
}

impl TryFrom<u8> for QoS {
    type Error = u8;

    fn try_from(value: u8) -> Result<Self, u8> {
        match value {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            other => Err(other),
        }
    }
}
