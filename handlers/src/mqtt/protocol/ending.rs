//! How a connection ends: an MQTT 5 DISCONNECT from the broker, closing the WebSocket,
//! and the peer closing it or the connection being lost.
//!
//! Invariants: a connection closes once per request (later closes do nothing); every end
//! but a normal DISCONNECT publishes the Will (`will.rs`), after the close. A broker
//! DISCONNECT carries a reason string and exists in MQTT 5 only; 3.1.1 just closes.
//! Close codes: 1000 for a normal end, 1008 for a policy end, 1002 and 1003 for what is
//! not MQTT (chosen by the callers). A peer close without a status code, or with 1008
//! (`REVOKED_CLOSE_CODE`), may be Fanout's close action of a key revocation (or of a
//! client-id takeover, which reads the same) ([`closed_by_fanout`]): the Will is dropped then, whatever the KV store (eventually
//! consistent) still says about the key. A client that wants its Will published closes
//! with another code, or just goes away (a lost connection publishes it).

use pubsub_codec::mqtt::{Disconnect, DisconnectReasonCode, Packet, ProtocolVersion};
use pubsub_core::grip::REVOKED_CLOSE_CODE;

use super::effects::{Effect, Effects};
use super::state::{Context, State};
use super::will::{discard_will, publish_will};

/// Ends the session: an MQTT 5 DISCONNECT with `reason` (3.1.1 has none), then close.
pub(super) fn disconnect(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    reason: DisconnectReasonCode,
    text: &str,
) {
    if state.session.version == Some(ProtocolVersion::V5) {
        let mut packet = Disconnect::new(reason);
        packet.properties.reason_string = Some(text.to_owned());
        fx.push(Effect::Send {
            packet: Packet::Disconnect(packet),
            version: ProtocolVersion::V5,
        });
    }
    let code = if reason == DisconnectReasonCode::NormalDisconnection {
        1000
    } else {
        1008
    };
    close(state, ctx, fx, code);
}

/// Ends the WebSocket with `code`.
pub(super) fn close(state: &mut State, ctx: &Context, fx: &mut Effects, code: u16) {
    if !state.closed {
        fx.push(Effect::Close(code));
        state.closed = true;
        publish_will(state, ctx, fx);
    }
}

/// The client closed the WebSocket (with `code`, if it gave one): the session ends and
/// the close is answered, unless the broker closed first.
pub(crate) fn client_closed(state: &mut State, ctx: &Context, code: Option<u16>) -> Effects {
    let mut fx = Effects::new();
    if closed_by_fanout(code) {
        // The key's record may still be in this POP's KV store, so its absence cannot
        // be what stops the Will.
        discard_will(state);
    }
    if !state.closed {
        state.closed = true;
        publish_will(state, ctx, &mut fx);
        fx.push(Effect::Close(code.unwrap_or(1000)));
    }
    fx
}

/// Whether a peer close with `code` may be Fanout's close action, which only a key
/// revocation publishes: Pushpin reports the connections it closes itself with a CLOSE
/// event without a status code (seen on Pushpin 1.x), and the revocation asks for 1008.
pub(crate) fn closed_by_fanout(code: Option<u16>) -> bool {
    matches!(code, None | Some(REVOKED_CLOSE_CODE))
}

/// The connection was lost: the session ends, nothing is sent.
pub(crate) fn connection_lost(state: &mut State, ctx: &Context) -> Effects {
    let mut fx = Effects::new();
    if !state.closed {
        state.closed = true;
        publish_will(state, ctx, &mut fx);
    }
    fx
}

/// The broker closes the WebSocket with `code` (e.g. 1003 for a text message).
pub(crate) fn broker_closed(state: &mut State, ctx: &Context, code: u16) -> Effects {
    let mut fx = Effects::new();
    close(state, ctx, &mut fx, code);
    fx
}
