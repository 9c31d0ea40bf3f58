//! Checks of MQTT text (spec §1.5.4) that are faster than a UTF-8 decode for
//! the common case: a string of plain ASCII without U+0000 (and, for a topic
//! name, without wildcards) is judged eight bytes at a time.

use super::DecodeError;

/// Whether every byte is ASCII and none is 0, judged eight bytes at a time:
/// the common case of a topic or client id, which then needs neither a UTF-8
/// decode nor a separate search for U+0000.
pub(crate) fn is_ascii_without_nul(bytes: &[u8]) -> bool {
    scan::<true, false>(bytes)
}

/// [`is_ascii_without_nul`] that also refuses the wildcards `+` and `#`, in
/// the same pass: a topic name that is plain ASCII.
pub(crate) fn is_ascii_name(bytes: &[u8]) -> bool {
    scan::<true, true>(bytes)
}

/// Whether no byte is 0: in a `str` (UTF-8), a zero byte is U+0000 and
/// nothing else, so this is the whole U+0000 check of an encoder.
pub(crate) fn is_without_nul(bytes: &[u8]) -> bool {
    scan::<false, false>(bytes)
}

/// Whether `bytes` has no 0, and, as asked, no byte above 0x7F and no
/// wildcard.
#[inline(always)]
fn scan<const ASCII: bool, const NO_WILDCARDS: bool>(bytes: &[u8]) -> bool {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero in a byte's high bit where `x` has a zero byte (exact as a
    // whole: a borrow can only mark bytes above a zero byte).
    let zero_byte = |x: u64| x.wrapping_sub(LOW) & !x;
    // A zero byte is U+0000, a set high bit is non-ASCII, and a zero byte of
    // `x ^ (b'+' * LOW)` is a `+`.
    let bad = |x: u64| {
        let mut bad = zero_byte(x);
        if ASCII {
            bad |= x;
        }
        if NO_WILDCARDS {
            bad |= zero_byte(x ^ (u64::from(b'+') * LOW)) | zero_byte(x ^ (u64::from(b'#') * LOW));
        }
        bad
    };
    // Whole words without a branch each, then the last eight bytes (which
    // may overlap the words) instead of a byte loop over the remainder.
    let Some(last) = bytes.last_chunk::<8>() else {
        return bytes.iter().all(|&b| {
            b != 0 && !(ASCII && b >= 0x80) && !(NO_WILDCARDS && (b == b'+' || b == b'#'))
        });
    };
    let mut found = bad(u64::from_ne_bytes(*last));
    for word in bytes.chunks_exact(8) {
        let mut array = [0u8; 8];
        array.copy_from_slice(word);
        found |= bad(u64::from_ne_bytes(array));
    }
    found & HIGH == 0
}

/// The slow path of a string read: any UTF-8, which must not hold U+0000.
pub(crate) fn checked_str<'a>(
    bytes: &'a [u8],
    field: &'static str,
) -> Result<&'a str, DecodeError> {
    let s = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { field })?;
    if s.contains('\0') {
        return Err(DecodeError::NullCharacter { field });
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ascii_scan_finds_every_nul_and_every_high_byte() {
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert!(is_ascii_without_nul(&plain), "{len} plain bytes");
            for at in 0..len {
                for bad in [0x00, 0x80, 0xc3, 0xff] {
                    let mut bytes = plain.clone();
                    bytes[at] = bad;
                    assert!(!is_ascii_without_nul(&bytes), "{bad:#x} at {at} of {len}");
                }
            }
        }
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert!(is_ascii_name(&plain), "{len} plain bytes");
            for at in 0..len {
                for bad in [0x00, 0x80, 0xff, b'+', b'#'] {
                    let mut bytes = plain.clone();
                    bytes[at] = bad;
                    assert!(!is_ascii_name(&bytes), "{bad:#x} at {at} of {len}");
                    // The wildcards are plain ASCII for any other string.
                    assert_eq!(is_ascii_without_nul(&bytes), bad == b'+' || bad == b'#');
                }
            }
        }
        // Neighbours of the wildcards ('*', ',', '"', '$') are not taken for them.
        assert!(is_ascii_name(b"a*,\"$a*,\"$/"));
        for len in 0..20 {
            let mut bytes = "é".repeat(len / 2).into_bytes();
            assert!(is_without_nul(&bytes), "{len} bytes of UTF-8");
            for at in 0..bytes.len() {
                let kept = std::mem::replace(&mut bytes[at], 0);
                assert!(!is_without_nul(&bytes), "0 at {at} of {len}");
                bytes[at] = kept;
            }
        }
        // Bytes of 0x01 next to a 0x00 must not hide it (borrow propagation).
        assert!(!is_ascii_without_nul(&[1, 0, 1, 1, 1, 1, 1, 1]));
        assert!(is_ascii_without_nul(&[0x7f, 1, 0x7f, 1, 0x7f, 1, 0x7f, 1]));
    }
}
