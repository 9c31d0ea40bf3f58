//! The fixed header (spec §2.1): measuring a frame in a byte stream before
//! it is parsed, splitting a complete frame into its first byte and body, and
//! writing a fixed header in front of an encoded body.

use super::primitives::{decode_var_int, put_var_int, var_int_len, VAR_INT_MAX};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

/// Measures the first packet in `buf`.
///
/// Returns `Ok(None)` while more bytes are needed (fixed header or body
/// incomplete) and `Ok(Some(n))` once the first `n` bytes form a whole packet.
/// Fails when the Remaining Length is malformed or when the packet would
/// exceed `max_packet_size` (counted, as the spec does, over the whole packet
/// including the fixed header) — the latter is known as soon as the length
/// field is complete, so an oversized body is never buffered.
pub fn frame_len(buf: &[u8], max_packet_size: u32) -> Result<Option<usize>, DecodeError> {
    let Some(after_first) = buf.get(1..) else {
        return Ok(None);
    };
    let Some((remaining, len_bytes)) = decode_var_int(after_first)? else {
        return Ok(None);
    };
    let total = 1 + len_bytes + remaining as usize;
    if total > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size: total,
            max: max_packet_size,
        });
    }
    Ok((buf.len() >= total).then_some(total))
}

/// Splits a complete frame into its first byte and body, checking that the
/// slice is exactly as long as the Remaining Length says.
pub(super) fn split_frame(packet: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let Some((&first, after_first)) = packet.split_first() else {
        return Err(DecodeError::UnexpectedEnd {
            field: "fixed header",
        });
    };
    let Some((remaining, len_bytes)) = decode_var_int(after_first)? else {
        return Err(DecodeError::UnexpectedEnd {
            field: "remaining length",
        });
    };
    let declared = 1 + len_bytes + remaining as usize;
    if packet.len() != declared {
        return Err(DecodeError::FrameLengthMismatch {
            declared,
            actual: packet.len(),
        });
    }
    Ok((first, after_first.get(len_bytes..).unwrap_or_default()))
}

/// Rejects fixed-header flags that differ from the ones the type requires
/// [MQTT-2.1.3-1].
pub(super) fn check_flags(packet_type: PacketType, first: u8) -> Result<(), DecodeError> {
    let flags = first & 0x0F;
    match packet_type.required_flags() {
        Some(required) if flags != required => Err(DecodeError::InvalidFlags {
            packet: packet_type,
            flags,
        }),
        _ => Ok(()),
    }
}

/// Frame parsing shared by every packet type's own `decode`: splits the frame,
/// insists on the expected type and its flags, and returns the first byte
/// (PUBLISH needs its flags) and the body.
pub(super) fn open_frame(
    packet: &[u8],
    expected: PacketType,
    version: ProtocolVersion,
) -> Result<(u8, &[u8]), DecodeError> {
    let (first, body) = split_frame(packet)?;
    let found = PacketType::from_first_byte(first, version)?;
    if found != expected {
        return Err(DecodeError::UnexpectedPacketType {
            expected,
            found: first >> 4,
        });
    }
    check_flags(found, first)?;
    Ok((first, body))
}

/// Total wire size of a packet whose body is `body_len` bytes.
pub(super) fn frame_size(body_len: usize) -> usize {
    1 + var_int_len(body_len) + body_len
}

/// Writes the fixed header and then the body via `write_body`, restoring
/// `out` if anything fails so a caller never sends half a packet.
pub(super) fn encode_frame(
    out: &mut Vec<u8>,
    first_byte: u8,
    body_len: usize,
    write_body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let remaining = u32::try_from(body_len)
        .ok()
        .filter(|&len| len <= VAR_INT_MAX)
        .ok_or(EncodeError::PacketTooLarge {
            remaining_length: body_len,
        })?;
    let start = out.len();
    out.reserve(frame_size(body_len));
    out.push(first_byte);
    put_var_int(out, remaining);
    let body_start = out.len();
    if let Err(err) = write_body(out) {
        out.truncate(start);
        return Err(err);
    }
    debug_assert_eq!(
        out.len() - body_start,
        body_len,
        "body length computation out of sync with the writer"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::super::{decode, Packet, Publish};
    use super::*;

    #[test]
    fn frame_len_waits_for_the_fixed_header() {
        assert_eq!(frame_len(&[], 100), Ok(None));
        assert_eq!(frame_len(&[0x30], 100), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x80], 100), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x80, 0x80, 0x80], 1 << 30), Ok(None));
    }

    #[test]
    fn frame_len_waits_for_the_body() {
        assert_eq!(frame_len(&[0x30, 0x03, 0x00, 0x01], 100), Ok(None));
    }

    #[test]
    fn frame_len_reports_only_the_first_packet() {
        let two = hex("c000 d000");
        assert_eq!(frame_len(&two, 100), Ok(Some(2)));
        let long = [&[0x30, 0x80, 0x01][..], &[0u8; 128][..], &[0xc0, 0x00][..]].concat();
        assert_eq!(frame_len(&long, 1000), Ok(Some(131)));
    }

    #[test]
    fn frame_len_rejects_a_five_byte_remaining_length() {
        assert_eq!(
            frame_len(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], u32::MAX),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x80, 0x80, 0x80], u32::MAX),
            Err(DecodeError::VarIntTooLong)
        );
    }

    #[test]
    fn frame_len_rejects_a_non_minimal_remaining_length() {
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x00], 100),
            Err(DecodeError::NonMinimalVarInt)
        );
    }

    #[test]
    fn frame_len_rejects_packets_over_the_maximum_before_the_body_arrives() {
        // 0x80 0x80 0x02 = 32,768 bytes of body; the packet is 32,772 bytes in all.
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x80, 0x02], 32_768),
            Err(DecodeError::PacketTooLarge {
                size: 32_772,
                max: 32_768
            })
        );
    }

    #[test]
    fn frame_len_accepts_a_packet_of_exactly_the_maximum_size() {
        let mut packet = vec![0x30, 0x7e];
        packet.extend([0u8; 126]);
        assert_eq!(frame_len(&packet, 128), Ok(Some(128)));
        assert!(frame_len(&packet, 127).is_err());
    }

    #[test]
    fn decode_rejects_a_slice_longer_or_shorter_than_the_frame() {
        assert_eq!(
            decode(&hex("c000 00"), ProtocolVersion::V5),
            Err(DecodeError::FrameLengthMismatch {
                declared: 2,
                actual: 3
            })
        );
        assert_eq!(
            decode(&hex("3005 0001"), ProtocolVersion::V5),
            Err(DecodeError::FrameLengthMismatch {
                declared: 7,
                actual: 4
            })
        );
        assert_eq!(
            decode(&[], ProtocolVersion::V5),
            Err(DecodeError::UnexpectedEnd {
                field: "fixed header"
            })
        );
        assert_eq!(
            decode(&[0xc0], ProtocolVersion::V5),
            Err(DecodeError::UnexpectedEnd {
                field: "remaining length"
            })
        );
    }

    #[test]
    fn encode_leaves_the_buffer_untouched_on_failure() {
        let publish = Publish {
            topic: "a\0b".into(),
            ..Publish::default()
        };
        let mut out = vec![1, 2, 3];
        assert!(Packet::Publish(publish)
            .encode(ProtocolVersion::V5, &mut out)
            .is_err());
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn encode_refuses_bodies_beyond_the_largest_remaining_length() {
        let publish = Publish {
            topic: "t".into(),
            payload: vec![0; VAR_INT_MAX as usize],
            ..Publish::default()
        };
        let mut out = Vec::new();
        assert_eq!(
            publish.encode(ProtocolVersion::V311, &mut out),
            Err(EncodeError::PacketTooLarge {
                remaining_length: VAR_INT_MAX as usize + 3
            })
        );
        assert!(out.is_empty());
    }
}
