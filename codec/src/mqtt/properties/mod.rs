//! MQTT 5 properties (spec §2.2.2): one [`Properties`] model shared by every
//! packet, and per-packet rules saying which properties may appear.
//!
//! Every property is declared once, in the table at the bottom of this file:
//! its identifier, name, field (whose type says whether it may repeat) and
//! wire encoding. The identifier enum, the [`PropertyValues`] struct, the
//! decoder's dispatch and the encoder's walk are all generated from that
//! table. Packets hold them as [`Properties`], one pointer that stays empty
//! (no allocation) while no property is present. The per-packet
//! [`PropertyContext`] is what rejects, say, a Topic Alias in CONNACK
//! (Malformed Packet) and what the encoder consults so it never writes a
//! property the peer would have to reject.

use std::fmt;
use std::num::{NonZeroU16, NonZeroU32};

use super::primitives::Reader;
use super::{DecodeError, QoS};

mod boxed;
mod context;
mod section;
mod wire;

#[cfg(test)]
mod tests;

pub use boxed::Properties;
pub(crate) use context::{
    PropertyContext, ACK, AUTH, CONNACK, CONNECT, DISCONNECT, PUBLISH, SUBACK, SUBSCRIBE, UNSUBACK,
    UNSUBSCRIBE, WILL,
};
use wire::{
    Binary, Byte, Encoding, Entry, FourByte, NonZeroVarInt, Slot, TopicName, TwoByte, Utf8,
    Utf8Pair,
};

/// Generates [`PropertyId`], [`PropertyValues`] and the per-property dispatch of
/// the decoder and encoder from one row per property:
///
/// ```text
/// /// field docs
/// 0x01 PayloadFormatIndicator "Payload Format Indicator"
///     => payload_format_indicator: Option<PayloadFormat> as Byte,
/// ```
///
/// An `Option` field holds a property that may appear once, a `Vec` one that
/// may repeat (where the packet's context allows). The `as` marker names the
/// wire encoding, an implementation of `wire::Encoding` for the field's item
/// type, which reads, validates and writes the value.
macro_rules! property_table {
    (
        $(
            $(#[$doc:meta])*
            $id:literal $variant:ident $name:literal => $field:ident: $ty:ty as $encoding:ident,
        )+
    ) => {
        /// MQTT 5 property identifiers (spec table 2-4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum PropertyId {
            $(
                #[doc = concat!($name, " (", stringify!($id), ").")]
                $variant = $id,
            )+
        }

        impl PropertyId {
            /// Every identifier, in ascending order.
            #[cfg(test)]
            const ALL: [Self; [$($id),+].len()] = [$(Self::$variant),+];

            /// The identifier for a wire value, if MQTT 5 defines one.
            pub fn from_id(id: u32) -> Option<Self> {
                match id {
                    $($id => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// The specification's name for the property.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $name,)+
                }
            }
        }

        /// The values of every property of one packet (or of a will message).
        /// Fields a packet type cannot carry stay at their defaults; `None`/empty
        /// means "absent". A packet holds them as [`Properties`].
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct PropertyValues {
            $(
                $(#[$doc])*
                pub $field: $ty,
            )+
        }

        impl PropertyValues {
            /// No property present: what an empty [`Properties`] reads as.
            pub(crate) const EMPTY: Self = Self {
                $($field: <$ty as Slot<_>>::ABSENT,)+
            };

            /// Reads the value of property `id` (its identifier already read)
            /// and stores it, refusing a repetition unless `repeatable`.
            fn decode_one(
                &mut self,
                r: &mut Reader<'_>,
                id: PropertyId,
                repeatable: bool,
            ) -> Result<(), DecodeError> {
                match id {
                    $(
                        PropertyId::$variant => {
                            let value = <$encoding as Encoding<_>>::read(r, id)?;
                            Slot::store(&mut self.$field, id, value, repeatable)
                        }
                    )+
                }
            }

            /// Whether no property is present.
            pub fn is_empty(&self) -> bool {
                true $(&& Slot::is_absent(&self.$field))+
            }

            /// Calls `f` for every present property in ascending identifier
            /// order — the single description of the wire form that both
            /// [`Self::wire_len`] and [`Self::encode`] walk, so the two cannot
            /// disagree.
            fn visit<E>(
                &self,
                mut f: impl FnMut(Entry<'_>) -> Result<(), E>,
            ) -> Result<(), E> {
                $(
                    for (index, item) in Slot::items(&self.$field).enumerate() {
                        f(Entry {
                            id: PropertyId::$variant,
                            value: <$encoding as Encoding<_>>::value(item),
                            repeated: index > 0,
                            valid: <$encoding as Encoding<_>>::is_valid(item),
                        })?;
                    }
                )+
                Ok(())
            }
        }
    };
}

impl PropertyId {
    const fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

impl fmt::Display for PropertyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), *self as u8)
    }
}

/// Payload Format Indicator values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PayloadFormat {
    /// 0: unspecified bytes.
    Unspecified = 0,
    /// 1: UTF-8 encoded character data.
    Utf8 = 1,
}

property_table! {
    /// Payload Format Indicator (PUBLISH, will).
    0x01 PayloadFormatIndicator "Payload Format Indicator"
        => payload_format_indicator: Option<PayloadFormat> as Byte,
    /// Message Expiry Interval in seconds (PUBLISH, will).
    0x02 MessageExpiryInterval "Message Expiry Interval"
        => message_expiry_interval: Option<u32> as FourByte,
    /// Content Type (PUBLISH, will).
    0x03 ContentType "Content Type" => content_type: Option<String> as Utf8,
    /// Response Topic (PUBLISH, will); never contains wildcards.
    0x08 ResponseTopic "Response Topic" => response_topic: Option<String> as TopicName,
    /// Correlation Data (PUBLISH, will).
    0x09 CorrelationData "Correlation Data" => correlation_data: Option<Vec<u8>> as Binary,
    /// Subscription Identifiers, each 1..=268,435,455: several in a
    /// server-to-client PUBLISH, at most one in SUBSCRIBE.
    0x0B SubscriptionIdentifier "Subscription Identifier"
        => subscription_identifiers: Vec<u32> as NonZeroVarInt,
    /// Session Expiry Interval in seconds (CONNECT, CONNACK, DISCONNECT).
    0x11 SessionExpiryInterval "Session Expiry Interval"
        => session_expiry_interval: Option<u32> as FourByte,
    /// Assigned Client Identifier (CONNACK).
    0x12 AssignedClientIdentifier "Assigned Client Identifier"
        => assigned_client_identifier: Option<String> as Utf8,
    /// Server Keep Alive in seconds (CONNACK).
    0x13 ServerKeepAlive "Server Keep Alive" => server_keep_alive: Option<u16> as TwoByte,
    /// Authentication Method (CONNECT, CONNACK, AUTH).
    0x15 AuthenticationMethod "Authentication Method"
        => authentication_method: Option<String> as Utf8,
    /// Authentication Data (CONNECT, CONNACK, AUTH).
    0x16 AuthenticationData "Authentication Data"
        => authentication_data: Option<Vec<u8>> as Binary,
    /// Request Problem Information (CONNECT).
    0x17 RequestProblemInformation "Request Problem Information"
        => request_problem_information: Option<bool> as Byte,
    /// Will Delay Interval in seconds (will).
    0x18 WillDelayInterval "Will Delay Interval"
        => will_delay_interval: Option<u32> as FourByte,
    /// Request Response Information (CONNECT).
    0x19 RequestResponseInformation "Request Response Information"
        => request_response_information: Option<bool> as Byte,
    /// Response Information (CONNACK).
    0x1A ResponseInformation "Response Information"
        => response_information: Option<String> as Utf8,
    /// Server Reference (CONNACK, DISCONNECT).
    0x1C ServerReference "Server Reference" => server_reference: Option<String> as Utf8,
    /// Reason String (acknowledgements, DISCONNECT, AUTH).
    0x1F ReasonString "Reason String" => reason_string: Option<String> as Utf8,
    /// Receive Maximum (CONNECT, CONNACK).
    0x21 ReceiveMaximum "Receive Maximum" => receive_maximum: Option<NonZeroU16> as TwoByte,
    /// Topic Alias Maximum (CONNECT, CONNACK).
    0x22 TopicAliasMaximum "Topic Alias Maximum"
        => topic_alias_maximum: Option<u16> as TwoByte,
    /// Topic Alias (PUBLISH).
    0x23 TopicAlias "Topic Alias" => topic_alias: Option<NonZeroU16> as TwoByte,
    /// Maximum QoS (CONNACK): only QoS 0 or 1 may be sent; absent means 2.
    0x24 MaximumQos "Maximum QoS" => maximum_qos: Option<QoS> as Byte,
    /// Retain Available (CONNACK).
    0x25 RetainAvailable "Retain Available" => retain_available: Option<bool> as Byte,
    /// User Properties in wire order; names may repeat (every packet).
    0x26 UserProperty "User Property" => user_properties: Vec<(String, String)> as Utf8Pair,
    /// Maximum Packet Size (CONNECT, CONNACK).
    0x27 MaximumPacketSize "Maximum Packet Size"
        => maximum_packet_size: Option<NonZeroU32> as FourByte,
    /// Wildcard Subscription Available (CONNACK).
    0x28 WildcardSubscriptionAvailable "Wildcard Subscription Available"
        => wildcard_subscription_available: Option<bool> as Byte,
    /// Subscription Identifiers Available (CONNACK).
    0x29 SubscriptionIdentifierAvailable "Subscription Identifier Available"
        => subscription_identifiers_available: Option<bool> as Byte,
    /// Shared Subscription Available (CONNACK).
    0x2A SharedSubscriptionAvailable "Shared Subscription Available"
        => shared_subscription_available: Option<bool> as Byte,
}
