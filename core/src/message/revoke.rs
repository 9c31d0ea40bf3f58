//! The publish request that ends every connection a revoked signing key authorised.
//!
//! Every SSE stream and MQTT connection listens on its key's channel (`Feed::Key`,
//! `Feed::Key311` for MQTT 3.1.1, see [`crate::audience`]), which nothing else publishes to, so an idle
//! connection costs nothing for this. Revoking a key publishes, in one request and in this
//! order:
//!
//! 1. on `Feed::Key`: the SSE `stream-error` event (condition `unauthorized`) and an
//!    MQTT 5 DISCONNECT with reason 0x87 (Not authorized);
//! 2. on `Feed::Key`: Fanout's `close` action for both formats, which ends the stream
//!    and closes the WebSocket;
//! 3. on `Feed::Key311`: the WebSocket `close` action alone (MQTT 3.1.1 has no
//!    server DISCONNECT).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use pubsub_codec::mqtt::{Disconnect, DisconnectReasonCode, Packet, ProtocolVersion};
use serde_json::json;

use crate::audience::Rendering;

/// The WebSocket close code of a revoked connection (1008: policy violation).
pub const REVOKED_CLOSE_CODE: u16 = 1008;

/// The body of the publish request that ends the connections of key `kid`.
pub fn revocation_body(kid: &str) -> Vec<u8> {
    let text = format!("signing key {kid:?} was revoked");
    let event = format!(
        "event: stream-error\ndata: {}\n\n",
        json!({"condition": "unauthorized", "text": text})
    );
    let mut disconnect = Disconnect::new(DisconnectReasonCode::NotAuthorized);
    disconnect.properties.reason_string = Some(text);
    let mut packet = Vec::new();
    // A DISCONNECT with a short reason string always encodes; without it the close
    // action below still ends the connection.
    let _ = Packet::Disconnect(disconnect).encode(ProtocolVersion::V5, &mut packet);
    let key = Rendering::Revocation.channel(kid);
    let close = json!({"action": "close", "code": REVOKED_CLOSE_CODE});
    json!({"items": [
        {
            "channel": key,
            "formats": {
                "http-stream": {"content": event},
                "ws-message": {"content-bin": BASE64.encode(&packet)},
            },
        },
        {
            "channel": key,
            "formats": {"http-stream": {"action": "close"}, "ws-message": close},
        },
        {"channel": Rendering::Revocation311.channel(kid), "formats": {"ws-message": close}},
    ]})
    .to_string()
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revocation_tells_then_closes_every_kind_of_connection() {
        let body: serde_json::Value = serde_json::from_slice(&revocation_body("k1")).expect("json");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), 3);
        let tell = &items[0]["formats"];
        assert_eq!(items[0]["channel"], "k#k1");
        let event = tell["http-stream"]["content"].as_str().expect("event");
        assert!(event.starts_with("event: stream-error\ndata: {\"condition\":\"unauthorized\""));
        let packet = BASE64
            .decode(tell["ws-message"]["content-bin"].as_str().expect("bin"))
            .expect("base64");
        assert_eq!(packet[0], 0xE0, "a DISCONNECT");
        assert_eq!(packet[2], 0x87, "reason: not authorized");
        assert_eq!(items[1]["formats"]["http-stream"]["action"], "close");
        assert_eq!(items[1]["formats"]["ws-message"]["code"], 1008);
        assert_eq!(items[2]["channel"], "k4#k1");
        assert!(items[2]["formats"].get("http-stream").is_none());
    }
}
