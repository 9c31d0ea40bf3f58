//! PUBLISH from a client: the checks, the [`Effect::Publish`] the driver executes, and
//! the PUBACK or PUBREC for its outcome ([`on_published`]).
//!
//! - Delivery to subscribers is QoS 0. A QoS 1 PUBLISH from a client is acknowledged only
//!   after the publish API accepted the message (at least once from client to broker). A
//!   QoS 2 PUBLISH is published once and answered with PUBREC (`qos2.rs`).
//! - An unauthorised PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87, QoS 2 PUBREC 0x87, and the
//!   connection stays; MQTT 5 QoS 0 (which has no acknowledgement) gets DISCONNECT 0x87,
//!   so the client learns why; MQTT 3.1.1 has no negative acknowledgement, so the
//!   connection is closed ([MQTT-3.3.5-2] allows that).
//! - A retained message is stored before it is published; when the store fails nothing is
//!   published. One the store refuses for rate (one write per second per key) is neither
//!   stored nor published: MQTT 5 QoS 1 gets PUBACK 0x97 (QoS 2 PUBREC 0x97); MQTT 3.1.1
//!   QoS 1 and 2 close the connection; QoS 0 (either version) drops it like any other
//!   QoS 0 failure, because a DISCONNECT would make a fast publisher reconnect forever.
//! - The per-connection rate limit (class `mqtt-publish`) is asked first: over it, MQTT 5
//!   QoS 1 and 2 get 0x97 with the limit as reason string and the connection stays; MQTT 5
//!   QoS 0 gets DISCONNECT 0x96 Message rate too high; MQTT 3.1.1 is closed.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{
    DisconnectReasonCode, Packet, ProtocolVersion, PubAck, PubAckReasonCode, PubRec, Publish, QoS,
};
use pubsub_core::principal::Access;
use pubsub_core::topic::TopicName;

use super::effects::{Ack, Effect, Effects, NotPublished, Publication, Published};
use super::ending::disconnect;
use super::qos2;
use super::state::{Context, State};

/// Handles a client's PUBLISH: refused, or handed to the driver to publish.
pub(super) fn publish(state: &mut State, ctx: &Context, fx: &mut Effects, p: Publish) {
    if let (QoS::ExactlyOnce, Some(id)) = (p.qos, p.packet_id) {
        if !qos2::admit(state, ctx, fx, id) {
            return;
        }
    }
    let Some(topic) = admitted(state, ctx, fx, &p) else {
        return;
    };
    let allowed = match state.principal(ctx) {
        Ok(principal) => principal.allows(Access::Write, &p.topic),
        Err(_) => false,
    };
    let ack = acknowledged(&p);
    if !allowed {
        let text = format!("the token may not publish to {:?}", p.topic);
        return match ack {
            Ack::Publish { qos, id } if state.version() == ProtocolVersion::V5 => {
                puback(
                    state,
                    fx,
                    qos,
                    id,
                    PubAckReasonCode::NotAuthorized,
                    Some(text),
                );
            }
            _ => disconnect(state, ctx, fx, DisconnectReasonCode::NotAuthorized, &text),
        };
    }
    if let Ack::Publish {
        qos: QoS::ExactlyOnce,
        id,
    } = ack
    {
        // Remembered now, so that a re-sent copy in the same request is not published
        // again while its outcome waits; forgotten if the publish fails.
        qos2::remember(state, id);
    }
    let publication = Publication::of(p, topic, ctx.connection_id);
    fx.push(Effect::Publish { publication, ack });
}

/// The topic of `p`, parsed, unless `p` is refused before its token is looked at (rate
/// limit, topic alias, topic name, size); a refused PUBLISH has been answered.
fn admitted(state: &mut State, ctx: &Context, fx: &mut Effects, p: &Publish) -> Option<TopicName> {
    if let Err(text) = ctx.ports.admit_publish() {
        match (state.version(), acknowledged(p)) {
            (ProtocolVersion::V5, Ack::Publish { qos, id }) => {
                puback(
                    state,
                    fx,
                    qos,
                    id,
                    PubAckReasonCode::QuotaExceeded,
                    Some(text),
                );
            }
            _ => disconnect(
                state,
                ctx,
                fx,
                DisconnectReasonCode::MessageRateTooHigh,
                &text,
            ),
        }
        return None;
    }
    let max = ctx.config.max_message_bytes;
    let (reason, text) = if p.properties.topic_alias.is_some() {
        let text = "topic aliases are not supported (Topic Alias Maximum is 0)";
        (DisconnectReasonCode::TopicAliasInvalid, text.to_owned())
    } else {
        match TopicName::parse(&p.topic) {
            Err(e) => (DisconnectReasonCode::TopicNameInvalid, e.to_string()),
            Ok(_) if p.payload.len() > max => {
                let text = format!("message is larger than {max} bytes");
                (DisconnectReasonCode::PacketTooLarge, text)
            }
            Ok(topic) => return Some(topic),
        }
    };
    disconnect(state, ctx, fx, reason, &text);
    None
}

/// Answers a published PUBLISH: a PUBACK at QoS 1, a PUBREC at QoS 2 (whose identifier
/// then awaits PUBREL), negative in MQTT 5 when it failed (3.1.1 has no negative
/// acknowledgement, so the connection closes instead); nothing at QoS 0, which promises
/// nothing: a failed message is lost, the connection stays.
pub(crate) fn on_published(
    state: &mut State,
    ctx: &Context,
    ack: Ack,
    outcome: Published,
) -> Effects {
    let mut fx = Effects::new();
    let Ack::Publish { qos, id } = ack else {
        return fx;
    };
    let (code, why) = match outcome {
        Ok(()) => {
            puback(state, &mut fx, qos, id, PubAckReasonCode::Success, None);
            return fx;
        }
        Err(NotPublished::RateLimited(why)) => (PubAckReasonCode::QuotaExceeded, why),
        Err(NotPublished::NotStored(why)) => (PubAckReasonCode::ImplementationSpecificError, why),
        Err(NotPublished::NotDelivered(why)) => (PubAckReasonCode::UnspecifiedError, why),
        Err(NotPublished::TooLarge(why)) => (PubAckReasonCode::QuotaExceeded, why),
    };
    if qos == QoS::ExactlyOnce {
        qos2::forget(state, id);
    }
    if state.version() == ProtocolVersion::V5 {
        puback(state, &mut fx, qos, id, code, Some(why));
    } else {
        disconnect(
            state,
            ctx,
            &mut fx,
            DisconnectReasonCode::UnspecifiedError,
            &why,
        );
    }
    fx
}

/// Sends the PUBLISH's acknowledgement: PUBACK at QoS 1, PUBREC at QoS 2 (one layout,
/// one set of reason codes); the reason string only in MQTT 5.
fn puback(
    state: &State,
    fx: &mut Effects,
    qos: QoS,
    id: NonZeroU16,
    code: PubAckReasonCode,
    text: Option<String>,
) {
    let version = state.version();
    let mut ack = PubAck::new(id);
    ack.reason_code = code;
    if version == ProtocolVersion::V5 && text.is_some() {
        ack.properties.reason_string = text;
    }
    let packet = match qos {
        QoS::ExactlyOnce => Packet::PubRec(PubRec {
            packet_id: ack.packet_id,
            reason_code: ack.reason_code,
            properties: ack.properties,
        }),
        _ => Packet::PubAck(ack),
    };
    fx.push(Effect::Send { packet, version });
}

/// What a PUBLISH is acknowledged with: QoS 1 and 2 name their Packet Identifier.
fn acknowledged(p: &Publish) -> Ack {
    match p.packet_id {
        Some(id) if p.qos != QoS::AtMostOnce => Ack::Publish { qos: p.qos, id },
        _ => Ack::Nothing,
    }
}
