//! The retained-message bookkeeping of subscriptions: the slot version a delivery saw,
//! and the check on the request after a SUBSCRIBE.
//!
//! The check closes the race of a new subscription: a retained message published between
//! the store read at SUBSCRIBE and the moment Fanout attached the subscription reached
//! neither. Fanout attached it before sending the next request, so a slot version newer
//! than the one read then is such a message (or one also delivered live: at least once).
//! Each subscription is checked once, on the request after its SUBSCRIBE, and again while
//! a bound of the request (the driver's) holds the message back: a held-back or failed
//! delivery records [`Version::ZERO`], so the next request sends whatever the slot holds.
//! A wildcard subscription keeps no per-topic check.

use pubsub_core::principal::Access;
use pubsub_core::retained::Version;
use pubsub_core::Error;

use super::effects::{Delivered, Effect, Effects, Follow};
use super::state::{Context, State};

/// At the start of a request that did not open the connection: the checks the
/// subscriptions wait for. The token is checked again before stored state turns into
/// delivery; a store failure leaves the check for the next request.
pub(crate) fn recheck(state: &mut State, ctx: &Context) -> Effects {
    let mut fx = Effects::new();
    if state.closed || state.session.version.is_none() {
        return fx;
    }
    for i in 0..state.session.subs.len() {
        let Some(seen) = state.session.subs[i].check else {
            continue;
        };
        let topic = state.session.subs[i].topic();
        let allowed = match state.principal(ctx) {
            Ok(p) => p.allows(Access::Read, &topic),
            Err(Error::StoreUnavailable(_)) => continue,
            Err(_) => false,
        };
        if allowed {
            fx.push(Effect::DeliverRetained {
                topic,
                after: seen,
                then: Follow::Recheck,
            });
        } else {
            state.session.subs[i].check = None;
        }
    }
    fx
}

/// Records what the delivery of `topic`'s retained message saw.
pub(crate) fn on_retained(state: &mut State, topic: &str, then: Follow, delivered: Delivered) {
    let Some(i) = state.session.position(topic) else {
        return;
    };
    let sub = &mut state.session.subs[i];
    match then {
        Follow::Check => sub.check = Some(delivered.ok().flatten().unwrap_or(Version::ZERO)),
        Follow::Recheck if matches!(delivered, Ok(Some(_))) => sub.check = None,
        Follow::Recheck => {}
    }
}
