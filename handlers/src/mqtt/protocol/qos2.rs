//! QoS 2 from publishers: the PUBREC / PUBREL / PUBCOMP exchange (MQTT 5 §4.3.3, 3.1.1
//! §4.3.3).
//!
//! The broker follows the spec's method B: a QoS 2 PUBLISH is published to subscribers
//! when it arrives (after the same checks as any PUBLISH), then answered with PUBREC, and
//! its Packet Identifier is remembered until the client's PUBREL, which gets PUBCOMP. A
//! PUBLISH whose identifier is still remembered (the client re-sent it, with or without
//! DUP, because it did not see the PUBREC) gets PUBREC again and is not published again
//! [MQTT-4.3.3-10]. So the message reaches subscribers once, whatever the client re-sends
//! before PUBREL. Publishing at receipt rather than at PUBREL keeps the message itself out
//! of connection metadata: only identifiers wait there.
//!
//! - The identifiers awaiting PUBREL ride in connection metadata (`mqtt-qos2`), at most
//!   [`RECEIVE_MAXIMUM`] of them: the Receive Maximum that an MQTT 5 CONNACK announces. A
//!   QoS 2 PUBLISH beyond it ends the connection (MQTT 5 DISCONNECT 0x93 Receive Maximum
//!   exceeded, MQTT 5 §3.3.4; 3.1.1, which has no Receive Maximum, is closed at the same
//!   bound). A QoS 1 PUBLISH is acknowledged while its packet is handled, so it never
//!   stays in flight and never counts.
//! - A refused QoS 2 PUBLISH (not authorised, retained store failure or rate limit,
//!   publish API failure) gets a PUBREC with a reason code of 0x80 or more in MQTT 5 and
//!   is neither published nor remembered: the exchange ends there. 3.1.1 has no negative
//!   PUBREC, so the connection is closed, as for QoS 1.
//! - A PUBREL whose identifier is not remembered gets PUBCOMP 0x92 Packet Identifier not
//!   found in MQTT 5 (e.g. after a reconnect: sessions are not persisted, and the message
//!   was published at receipt); 3.1.1 gets a plain PUBCOMP, the only form it has.
//! - The state ends with the connection (Session Present is always 0), so exactly once
//!   holds within one connection. Delivery to subscribers stays QoS 0.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{DisconnectReasonCode, Packet, ProtocolVersion};
use pubsub_codec::mqtt::{PubComp, PubRec, PubRel, PubRelReasonCode};

use super::effects::{Effect, Effects};
use super::ending::disconnect;
use super::state::{Context, State};

/// How many QoS 2 publications may await PUBREL on one connection; MQTT 5 CONNACK's
/// Receive Maximum. MQTT.js does not hold its own publishes back to the server's Receive
/// Maximum, so the bound leaves room for bursts; 64 identifiers are at most 383 bytes of
/// metadata.
pub const RECEIVE_MAXIMUM: u16 = 64;

/// Whether a QoS 2 PUBLISH with identifier `id` is new and may be handled. A duplicate
/// of a remembered one gets PUBREC again; one over [`RECEIVE_MAXIMUM`] ends the session.
pub(super) fn admit(state: &mut State, ctx: &Context, fx: &mut Effects, id: NonZeroU16) -> bool {
    if state.session.qos2.contains(&id) {
        let packet = Packet::PubRec(PubRec::new(id));
        fx.push(Effect::Send {
            packet,
            version: state.version(),
        });
        return false;
    }
    if state.session.qos2.len() >= usize::from(RECEIVE_MAXIMUM) {
        let text = format!(
            "more than {RECEIVE_MAXIMUM} QoS 2 publications await PUBREL (Receive Maximum)"
        );
        disconnect(
            state,
            ctx,
            fx,
            DisconnectReasonCode::ReceiveMaximumExceeded,
            &text,
        );
        return false;
    }
    true
}

/// Remembers an admitted QoS 2 message's identifier until its PUBREL.
pub(super) fn remember(state: &mut State, id: NonZeroU16) {
    state.session.qos2.push(id);
}

/// Forgets the identifier of a QoS 2 message that was not published.
pub(super) fn forget(state: &mut State, id: NonZeroU16) {
    state.session.qos2.retain(|&known| known != id);
}

/// Answers a PUBREL: PUBCOMP, with 0x92 (MQTT 5) when the identifier is not awaited.
pub(super) fn pubrel(state: &mut State, fx: &mut Effects, rel: &PubRel) {
    let id = rel.packet_id;
    let mut comp = PubComp::new(id);
    if let Some(i) = state.session.qos2.iter().position(|&known| known == id) {
        state.session.qos2.remove(i);
    } else if state.version() == ProtocolVersion::V5 {
        comp.reason_code = PubRelReasonCode::PacketIdentifierNotFound;
        comp.properties.reason_string = Some(format!(
            "no QoS 2 publication with packet identifier {id} awaits PUBREL"
        ));
    }
    let packet = Packet::PubComp(comp);
    fx.push(Effect::Send {
        packet,
        version: state.version(),
    });
}
