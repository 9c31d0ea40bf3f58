//! MQTT 5 properties (spec §2.2.2): one [`Properties`] model shared by every
//! packet, and per-packet rules saying which properties may appear.
//!
//! Sharing one struct keeps the decoder and encoder to a single table of
//! identifiers; the per-packet [`PropertyContext`] is what rejects, say, a
//! Topic Alias in CONNACK (Malformed Packet) and what the encoder consults so
//! it never writes a property the peer would have to reject.

use std::convert::Infallible;
use std::fmt;
use std::num::{NonZeroU16, NonZeroU32};

use super::primitives::{
    prefixed_len, put_binary, put_string, put_u16, put_u32, put_var_int, var_int_len, Reader,
    VAR_INT_MAX,
};
use super::{topic, DecodeError, EncodeError, QoS};

/// MQTT 5 property identifiers (spec table 2-4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PropertyId {
    /// Payload Format Indicator (0x01).
    PayloadFormatIndicator = 0x01,
    /// Message Expiry Interval (0x02).
    MessageExpiryInterval = 0x02,
    /// Content Type (0x03).
    ContentType = 0x03,
    /// Response Topic (0x08).
    ResponseTopic = 0x08,
    /// Correlation Data (0x09).
    CorrelationData = 0x09,
    /// Subscription Identifier (0x0B).
    SubscriptionIdentifier = 0x0B,
    /// Session Expiry Interval (0x11).
    SessionExpiryInterval = 0x11,
    /// Assigned Client Identifier (0x12).
    AssignedClientIdentifier = 0x12,
    /// Server Keep Alive (0x13).
    ServerKeepAlive = 0x13,
    /// Authentication Method (0x15).
    AuthenticationMethod = 0x15,
    /// Authentication Data (0x16).
    AuthenticationData = 0x16,
    /// Request Problem Information (0x17).
    RequestProblemInformation = 0x17,
    /// Will Delay Interval (0x18).
    WillDelayInterval = 0x18,
    /// Request Response Information (0x19).
    RequestResponseInformation = 0x19,
    /// Response Information (0x1A).
    ResponseInformation = 0x1A,
    /// Server Reference (0x1C).
    ServerReference = 0x1C,
    /// Reason String (0x1F).
    ReasonString = 0x1F,
    /// Receive Maximum (0x21).
    ReceiveMaximum = 0x21,
    /// Topic Alias Maximum (0x22).
    TopicAliasMaximum = 0x22,
    /// Topic Alias (0x23).
    TopicAlias = 0x23,
    /// Maximum QoS (0x24).
    MaximumQos = 0x24,
    /// Retain Available (0x25).
    RetainAvailable = 0x25,
    /// User Property (0x26).
    UserProperty = 0x26,
    /// Maximum Packet Size (0x27).
    MaximumPacketSize = 0x27,
    /// Wildcard Subscription Available (0x28).
    WildcardSubscriptionAvailable = 0x28,
    /// Subscription Identifier Available (0x29).
    SubscriptionIdentifierAvailable = 0x29,
    /// Shared Subscription Available (0x2A).
    SharedSubscriptionAvailable = 0x2A,
}

impl PropertyId {
    /// Every identifier, in ascending order (the order the encoder writes).
    const ALL: [Self; 27] = [
        Self::PayloadFormatIndicator,
        Self::MessageExpiryInterval,
        Self::ContentType,
        Self::ResponseTopic,
        Self::CorrelationData,
        Self::SubscriptionIdentifier,
        Self::SessionExpiryInterval,
        Self::AssignedClientIdentifier,
        Self::ServerKeepAlive,
        Self::AuthenticationMethod,
        Self::AuthenticationData,
        Self::RequestProblemInformation,
        Self::WillDelayInterval,
        Self::RequestResponseInformation,
        Self::ResponseInformation,
        Self::ServerReference,
        Self::ReasonString,
        Self::ReceiveMaximum,
        Self::TopicAliasMaximum,
        Self::TopicAlias,
        Self::MaximumQos,
        Self::RetainAvailable,
        Self::UserProperty,
        Self::MaximumPacketSize,
        Self::WildcardSubscriptionAvailable,
        Self::SubscriptionIdentifierAvailable,
        Self::SharedSubscriptionAvailable,
    ];

    /// The identifier for a wire value, if MQTT 5 defines one.
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|p| u32::from(*p as u8) == id)
    }

    /// The specification's name for the property.
    pub fn name(self) -> &'static str {
        match self {
            Self::PayloadFormatIndicator => "Payload Format Indicator",
            Self::MessageExpiryInterval => "Message Expiry Interval",
            Self::ContentType => "Content Type",
            Self::ResponseTopic => "Response Topic",
            Self::CorrelationData => "Correlation Data",
            Self::SubscriptionIdentifier => "Subscription Identifier",
            Self::SessionExpiryInterval => "Session Expiry Interval",
            Self::AssignedClientIdentifier => "Assigned Client Identifier",
            Self::ServerKeepAlive => "Server Keep Alive",
            Self::AuthenticationMethod => "Authentication Method",
            Self::AuthenticationData => "Authentication Data",
            Self::RequestProblemInformation => "Request Problem Information",
            Self::WillDelayInterval => "Will Delay Interval",
            Self::RequestResponseInformation => "Request Response Information",
            Self::ResponseInformation => "Response Information",
            Self::ServerReference => "Server Reference",
            Self::ReasonString => "Reason String",
            Self::ReceiveMaximum => "Receive Maximum",
            Self::TopicAliasMaximum => "Topic Alias Maximum",
            Self::TopicAlias => "Topic Alias",
            Self::MaximumQos => "Maximum QoS",
            Self::RetainAvailable => "Retain Available",
            Self::UserProperty => "User Property",
            Self::MaximumPacketSize => "Maximum Packet Size",
            Self::WildcardSubscriptionAvailable => "Wildcard Subscription Available",
            Self::SubscriptionIdentifierAvailable => "Subscription Identifier Available",
            Self::SharedSubscriptionAvailable => "Shared Subscription Available",
        }
    }

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

/// The properties of one packet (or of a will message). Fields a packet type
/// cannot carry stay at their defaults; `None`/empty means "absent".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    /// Payload Format Indicator (PUBLISH, will).
    pub payload_format_indicator: Option<PayloadFormat>,
    /// Message Expiry Interval in seconds (PUBLISH, will).
    pub message_expiry_interval: Option<u32>,
    /// Content Type (PUBLISH, will).
    pub content_type: Option<String>,
    /// Response Topic (PUBLISH, will); never contains wildcards.
    pub response_topic: Option<String>,
    /// Correlation Data (PUBLISH, will).
    pub correlation_data: Option<Vec<u8>>,
    /// Subscription Identifiers, each 1..=268,435,455: several in a
    /// server-to-client PUBLISH, at most one in SUBSCRIBE.
    pub subscription_identifiers: Vec<u32>,
    /// Session Expiry Interval in seconds (CONNECT, CONNACK, DISCONNECT).
    pub session_expiry_interval: Option<u32>,
    /// Assigned Client Identifier (CONNACK).
    pub assigned_client_identifier: Option<String>,
    /// Server Keep Alive in seconds (CONNACK).
    pub server_keep_alive: Option<u16>,
    /// Authentication Method (CONNECT, CONNACK, AUTH).
    pub authentication_method: Option<String>,
    /// Authentication Data (CONNECT, CONNACK, AUTH).
    pub authentication_data: Option<Vec<u8>>,
    /// Request Problem Information (CONNECT).
    pub request_problem_information: Option<bool>,
    /// Will Delay Interval in seconds (will).
    pub will_delay_interval: Option<u32>,
    /// Request Response Information (CONNECT).
    pub request_response_information: Option<bool>,
    /// Response Information (CONNACK).
    pub response_information: Option<String>,
    /// Server Reference (CONNACK, DISCONNECT).
    pub server_reference: Option<String>,
    /// Reason String (acknowledgements, DISCONNECT, AUTH).
    pub reason_string: Option<String>,
    /// Receive Maximum (CONNECT, CONNACK).
    pub receive_maximum: Option<NonZeroU16>,
    /// Topic Alias Maximum (CONNECT, CONNACK).
    pub topic_alias_maximum: Option<u16>,
    /// Topic Alias (PUBLISH).
    pub topic_alias: Option<NonZeroU16>,
    /// Maximum QoS (CONNACK): only QoS 0 or 1 may be sent; absent means 2.
    pub maximum_qos: Option<QoS>,
    /// Retain Available (CONNACK).
    pub retain_available: Option<bool>,
    /// User Properties in wire order; names may repeat (every packet).
    pub user_properties: Vec<(String, String)>,
    /// Maximum Packet Size (CONNECT, CONNACK).
    pub maximum_packet_size: Option<NonZeroU32>,
    /// Wildcard Subscription Available (CONNACK).
    pub wildcard_subscription_available: Option<bool>,
    /// Subscription Identifiers Available (CONNACK).
    pub subscription_identifiers_available: Option<bool>,
    /// Shared Subscription Available (CONNACK).
    pub shared_subscription_available: Option<bool>,
}

/// Which properties a packet (or the will) may carry.
pub(crate) struct PropertyContext {
    pub(crate) name: &'static str,
    allowed: u64,
    /// Only PUBLISH may repeat the Subscription Identifier.
    repeatable_subscription_id: bool,
}

impl PropertyContext {
    const fn new(name: &'static str, ids: &[PropertyId]) -> Self {
        let mut allowed = PropertyId::UserProperty.bit();
        let mut i = 0;
        while i < ids.len() {
            allowed |= ids[i].bit();
            i += 1;
        }
        Self {
            name,
            allowed,
            repeatable_subscription_id: false,
        }
    }

    fn allows(&self, id: PropertyId) -> bool {
        self.allowed & id.bit() != 0
    }
}

use PropertyId as P;

pub(crate) const CONNECT: PropertyContext = PropertyContext::new(
    "CONNECT",
    &[
        P::SessionExpiryInterval,
        P::ReceiveMaximum,
        P::MaximumPacketSize,
        P::TopicAliasMaximum,
        P::RequestResponseInformation,
        P::RequestProblemInformation,
        P::AuthenticationMethod,
        P::AuthenticationData,
    ],
);

pub(crate) const WILL: PropertyContext = PropertyContext::new(
    "will properties",
    &[
        P::WillDelayInterval,
        P::PayloadFormatIndicator,
        P::MessageExpiryInterval,
        P::ContentType,
        P::ResponseTopic,
        P::CorrelationData,
    ],
);

pub(crate) const CONNACK: PropertyContext = PropertyContext::new(
    "CONNACK",
    &[
        P::SessionExpiryInterval,
        P::ReceiveMaximum,
        P::MaximumQos,
        P::RetainAvailable,
        P::MaximumPacketSize,
        P::AssignedClientIdentifier,
        P::TopicAliasMaximum,
        P::ReasonString,
        P::WildcardSubscriptionAvailable,
        P::SubscriptionIdentifierAvailable,
        P::SharedSubscriptionAvailable,
        P::ServerKeepAlive,
        P::ResponseInformation,
        P::ServerReference,
        P::AuthenticationMethod,
        P::AuthenticationData,
    ],
);

pub(crate) const PUBLISH: PropertyContext = PropertyContext {
    repeatable_subscription_id: true,
    ..PropertyContext::new(
        "PUBLISH",
        &[
            P::PayloadFormatIndicator,
            P::MessageExpiryInterval,
            P::TopicAlias,
            P::ResponseTopic,
            P::CorrelationData,
            P::SubscriptionIdentifier,
            P::ContentType,
        ],
    )
};

/// PUBACK, PUBREC, PUBREL and PUBCOMP.
pub(crate) const ACK: PropertyContext =
    PropertyContext::new("PUBACK/PUBREC/PUBREL/PUBCOMP", &[P::ReasonString]);

pub(crate) const SUBSCRIBE: PropertyContext =
    PropertyContext::new("SUBSCRIBE", &[P::SubscriptionIdentifier]);

pub(crate) const SUBACK: PropertyContext = PropertyContext::new("SUBACK", &[P::ReasonString]);

pub(crate) const UNSUBSCRIBE: PropertyContext = PropertyContext::new("UNSUBSCRIBE", &[]);

pub(crate) const UNSUBACK: PropertyContext = PropertyContext::new("UNSUBACK", &[P::ReasonString]);

pub(crate) const DISCONNECT: PropertyContext = PropertyContext::new(
    "DISCONNECT",
    &[
        P::SessionExpiryInterval,
        P::ReasonString,
        P::ServerReference,
    ],
);

pub(crate) const AUTH: PropertyContext = PropertyContext::new(
    "AUTH",
    &[
        P::AuthenticationMethod,
        P::AuthenticationData,
        P::ReasonString,
    ],
);

/// One property value as it goes on the wire.
enum Value<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

impl Value<'_> {
    fn len(&self) -> usize {
        match self {
            Self::Byte(_) => 1,
            Self::U16(_) => 2,
            Self::U32(_) => 4,
            Self::VarInt(v) => var_int_len(*v as usize),
            Self::Str(s) => prefixed_len(s.as_bytes()),
            Self::Bin(b) => prefixed_len(b),
            Self::Pair(k, v) => prefixed_len(k.as_bytes()) + prefixed_len(v.as_bytes()),
        }
    }

    fn write(&self, out: &mut Vec<u8>, field: &'static str) -> Result<(), EncodeError> {
        match self {
            Self::Byte(v) => out.push(*v),
            Self::U16(v) => put_u16(out, *v),
            Self::U32(v) => put_u32(out, *v),
            Self::VarInt(v) => put_var_int(out, *v),
            Self::Str(s) => put_string(out, s, field)?,
            Self::Bin(b) => put_binary(out, b, field)?,
            Self::Pair(k, v) => {
                put_string(out, k, field)?;
                put_string(out, v, field)?;
            }
        }
        Ok(())
    }
}

/// Stores a property that may appear at most once.
fn set_once<T>(slot: &mut Option<T>, id: PropertyId, value: T) -> Result<(), DecodeError> {
    if slot.is_some() {
        return Err(DecodeError::DuplicateProperty { id });
    }
    *slot = Some(value);
    Ok(())
}

/// Reads a byte property whose only valid values are 0 and 1.
fn read_bool(r: &mut Reader<'_>, id: PropertyId) -> Result<bool, DecodeError> {
    match r.u8(id.name())? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(DecodeError::InvalidPropertyValue {
            id,
            value: other.into(),
        }),
    }
}

impl Properties {
    /// Whether no property is present.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Reads a property length and the properties it covers, accepting only
    /// those `context` allows.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        context: &PropertyContext,
    ) -> Result<Self, DecodeError> {
        let len = r.var_int("property length")?;
        let mut r = Reader::new(r.take(len as usize, "properties")?);
        let mut p = Self::default();
        while !r.is_empty() {
            let raw = r.var_int("property identifier")?;
            let id = PropertyId::from_id(raw).ok_or(DecodeError::UnknownProperty { id: raw })?;
            if !context.allows(id) {
                return Err(DecodeError::PropertyNotAllowed {
                    id,
                    context: context.name,
                });
            }
            p.decode_one(&mut r, id, context)?;
        }
        if p.authentication_data.is_some() && p.authentication_method.is_none() {
            return Err(DecodeError::AuthenticationMethodMissing);
        }
        Ok(p)
    }

    fn decode_one(
        &mut self,
        r: &mut Reader<'_>,
        id: PropertyId,
        context: &PropertyContext,
    ) -> Result<(), DecodeError> {
        let field = id.name();
        let invalid = |value: u32| DecodeError::InvalidPropertyValue { id, value };
        match id {
            P::PayloadFormatIndicator => {
                let format = match r.u8(field)? {
                    0 => PayloadFormat::Unspecified,
                    1 => PayloadFormat::Utf8,
                    other => return Err(invalid(other.into())),
                };
                set_once(&mut self.payload_format_indicator, id, format)
            }
            P::MessageExpiryInterval => {
                set_once(&mut self.message_expiry_interval, id, r.u32(field)?)
            }
            P::ContentType => set_once(&mut self.content_type, id, r.string(field)?.to_owned()),
            P::ResponseTopic => {
                let topic = r.string(field)?;
                if topic::has_wildcard(topic) {
                    return Err(DecodeError::WildcardInResponseTopic);
                }
                set_once(&mut self.response_topic, id, topic.to_owned())
            }
            P::CorrelationData => {
                set_once(&mut self.correlation_data, id, r.binary(field)?.to_vec())
            }
            P::SubscriptionIdentifier => {
                let value = r.var_int(field)?;
                if value == 0 {
                    return Err(invalid(0));
                }
                if !context.repeatable_subscription_id && !self.subscription_identifiers.is_empty()
                {
                    return Err(DecodeError::DuplicateProperty { id });
                }
                self.subscription_identifiers.push(value);
                Ok(())
            }
            P::SessionExpiryInterval => {
                set_once(&mut self.session_expiry_interval, id, r.u32(field)?)
            }
            P::AssignedClientIdentifier => set_once(
                &mut self.assigned_client_identifier,
                id,
                r.string(field)?.to_owned(),
            ),
            P::ServerKeepAlive => set_once(&mut self.server_keep_alive, id, r.u16(field)?),
            P::AuthenticationMethod => set_once(
                &mut self.authentication_method,
                id,
                r.string(field)?.to_owned(),
            ),
            P::AuthenticationData => {
                set_once(&mut self.authentication_data, id, r.binary(field)?.to_vec())
            }
            P::RequestProblemInformation => {
                set_once(&mut self.request_problem_information, id, read_bool(r, id)?)
            }
            P::WillDelayInterval => set_once(&mut self.will_delay_interval, id, r.u32(field)?),
            P::RequestResponseInformation => set_once(
                &mut self.request_response_information,
                id,
                read_bool(r, id)?,
            ),
            P::ResponseInformation => set_once(
                &mut self.response_information,
                id,
                r.string(field)?.to_owned(),
            ),
            P::ServerReference => {
                set_once(&mut self.server_reference, id, r.string(field)?.to_owned())
            }
            P::ReasonString => set_once(&mut self.reason_string, id, r.string(field)?.to_owned()),
            P::ReceiveMaximum => {
                let value = NonZeroU16::new(r.u16(field)?).ok_or(invalid(0))?;
                set_once(&mut self.receive_maximum, id, value)
            }
            P::TopicAliasMaximum => set_once(&mut self.topic_alias_maximum, id, r.u16(field)?),
            P::TopicAlias => {
                let value = NonZeroU16::new(r.u16(field)?).ok_or(invalid(0))?;
                set_once(&mut self.topic_alias, id, value)
            }
            P::MaximumQos => {
                let qos = match r.u8(field)? {
                    0 => QoS::AtMostOnce,
                    1 => QoS::AtLeastOnce,
                    other => return Err(invalid(other.into())),
                };
                set_once(&mut self.maximum_qos, id, qos)
            }
            P::RetainAvailable => set_once(&mut self.retain_available, id, read_bool(r, id)?),
            P::UserProperty => {
                let name = r.string(field)?.to_owned();
                let value = r.string(field)?.to_owned();
                self.user_properties.push((name, value));
                Ok(())
            }
            P::MaximumPacketSize => {
                let value = NonZeroU32::new(r.u32(field)?).ok_or(invalid(0))?;
                set_once(&mut self.maximum_packet_size, id, value)
            }
            P::WildcardSubscriptionAvailable => set_once(
                &mut self.wildcard_subscription_available,
                id,
                read_bool(r, id)?,
            ),
            P::SubscriptionIdentifierAvailable => set_once(
                &mut self.subscription_identifiers_available,
                id,
                read_bool(r, id)?,
            ),
            P::SharedSubscriptionAvailable => set_once(
                &mut self.shared_subscription_available,
                id,
                read_bool(r, id)?,
            ),
        }
    }

    /// Calls `f` for every present property in ascending identifier order —
    /// the single description of the wire form that both [`Self::wire_len`]
    /// and [`Self::encode`] walk, so the two cannot disagree.
    fn visit<E>(&self, mut f: impl FnMut(PropertyId, Value<'_>) -> Result<(), E>) -> Result<(), E> {
        let mut emit = |id, value: Option<Value<'_>>| value.map_or(Ok(()), |v| f(id, v));
        let byte = |b: bool| Value::Byte(u8::from(b));

        let format = self.payload_format_indicator.map(|v| Value::Byte(v as u8));
        emit(P::PayloadFormatIndicator, format)?;
        emit(
            P::MessageExpiryInterval,
            self.message_expiry_interval.map(Value::U32),
        )?;
        emit(P::ContentType, self.content_type.as_deref().map(Value::Str))?;
        emit(
            P::ResponseTopic,
            self.response_topic.as_deref().map(Value::Str),
        )?;
        emit(
            P::CorrelationData,
            self.correlation_data.as_deref().map(Value::Bin),
        )?;
        for &id in &self.subscription_identifiers {
            emit(P::SubscriptionIdentifier, Some(Value::VarInt(id)))?;
        }
        emit(
            P::SessionExpiryInterval,
            self.session_expiry_interval.map(Value::U32),
        )?;
        let assigned = self.assigned_client_identifier.as_deref().map(Value::Str);
        emit(P::AssignedClientIdentifier, assigned)?;
        emit(P::ServerKeepAlive, self.server_keep_alive.map(Value::U16))?;
        emit(
            P::AuthenticationMethod,
            self.authentication_method.as_deref().map(Value::Str),
        )?;
        emit(
            P::AuthenticationData,
            self.authentication_data.as_deref().map(Value::Bin),
        )?;
        let problem = self.request_problem_information.map(byte);
        emit(P::RequestProblemInformation, problem)?;
        emit(
            P::WillDelayInterval,
            self.will_delay_interval.map(Value::U32),
        )?;
        let response = self.request_response_information.map(byte);
        emit(P::RequestResponseInformation, response)?;
        emit(
            P::ResponseInformation,
            self.response_information.as_deref().map(Value::Str),
        )?;
        emit(
            P::ServerReference,
            self.server_reference.as_deref().map(Value::Str),
        )?;
        emit(
            P::ReasonString,
            self.reason_string.as_deref().map(Value::Str),
        )?;
        let receive_maximum = self.receive_maximum.map(|v| Value::U16(v.get()));
        emit(P::ReceiveMaximum, receive_maximum)?;
        emit(
            P::TopicAliasMaximum,
            self.topic_alias_maximum.map(Value::U16),
        )?;
        emit(P::TopicAlias, self.topic_alias.map(|v| Value::U16(v.get())))?;
        emit(
            P::MaximumQos,
            self.maximum_qos.map(|v| Value::Byte(v as u8)),
        )?;
        emit(P::RetainAvailable, self.retain_available.map(byte))?;
        for (name, value) in &self.user_properties {
            emit(P::UserProperty, Some(Value::Pair(name, value)))?;
        }
        let packet_size = self.maximum_packet_size.map(|v| Value::U32(v.get()));
        emit(P::MaximumPacketSize, packet_size)?;
        let wildcard = self.wildcard_subscription_available.map(byte);
        emit(P::WildcardSubscriptionAvailable, wildcard)?;
        let ids = self.subscription_identifiers_available.map(byte);
        emit(P::SubscriptionIdentifierAvailable, ids)?;
        let shared = self.shared_subscription_available.map(byte);
        emit(P::SharedSubscriptionAvailable, shared)
    }

    /// Size of the property section's content, without its length prefix.
    fn content_len(&self) -> usize {
        let mut len = 0;
        let Ok(()) = self.visit::<Infallible>(|_, value| {
            len += 1 + value.len();
            Ok(())
        });
        len
    }

    /// Size of the property section including its length prefix.
    pub(crate) fn wire_len(&self) -> usize {
        let len = self.content_len();
        var_int_len(len) + len
    }

    /// Writes the property length and the properties, refusing any that
    /// `context` does not allow or whose value the peer would reject.
    pub(crate) fn encode(
        &self,
        out: &mut Vec<u8>,
        context: &PropertyContext,
    ) -> Result<(), EncodeError> {
        let mut subscription_ids = 0;
        self.visit(|id, value| {
            if !context.allows(id) {
                return Err(EncodeError::PropertyNotAllowed {
                    id,
                    context: context.name,
                });
            }
            let valid = match (id, &value) {
                (P::SubscriptionIdentifier, Value::VarInt(v)) => {
                    subscription_ids += 1;
                    (1..=VAR_INT_MAX).contains(v)
                        && (context.repeatable_subscription_id || subscription_ids == 1)
                }
                (P::MaximumQos, Value::Byte(v)) => *v <= 1,
                (P::ResponseTopic, Value::Str(s)) => !topic::has_wildcard(s),
                _ => true,
            };
            if valid {
                Ok(())
            } else {
                Err(EncodeError::InvalidPropertyValue { id })
            }
        })?;
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(EncodeError::InvalidPropertyValue {
                id: P::AuthenticationData,
            });
        }
        let len = self.content_len();
        // The packet's own length check normally catches this first.
        let len = u32::try_from(len)
            .ok()
            .filter(|&l| l <= VAR_INT_MAX)
            .ok_or(EncodeError::PacketTooLarge {
                remaining_length: len,
            })?;
        put_var_int(out, len);
        self.visit(|id, value| {
            out.push(id as u8);
            value.write(out, id.name())
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::hex;

    fn decode_in(bytes: &str, context: &PropertyContext) -> Result<Properties, DecodeError> {
        let bytes = hex(bytes);
        let mut r = Reader::new(&bytes);
        let props = Properties::decode(&mut r, context)?;
        assert!(
            r.is_empty(),
            "property section length disagrees with its content"
        );
        Ok(props)
    }

    fn encode_in(props: &Properties, context: &PropertyContext) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        props.encode(&mut out, context)?;
        assert_eq!(out.len(), props.wire_len());
        Ok(out)
    }

    #[test]
    fn every_property_round_trips_in_a_context_that_allows_it() {
        let everything = Properties {
            payload_format_indicator: Some(PayloadFormat::Utf8),
            message_expiry_interval: Some(60),
            content_type: Some("text/plain".into()),
            response_topic: Some("replies/1".into()),
            correlation_data: Some(vec![1, 2, 3]),
            subscription_identifiers: vec![1, 268_435_455],
            session_expiry_interval: Some(u32::MAX),
            assigned_client_identifier: Some("auto-1".into()),
            server_keep_alive: Some(30),
            authentication_method: Some("SCRAM-SHA-1".into()),
            authentication_data: Some(vec![9]),
            request_problem_information: Some(false),
            will_delay_interval: Some(5),
            request_response_information: Some(true),
            response_information: Some("resp".into()),
            server_reference: Some("other:1883".into()),
            reason_string: Some("because".into()),
            receive_maximum: NonZeroU16::new(10),
            topic_alias_maximum: Some(0),
            topic_alias: NonZeroU16::new(3),
            maximum_qos: Some(QoS::AtLeastOnce),
            retain_available: Some(false),
            user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
            maximum_packet_size: NonZeroU32::new(32_768),
            wildcard_subscription_available: Some(true),
            subscription_identifiers_available: Some(false),
            shared_subscription_available: Some(true),
        };
        let all = PropertyContext {
            name: "test",
            allowed: u64::MAX,
            repeatable_subscription_id: true,
        };
        let bytes = encode_in(&everything, &all).unwrap();
        let mut r = Reader::new(&bytes);
        assert_eq!(Properties::decode(&mut r, &all).unwrap(), everything);
    }

    #[test]
    fn properties_are_written_in_identifier_order_with_user_properties_kept_in_order() {
        let props = Properties {
            topic_alias: NonZeroU16::new(1),
            content_type: Some("a".into()),
            user_properties: vec![("z".into(), "1".into()), ("a".into(), "2".into())],
            ..Properties::default()
        };
        let bytes = encode_in(&props, &PUBLISH).unwrap();
        assert_eq!(
            bytes,
            hex("15 03 0001 61 23 0001 26 0001 7a 0001 31 26 0001 61 0001 32")
        );
    }

    #[test]
    fn empty_properties_encode_as_a_single_zero() {
        assert_eq!(encode_in(&Properties::default(), &CONNECT).unwrap(), [0]);
        assert!(Properties::default().is_empty());
    }

    #[test]
    fn decoding_rejects_bad_property_sections() {
        use DecodeError as E;
        let cases: Vec<(&str, &PropertyContext, DecodeError)> = vec![
            (
                "02 2300",
                &PUBLISH,
                E::UnexpectedEnd {
                    field: "Topic Alias",
                },
            ),
            (
                "05 0b01",
                &PUBLISH,
                E::UnexpectedEnd {
                    field: "properties",
                },
            ),
            ("01 7f", &PUBLISH, E::UnknownProperty { id: 0x7f }),
            ("02 8001", &PUBLISH, E::UnknownProperty { id: 0x80 }),
            ("02 8000", &PUBLISH, E::NonMinimalVarInt),
            (
                "03 2300 01",
                &CONNACK,
                E::PropertyNotAllowed {
                    id: P::TopicAlias,
                    context: "CONNACK",
                },
            ),
            (
                "05 1800 0000 05",
                &CONNECT,
                E::PropertyNotAllowed {
                    id: P::WillDelayInterval,
                    context: "CONNECT",
                },
            ),
            (
                "02 0b01",
                &UNSUBSCRIBE,
                E::PropertyNotAllowed {
                    id: P::SubscriptionIdentifier,
                    context: "UNSUBSCRIBE",
                },
            ),
            (
                "06 2300 01 2300 02",
                &PUBLISH,
                E::DuplicateProperty { id: P::TopicAlias },
            ),
            (
                "08 1f0001 61 1f0001 62",
                &SUBACK,
                E::DuplicateProperty {
                    id: P::ReasonString,
                },
            ),
            (
                "04 0b01 0b02",
                &SUBSCRIBE,
                E::DuplicateProperty {
                    id: P::SubscriptionIdentifier,
                },
            ),
            (
                "02 0b00",
                &SUBSCRIBE,
                E::InvalidPropertyValue {
                    id: P::SubscriptionIdentifier,
                    value: 0,
                },
            ),
            (
                "03 2100 00",
                &CONNECT,
                E::InvalidPropertyValue {
                    id: P::ReceiveMaximum,
                    value: 0,
                },
            ),
            (
                "05 2700 0000 00",
                &CONNECT,
                E::InvalidPropertyValue {
                    id: P::MaximumPacketSize,
                    value: 0,
                },
            ),
            (
                "03 2300 00",
                &PUBLISH,
                E::InvalidPropertyValue {
                    id: P::TopicAlias,
                    value: 0,
                },
            ),
            (
                "02 2402",
                &CONNACK,
                E::InvalidPropertyValue {
                    id: P::MaximumQos,
                    value: 2,
                },
            ),
            (
                "02 1702",
                &CONNECT,
                E::InvalidPropertyValue {
                    id: P::RequestProblemInformation,
                    value: 2,
                },
            ),
            (
                "02 0102",
                &PUBLISH,
                E::InvalidPropertyValue {
                    id: P::PayloadFormatIndicator,
                    value: 2,
                },
            ),
            ("04 1600 0101", &CONNECT, E::AuthenticationMethodMissing),
            ("04 0800 0123", &PUBLISH, E::WildcardInResponseTopic),
            (
                "04 0300 01ff",
                &PUBLISH,
                E::InvalidUtf8 {
                    field: "Content Type",
                },
            ),
            (
                "07 2600 0161 0001 00",
                &PUBLISH,
                E::NullCharacter {
                    field: "User Property",
                },
            ),
        ];
        for (bytes, context, err) in cases {
            assert_eq!(
                decode_in(bytes, context),
                Err(err),
                "{bytes} in {}",
                context.name
            );
        }
    }

    #[test]
    fn publish_may_repeat_subscription_identifiers() {
        let props = decode_in("04 0b01 0b7f", &PUBLISH).unwrap();
        assert_eq!(props.subscription_identifiers, [1, 127]);
    }

    #[test]
    fn user_properties_may_repeat_and_keep_their_order() {
        let props = decode_in("0e 26 0001 61 0001 31 26 0001 61 0001 32", &DISCONNECT).unwrap();
        assert_eq!(
            props.user_properties,
            [
                ("a".to_owned(), "1".to_owned()),
                ("a".to_owned(), "2".to_owned())
            ]
        );
    }

    #[test]
    fn encoding_refuses_properties_the_peer_would_reject() {
        let cases = [
            (
                Properties {
                    topic_alias: NonZeroU16::new(1),
                    ..Properties::default()
                },
                &CONNACK,
                EncodeError::PropertyNotAllowed {
                    id: P::TopicAlias,
                    context: "CONNACK",
                },
            ),
            (
                Properties {
                    subscription_identifiers: vec![0],
                    ..Properties::default()
                },
                &PUBLISH,
                EncodeError::InvalidPropertyValue {
                    id: P::SubscriptionIdentifier,
                },
            ),
            (
                Properties {
                    subscription_identifiers: vec![VAR_INT_MAX + 1],
                    ..Properties::default()
                },
                &PUBLISH,
                EncodeError::InvalidPropertyValue {
                    id: P::SubscriptionIdentifier,
                },
            ),
            (
                Properties {
                    subscription_identifiers: vec![1, 2],
                    ..Properties::default()
                },
                &SUBSCRIBE,
                EncodeError::InvalidPropertyValue {
                    id: P::SubscriptionIdentifier,
                },
            ),
            (
                Properties {
                    maximum_qos: Some(QoS::ExactlyOnce),
                    ..Properties::default()
                },
                &CONNACK,
                EncodeError::InvalidPropertyValue { id: P::MaximumQos },
            ),
            (
                Properties {
                    reason_string: Some("a\0".into()),
                    ..Properties::default()
                },
                &SUBACK,
                EncodeError::NullCharacter {
                    field: "Reason String",
                },
            ),
        ];
        for (props, context, err) in cases {
            assert_eq!(encode_in(&props, context), Err(err));
        }
    }

    #[test]
    fn property_ids_map_to_and_from_the_wire() {
        for id in PropertyId::ALL {
            assert_eq!(PropertyId::from_id(u32::from(id as u8)), Some(id));
        }
        assert_eq!(PropertyId::from_id(0x04), None);
        assert_eq!(PropertyId::from_id(0x126), None);
        assert_eq!(P::ReasonString.to_string(), "Reason String (0x1f)");
    }
}
