//! MQTT data representations (spec §1.5): big-endian integers, Variable Byte
//! Integers, length-prefixed binary data and UTF-8 strings — a bounds-checked
//! reader for decoding and append-only writers for encoding.

use std::num::NonZeroU16;

use super::text::{checked_str, is_ascii_name, is_ascii_without_nul, is_without_nul};
use super::{DecodeError, EncodeError, PacketType};

/// Largest value a four-byte Variable Byte Integer can hold.
pub(crate) const VAR_INT_MAX: u32 = 268_435_455;

/// Decodes a Variable Byte Integer at the start of `buf`, returning the value
/// and how many bytes it used, or `None` if `buf` ends before the integer does.
#[inline]
pub(crate) fn decode_var_int(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    // One or two bytes are the common cases (every property identifier, most
    // lengths), read without a loop or a call.
    match *buf {
        [] => Ok(None),
        [b0, ..] if b0 & 0x80 == 0 => Ok(Some((u32::from(b0), 1))),
        // A final byte of zero after continuation bytes adds nothing, so a
        // shorter encoding existed [MQTT-1.5.5-1].
        [_, 0, ..] => Err(DecodeError::NonMinimalVarInt),
        [b0, b1, ..] if b1 & 0x80 == 0 => {
            Ok(Some((u32::from(b0 & 0x7F) | (u32::from(b1) << 7), 2)))
        }
        _ => decode_long_var_int(buf),
    }
}

/// [`decode_var_int`] of an integer that does not end in its first two bytes.
#[cold]
fn decode_long_var_int(buf: &[u8]) -> Result<Option<(u32, usize)>, DecodeError> {
    let mut value = 0u32;
    for (i, &byte) in buf.iter().enumerate().take(4) {
        value |= u32::from(byte & 0x7F) << (7 * i);
        if byte & 0x80 == 0 {
            if i > 0 && byte == 0 {
                return Err(DecodeError::NonMinimalVarInt);
            }
            return Ok(Some((value, i + 1)));
        }
    }
    if buf.len() >= 4 {
        Err(DecodeError::VarIntTooLong)
    } else {
        Ok(None)
    }
}

/// Bytes needed to encode `value` as a Variable Byte Integer (values above
/// [`VAR_INT_MAX`] are refused before they get this far).
pub(crate) fn var_int_len(value: usize) -> usize {
    match value {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Appends `value` (at most [`VAR_INT_MAX`]) as a Variable Byte Integer.
#[inline]
pub(crate) fn put_var_int(out: &mut Vec<u8>, value: u32) {
    debug_assert!(value <= VAR_INT_MAX);
    // One or two bytes (every property length and most remaining lengths)
    // without a loop.
    match value {
        0..=0x7F => out.push(value as u8),
        0x80..=0x3FFF => out.extend_from_slice(&[value as u8 | 0x80, (value >> 7) as u8]),
        _ => put_long_var_int(out, value),
    }
}

/// [`put_var_int`] of a value that takes three or four bytes.
fn put_long_var_int(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let mut byte = (value % 128) as u8;
        value /= 128;
        if value > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if value == 0 {
            break;
        }
    }
}

/// Appends a Two Byte Integer.
pub(crate) fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends a Four Byte Integer.
pub(crate) fn put_u32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// Appends length-prefixed Binary Data.
pub(crate) fn put_binary(
    out: &mut Vec<u8>,
    data: &[u8],
    field: &'static str,
) -> Result<(), EncodeError> {
    let Ok(len) = u16::try_from(data.len()) else {
        return Err(EncodeError::BinaryTooLong {
            field,
            len: data.len(),
        });
    };
    put_prefixed(out, len, data);
    Ok(())
}

/// Appends a length-prefixed UTF-8 string, refusing what a decoder would
/// refuse (over-long strings and U+0000).
pub(crate) fn put_string(
    out: &mut Vec<u8>,
    s: &str,
    field: &'static str,
) -> Result<(), EncodeError> {
    let Ok(len) = u16::try_from(s.len()) else {
        return Err(EncodeError::StringTooLong {
            field,
            len: s.len(),
        });
    };
    if !is_without_nul(s.as_bytes()) {
        return Err(EncodeError::NullCharacter { field });
    }
    put_prefixed(out, len, s.as_bytes());
    Ok(())
}

/// Appends `data` after its length `len`, which the caller has checked.
#[inline]
fn put_prefixed(out: &mut Vec<u8>, len: u16, data: &[u8]) {
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

/// Wire size of a length-prefixed string or binary field.
pub(crate) fn prefixed_len(data: &[u8]) -> usize {
    2 + data.len()
}

/// A cursor over a packet body. Every read names the field it is reading so
/// a short packet reports exactly where it ended.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    #[inline]
    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::UnexpectedEnd { field });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Everything not read yet (a PUBLISH payload, or a list of codes).
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    #[inline]
    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        let [byte] = self.array::<1>(field)?;
        Ok(byte)
    }

    #[inline]
    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(field)?))
    }

    #[inline]
    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(field)?))
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        let bytes = self.take(N, field)?;
        let mut array = [0u8; N];
        array.copy_from_slice(bytes);
        Ok(array)
    }

    #[inline]
    pub(crate) fn var_int(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        // One byte (every property identifier, most lengths) without a call.
        if let Some((&byte, rest)) = self.buf.split_first() {
            if byte & 0x80 == 0 {
                self.buf = rest;
                return Ok(u32::from(byte));
            }
        }
        // Errors are built only on the failing path (`ok_or` would build and
        // drop one on every call).
        let Some((value, used)) = decode_var_int(self.buf)? else {
            return Err(DecodeError::UnexpectedEnd { field });
        };
        self.buf = self.buf.get(used..).unwrap_or_default();
        Ok(value)
    }

    #[inline]
    pub(crate) fn binary(&mut self, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u16(field)?;
        self.take(usize::from(len), field)
    }

    /// Reads a UTF-8 Encoded String. Rust's UTF-8 validation already rejects
    /// surrogates and overlong forms [MQTT-1.5.4-1]; MQTT additionally bans
    /// U+0000 [MQTT-1.5.4-2].
    #[inline]
    pub(crate) fn string(&mut self, field: &'static str) -> Result<&'a str, DecodeError> {
        let bytes = self.binary(field)?;
        if is_ascii_without_nul(bytes) {
            // ASCII is valid UTF-8, and the scan has ruled out U+0000.
            return std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { field });
        }
        checked_str(bytes, field)
    }

    /// Reads a UTF-8 Encoded String that names a topic, and says whether it
    /// holds a wildcard (`+` or `#`), which a topic name must not: one scan
    /// where the name is plain ASCII.
    #[inline]
    pub(crate) fn topic_name(
        &mut self,
        field: &'static str,
    ) -> Result<(&'a str, bool), DecodeError> {
        let bytes = self.binary(field)?;
        if is_ascii_name(bytes) {
            let name =
                std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { field })?;
            return Ok((name, false));
        }
        let name = checked_str(bytes, field)?;
        Ok((name, name.bytes().any(|b| b == b'+' || b == b'#')))
    }

    /// Reads a Packet Identifier, which must be non-zero [MQTT-2.2.1-3].
    #[inline]
    pub(crate) fn packet_id(&mut self, packet: PacketType) -> Result<NonZeroU16, DecodeError> {
        match NonZeroU16::new(self.u16("packet identifier")?) {
            Some(id) => Ok(id),
            None => Err(DecodeError::ZeroPacketId { packet }),
        }
    }

    /// Fails if anything is left after the last field.
    pub(crate) fn finish(&self, packet: PacketType) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                packet,
                count: self.buf.len(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_byte_integers_round_trip_at_every_length_boundary() {
        let cases: [(u32, &[u8]); 8] = [
            (0, &[0x00]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xff, 0xff, 0x7f]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (VAR_INT_MAX, &[0xff, 0xff, 0xff, 0x7f]),
        ];
        for (value, bytes) in cases {
            let mut out = Vec::new();
            put_var_int(&mut out, value);
            assert_eq!(out, bytes, "encoding {value}");
            assert_eq!(var_int_len(value as usize), bytes.len());
            assert_eq!(decode_var_int(bytes), Ok(Some((value, bytes.len()))));
        }
    }

    #[test]
    fn variable_byte_integer_errors_are_detected() {
        assert_eq!(decode_var_int(&[]), Ok(None));
        assert_eq!(decode_var_int(&[0x80, 0x80, 0x80]), Ok(None));
        assert_eq!(
            decode_var_int(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            decode_var_int(&[0x80, 0x00]),
            Err(DecodeError::NonMinimalVarInt)
        );
        assert_eq!(
            decode_var_int(&[0xff, 0x80, 0x00]),
            Err(DecodeError::NonMinimalVarInt)
        );
    }

    #[test]
    fn strings_reject_invalid_utf8_surrogates_and_null() {
        let cases: [(&[u8], DecodeError); 4] = [
            (
                &[0x00, 0x02, 0xc3, 0x28],
                DecodeError::InvalidUtf8 { field: "s" },
            ),
            // U+D800 encoded as if it were a scalar value.
            (
                &[0x00, 0x03, 0xed, 0xa0, 0x80],
                DecodeError::InvalidUtf8 { field: "s" },
            ),
            (
                &[0x00, 0x03, b'a', 0x00, b'b'],
                DecodeError::NullCharacter { field: "s" },
            ),
            (
                &[0x00, 0x05, b'a', b'b'],
                DecodeError::UnexpectedEnd { field: "s" },
            ),
        ];
        for (bytes, err) in cases {
            assert_eq!(Reader::new(bytes).string("s"), Err(err), "{bytes:02x?}");
        }
        assert_eq!(Reader::new(&[0x00, 0x02, 0xc3, 0xa9]).string("s"), Ok("é"));
    }

    #[test]
    fn a_byte_order_mark_is_kept_not_stripped() {
        let bytes = [0x00, 0x04, 0xef, 0xbb, 0xbf, b'a'];
        assert_eq!(Reader::new(&bytes).string("s"), Ok("\u{feff}a"));
    }

    #[test]
    fn writers_refuse_what_readers_would_refuse() {
        let mut out = Vec::new();
        assert_eq!(
            put_string(&mut out, "a\0", "f"),
            Err(EncodeError::NullCharacter { field: "f" })
        );
        let long = "x".repeat(65_536);
        assert_eq!(
            put_string(&mut out, &long, "f"),
            Err(EncodeError::StringTooLong {
                field: "f",
                len: 65_536
            })
        );
        assert_eq!(
            put_binary(&mut out, long.as_bytes(), "f"),
            Err(EncodeError::BinaryTooLong {
                field: "f",
                len: 65_536
            })
        );
        assert!(out.is_empty());
        put_string(&mut out, &long[..65_535], "f").unwrap();
        assert_eq!(out.len(), 65_537);
    }

    #[test]
    fn reader_reports_trailing_bytes_and_zero_packet_ids() {
        let mut reader = Reader::new(&[0x00, 0x00, 0x01]);
        assert_eq!(
            reader.packet_id(PacketType::PubAck),
            Err(DecodeError::ZeroPacketId {
                packet: PacketType::PubAck
            })
        );
        assert_eq!(
            reader.finish(PacketType::PubAck),
            Err(DecodeError::TrailingBytes {
                packet: PacketType::PubAck,
                count: 1
            })
        );
    }
}
