//! [`Item`]: one item of a GRIP publish request, and its one serializer.
//!
//! An item is a channel, optional GRIP `id` / `prev-id`, an optional `meta.sender` (what
//! Pushpin's `skip-self` filter compares with each subscriber's `user` meta) and its
//! formats: `http-stream` (SSE content, or Fanout's `close` action) and `ws-message`
//! (binary content, sent as standard base64 in `content-bin`, or `close` with a WebSocket
//! close code). Fields are written in that order, absent ones left out:
//!
//! ```json
//! {"channel":"r#a","id":"…","prev-id":"…","meta":{"sender":"c1"},
//!  "formats":{"http-stream":{"content":"…"},"ws-message":{"content-bin":"…"}}}
//! ```
//!
//! Serializing writes into a `String` and cannot fail, so no caller can end up with an
//! empty body. Items that differ only in their channel (a message's wildcard items) share
//! one [`Fragment`]: their meta and formats, serialized once and copied per channel.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::json;

/// One item of a GRIP publish request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Item<'a> {
    /// The channel it is published on.
    pub channel: &'a str,
    /// GRIP `id`: Fanout drops a second item with the same channel and id.
    pub id: Option<&'a str>,
    /// GRIP `prev-id`: the id this item follows in its channel's sequence.
    pub prev_id: Option<&'a str>,
    /// The connection that sent the message (`meta.sender`).
    pub sender: Option<&'a str>,
    /// What subscribers receive.
    pub formats: Formats<'a>,
}

/// The formats of an item: one per kind of subscriber connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Formats<'a> {
    /// For HTTP streams (SSE subscribers).
    pub http_stream: Option<HttpStream<'a>>,
    /// For WebSocket connections (MQTT subscribers).
    pub ws_message: Option<WsMessage<'a>>,
}

/// The `http-stream` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpStream<'a> {
    /// Bytes appended to the stream (an SSE event).
    Content(&'a str),
    /// Ends the stream.
    Close,
}

/// The `ws-message` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsMessage<'a> {
    /// A binary message (an MQTT packet).
    ContentBin(&'a [u8]),
    /// A binary message already base64-encoded: one message sent on several channels is
    /// encoded once.
    ContentBase64(&'a str),
    /// Closes the WebSocket with this close code.
    Close {
        /// The WebSocket close code.
        code: u16,
    },
}

impl Item<'_> {
    /// Appends this item's JSON to `out`.
    pub fn write(&self, out: &mut String) {
        write_head(out, self.channel, self.id, self.prev_id);
        write_tail(out, self.sender, &self.formats);
    }
}

/// The meta and formats of items that differ only in their channel, serialized once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fragment(String);

impl Fragment {
    /// The part after the channel of an item without ids, from `sender` and `formats`.
    pub fn new(sender: Option<&str>, formats: &Formats<'_>) -> Self {
        Self::with_id(None, sender, formats)
    }

    /// The part after the channel of an item with GRIP `id` (no `prev-id`), from `id`,
    /// `sender` and `formats`.
    pub fn with_id(id: Option<&str>, sender: Option<&str>, formats: &Formats<'_>) -> Self {
        // Room for the content as it is and the packet as base64, plus the JSON around them.
        let content = match formats.http_stream {
            Some(HttpStream::Content(content)) => content.len(),
            _ => 0,
        };
        let packet = match formats.ws_message {
            Some(WsMessage::ContentBin(bytes)) => bytes.len().div_ceil(3) * 4,
            Some(WsMessage::ContentBase64(text)) => text.len(),
            _ => 0,
        };
        let sender_len = sender.map_or(0, str::len) + id.map_or(0, str::len);
        let mut out = String::with_capacity(content + packet + sender_len + 96);
        if let Some(id) = id {
            out.push_str(",\"id\":");
            json::push_str(&mut out, id);
        }
        write_tail(&mut out, sender, formats);
        Self(out)
    }

    /// Appends the JSON of the item on `channel` carrying this fragment to `out`: the
    /// same bytes as [`Item::write`] of that item.
    pub fn write_on(&self, channel: &str, out: &mut String) {
        write_head(out, channel, None, None);
        out.push_str(&self.0);
    }

    /// The length of what [`Fragment::write_on`] appends for `channel`.
    pub fn len_on(&self, channel: &str) -> usize {
        CHANNEL.len() + json::quoted_len(channel) + self.0.len()
    }
}

const CHANNEL: &str = "{\"channel\":";

/// `{"channel":…[,"id":…][,"prev-id":…]`: the item's opening, up to its meta.
fn write_head(out: &mut String, channel: &str, id: Option<&str>, prev_id: Option<&str>) {
    out.push_str(CHANNEL);
    json::push_str(out, channel);
    for (name, value) in [(",\"id\":", id), (",\"prev-id\":", prev_id)] {
        if let Some(value) = value {
            out.push_str(name);
            json::push_str(out, value);
        }
    }
}

/// `[,"meta":{"sender":…}],"formats":{…}}`: the rest of the item, closing it.
fn write_tail(out: &mut String, sender: Option<&str>, formats: &Formats<'_>) {
    if let Some(sender) = sender {
        out.push_str(",\"meta\":{\"sender\":");
        json::push_str(out, sender);
        out.push('}');
    }
    out.push_str(",\"formats\":{");
    match formats.http_stream {
        Some(HttpStream::Content(content)) => {
            out.push_str("\"http-stream\":{\"content\":");
            json::push_str(out, content);
            out.push('}');
        }
        Some(HttpStream::Close) => out.push_str("\"http-stream\":{\"action\":\"close\"}"),
        None => {}
    }
    if let Some(ws) = formats.ws_message {
        if formats.http_stream.is_some() {
            out.push(',');
        }
        match ws {
            WsMessage::ContentBin(bytes) => {
                out.push_str("\"ws-message\":{\"content-bin\":\"");
                BASE64.encode_string(bytes, out);
                out.push_str("\"}");
            }
            WsMessage::ContentBase64(text) => {
                out.push_str("\"ws-message\":{\"content-bin\":\"");
                out.push_str(text);
                out.push_str("\"}");
            }
            WsMessage::Close { code } => {
                out.push_str("\"ws-message\":{\"action\":\"close\",\"code\":");
                out.push_str(&code.to_string());
                out.push('}');
            }
        }
    }
    out.push_str("}}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(item: &Item<'_>) -> serde_json::Value {
        let mut out = String::new();
        item.write(&mut out);
        serde_json::from_str(&out).expect("valid JSON")
    }

    const PLAIN: Item<'static> = Item {
        channel: "a",
        id: None,
        prev_id: None,
        sender: None,
        formats: Formats {
            http_stream: None,
            ws_message: None,
        },
    };

    #[test]
    fn every_field_is_written_in_order_and_absent_ones_are_left_out() {
        let item = Item {
            channel: "r#a\"b",
            id: Some("v2"),
            prev_id: Some("v1"),
            sender: Some("c\n1"),
            formats: Formats {
                http_stream: Some(HttpStream::Content("event: message\ndata: \"x\"\n\n")),
                ws_message: Some(WsMessage::ContentBin(b"\x30\x00")),
            },
        };
        let mut out = String::new();
        item.write(&mut out);
        assert_eq!(
            out,
            r#"{"channel":"r#a\"b","id":"v2","prev-id":"v1","meta":{"sender":"c\n1"},"formats":{"http-stream":{"content":"event: message\ndata: \"x\"\n\n"},"ws-message":{"content-bin":"MAA="}}}"#
        );
        let v = json(&PLAIN);
        assert_eq!(v, serde_json::json!({"channel": "a", "formats": {}}));
    }

    #[test]
    fn close_actions_carry_their_code() {
        let item = Item {
            formats: Formats {
                http_stream: Some(HttpStream::Close),
                ws_message: Some(WsMessage::Close { code: 1008 }),
            },
            ..PLAIN
        };
        assert_eq!(
            json(&item)["formats"],
            serde_json::json!({"http-stream": {"action": "close"},
                "ws-message": {"action": "close", "code": 1008}})
        );
    }

    #[test]
    fn an_item_never_serializes_to_an_empty_body() {
        let mut out = String::new();
        PLAIN.write(&mut out);
        assert!(
            out.starts_with("{\"channel\":\"a\"") && out.ends_with("}}"),
            "{out}"
        );
    }

    #[test]
    fn a_fragment_writes_the_same_bytes_as_the_item() {
        let formats = Formats {
            http_stream: Some(HttpStream::Content("e")),
            ws_message: Some(WsMessage::ContentBin(b"five")),
        };
        let fragment = Fragment::new(Some("c1"), &formats);
        for channel in ["f#a/+", "f4#a/%23", "f#\"\n"] {
            let (mut shared, mut whole) = (String::new(), String::new());
            fragment.write_on(channel, &mut shared);
            assert_eq!(fragment.len_on(channel), shared.len());
            let item = Item {
                channel,
                sender: Some("c1"),
                formats,
                ..PLAIN
            };
            item.write(&mut whole);
            assert_eq!(shared, whole);
        }
    }
}
