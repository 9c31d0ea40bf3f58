//! One message, rendered for every kind of subscriber, and the GRIP publish request that
//! carries it.
//!
//! A publish item carries two formats so that every subscriber of the channel receives the
//! same message: `http-stream` (an SSE event, for `/events` subscribers) and `ws-message`
//! (an MQTT PUBLISH packet in `content-bin`, for `/mqtt` subscribers).
//!
//! SSE events: a UTF-8 payload is `event: message` with one `data:` line per line of the
//! payload (lines end at CRLF, CR or LF, as the SSE parser splits them, so a multi-line
//! message arrives with its lines); any other payload is `event: message-base64` with the
//! standard base64 of the bytes.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;

use pubsub_middleware::topics;

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

/// A message for one topic, as published.
#[derive(Clone, Debug)]
pub struct Outgoing<'a> {
    /// The topic.
    pub topic: &'a str,
    /// The payload.
    pub payload: &'a [u8],
    /// The MQTT v5 PUBLISH packet that carries it to MQTT subscribers.
    pub mqtt_packet: Vec<u8>,
}

#[derive(Serialize)]
struct PublishRequest<'a> {
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    channel: Cow<'a, str>,
    formats: Formats,
}

#[derive(Serialize)]
struct Formats {
    #[serde(rename = "http-stream")]
    http_stream: HttpStream,
    #[serde(rename = "ws-message")]
    ws_message: WsMessage,
}

#[derive(Serialize)]
struct HttpStream {
    content: String,
}

#[derive(Serialize)]
struct WsMessage {
    #[serde(rename = "content-bin")]
    content_bin: String,
}

/// The body of a GRIP publish request carrying `messages`, one item each.
pub fn publish_body(messages: &[Outgoing<'_>]) -> Vec<u8> {
    let items = messages
        .iter()
        .map(|m| Item {
            channel: topics::channel(m.topic),
            formats: Formats {
                http_stream: HttpStream {
                    content: sse_event(m.payload, None),
                },
                ws_message: WsMessage {
                    content_bin: BASE64.encode(&m.mqtt_packet),
                },
            },
        })
        .collect();
    serde_json::to_vec(&PublishRequest { items }).unwrap_or_default()
}

/// A QoS 0 MQTT v5 PUBLISH of `payload` on `topic`, without properties.
pub fn mqtt_publish_v5(topic: &str, payload: &[u8]) -> Vec<u8> {
    let remaining = 2 + topic.len() + 1 + payload.len();
    let mut out = Vec::with_capacity(remaining + 5);
    out.push(0x30);
    let mut n = remaining;
    loop {
        let mut byte = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if n == 0 {
            break;
        }
    }
    let len = u16::try_from(topic.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(topic.as_bytes());
    out.push(0);
    out.extend_from_slice(payload);
    out
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

    #[test]
    fn one_item_carries_both_formats() {
        let packet = mqtt_publish_v5("a b", b"hi");
        let body = publish_body(&[Outgoing {
            topic: "a b",
            payload: b"hi",
            mqtt_packet: packet.clone(),
        }]);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let item = &v["items"][0];
        assert_eq!(item["channel"], "a%20b");
        assert_eq!(
            item["formats"]["http-stream"]["content"],
            "event: message\ndata: hi\n\n"
        );
        assert_eq!(
            item["formats"]["ws-message"]["content-bin"],
            BASE64.encode(&packet)
        );
    }

    #[test]
    fn the_mqtt_packet_is_a_v5_qos0_publish() {
        assert_eq!(mqtt_publish_v5("t", b"x"), [0x30, 5, 0, 1, b't', 0, b'x']);
        let big = mqtt_publish_v5("t", &[0; 200]);
        assert_eq!(&big[..3], [0x30, 0xCC, 0x01]);
    }
}
