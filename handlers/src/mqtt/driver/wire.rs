//! What the driver writes into the WebSocket-over-HTTP answer: MQTT packets as `BINARY`
//! events with the `grip` extension's `m:` prefix, and Fanout control messages as
//! `TEXT` events (`c:` prefix, written by `wsevents::control_message`).
//!
//! With the `grip` WebSocket extension (negotiated by the OPEN answer), a message from
//! the app to the client must start with [`MESSAGE_PREFIX`] (Fanout strips it);
//! unprefixed messages are not delivered.

use pubsub_codec::mqtt::{Packet, ProtocolVersion};
use pubsub_codec::wsevents;

/// The prefix of every message for the client.
const MESSAGE_PREFIX: &[u8] = b"m:";

/// What a BINARY event adds to the packet it carries: the `BINARY <hex length>\r\n`
/// header, the `m:` prefix and the closing `\r\n`, with room to spare.
pub(super) const EVENT_OVERHEAD: usize = 32;

/// Writes `packet`, encoded for `version`, as a message for the client.
pub(super) fn packet(out: &mut Vec<u8>, packet: &Packet, version: ProtocolVersion) {
    let mut bytes = Vec::with_capacity(MESSAGE_PREFIX.len() + packet.encoded_len(version));
    bytes.extend_from_slice(MESSAGE_PREFIX);
    if packet.encode(version, &mut bytes).is_ok() {
        wsevents::write_binary(out, &bytes);
    }
}

/// Writes raw packet bytes as a message for the client.
pub(super) fn raw(out: &mut Vec<u8>, packet: &[u8]) {
    let mut bytes = Vec::with_capacity(MESSAGE_PREFIX.len() + packet.len());
    bytes.extend_from_slice(MESSAGE_PREFIX);
    bytes.extend_from_slice(packet);
    wsevents::write_binary(out, &bytes);
}

/// A `subscribe` or `unsubscribe` control message for `channel`.
pub(super) fn listen(out: &mut Vec<u8>, kind: &str, channel: &str, skip_self: bool) {
    let json = if skip_self {
        serde_json::json!({"type": kind, "channel": channel, "filters": ["skip-self"]})
    } else {
        serde_json::json!({"type": kind, "channel": channel})
    };
    wsevents::control_message(out, &json.to_string());
}

/// A `set-meta` control message naming the connection's `user`.
pub(super) fn identify_as(out: &mut Vec<u8>, user: &str) {
    let set_meta = serde_json::json!({"type": "set-meta", "name": "user", "value": user});
    wsevents::control_message(out, &set_meta.to_string());
}
