//! Pieces of packet body that several packet types share.
//!
//! SUBSCRIBE, UNSUBSCRIBE, SUBACK and (in MQTT 5) UNSUBACK all start with a
//! packet identifier followed by the property section, then carry a list;
//! every acknowledgement turns reason code bytes into its own code enum.

use std::num::NonZeroU16;

use super::frame::{encode_frame, frame_size};
use super::primitives::{put_u16, Reader};
use super::properties::{Properties, PropertyContext};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

/// Reads a reason code byte as `T`, failing with the packet that carried it
/// when `T` has no such code.
pub(crate) fn parse_reason_code<T: TryFrom<u8, Error = u8>>(
    packet: PacketType,
    code: u8,
) -> Result<T, DecodeError> {
    T::try_from(code).map_err(|code| DecodeError::InvalidReasonCode { packet, code })
}

/// Reads the rest of the body as one reason code per byte, refusing any
/// code `T` does not define or `accept` rejects.
pub(crate) fn decode_reason_codes<T: TryFrom<u8, Error = u8> + Copy>(
    r: &mut Reader<'_>,
    packet: PacketType,
    accept: impl Fn(T) -> bool,
) -> Result<Vec<T>, DecodeError> {
    r.rest()
        .iter()
        .map(|&code| match parse_reason_code(packet, code) {
            Ok(c) if accept(c) => Ok(c),
            _ => Err(DecodeError::InvalidReasonCode { packet, code }),
        })
        .collect()
}

/// Reads a non-zero packet identifier and, in MQTT 5, the property section.
pub(crate) fn decode_id_and_properties(
    r: &mut Reader<'_>,
    packet: PacketType,
    version: ProtocolVersion,
    context: &PropertyContext,
) -> Result<(NonZeroU16, Properties), DecodeError> {
    let packet_id = r.packet_id(packet)?;
    let properties = Properties::decode_if_v5(r, version, context)?;
    Ok((packet_id, properties))
}

/// The packet identifier and property section that open a SUBSCRIBE,
/// UNSUBSCRIBE, SUBACK or UNSUBACK body, with what is needed to write them.
pub(crate) struct IdHeader<'a> {
    pub(crate) packet: PacketType,
    pub(crate) packet_id: NonZeroU16,
    pub(crate) properties: &'a Properties,
    pub(crate) context: &'a PropertyContext,
}

impl IdHeader<'_> {
    /// Size of the packet identifier and, in MQTT 5, the property section.
    pub(crate) fn len(&self, version: ProtocolVersion) -> usize {
        2 + self.properties.wire_len_if_v5(version)
    }

    /// Size of the whole packet when `rest_len` bytes follow the header.
    pub(crate) fn packet_len(&self, version: ProtocolVersion, rest_len: usize) -> usize {
        frame_size(self.len(version) + rest_len)
    }

    /// Writes the whole packet: the fixed header, this header, then the
    /// `rest_len` bytes that `write_rest` appends.
    pub(crate) fn encode_packet(
        &self,
        out: &mut Vec<u8>,
        version: ProtocolVersion,
        rest_len: usize,
        write_rest: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let body_len = self.len(version) + rest_len;
        encode_frame(out, self.packet.first_byte(), body_len, |out| {
            put_u16(out, self.packet_id.get());
            self.properties.encode_if_v5(out, version, self.context)?;
            write_rest(out)
        })
    }
}
