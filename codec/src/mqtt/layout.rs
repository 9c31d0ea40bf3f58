//! Pieces of packet body that several packet types share.
//!
//! SUBSCRIBE, UNSUBSCRIBE, SUBACK and (in MQTT 5) UNSUBACK all start with a
//! packet identifier followed by the property section, then carry a list;
//! every acknowledgement turns reason code bytes into its own code enum.

use std::num::NonZeroU16;

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
        .map(|&code| {
            parse_reason_code(packet, code)
                .ok()
                .filter(|&c| accept(c))
                .ok_or(DecodeError::InvalidReasonCode { packet, code })
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

/// Size of a packet identifier and, in MQTT 5, the property section.
pub(crate) fn id_and_properties_len(properties: &Properties, version: ProtocolVersion) -> usize {
    2 + properties.wire_len_if_v5(version)
}

/// Writes a packet identifier and, in MQTT 5, the property section.
pub(crate) fn encode_id_and_properties(
    out: &mut Vec<u8>,
    packet_id: NonZeroU16,
    properties: &Properties,
    version: ProtocolVersion,
    context: &PropertyContext,
) -> Result<(), EncodeError> {
    put_u16(out, packet_id.get());
    properties.encode_if_v5(out, version, context)
}
