//! JSON string literals written straight into a body being built.
//!
//! [`push_str`] appends `"<s>"` with the escapes JSON requires (RFC 8259 §7): `"`, `\` and
//! the control characters U+0000–U+001F; everything else, including non-ASCII UTF-8, is
//! copied as it is. The output is the same as `serde_json`'s (`\b \t \n \f \r`, other
//! controls as `\u00xx` with lowercase hex), so sizes and bytes do not depend on which one
//! wrote a string. Writing into a `String` cannot fail, so no caller has an error to lose.

/// Appends `s` to `out` as a JSON string literal, quotes included.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.push('"');
    push_escaped(out, s);
    out.push('"');
}

/// The length of `s` as a JSON string literal, quotes included: what [`push_str`] appends.
pub(crate) fn quoted_len(s: &str) -> usize {
    let escapes: usize = s
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
            0..=0x1f => 5,
            _ => 0,
        })
        .sum();
    s.len() + escapes + 2
}

/// Appends the escaped contents of `s` to `out`, without quotes.
///
/// Payloads are mostly long runs that need no escape, so the scan skips eight bytes at a
/// time while none of them needs one ([`plain_word`]) and copies each run in one piece.
pub(crate) fn push_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8) {
            let mut w = [0; 8];
            w.copy_from_slice(word);
            if plain_word(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let b = bytes[i];
        i += 1;
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `b` is an ASCII byte, so both slices end on character boundaries.
        out.push_str(&s[start..i - 1]);
        start = i;
        if short.is_empty() {
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        } else {
            out.push_str(short);
        }
    }
    out.push_str(&s[start..]);
}

/// Whether none of the eight bytes of `w` needs an escape: none is below 0x20, a `"` or a
/// `\`. (The classic "has a byte less than n" word test, exact as a yes/no answer.)
fn plain_word(w: u64) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES << 7;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let control = below(w, 0x20);
    let quote = below(w ^ (ONES * u64::from(b'"')), 1);
    let backslash = below(w ^ (ONES * u64::from(b'\\')), 1);
    control | quote | backslash == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_found_at_every_offset_of_a_long_run() {
        for special in [
            '"', '\\', '\n', '\u{1}', '\u{1f}', '\u{7f}', 'é', ' ', '!', '#', ']',
        ] {
            for at in 0..20 {
                let mut s = "abcdefghijklmnopqrst".to_owned();
                s.replace_range(at..=at, &special.to_string());
                let mut out = String::new();
                push_str(&mut out, &s);
                assert_eq!(out, serde_json::to_string(&s).expect("json"), "{s:?}");
            }
        }
    }

    #[test]
    fn every_string_is_escaped_as_serde_json_escapes_it() {
        let mut cases: Vec<String> = (0u8..=0x7f).map(|b| char::from(b).to_string()).collect();
        cases.extend(
            [
                "",
                "plain",
                "a\"b\\c\n\u{1}é€😀\u{7f}",
                "event: message\ndata: x\n\n",
            ]
            .map(String::from),
        );
        for s in cases {
            let mut out = String::new();
            push_str(&mut out, &s);
            assert_eq!(out, serde_json::to_string(&s).expect("json"), "{s:?}");
            assert_eq!(quoted_len(&s), out.len(), "{s:?}");
            let back: String = serde_json::from_str(&out).expect("valid JSON");
            assert_eq!(back, s);
        }
    }
}
