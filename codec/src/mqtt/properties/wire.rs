//! The wire encodings a property value can have (spec §1.5 data types), and
//! the two shapes of field that hold them: once (`Option`) or repeated (`Vec`).

use std::num::{NonZeroU16, NonZeroU32};

use super::super::primitives::{
    prefixed_len, put_binary, put_string, put_u16, put_u32, put_var_int, var_int_len, Reader,
    VAR_INT_MAX,
};
use super::super::{topic, DecodeError, EncodeError, QoS};
use super::{PayloadFormat, PropertyId};

/// One property value as it goes on the wire.
pub(super) enum Value<'a> {
    Byte(u8),
    U16(u16),
    U32(u32),
    VarInt(u32),
    Str(&'a str),
    Bin(&'a [u8]),
    Pair(&'a str, &'a str),
}

impl Value<'_> {
    pub(super) fn len(&self) -> usize {
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

    pub(super) fn write(&self, out: &mut Vec<u8>, field: &'static str) -> Result<(), EncodeError> {
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

/// One present property as the encoder walks it.
pub(super) struct Entry<'a> {
    pub(super) id: PropertyId,
    pub(super) value: Value<'a>,
    /// A second or later occurrence of the same property.
    pub(super) repeated: bool,
    /// Whether the peer would accept the value.
    pub(super) valid: bool,
}

/// How a value of type `T` is read, checked and written for one wire
/// encoding. Implemented by the marker types below, which the property table
/// names per property.
pub(super) trait Encoding<T> {
    /// Reads one value, refusing those the specification rules out.
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<T, DecodeError>;
    /// The value as it goes on the wire.
    fn value(v: &T) -> Value<'_>;
    /// Whether the peer would accept `v`; the encoder refuses it otherwise.
    fn is_valid(_v: &T) -> bool {
        true
    }
}

/// A single byte; every byte-valued property allows only 0 and 1.
pub(super) struct Byte;
/// A Two Byte Integer.
pub(super) struct TwoByte;
/// A Four Byte Integer.
pub(super) struct FourByte;
/// A Variable Byte Integer that must not be 0 (the Subscription Identifier).
pub(super) struct NonZeroVarInt;
/// A UTF-8 Encoded String.
pub(super) struct Utf8;
/// A UTF-8 Encoded String that must not contain wildcards (the Response Topic).
pub(super) struct TopicName;
/// Binary Data.
pub(super) struct Binary;
/// A UTF-8 String Pair.
pub(super) struct Utf8Pair;

/// Reads a byte property whose only valid values are 0 and 1.
fn read_zero_or_one(r: &mut Reader<'_>, id: PropertyId) -> Result<bool, DecodeError> {
    match r.u8(id.name())? {
        0 => Ok(false),
        1 => Ok(true),
        other => Err(DecodeError::InvalidPropertyValue {
            id,
            value: other.into(),
        }),
    }
}

fn zero_is_invalid(id: PropertyId) -> DecodeError {
    DecodeError::InvalidPropertyValue { id, value: 0 }
}

impl Encoding<bool> for Byte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<bool, DecodeError> {
        read_zero_or_one(r, id)
    }
    fn value(v: &bool) -> Value<'_> {
        Value::Byte(u8::from(*v))
    }
}

impl Encoding<PayloadFormat> for Byte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<PayloadFormat, DecodeError> {
        Ok(match read_zero_or_one(r, id)? {
            false => PayloadFormat::Unspecified,
            true => PayloadFormat::Utf8,
        })
    }
    fn value(v: &PayloadFormat) -> Value<'_> {
        Value::Byte(*v as u8)
    }
}

/// Maximum QoS: 2 is expressed by leaving the property out.
impl Encoding<QoS> for Byte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<QoS, DecodeError> {
        Ok(match read_zero_or_one(r, id)? {
            false => QoS::AtMostOnce,
            true => QoS::AtLeastOnce,
        })
    }
    fn value(v: &QoS) -> Value<'_> {
        Value::Byte(*v as u8)
    }
    fn is_valid(v: &QoS) -> bool {
        *v as u8 <= 1
    }
}

impl Encoding<u16> for TwoByte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<u16, DecodeError> {
        r.u16(id.name())
    }
    fn value(v: &u16) -> Value<'_> {
        Value::U16(*v)
    }
}

impl Encoding<NonZeroU16> for TwoByte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<NonZeroU16, DecodeError> {
        NonZeroU16::new(r.u16(id.name())?).ok_or_else(|| zero_is_invalid(id))
    }
    fn value(v: &NonZeroU16) -> Value<'_> {
        Value::U16(v.get())
    }
}

impl Encoding<u32> for FourByte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<u32, DecodeError> {
        r.u32(id.name())
    }
    fn value(v: &u32) -> Value<'_> {
        Value::U32(*v)
    }
}

impl Encoding<NonZeroU32> for FourByte {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<NonZeroU32, DecodeError> {
        NonZeroU32::new(r.u32(id.name())?).ok_or_else(|| zero_is_invalid(id))
    }
    fn value(v: &NonZeroU32) -> Value<'_> {
        Value::U32(v.get())
    }
}

impl Encoding<u32> for NonZeroVarInt {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<u32, DecodeError> {
        match r.var_int(id.name())? {
            0 => Err(zero_is_invalid(id)),
            value => Ok(value),
        }
    }
    fn value(v: &u32) -> Value<'_> {
        Value::VarInt(*v)
    }
    fn is_valid(v: &u32) -> bool {
        (1..=VAR_INT_MAX).contains(v)
    }
}

impl Encoding<String> for Utf8 {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<String, DecodeError> {
        Ok(r.string(id.name())?.to_owned())
    }
    fn value(v: &String) -> Value<'_> {
        Value::Str(v)
    }
}

impl Encoding<String> for TopicName {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<String, DecodeError> {
        let (topic, wildcard) = r.topic_name(id.name())?;
        if wildcard {
            return Err(DecodeError::WildcardInResponseTopic);
        }
        Ok(topic.to_owned())
    }
    fn value(v: &String) -> Value<'_> {
        Value::Str(v)
    }
    fn is_valid(v: &String) -> bool {
        !topic::has_wildcard(v)
    }
}

impl Encoding<Vec<u8>> for Binary {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<Vec<u8>, DecodeError> {
        Ok(r.binary(id.name())?.to_vec())
    }
    fn value(v: &Vec<u8>) -> Value<'_> {
        Value::Bin(v)
    }
}

impl Encoding<(String, String)> for Utf8Pair {
    fn read(r: &mut Reader<'_>, id: PropertyId) -> Result<(String, String), DecodeError> {
        let name = r.string(id.name())?.to_owned();
        let value = r.string(id.name())?.to_owned();
        Ok((name, value))
    }
    fn value((name, value): &(String, String)) -> Value<'_> {
        Value::Pair(name, value)
    }
}

/// A `PropertyValues` field: `Option` for a property that may appear once, `Vec`
/// for one that may repeat.
pub(super) trait Slot<T> {
    /// The field with no value.
    const ABSENT: Self;
    /// Stores a decoded value; a second one is a Protocol Error unless the
    /// field is a `Vec` and the packet lets this property repeat.
    fn store(&mut self, id: PropertyId, value: T, repeatable: bool) -> Result<(), DecodeError>;
    /// Whether the field holds no value.
    fn is_absent(&self) -> bool;
    /// The values present, in wire order.
    fn items<'a>(&'a self) -> impl Iterator<Item = &'a T>
    where
        T: 'a;
}

impl<T> Slot<T> for Option<T> {
    const ABSENT: Self = None;
    fn store(&mut self, id: PropertyId, value: T, _repeatable: bool) -> Result<(), DecodeError> {
        if self.is_some() {
            return Err(DecodeError::DuplicateProperty { id });
        }
        *self = Some(value);
        Ok(())
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
    fn items<'a>(&'a self) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        self.iter()
    }
}

impl<T> Slot<T> for Vec<T> {
    const ABSENT: Self = Vec::new();
    fn store(&mut self, id: PropertyId, value: T, repeatable: bool) -> Result<(), DecodeError> {
        if !repeatable && !self.is_empty() {
            return Err(DecodeError::DuplicateProperty { id });
        }
        self.push(value);
        Ok(())
    }
    fn is_absent(&self) -> bool {
        self.is_empty()
    }
    fn items<'a>(&'a self) -> impl Iterator<Item = &'a T>
    where
        T: 'a,
    {
        self.iter()
    }
}
