//! A message as one SSE event: `event: message` with its lines as `data:` lines, or
//! `event: message-base64` for a payload that is not UTF-8.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// The SSE event for `payload`, with an optional `id:` line.
pub fn sse_event(payload: &[u8], id: Option<&str>) -> String {
    let mut out = String::with_capacity(payload.len() + 48);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    match std::str::from_utf8(payload) {
        Ok(text) => {
            out.push_str("event: message\n");
            for line in lines(text) {
                out.push_str("data: ");
                out.push_str(line);
                out.push('\n');
            }
        }
        Err(_) => {
            out.push_str("event: message-base64\ndata: ");
            BASE64.encode_string(payload, &mut out);
            out.push('\n');
        }
    }
    out.push('\n');
    out
}

/// Splits at CRLF, CR or LF; an empty text is one empty line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let s = rest?;
        match s.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(s)
            }
            Some(i) => {
                let skip = if s[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&s[i + skip..]);
                Some(&s[..i])
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_messages_keep_their_lines_whatever_the_line_ending() {
        let cases: [(&[u8], &str); 5] = [
            (b"hello", "event: message\ndata: hello\n\n"),
            (b"", "event: message\ndata: \n\n"),
            (b"a\nb", "event: message\ndata: a\ndata: b\n\n"),
            (
                b"a\r\nb\rc\n",
                "event: message\ndata: a\ndata: b\ndata: c\ndata: \n\n",
            ),
            (b"\r\n", "event: message\ndata: \ndata: \n\n"),
        ];
        for (payload, event) in cases {
            assert_eq!(sse_event(payload, None), event, "{payload:?}");
        }
    }

    #[test]
    fn binary_messages_are_base64() {
        assert_eq!(
            sse_event(&[0xff, 0x00, 0x01], Some("v1")),
            "id: v1\nevent: message-base64\ndata: /wAB\n\n"
        );
    }
}
