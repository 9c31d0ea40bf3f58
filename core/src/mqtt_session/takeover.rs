//! Client-id takeover: the Fanout channel every MQTT connection of a client id listens
//! on, and the publish request a new CONNECT with that client id sends to it.
//!
//! A client id belongs to an identity ([`identity`]: the token's `sub`, else its key
//! id), so the channel is named after both: another identity using the same client id
//! reaches a different channel and takes nothing over. The name is a digest (a client id
//! may be 65,535 bytes), with a prefix per protocol version: `c#` (MQTT 5) and `c4#`
//! (MQTT 3.1.1), neither of which a topic's channel can have (`#` is percent-encoded in
//! topic channels, see `crate::audience`).
//!
//! A new CONNECT publishes, in one request and before it listens on the channel itself:
//!
//! 1. on `c#…`: an MQTT 5 DISCONNECT with reason 0x8E (Session taken over), then Fanout's
//!    `close` action with [`TAKEN_OVER_CLOSE_CODE`];
//! 2. on `c4#…`: the `close` action alone (MQTT 3.1.1 has no server DISCONNECT).
//!
//! Each item carries the new connection as its `sender`, and the connection listens with
//! `skip-self`, so the new connection is never hit even if its subscription were to reach
//! Fanout before the items.

use pubsub_codec::mqtt::{Disconnect, DisconnectReasonCode, Packet, ProtocolVersion};
use sha2::{Digest, Sha256};

use crate::grip::{Batch, Formats, Item, WsMessage};
use crate::principal::Principal;

/// The WebSocket close code Fanout closes a taken-over connection with (4000, of the
/// range left to applications), so that a client can tell it from a revocation's 1008.
/// The app cannot: Pushpin reports a close it made itself as a CLOSE without a status
/// code, so the Will of the connection taken over is dropped as a revoked one's is.
pub const TAKEN_OVER_CLOSE_CODE: u16 = 4000;

/// Who owns a client id: `s:` and the token's `sub`, or `k:` and its key id when the
/// token names no subject.
pub fn identity(principal: &Principal) -> String {
    match &principal.sub {
        Some(sub) => format!("s:{sub}"),
        None => format!("k:{}", principal.kid),
    }
}

/// The channel the connections of `identity`'s `client_id` of `version` listen on.
pub fn channel(version: ProtocolVersion, identity: &str, client_id: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(identity.as_bytes());
    digest.update([0]);
    digest.update(client_id.as_bytes());
    let digest = digest.finalize();
    let prefix = match version {
        ProtocolVersion::V5 => "c#",
        ProtocolVersion::V311 => "c4#",
    };
    let mut out = String::with_capacity(prefix.len() + 32);
    out.push_str(prefix);
    for b in &digest[..16] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// The publish request bodies (one) that end every other connection of `identity`'s
/// `client_id`; `sender` is the new connection (Fanout's `Connection-Id`).
pub fn takeover_requests(identity: &str, client_id: &str, sender: &str) -> Vec<Vec<u8>> {
    let mut disconnect = Disconnect::new(DisconnectReasonCode::SessionTakenOver);
    disconnect.properties.reason_string =
        Some("another connection with this client id connected".into());
    let mut packet = Vec::new();
    // A DISCONNECT with a short reason string always encodes; without it the close
    // action still ends the connection.
    let _ = Packet::Disconnect(disconnect).encode(ProtocolVersion::V5, &mut packet);
    let v5 = channel(ProtocolVersion::V5, identity, client_id);
    let v311 = channel(ProtocolVersion::V311, identity, client_id);
    let close = WsMessage::Close {
        code: TAKEN_OVER_CLOSE_CODE,
    };
    let on = |channel, ws_message| Item {
        channel,
        id: None,
        prev_id: None,
        sender: Some(sender),
        formats: Formats {
            http_stream: None,
            ws_message: Some(ws_message),
        },
    };
    let items = [
        on(&v5, WsMessage::ContentBin(&packet)),
        on(&v5, close),
        on(&v311, close),
    ];
    Batch::requests_of(&items)
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;

    use super::*;

    #[test]
    fn a_channel_belongs_to_the_identity_and_the_client_id_per_version() {
        let a = channel(ProtocolVersion::V5, "s:alice", "phone");
        assert!(a.starts_with("c#") && a.len() == 34, "{a}");
        assert_eq!(a, channel(ProtocolVersion::V5, "s:alice", "phone"));
        assert_ne!(a, channel(ProtocolVersion::V5, "s:bob", "phone"));
        assert_ne!(a, channel(ProtocolVersion::V5, "s:alice", "laptop"));
        // The separator keeps ("s:a", "bc") and ("s:ab", "c") apart.
        assert_ne!(
            channel(ProtocolVersion::V5, "s:a", "bc"),
            channel(ProtocolVersion::V5, "s:ab", "c")
        );
        let v4 = channel(ProtocolVersion::V311, "s:alice", "phone");
        assert_eq!(&v4[3..], &a[2..], "{v4}");
        assert!(v4.starts_with("c4#"));
    }

    #[test]
    fn the_identity_is_the_subject_else_the_key() {
        let mut p = Principal {
            kid: "k1".into(),
            ..Principal::default()
        };
        assert_eq!(identity(&p), "k:k1");
        p.sub = Some("k1".into());
        assert_eq!(identity(&p), "s:k1", "a subject never reads as a key id");
    }

    #[test]
    fn a_takeover_tells_then_closes_both_versions_but_not_the_sender() {
        let requests = takeover_requests("s:alice", "phone", "conn-2");
        assert_eq!(requests.len(), 1, "one request");
        let body: serde_json::Value = serde_json::from_slice(&requests[0]).expect("json");
        let items = body["items"].as_array().expect("items");
        assert_eq!(items.len(), 3);
        let v5 = channel(ProtocolVersion::V5, "s:alice", "phone");
        let v4 = channel(ProtocolVersion::V311, "s:alice", "phone");
        let channels: Vec<&str> = items.iter().filter_map(|i| i["channel"].as_str()).collect();
        assert_eq!(channels, [&v5, &v5, &v4]);
        assert!(items.iter().all(|i| i["meta"]["sender"] == "conn-2"));
        let packet = BASE64
            .decode(
                items[0]["formats"]["ws-message"]["content-bin"]
                    .as_str()
                    .expect("bin"),
            )
            .expect("base64");
        assert_eq!(packet[0], 0xE0, "a DISCONNECT");
        assert_eq!(packet[2], 0x8E, "reason: session taken over");
        for item in &items[1..] {
            assert_eq!(item["formats"]["ws-message"]["action"], "close");
            assert_eq!(item["formats"]["ws-message"]["code"], 4000);
            assert!(item["formats"].get("http-stream").is_none());
        }
    }
}
