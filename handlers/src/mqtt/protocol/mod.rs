//! The MQTT protocol core: pure packet handling that returns [`Effect`]s. No platform is
//! reached from here; the driver (`mqtt::driver`) cuts packets from the WebSocket bytes,
//! calls [`handle`], executes the effects in order, and feeds the outcome of a publish
//! ([`on_published`]) or a retained delivery ([`on_retained`]) back.
//!
//! A request is: [`liveness::check`], [`retained::recheck`] (unless it opened the
//! connection), [`handle`] for each complete packet (or [`refuse`] for one whose fixed
//! header is bad) while the state is not closed, [`liveness::seen`], then
//! [`ending::client_closed`] or [`ending::connection_lost`] for the request's end event.
//!
//! Every packet of a session is first counted against the request's packet budget
//! (`budget`).
//!
//! Modules, per concept, each depending only on those after it: `budget`, `connect`, `liveness`
//! (keep alive, deadlines, DISCONNECT), `publish`, `qos2`, `subscribe`, `retained`,
//! `ending` (broker DISCONNECT and close), `will`; under all of them `effects` and
//! `state` (the [`State`] around a `pubsub_core::mqtt_session::Session`, and the
//! [`Context`] with the ports the core may ask). The session is read from connection
//! metadata today; a persistent-session store would be a second backing of the same
//! `Session`, loaded and saved by the driver, with no change here.

mod budget;
pub(crate) mod connect;
pub(crate) mod effects;
pub(crate) mod ending;
pub(crate) mod liveness;
pub(crate) mod publish;
pub(crate) mod qos2;
pub(crate) mod retained;
pub(crate) mod state;
pub(crate) mod subscribe;
#[cfg(test)]
mod tests;
pub(crate) mod will;

use pubsub_codec::mqtt::{self, DisconnectReasonCode, Packet, PacketType};

pub(crate) use effects::{Effect, Effects};
pub(crate) use publish::on_published;
pub(crate) use retained::on_retained;
pub(crate) use state::{Context, State};

use ending::{close, disconnect};

/// Handles one complete packet's bytes: a CONNECT first, then any packet of the session.
pub(crate) fn handle(state: &mut State, bytes: &[u8], ctx: &Context) -> Effects {
    let mut fx = Effects::new();
    let Some(version) = state.session.version else {
        // [MQTT-3.1.0-1]: the first packet must be CONNECT.
        if bytes.first().map(|b| b >> 4) != Some(PacketType::Connect as u8) {
            close(state, ctx, &mut fx, 1002);
            return fx;
        }
        match mqtt::decode_connect(bytes) {
            Ok(c) => connect::connect(state, ctx, &mut fx, c),
            Err(e) => {
                state.in_flight = bytes.to_vec();
                connect::connack_failure(state, ctx, &mut fx, &e);
            }
        }
        return fx;
    };
    match mqtt::decode(bytes, version) {
        Ok(packet) => packet_of_session(state, ctx, &mut fx, packet),
        Err(e) => refuse_in(state, ctx, &mut fx, &e),
    }
    fx
}

/// Answers a packet whose fixed header cannot be read; `start` is its first bytes.
pub(crate) fn refuse(
    state: &mut State,
    start: &[u8],
    e: &mqtt::DecodeError,
    ctx: &Context,
) -> Effects {
    let mut fx = Effects::new();
    state.in_flight = start.iter().take(16).copied().collect();
    refuse_in(state, ctx, &mut fx, e);
    fx
}

fn refuse_in(state: &mut State, ctx: &Context, fx: &mut Effects, e: &mqtt::DecodeError) {
    match state.session.version {
        None => connect::connack_failure(state, ctx, fx, e),
        Some(_) => {
            let reason = DisconnectReasonCode::try_from(e.reason_code())
                .unwrap_or(DisconnectReasonCode::ProtocolError);
            disconnect(state, ctx, fx, reason, &e.to_string());
        }
    }
}

/// Handles a decoded packet of an established session.
fn packet_of_session(state: &mut State, ctx: &Context, fx: &mut Effects, packet: Packet) {
    if !budget::admit(state, ctx, fx, &packet) {
        return;
    }
    let protocol_error = DisconnectReasonCode::ProtocolError;
    match packet {
        Packet::Publish(p) => publish::publish(state, ctx, fx, p),
        Packet::PubRel(r) => qos2::pubrel(state, fx, &r),
        Packet::Subscribe(s) => subscribe::subscribe(state, ctx, fx, s),
        Packet::Unsubscribe(u) => subscribe::unsubscribe(state, fx, u),
        Packet::PingReq => fx.push(Effect::SendRaw(mqtt::PINGRESP_BYTES.to_vec())),
        Packet::Disconnect(d) => liveness::client_disconnect(state, ctx, fx, &d),
        Packet::Auth(_) => disconnect(
            state,
            ctx,
            fx,
            protocol_error,
            "enhanced authentication is not supported; send the token as the password",
        ),
        Packet::Connect(_) => disconnect(
            state,
            ctx,
            fx,
            protocol_error,
            "[MQTT-3.1.0-2] a second CONNECT is a protocol error",
        ),
        other => {
            let text = format!("a client may not send {} here", other.packet_type().name());
            disconnect(state, ctx, fx, protocol_error, &text);
        }
    }
}
