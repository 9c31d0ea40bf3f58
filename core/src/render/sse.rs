//! A message as one SSE event: `event: message` with its lines as `data:` lines, or
//! `event: message-base64` for a payload that is not UTF-8.
//!
//! A subscriber of a wildcard filter must be able to tell each message's topic, so its
//! events ([`filter_sse_event`]) carry a JSON object as their one `data:` line:
//! `{"topic":"a/b","data":"<text>"}` under `event: message`, or
//! `{"topic":"a/b","data":"<base64>"}` under `event: message-base64` for a payload that is
//! not UTF-8.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::json;

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

/// The SSE event of a message on `topic` for the subscribers of a wildcard filter.
pub fn filter_sse_event(topic: &str, payload: &[u8]) -> String {
    filter_sse_event_with_id(topic, payload, None)
}

/// [`filter_sse_event`] with an optional `id:` line.
pub fn filter_sse_event_with_id(topic: &str, payload: &[u8], id: Option<&str>) -> String {
    let mut out = String::with_capacity(payload.len() + topic.len() + 64);
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(id);
        out.push('\n');
    }
    match std::str::from_utf8(payload) {
        Ok(text) => {
            out.push_str("event: message\ndata: {\"topic\":");
            json::push_str(&mut out, topic);
            out.push_str(",\"data\":");
            json::push_str(&mut out, text);
        }
        Err(_) => {
            out.push_str("event: message-base64\ndata: {\"topic\":");
            json::push_str(&mut out, topic);
            out.push_str(",\"data\":\"");
            BASE64.encode_string(payload, &mut out);
            out.push('"');
        }
    }
    out.push_str("}\n\n");
    out
}

/// Splits at CRLF, CR or LF; an empty text is one empty line.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = &str> {
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
    fn filter_events_name_their_topic_in_a_json_object() {
        assert_eq!(
            filter_sse_event("a/b", b"hi\nthere"),
            "event: message\ndata: {\"topic\":\"a/b\",\"data\":\"hi\\nthere\"}\n\n"
        );
        assert_eq!(
            filter_sse_event_with_id("t", b"x", Some("i")),
            "id: i\nevent: message\ndata: {\"topic\":\"t\",\"data\":\"x\"}\n\n"
        );
        assert_eq!(
            filter_sse_event("t", &[0xff, 0]),
            "event: message-base64\ndata: {\"topic\":\"t\",\"data\":\"/wA=\"}\n\n"
        );
    }

    #[test]
    fn binary_messages_are_base64() {
        assert_eq!(
            sse_event(&[0xff, 0x00, 0x01], Some("v1")),
            "id: v1\nevent: message-base64\ndata: /wAB\n\n"
        );
    }
}
