//! How a connection stays alive: the CONNECT deadline, the token's expiry and the MQTT
//! keep alive, checked on every request; when the client was last seen; the client's
//! DISCONNECT.
//!
//! Fanout calls the app when the client sends something, and otherwise after the
//! `Keep-Alive-Interval` of the last answer ([`callback_interval`]): the moment the next
//! deadline passes (CONNECT deadline, keep alive timeout, or token expiry plus leeway), at
//! least [`MIN_CALLBACK_SECS`] (Fanout's floor) and at most [`MAX_CALLBACK_SECS`] away.
//! So an idle, healthy connection costs its client's PINGREQs and nothing more; a dead one
//! is closed within one callback of its deadline. (The driver asks for
//! [`MIN_CALLBACK_SECS`] when it held a retained message back.)
//!
//! A live connection's subscriptions on registered feeds (wildcard filters, Retain As
//! Published) are registered again on every request (`pubsub_core::audience::registry`;
//! one POP-cache lookup each when this POP did so within the refresh interval): the
//! callback interval is at most [`MAX_CALLBACK_SECS`], within the registry's shortest
//! refresh interval, so the registration of a live subscription never expires.
//!
//! Every decision is taken from verified data: the token's expiry from the token,
//! re-verified once per request (the verification the request's other packets share),
//! not from the `Meta-mqtt-exp` metadata, which only schedules the callback.
//!
//! The CONNECT deadline is the Config Store's `mqtt-connect-deadline` (default 30 s),
//! counted from the OPEN. Fanout never calls back sooner than 20 s, so a client that
//! sends nothing at all is closed after 20 s even with a shorter deadline; one that sends
//! part of a CONNECT is closed at its first request after the deadline.

use pubsub_codec::mqtt::{Disconnect, DisconnectReasonCode};
use pubsub_core::principal::{Principal, LEEWAY_SECS};
use pubsub_core::tokens::EXPIRED;
use pubsub_core::Error;

use super::effects::Effects;
use super::ending::{close, disconnect};
use super::state::{Context, State};
use super::subscribe::{refresh_registrations, unsubscribe_all};
use super::will::discard_will;

/// Fanout's shortest `Keep-Alive-Interval` (Pushpin raises anything shorter to 20 s).
pub const MIN_CALLBACK_SECS: u64 = 20;

/// The longest `Keep-Alive-Interval` the app asks for, when no deadline is nearer.
pub const MAX_CALLBACK_SECS: u64 = 3_600;

/// The WebSocket opened: the CONNECT deadline counts from now.
pub(crate) fn opened(state: &mut State, ctx: &Context) {
    state.session.seen = ctx.now;
}

/// Before any packet: the CONNECT deadline, the token's expiry and the keep alive.
pub(crate) fn check(state: &mut State, ctx: &Context) -> Effects {
    let mut fx = Effects::new();
    if state.closed {
        return fx;
    }
    if state.session.version.is_none() {
        let opened = state.session.seen;
        if opened > 0 && ctx.now.saturating_sub(opened) >= connect_deadline(ctx) {
            close(state, ctx, &mut fx, 1008);
        }
    } else if token_expired(state, ctx) {
        let reason = DisconnectReasonCode::NotAuthorized;
        disconnect(state, ctx, &mut fx, reason, EXPIRED);
    } else if keep_alive_expired(state.session.seen, ctx.now, state.session.keep_alive) {
        let reason = DisconnectReasonCode::KeepAliveTimeout;
        disconnect(state, ctx, &mut fx, reason, "keep alive timeout");
    } else {
        refresh_registrations(state, ctx);
    }
    fx
}

/// Seconds until Fanout should call the app although the client is silent: when the
/// next deadline passes. `None` once the connection is closed.
pub(crate) fn callback_interval(state: &State, ctx: &Context) -> Option<u64> {
    if state.closed {
        return None;
    }
    let session = &state.session;
    let seen = session.seen;
    let due = match session.version {
        None => (seen > 0).then(|| seen.saturating_add(connect_deadline(ctx))),
        Some(_) => {
            let ka = u64::from(session.keep_alive);
            let keep_alive = (ka > 0 && seen > 0).then(|| seen + 1 + (3 * ka).div_ceil(2));
            let expiry = session.exp.map(|exp| exp.saturating_add(LEEWAY_SECS + 1));
            keep_alive.into_iter().chain(expiry).min()
        }
    };
    let secs = due.map_or(MAX_CALLBACK_SECS, |due| due.saturating_sub(ctx.now));
    Some(secs.clamp(MIN_CALLBACK_SECS, MAX_CALLBACK_SECS))
}

/// Seconds a WebSocket may stay open without a CONNECT.
fn connect_deadline(ctx: &Context) -> u64 {
    u64::from(ctx.config.mqtt_connect_deadline)
}

/// Whether the token the session was opened with has passed its `exp`, decided from the
/// re-verified token (once per request, shared with every packet of the request that
/// needs it), never from `Meta-mqtt-exp`: metadata is only as trustworthy as the
/// `Grip-Sig` it came with, and a captured one may be replayed with any `Meta-*`. A token
/// that no longer verifies for any other reason (its key revoked) is not this check's
/// to end: the packets that need it are refused, and revocation ends the connection by
/// event. A store failure leaves the decision to the next request.
///
/// Also writes the verified `exp` back to the session, so the callback Fanout is asked
/// for ([`callback_interval`]) follows the verified token.
fn token_expired(state: &mut State, ctx: &Context) -> bool {
    match state.principal(ctx) {
        Ok(principal) => {
            let exp = principal.exp;
            state.session.exp = exp;
            expired(exp, ctx.now)
        }
        Err(Error::InvalidToken(why)) => why == EXPIRED,
        Err(_) => false,
    }
}

/// Whether a credential expiring at `exp` has expired at `now` (leeway included).
fn expired(exp: Option<u64>, now: u64) -> bool {
    Principal {
        exp,
        ..Principal::default()
    }
    .expired_at(now)
}

/// The client sent packets in this request (`any`): it was seen now, once it has a session.
pub(crate) fn seen(state: &mut State, ctx: &Context, any: bool) {
    if any && state.session.version.is_some() {
        state.session.seen = ctx.now;
    }
}

/// The client's DISCONNECT: the Will stays only when the client asked for it, the
/// subscriptions end, and the WebSocket closes normally.
pub(super) fn client_disconnect(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    d: &Disconnect,
) {
    if d.reason_code != DisconnectReasonCode::DisconnectWithWillMessage {
        discard_will(state);
    }
    unsubscribe_all(state, fx);
    close(state, ctx, fx, 1000);
}

/// [MQTT-3.1.2-24]: whether the client has sent no packet for more than one and a half
/// keep alive periods (`keep_alive` seconds, 0 = off) since `seen`. Both times are whole
/// seconds, so the real gap is more than `now - seen - 1` but may be almost a second less
/// than `now - seen`: the client is only timed out when even that shortest gap is too long,
/// never early (a client that pings every `keep_alive` seconds must not be cut off by
/// rounding).
fn keep_alive_expired(seen: u64, now: u64, keep_alive: u16) -> bool {
    let ka = u64::from(keep_alive);
    let gap_above = now.saturating_sub(seen).saturating_sub(1);
    ka > 0 && seen > 0 && gap_above * 2 >= ka * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_times_out_after_one_and_a_half_periods_never_early() {
        // Keep alive 1 s: a PINGREQ 1.05 s after the CONNECT can read as 2 s (10.98 -> 12.03).
        assert!(!keep_alive_expired(10, 12, 1));
        // 3 s on the clock is more than 2 s for real: over 1.5 s.
        assert!(keep_alive_expired(10, 13, 1));
        // 60 s: 90 s on the clock may be 89.01 s for real; 91 s is more than 90 s.
        assert!(!keep_alive_expired(100, 190, 60));
        assert!(keep_alive_expired(100, 191, 60));
        // Off, or no packet seen yet.
        assert!(!keep_alive_expired(10, 10_000, 0));
        assert!(!keep_alive_expired(0, 10_000, 1));
    }
}
