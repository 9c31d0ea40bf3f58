//! A history record: one message of a topic's history as stored in KV store `messages`,
//! under [`key`]`(topic, id)`.
//!
//! The key is `h/<lowercase hex of the topic's UTF-8>/<HistoryId>` (at most
//! 2 + 512 + 1 + 26 bytes, only `[0-9a-fh/-]`: a valid Fastly KV key), so one topic's
//! records are one key prefix ([`topic_prefix`]) and list in id order. The value is one
//! JSON object (`format` 1):
//!
//! ```json
//! {"format":1,"id":"0192ab34cd56-0000-9f3a21bc","at":1763715678123,"payload":"aGk=",
//!  "retain":false,"expires_at":1763715738,"mqtt":{"content_type":"text/plain"}}
//! ```
//!
//! `payload` is the standard base64 of the message (binary payloads survive as they
//! are), `at` the millisecond it was published, `retain` whether it was published
//! retained, `expires_at` (seconds since the Unix epoch) its own expiry when it had a TTL,
//! `mqtt` the MQTT 5 properties it travelled with ([`MqttProps`]). A record that does not
//! decode is skipped by readers, never an error.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::id::HistoryId;
use crate::retained::MqttProps;
use crate::topic::query::hex;
use crate::Error;

/// The record format this module writes.
const FORMAT: u32 = 1;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// One message of a topic's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryMessage {
    /// Its id.
    pub id: HistoryId,
    /// Its topic.
    pub topic: String,
    /// The payload, any bytes.
    pub payload: Vec<u8>,
    /// Whether it was published retained.
    pub retain: bool,
    /// When it was published, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// When it expires on its own (a TTL), in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// The MQTT 5 properties it travelled with.
    pub mqtt: Option<MqttProps>,
}

/// The stored form; `M` is [`MqttProps`] when reading, a reference to one when writing.
#[derive(Serialize, Deserialize)]
struct Record<M> {
    format: u32,
    id: String,
    at: u64,
    payload: String,
    retain: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mqtt: Option<M>,
}

/// The key prefix of `topic`'s records: `h/<hex of the topic>/`.
pub fn topic_prefix(topic: &str) -> String {
    let mut prefix = String::with_capacity(3 + 2 * topic.len() + 26);
    prefix.push_str("h/");
    push_hex(&mut prefix, topic);
    prefix.push('/');
    prefix
}

/// The key of `topic`'s record of message `id`.
pub fn key(topic: &str, id: HistoryId) -> String {
    let mut key = topic_prefix(topic);
    key.push_str(&id.to_string());
    key
}

/// Appends the lowercase hex of `text`'s bytes.
pub(crate) fn push_hex(out: &mut String, text: &str) {
    for b in text.bytes() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

/// The text whose UTF-8 bytes `digits` spell in hex; `None` when they do not.
pub(crate) fn parse_hex(digits: &str) -> Option<String> {
    let digits = digits.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    let bytes = digits
        .chunks(2)
        .map(|pair| Some(hex(pair[0])? << 4 | hex(pair[1])?))
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

/// The parts of a message to store, borrowed.
#[derive(Clone, Copy, Debug)]
pub(super) struct Parts<'a> {
    pub(super) id: HistoryId,
    pub(super) payload: &'a [u8],
    pub(super) retain: bool,
    pub(super) expires_at: Option<u64>,
    pub(super) mqtt: Option<&'a MqttProps>,
}

/// The stored bytes of a message.
pub(super) fn encode(message: Parts<'_>) -> Result<Vec<u8>, Error> {
    let record = Record {
        format: FORMAT,
        id: message.id.to_string(),
        at: message.id.ms(),
        payload: BASE64.encode(message.payload),
        retain: message.retain,
        expires_at: message.expires_at,
        mqtt: message.mqtt,
    };
    serde_json::to_vec(&record).map_err(|e| Error::Internal(format!("history record: {e}")))
}

/// The message of `topic` stored as `value`; `None` when it is not a format-1 record.
pub(super) fn decode(topic: &str, value: &[u8]) -> Option<HistoryMessage> {
    let record: Record<MqttProps> = serde_json::from_slice(value).ok()?;
    if record.format != FORMAT {
        return None;
    }
    Some(HistoryMessage {
        id: record.id.parse().ok()?,
        topic: topic.to_owned(),
        payload: BASE64.decode(record.payload).ok()?,
        retain: record.retain,
        at_ms: record.at,
        expires_at: record.expires_at,
        mqtt: record.mqtt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The topic and the id of a record key; `None` for a key [`key`] never writes.
    fn parse_key(key: &str) -> Option<(String, HistoryId)> {
        let rest = key.strip_prefix("h/")?;
        let (digits, id) = rest.split_once('/')?;
        let id = id.parse().ok()?;
        Some((parse_hex(digits)?, id))
    }

    #[test]
    fn keys_are_hex_and_parse_back() {
        let id = HistoryId::new(0x0192_ab34_cd56, 1, 2);
        assert_eq!(key("a/b", id), "h/612f62/0192ab34cd56-0001-00000002");
        assert_eq!(parse_key(&key("é/x", id)), Some(("é/x".to_owned(), id)));
        let long = key(&"é".repeat(128), id);
        assert_eq!(long.len(), 2 + 512 + 1 + 26);
        for bad in [
            "t/61",
            "h/61",
            "h/6/0192ab34cd56-0001-00000002",
            "h/61/x",
            "h/ff/0192ab34cd56-0001-00000002",
        ] {
            assert_eq!(parse_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn records_keep_binary_payloads_and_mqtt_properties() {
        let message = HistoryMessage {
            id: HistoryId::new(1_800_000_000_123, 0, 7),
            topic: "t".into(),
            payload: vec![0xff, 0, 1],
            retain: true,
            at_ms: 1_800_000_000_123,
            expires_at: Some(1_800_000_060),
            mqtt: Some(MqttProps {
                content_type: Some("text/plain".into()),
                correlation_data: Some(vec![0, 255]),
                ..MqttProps::default()
            }),
        };
        let parts = Parts {
            id: message.id,
            payload: &message.payload,
            retain: message.retain,
            expires_at: message.expires_at,
            mqtt: message.mqtt.as_ref(),
        };
        let bytes = encode(parts).expect("encoded");
        let json: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(json["format"], 1);
        assert_eq!(json["id"], "01a3185c507b-0000-00000007");
        assert_eq!(json["payload"], "/wAB");
        assert_eq!(json["mqtt"]["correlation_data"], "AP8=");
        assert_eq!(decode("t", &bytes), Some(message));
        assert_eq!(decode("t", b"garbage"), None);
        assert_eq!(decode("t", br#"{"format":2}"#), None);
    }
}
