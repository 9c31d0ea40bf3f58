//! The body of a GRIP publish request: the items that carry messages to the channels of
//! their topics, live and retained.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;

use super::sse_event;
use crate::audience::{feed, Rendering};
use crate::retained::{EventId, Stored};

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

impl<'a> Item<'a> {
    /// An item on `channel` carrying `packet` to WebSocket (MQTT) subscribers and, when
    /// given, the SSE event `sse` to HTTP-stream subscribers.
    fn new(
        channel: Cow<'a, str>,
        sender: Option<&'a str>,
        sse: Option<String>,
        packet: &[u8],
    ) -> Self {
        Item {
            channel,
            meta: sender.map(|sender| ItemMeta { sender }),
            formats: Formats {
                http_stream: sse.map(|content| HttpStream { content }),
                ws_message: WsMessage {
                    content_bin: BASE64.encode(packet),
                },
            },
        }
    }
}

/// The body of a GRIP publish request carrying `messages`: per message, one item on the
/// topic's channel (SSE and MQTT 5), one on its MQTT 3.1.1 channel and one on its Retain
/// As Published channel.
pub fn publish_body(messages: &[Outgoing<'_>]) -> Vec<u8> {
    let mut items = Vec::with_capacity(messages.len() * 3);
    for m in messages {
        let sse = sse_event(m.payload, None);
        items.push(Item::new(
            feed::live(m.topic),
            m.sender,
            Some(sse),
            &m.mqtt_v5,
        ));
        for (channel, packet) in [
            (Rendering::Mqtt311.channel(m.topic), &m.mqtt_v311),
            (Rendering::Mqtt5AsPublished.channel(m.topic), &m.mqtt_v5),
        ] {
            items.push(Item::new(Cow::Owned(channel), m.sender, None, packet));
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
/// event (with `id:` [`EventId::single`]) on the retained feed with GRIP `id` = the new
/// version and `prev-id` = the replaced one, then the MQTT 5 and MQTT 3.1.1 packets on the
/// topic's two MQTT channels, without the SSE format (SSE subscribers of the live channel
/// get the event through the retained channel).
pub fn retained_publish_body(messages: &[RetainedOutgoing<'_>]) -> Vec<u8> {
    let mut items = Vec::with_capacity(messages.len() * 3);
    for RetainedOutgoing { message: m, stored } in messages {
        let event_id = EventId::single(m.topic, stored.version).to_string();
        items.push(AnyItem::Sequenced(SequencedItem {
            channel: Rendering::SequencedEvent.channel(m.topic),
            id: stored.version.to_string(),
            prev_id: stored.previous.to_string(),
            meta: m.sender.map(|sender| ItemMeta { sender }),
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
            (feed::live(m.topic), &m.mqtt_v5),
            (
                Cow::Owned(Rendering::Mqtt311.channel(m.topic)),
                &m.mqtt_v311,
            ),
            (
                Cow::Owned(Rendering::Mqtt5AsPublished.channel(m.topic)),
                &as_published,
            ),
        ] {
            items.push(AnyItem::Plain(Item::new(channel, m.sender, None, packet)));
        }
    }
    serde_json::to_vec(&serde_json::json!({ "items": items })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use pubsub_codec::mqtt::ProtocolVersion;

    use super::*;
    use crate::message::mqtt_publish;

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
}
