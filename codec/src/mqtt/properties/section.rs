//! The property section as a whole: its length prefix, the properties it
//! covers, and the checks that span more than one property.

use std::convert::Infallible;

use super::super::primitives::{put_var_int, var_int_len, Reader, VAR_INT_MAX};
use super::super::{DecodeError, EncodeError, ProtocolVersion};
use super::{Properties, PropertyContext, PropertyId, PropertyValues};

impl Properties {
    /// Reads a property length and the properties it covers, accepting only
    /// those `context` allows. An empty section allocates nothing.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        context: &PropertyContext,
    ) -> Result<Self, DecodeError> {
        let len = r.var_int("property length")?;
        if len == 0 {
            return Ok(Self::default());
        }
        let mut section = Reader::new(r.take(len as usize, "properties")?);
        let mut values = Box::<PropertyValues>::default();
        values.decode_section(&mut section, context)?;
        Ok(Self::from_box(values))
    }

    /// Size of the property section's content, without its length prefix.
    #[inline]
    pub(crate) fn content_len(&self) -> usize {
        self.stored().map_or(0, PropertyValues::content_len)
    }

    /// Size of the property section including its length prefix.
    pub(crate) fn wire_len(&self) -> usize {
        let len = self.content_len();
        var_int_len(len) + len
    }

    /// Writes the property length and the properties, refusing any that
    /// `context` does not allow or whose value the peer would reject. A
    /// refusal can come after part of the section is written: every caller
    /// writes inside `encode_frame`, which then takes the whole packet back.
    pub(crate) fn encode(
        &self,
        out: &mut Vec<u8>,
        context: &PropertyContext,
    ) -> Result<(), EncodeError> {
        self.encode_sized(out, context, self.content_len())
    }

    /// [`Self::encode`] with the content length already known (it is
    /// `content_len`, which the caller computed to size the packet).
    #[inline]
    pub(crate) fn encode_sized(
        &self,
        out: &mut Vec<u8>,
        context: &PropertyContext,
        content_len: usize,
    ) -> Result<(), EncodeError> {
        // Every present property takes at least its identifier byte, so a
        // zero length means an empty section.
        match self.stored() {
            Some(values) if content_len > 0 => values.encode_section(out, context, content_len),
            _ => {
                out.push(0);
                Ok(())
            }
        }
    }
}

impl PropertyValues {
    /// Reads the properties of a section (its length already read) into
    /// `self`, which must be empty.
    fn decode_section(
        &mut self,
        r: &mut Reader<'_>,
        context: &PropertyContext,
    ) -> Result<(), DecodeError> {
        while !r.is_empty() {
            let raw = r.var_int("property identifier")?;
            let Some(id) = PropertyId::from_id(raw) else {
                return Err(DecodeError::UnknownProperty { id: raw });
            };
            if !context.allows(id) {
                return Err(DecodeError::PropertyNotAllowed {
                    id,
                    context: context.name,
                });
            }
            self.decode_one(r, id, context.repeatable(id))?;
        }
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(DecodeError::AuthenticationMethodMissing);
        }
        Ok(())
    }

    /// Size of the properties on the wire, without the section's length.
    #[inline(never)]
    fn content_len(&self) -> usize {
        let mut len = 0;
        let Ok(()) = self.visit::<Infallible>(|entry| {
            len += 1 + entry.value.len();
            Ok(())
        });
        len
    }

    /// Writes the length prefix `content_len` (not 0) and the properties.
    #[inline(never)]
    fn encode_section(
        &self,
        out: &mut Vec<u8>,
        context: &PropertyContext,
        content_len: usize,
    ) -> Result<(), EncodeError> {
        if self.authentication_data.is_some() && self.authentication_method.is_none() {
            return Err(EncodeError::InvalidPropertyValue {
                id: PropertyId::AuthenticationData,
            });
        }
        // The packet's own length check normally catches this first.
        let len = u32::try_from(content_len)
            .ok()
            .filter(|&l| l <= VAR_INT_MAX)
            .ok_or(EncodeError::PacketTooLarge {
                remaining_length: content_len,
            })?;
        put_var_int(out, len);
        self.visit(|entry| {
            context.check(&entry)?;
            out.push(entry.id as u8);
            entry.value.write(out, entry.id.name())
        })
    }
}

impl Properties {
    /// Reads the property section of a packet spoken at `version`; 3.1.1
    /// packets have none, so they get empty properties.
    pub(crate) fn decode_if_v5(
        r: &mut Reader<'_>,
        version: ProtocolVersion,
        context: &PropertyContext,
    ) -> Result<Self, DecodeError> {
        match version {
            ProtocolVersion::V5 => Self::decode(r, context),
            ProtocolVersion::V311 => Ok(Self::default()),
        }
    }

    /// Size of the property section at `version`: nothing for 3.1.1.
    pub(crate) fn wire_len_if_v5(&self, version: ProtocolVersion) -> usize {
        match version {
            ProtocolVersion::V5 => self.wire_len(),
            ProtocolVersion::V311 => 0,
        }
    }

    /// Writes the property section at `version`: nothing for 3.1.1, which
    /// has no properties to carry them.
    pub(crate) fn encode_if_v5(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
        context: &PropertyContext,
    ) -> Result<(), EncodeError> {
        match version {
            ProtocolVersion::V5 => self.encode(out, context),
            ProtocolVersion::V311 => Ok(()),
        }
    }
}
