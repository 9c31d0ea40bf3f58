//! The Will Message: registered at CONNECT, published when the session ends without a
//! normal DISCONNECT.
//!
//! A Will is published when the connection ends without a normal DISCONNECT (client close,
//! lost connection, keep alive timeout, a protocol error), at once: sessions end with the
//! connection, so the Will Delay Interval is over. The token must allow publishing to the
//! Will Topic (else CONNACK 0x87) and the Will as stored (an MQTT 5 PUBLISH: topic,
//! properties and payload) is at most [`MAX_WILL_BYTES`] (else 0x97), because it waits in
//! connection metadata. A Will is not published once the token's key is revoked or the
//! token no longer verifies; nobody is left to tell when its publish fails.

use pubsub_codec::mqtt::{self, ConnectReasonCode, ProtocolVersion, Publish};
use pubsub_core::principal::{Access, Principal};
use pubsub_core::render;
use pubsub_core::topic::{name, TopicName};
use pubsub_core::Config;

use super::effects::{Ack, Effect, Effects, Publication};
use super::state::{Context, State};

/// The largest Will a connection may register, counted as the stored MQTT 5 PUBLISH
/// (topic, properties and payload): it travels in connection metadata (a header, as
/// base64) until the connection ends.
pub const MAX_WILL_BYTES: usize = 4096;

/// The session ends without a normal DISCONNECT: publish the Will Message, if any
/// [MQTT-3.1.2-8]. Sessions are not kept after the connection, so the Will Delay
/// Interval is over at once [MQTT-3.1.3-9].
pub(super) fn publish_will(state: &mut State, ctx: &Context, fx: &mut Effects) {
    let Some(bytes) = state.session.will.take() else {
        return;
    };
    // The token is checked again (its key may have been revoked since CONNECT).
    if state.principal(ctx).is_err() {
        return;
    }
    // The Will travelled in connection metadata since CONNECT: its topic is read again.
    let Ok(will) = Publish::decode(&bytes, ProtocolVersion::V5) else {
        return;
    };
    if let Ok(topic) = TopicName::parse(&will.topic) {
        let publication = Publication::of(will, topic, ctx.connection_id);
        fx.push(Effect::Publish {
            publication,
            ack: Ack::Nothing,
        });
    }
}

/// [MQTT-3.14.4-3]: a normal DISCONNECT discards the Will.
pub(super) fn discard_will(state: &mut State) {
    state.session.will = None;
}

/// The Will of a CONNECT as the MQTT 5 PUBLISH to send when the session ends, or the
/// CONNACK refusal: the token must allow publishing to the Will Topic
/// [MQTT-3.1.2-8], the topic must be valid, the stored packet at most [`MAX_WILL_BYTES`].
pub(super) fn will_packet(
    will: &mqtt::Will,
    principal: &Principal,
    config: &Config,
) -> Result<Vec<u8>, (ConnectReasonCode, String)> {
    if let Err(e) = name::check(&will.topic) {
        return Err((
            ConnectReasonCode::TopicNameInvalid,
            format!("Will Topic: {e}"),
        ));
    }
    if !principal.allows(Access::Write, &will.topic) {
        return Err((
            ConnectReasonCode::NotAuthorized,
            format!("the token may not publish the Will to {:?}", will.topic),
        ));
    }
    if will.payload.len() > config.max_message_bytes {
        return Err((
            ConnectReasonCode::QuotaExceeded,
            format!(
                "the Will payload is larger than max-message-bytes ({})",
                config.max_message_bytes
            ),
        ));
    }
    let props = render::mqtt_props(&will.properties);
    let mut packet = render::mqtt_publish(
        ProtocolVersion::V5,
        &will.topic,
        &will.payload,
        Some(&props),
        will.properties.message_expiry_interval,
        will.retain,
    );
    if packet.is_empty() {
        return Err((
            ConnectReasonCode::UnspecifiedError,
            "Will not encodable".into(),
        ));
    }
    if packet.len() > MAX_WILL_BYTES {
        return Err((
            ConnectReasonCode::QuotaExceeded,
            format!(
                "the Will (topic, properties and payload) takes {} bytes; at most \
                 {MAX_WILL_BYTES} can wait in connection metadata",
                packet.len()
            ),
        ));
    }
    packet.shrink_to_fit();
    Ok(packet)
}
