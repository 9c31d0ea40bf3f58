//! The packet budget of one request: how many PUBLISH packets, and how many other
//! packets of a session (SUBSCRIBE, UNSUBSCRIBE, PINGREQ, PUBREL), one
//! WebSocket-over-HTTP request may carry (`mqtt-limits`' `publishes` and `control`).
//!
//! One request is one app invocation however many packets the client packed into its
//! writes, so without a bound a single write of tiny packets is unbounded work (KV reads
//! and writes, publish items, answer bytes). The packet one over a budget ends the
//! session before it is handled: MQTT 5 DISCONNECT 0x97 Quota exceeded with a reason
//! string naming the limit, MQTT 3.1.1 a close (1008); the packets before it were handled.
//! A client's DISCONNECT is always handled, and the first packet (CONNECT) counts for
//! neither budget. The counts live in the request's `State`, so they start at 0 on every
//! request.

use pubsub_codec::mqtt::{DisconnectReasonCode, Packet};

use super::effects::Effects;
use super::ending::disconnect;
use super::state::{Context, State};

/// Counts `packet` against the request's budget; `false` when it is over, and then the
/// session has been ended.
pub(super) fn admit(state: &mut State, ctx: &Context, fx: &mut Effects, packet: &Packet) -> bool {
    let limits = &ctx.config.mqtt_limits;
    let (count, limit, what, setting) = match packet {
        Packet::Publish(_) => (
            &mut state.publishes,
            limits.publishes_per_request,
            "PUBLISH packets",
            "publishes",
        ),
        Packet::Subscribe(_) | Packet::Unsubscribe(_) | Packet::PingReq | Packet::PubRel(_) => (
            &mut state.control,
            limits.control_per_request,
            "SUBSCRIBE, UNSUBSCRIBE, PINGREQ and PUBREL packets",
            "control",
        ),
        _ => return true,
    };
    *count += 1;
    if *count <= limit {
        return true;
    }
    let text = format!(
        "more than {limit} {what} in one request (mqtt-limits `{setting}`); send fewer per write"
    );
    disconnect(state, ctx, fx, DisconnectReasonCode::QuotaExceeded, &text);
    false
}
