//! Helpers shared by the MQTT unit tests.

use std::num::NonZeroU16;

use super::{decode, frame_len, Packet, ProtocolVersion};

/// Parses hex digits, ignoring whitespace and line-continuation backslashes,
/// so wire captures can be grouped by field.
pub(crate) fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'\\')
        .collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in {text:?}"
    );
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ASCII");
            u8::from_str_radix(pair, 16).expect("hex digit")
        })
        .collect()
}

/// A packet identifier; `n` must not be 0.
pub(crate) fn id(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("non-zero packet identifier")
}

/// Checks the golden bytes both ways: `packet` encodes to exactly `bytes`
/// (with a matching `encoded_len`), and `bytes` frame and decode to `packet`.
pub(crate) fn assert_round_trip(packet: &Packet, version: ProtocolVersion, bytes: &[u8]) {
    let mut out = Vec::new();
    packet.encode(version, &mut out).expect("encodes");
    assert_eq!(out, bytes, "encoding of {packet:?} at {version}");
    assert_eq!(
        packet.encoded_len(version),
        bytes.len(),
        "encoded_len of {packet:?}"
    );
    assert_eq!(frame_len(bytes, u32::MAX), Ok(Some(bytes.len())));
    assert_eq!(
        decode(bytes, version).as_ref(),
        Ok(packet),
        "decoding {bytes:02x?}"
    );
}
