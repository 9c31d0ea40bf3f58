//! One message, rendered for every kind of subscriber, and the GRIP publish request that
//! carries it.
//!
//! A publish item carries two formats so that every subscriber of the channel receives the
//! same message: `http-stream` (an SSE event, for `/events` subscribers) and `ws-message`
//! (an MQTT v5 PUBLISH packet in `content-bin`, for `/mqtt` subscribers speaking MQTT 5).
//! MQTT 3.1.1 encodes PUBLISH differently (no properties), so 3.1.1 connections subscribe
//! to a second channel per topic, [`Kind::Mqtt311`], and every message is also published
//! there as a 3.1.1 packet: two items per topic, one publish request.
//!
//! A retained message (see the [`retained`] module) is published with
//! [`retained_publish_body`]: its SSE event goes alone on the topic's retained channel, in
//! the topic's version sequence (GRIP `id` and `prev-id`, and an SSE `id:` line), while its
//! MQTT packets go on the usual channels without the SSE format. SSE subscribers listen on
//! both the live and the retained channel, so each subscriber gets every message once.
//!
//! SSE events: a UTF-8 payload is `event: message` with one `data:` line per line of the
//! payload (lines end at CRLF, CR or LF, as the SSE parser splits them, so a multi-line
//! message arrives with its lines); any other payload is `event: message-base64` with the
//! standard base64 of the bytes.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;

use crate::channel::{self, Kind};
use pubsub_codec::mqtt::{PayloadFormat, Properties, ProtocolVersion, Publish};

use crate::retained::{EventId, MqttProps, Stored};

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
    /// The MQTT v5 PUBLISH packet that carries it to MQTT 5 subscribers.
    pub mqtt_v5: Vec<u8>,
    /// The MQTT 3.1.1 PUBLISH packet that carries it to MQTT 3.1.1 subscribers.
    pub mqtt_v311: Vec<u8>,
    /// The connection that sent it, for MQTT's No Local (Pushpin's `skip-self` filter
    /// compares it with each subscriber's `user` meta).
    pub sender: Option<&'a str>,
}

#[derive(Serialize)]
struct PublishRequest<'a> {
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Item<'a> {
    channel: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<ItemMeta<'a>>,
    formats: Formats,
}

#[derive(Serialize)]
struct ItemMeta<'a> {
    sender: &'a str,
}

#[derive(Serialize)]
struct Formats {
    #[serde(rename = "http-stream", skip_serializing_if = "Option::is_none")]
    http_stream: Option<HttpStream>,
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

/// The body of a GRIP publish request carrying `messages`: per message, one item on the
/// topic's channel (SSE and MQTT 5), one on its MQTT 3.1.1 channel and one on its Retain
/// As Published channel.
pub fn publish_body(messages: &[Outgoing<'_>]) -> Vec<u8> {
    let mut items = Vec::with_capacity(messages.len() * 3);
    for m in messages {
        items.push(Item {
            channel: channel::live(m.topic),
            meta: m.sender.map(|sender| ItemMeta { sender }),
            formats: Formats {
                http_stream: Some(HttpStream {
                    content: sse_event(m.payload, None),
                }),
                ws_message: WsMessage {
                    content_bin: BASE64.encode(&m.mqtt_v5),
                },
            },
        });
        for (channel, packet) in [
            (Kind::Mqtt311.of(m.topic), &m.mqtt_v311),
            (Kind::AsPublished.of(m.topic), &m.mqtt_v5),
        ] {
            items.push(Item {
                channel: Cow::Owned(channel),
                meta: m.sender.map(|sender| ItemMeta { sender }),
                formats: Formats {
                    http_stream: None,
                    ws_message: WsMessage {
                        content_bin: BASE64.encode(packet),
                    },
                },
            });
        }
    }
    serde_json::to_vec(&PublishRequest { items }).unwrap_or_default()
}

/// A retained message as published: the message and the write that stored it.
#[derive(Clone, Debug)]
pub struct RetainedOutgoing<'a> {
    /// The message.
    pub message: Outgoing<'a>,
    /// Its version and the version it replaced.
    pub stored: Stored,
}

#[derive(Serialize)]
struct SequencedItem<'a> {
    channel: String,
    id: String,
    #[serde(rename = "prev-id")]
    prev_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<ItemMeta<'a>>,
    formats: SseOnly,
}

#[derive(Serialize)]
struct SseOnly {
    #[serde(rename = "http-stream")]
    http_stream: HttpStream,
}

#[derive(Serialize)]
#[serde(untagged)]
enum AnyItem<'a> {
    Plain(Item<'a>),
    Sequenced(SequencedItem<'a>),
}

/// The body of a GRIP publish request carrying retained `messages`: per message, the SSE
/// event (with `id:` [`EventId::single`]) on [`Kind::Retained`] with GRIP `id` = the new
/// version and `prev-id` = the replaced one, then the MQTT 5 and MQTT 3.1.1 packets on the
/// topic's two MQTT channels, without the SSE format (SSE subscribers of the live channel
/// get the event through the retained channel).
pub fn retained_publish_body(messages: &[RetainedOutgoing<'_>]) -> Vec<u8> {
    let mut items = Vec::with_capacity(messages.len() * 3);
    for RetainedOutgoing { message: m, stored } in messages {
        let meta = || m.sender.map(|sender| ItemMeta { sender });
        let event_id = EventId::single(m.topic, stored.version).to_string();
        items.push(AnyItem::Sequenced(SequencedItem {
            channel: Kind::Retained.of(m.topic),
            id: stored.version.to_string(),
            prev_id: stored.previous.to_string(),
            meta: meta(),
            formats: SseOnly {
                http_stream: HttpStream {
                    content: sse_event(m.payload, Some(&event_id)),
                },
            },
        }));
        // Retain As Published: the same MQTT 5 packet with RETAIN set.
        let mut as_published = m.mqtt_v5.clone();
        if let Some(first) = as_published.first_mut() {
            *first |= 1;
        }
        for (channel, packet) in [
            (channel::live(m.topic), &m.mqtt_v5),
            (Cow::Owned(Kind::Mqtt311.of(m.topic)), &m.mqtt_v311),
            (Cow::Owned(Kind::AsPublished.of(m.topic)), &as_published),
        ] {
            items.push(AnyItem::Plain(Item {
                channel,
                meta: meta(),
                formats: Formats {
                    http_stream: None,
                    ws_message: WsMessage {
                        content_bin: BASE64.encode(packet),
                    },
                },
            }));
        }
    }
    serde_json::to_vec(&serde_json::json!({ "items": items })).unwrap_or_default()
}

/// A QoS 0 PUBLISH of `payload` on `topic` for MQTT subscribers of `version`, with the
/// MQTT 5 properties `props` and Message Expiry Interval `expiry` (3.1.1 carries neither),
/// and the RETAIN flag `retain`.
pub fn mqtt_publish(
    version: ProtocolVersion,
    topic: &str,
    payload: &[u8],
    props: Option<&MqttProps>,
    expiry: Option<u32>,
    retain: bool,
) -> Vec<u8> {
    let mut packet = Publish::new(topic, payload);
    packet.retain = retain;
    if version == ProtocolVersion::V5 {
        let p = &mut packet.properties;
        p.message_expiry_interval = expiry;
        if let Some(m) = props {
            p.payload_format_indicator = m.payload_format_indicator.map(|f| {
                if f == 1 {
                    PayloadFormat::Utf8
                } else {
                    PayloadFormat::Unspecified
                }
            });
            p.content_type.clone_from(&m.content_type);
            p.response_topic.clone_from(&m.response_topic);
            p.correlation_data.clone_from(&m.correlation_data);
            p.user_properties.clone_from(&m.user_properties);
        }
    }
    let mut out = Vec::with_capacity(packet.encoded_len(version));
    // Cannot fail: topics are at most 256 bytes and properties came from a decoded packet.
    if packet.encode(version, &mut out).is_err() {
        out.clear();
    }
    out
}

/// The MQTT 5 properties of `p` that travel with a message to its subscribers.
pub fn mqtt_props(p: &Properties) -> MqttProps {
    MqttProps {
        payload_format_indicator: p
            .payload_format_indicator
            .map(|f| u8::from(f == PayloadFormat::Utf8)),
        content_type: p.content_type.clone(),
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.clone(),
        user_properties: p.user_properties.clone(),
    }
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
    fn one_item_carries_both_formats_and_a_second_serves_mqtt_311() {
        let packet = mqtt_publish(ProtocolVersion::V5, "a b", b"hi", None, None, false);
        let body = publish_body(&[Outgoing {
            topic: "a b",
            payload: b"hi",
            mqtt_v5: packet.clone(),
            mqtt_v311: b"v311".to_vec(),
            sender: Some("conn-1"),
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
        assert_eq!(item["meta"]["sender"], "conn-1");
        let v311 = &v["items"][1];
        assert_eq!(v311["channel"], "v4#a%20b");
        assert!(v311["formats"].get("http-stream").is_none());
        assert_eq!(
            v311["formats"]["ws-message"]["content-bin"],
            BASE64.encode(b"v311")
        );
        let as_published = &v["items"][2];
        assert_eq!(as_published["channel"], "a#a%20b");
        assert_eq!(
            as_published["formats"]["ws-message"]["content-bin"],
            BASE64.encode(&packet)
        );
    }

    #[test]
    fn a_retained_message_is_sequenced_on_its_retained_channel_and_plain_for_mqtt() {
        let version: crate::retained::Version =
            "00006b49d200-000000000002".parse().expect("version");
        let previous: crate::retained::Version =
            "00006b49d200-000000000001".parse().expect("version");
        let body = retained_publish_body(&[RetainedOutgoing {
            message: Outgoing {
                topic: "a b",
                payload: b"hi",
                mqtt_v5: b"v5".to_vec(),
                mqtt_v311: b"v311".to_vec(),
                sender: None,
            },
            stored: Stored { version, previous },
        }]);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        let items = v["items"].as_array().expect("items");
        assert_eq!(items.len(), 4);
        let sse = &items[0];
        assert_eq!(sse["channel"], "r#a%20b");
        assert_eq!(sse["id"], version.to_string());
        assert_eq!(sse["prev-id"], previous.to_string());
        assert!(sse.get("meta").is_none());
        assert!(sse["formats"].get("ws-message").is_none());
        let event_id = EventId::single("a b", version);
        assert_eq!(
            sse["formats"]["http-stream"]["content"],
            format!("id: {event_id}\nevent: message\ndata: hi\n\n")
        );
        for (item, channel, packet) in [
            (&items[1], "a%20b", &b"v5"[..]),
            (&items[2], "v4#a%20b", b"v311"),
            // Retain As Published: the first byte gets the RETAIN bit (b'v' | 1 = b'w').
            (&items[3], "a#a%20b", b"w5"),
        ] {
            assert_eq!(item["channel"], channel);
            assert!(item.get("id").is_none() && item.get("prev-id").is_none());
            assert!(item["formats"].get("http-stream").is_none());
            assert_eq!(
                item["formats"]["ws-message"]["content-bin"],
                BASE64.encode(packet)
            );
        }
    }

    #[test]
    fn mqtt_packets_are_qos0_publishes_in_each_version() {
        let v5 = |retain| mqtt_publish(ProtocolVersion::V5, "t", b"x", None, None, retain);
        assert_eq!(v5(false), [0x30, 5, 0, 1, b't', 0, b'x']);
        assert_eq!(v5(true), [0x31, 5, 0, 1, b't', 0, b'x']);
        let v311 = mqtt_publish(ProtocolVersion::V311, "t", b"x", None, Some(9), false);
        assert_eq!(v311, [0x30, 4, 0, 1, b't', b'x']);
        let big = mqtt_publish(ProtocolVersion::V5, "t", &[0; 200], None, None, false);
        assert_eq!(&big[..3], [0x30, 0xCC, 0x01]);
    }

    #[test]
    fn mqtt_5_properties_travel_with_the_message() {
        let props = MqttProps {
            payload_format_indicator: Some(1),
            content_type: Some("text/plain".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..MqttProps::default()
        };
        let bytes = mqtt_publish(ProtocolVersion::V5, "t", b"x", Some(&props), Some(30), true);
        let decoded = Publish::decode(&bytes, ProtocolVersion::V5).expect("decodes");
        assert!(decoded.retain);
        assert_eq!(decoded.properties.message_expiry_interval, Some(30));
        assert_eq!(mqtt_props(&decoded.properties), props);
    }
}
