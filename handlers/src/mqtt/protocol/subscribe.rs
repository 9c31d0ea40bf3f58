//! SUBSCRIBE and UNSUBSCRIBE: Fanout subscriptions to the topics' channels, and the
//! retained messages asked for when a subscription starts.
//!
//! Every SUBSCRIBE filter gets its own reason code; SUBACK grants QoS 0. A filter with a
//! wildcard listens on its filter channel (see `pubsub_core::audience`); one deeper than
//! `wildcard-max-levels` gets 0xA2 (3.1.1: 0x80). Shared subscriptions are not supported
//! (CONNACK says so), and a connection holds at most [`MAX_SUBSCRIPTIONS`] subscriptions,
//! fewer when Fanout lets a connection listen on fewer channels: a subscription listens on
//! one channel and the connection on its key channel and its client id's channel, so at
//! most `mqtt-limits`' `channels` minus two; one more gets 0x97 Quota exceeded (3.1.1: 0x80).
//! The retained messages follow the SUBACK as [`Effect::DeliverRetained`] (a topic) or
//! [`Effect::DeliverFilterRetained`] (a wildcard filter); their bounds are the driver's.

use std::collections::HashMap;

use pubsub_codec::mqtt::{
    self, DisconnectReasonCode, Packet, ProtocolVersion, RetainHandling, SubAck, SubAckReasonCode,
    Subscribe, Subscription, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};
use pubsub_core::audience::{registry, Audience, Feed};
use pubsub_core::mqtt_session::Sub;
use pubsub_core::principal::{Access, Principal};
use pubsub_core::retained::Version;
use pubsub_core::topic::wildcard::Refusal;
use pubsub_core::topic::{Selector, SelectorError};
use pubsub_core::Error;

use super::effects::{Effect, Effects, Follow};
use super::ending::disconnect;
use super::state::{Context, State};

/// The most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 32;

/// The most subscriptions a connection may hold: [`MAX_SUBSCRIPTIONS`], and one channel
/// each within `mqtt-limits`' `channels` beside the key and client id channels. Fanout does not deliver
/// the channels a connection listens on past its `connection_subscription_max`, so a
/// subscription beyond is refused rather than granted and silent.
fn max_subscriptions(ctx: &Context) -> usize {
    let channels = ctx.config.mqtt_limits.channels_per_connection;
    MAX_SUBSCRIPTIONS.min(channels.saturating_sub(2))
}

/// The channel a subscription to `selector` listens on, with its feed: an MQTT audience
/// listens on one channel per selector.
fn channel(
    version: ProtocolVersion,
    selector: &Selector,
    retain_as_published: bool,
) -> (Feed, String) {
    let audience = Audience::mqtt(version, retain_as_published);
    let mut channels = audience.channels(selector);
    channels.next().unwrap_or((Feed::Live, String::new()))
}

/// Registers the channels of the session's subscriptions whose feeds are sent to only
/// when registered, and [`registry::ANY_311`] for its MQTT 3.1.1 topic subscriptions, as
/// every request of the connection does (cheap when this POP did
/// lately): so they never expire while the connection lives. A failure is dropped here
/// (the next request tries again); a new subscription's is refused in its SUBACK.
pub(super) fn refresh_registrations(state: &State, ctx: &Context) {
    let mut any_311 = false;
    for sub in &state.session.subs {
        let feed = Feed::of_channel(&sub.channel);
        if feed.registered() {
            let _ = ctx.ports.register(&sub.channel);
        }
        any_311 |= feed == Feed::Mqtt311;
    }
    if any_311 {
        let _ = ctx.ports.register(registry::ANY_311);
    }
}

/// What a subscription on `channel` of `feed` registers as listened, if anything.
fn registration(feed: Feed, channel: &str) -> Option<&str> {
    match feed {
        Feed::Mqtt311 => Some(registry::ANY_311),
        feed if feed.registered() => Some(channel),
        _ => None,
    }
}

/// Handles a SUBSCRIBE: a reason code per filter in the SUBACK, then the retained
/// messages of the new subscriptions.
///
/// A filter repeated within the packet replaces its earlier occurrence [MQTT-3.8.4-3],
/// so each distinct filter is handled once, with the options of its last occurrence,
/// and every occurrence gets its reason code. Distinct filters beyond the first
/// [`MAX_SUBSCRIPTIONS`] get "quota exceeded" without being looked at: a connection
/// cannot hold more.
pub(super) fn subscribe(state: &mut State, ctx: &Context, fx: &mut Effects, s: Subscribe) {
    let principal = state.principal(ctx).cloned();
    if let Err(Error::InvalidToken(_) | Error::UnknownKey(_)) = principal {
        let reason = DisconnectReasonCode::NotAuthorized;
        return disconnect(state, ctx, fx, reason, "the token is no longer valid");
    }
    let version = state.version();
    let (distinct, occurrences) = distinct_filters(&s.subscriptions);
    let mut outcomes = Vec::with_capacity(distinct.len());
    let mut retained_wanted: Vec<Selector> = Vec::new();
    for (i, (filter, options)) in distinct.into_iter().enumerate() {
        let code = if i < MAX_SUBSCRIPTIONS {
            let (code, wanted) = subscribe_filter(state, ctx, fx, filter, options, &principal);
            retained_wanted.extend(wanted);
            code
        } else {
            SubAckReasonCode::QuotaExceeded
        };
        outcomes.push(match version {
            ProtocolVersion::V5 => code,
            ProtocolVersion::V311 => code.to_v311(),
        });
    }
    let codes = occurrences.into_iter().map(|i| outcomes[i]).collect();
    let packet = Packet::SubAck(SubAck::new(s.packet_id, codes));
    fx.push(Effect::Send { packet, version });
    // [MQTT-3.3.1-9]: retained messages follow the SUBACK, with RETAIN set.
    for selector in retained_wanted {
        fx.push(match selector {
            Selector::Filter(filter) => Effect::DeliverFilterRetained(filter),
            Selector::Name(topic) => Effect::DeliverRetained {
                topic: topic.as_str().to_owned(),
                after: Version::ZERO,
                then: Follow::Check,
            },
        });
    }
}

/// One distinct filter of a SUBSCRIBE: its reason code, and its selector when its
/// retained messages are to be sent.
fn subscribe_filter(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    filter: &str,
    options: &mqtt::SubscriptionOptions,
    principal: &Result<Principal, Error>,
) -> (SubAckReasonCode, Option<Selector>) {
    // A shared subscription is refused as such whether or not its inner filter holds
    // a wildcard (`$share/group/topic` too).
    if mqtt::shared_subscription(filter).is_some() {
        return (SubAckReasonCode::SharedSubscriptionsNotSupported, None);
    }
    let selector = match selector(ctx, filter) {
        Ok(selector) => selector,
        Err(code) => return (code, None),
    };
    let code = match principal {
        Err(_) => SubAckReasonCode::ImplementationSpecificError,
        Ok(p) if p.check(Access::Read, &selector).is_err() => SubAckReasonCode::NotAuthorized,
        Ok(_) => match add_subscription(state, ctx, fx, &selector, options) {
            Ok(wanted) => return (SubAckReasonCode::GrantedQoS0, wanted.then_some(selector)),
            Err(code) => code,
        },
    };
    (code, None)
}

/// A SUBSCRIBE's filter as a selector: a topic name, or a filter with a wildcard within
/// `wildcard-max-levels`; else the code refusing it.
fn selector(ctx: &Context, filter: &str) -> Result<Selector, SubAckReasonCode> {
    if filter.starts_with("$share/") {
        return Err(SubAckReasonCode::TopicFilterInvalid);
    }
    let max_levels = ctx.config.wildcard_max_levels;
    Selector::subscription(filter.to_owned(), max_levels).map_err(|e| match e {
        SelectorError::Name(_)
        | SelectorError::Filter {
            why: Refusal::Invalid(_),
            ..
        } => SubAckReasonCode::TopicFilterInvalid,
        SelectorError::Filter {
            why: Refusal::Off | Refusal::TooDeep(..),
            ..
        } => SubAckReasonCode::WildcardSubscriptionsNotSupported,
    })
}

/// Subscribes to `selector`; `Err` is the failure code. `Ok(true)` when the retained
/// message is to be sent (Retain Handling 0, or 1 for a new subscription).
fn add_subscription(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    selector: &Selector,
    options: &mqtt::SubscriptionOptions,
) -> Result<bool, SubAckReasonCode> {
    let (feed, channel) = channel(state.version(), selector, options.retain_as_published);
    let session = &mut state.session;
    let existing = session.position(selector.as_str());
    let exists = existing.is_some();
    if !exists && session.subs.len() >= max_subscriptions(ctx) {
        return Err(SubAckReasonCode::QuotaExceeded);
    }
    // Publishers send to this feed's channels only once registered: before the SUBACK.
    if let Some(listened) = registration(feed, &channel) {
        if ctx.ports.register(listened).is_err() {
            return Err(SubAckReasonCode::UnspecifiedError);
        }
    }
    // Fanout already listens as asked when the subscription being replaced had the
    // same channel and No Local.
    let mut listening = false;
    if let Some(i) = existing {
        // [MQTT-3.8.4-3]: the new subscription replaces the old one (whose channel
        // differs when Retain As Published changed).
        let old = session.subs.remove(i);
        if old.channel != channel {
            fx.push(Effect::Unlisten(old.channel.clone()));
        }
        listening = old.channel == channel && old.no_local == options.no_local;
    }
    let wanted = match options.retain_handling {
        RetainHandling::SendAtSubscribe => true,
        RetainHandling::SendIfNew => !exists,
        RetainHandling::DoNotSend => false,
    };
    session.subs.push(Sub::new(channel.clone(), options));
    if !listening {
        let skip_self = options.no_local;
        fx.push(Effect::Listen { channel, skip_self });
    }
    Ok(wanted)
}

/// Handles an UNSUBSCRIBE: a reason code per filter in the UNSUBACK.
pub(super) fn unsubscribe(state: &mut State, fx: &mut Effects, u: Unsubscribe) {
    let mut codes = Vec::with_capacity(u.filters.len());
    for filter in &u.filters {
        let code = if let Some(i) = state.session.position(filter) {
            let old = state.session.subs.remove(i);
            fx.push(Effect::Unlisten(old.channel));
            UnsubAckReasonCode::Success
        } else {
            UnsubAckReasonCode::NoSubscriptionExisted
        };
        codes.push(code);
    }
    let packet = Packet::UnsubAck(UnsubAck::new(u.packet_id, codes));
    let version = state.version();
    fx.push(Effect::Send { packet, version });
}

/// Ends every subscription of the connection.
pub(super) fn unsubscribe_all(state: &mut State, fx: &mut Effects) {
    for sub in std::mem::take(&mut state.session.subs) {
        fx.push(Effect::Unlisten(sub.channel));
    }
}

/// The distinct filters of a SUBSCRIBE in the order of their first occurrence, each with
/// the options of its last, and for each occurrence the index of its filter.
fn distinct_filters(
    subscriptions: &[Subscription],
) -> (Vec<(&str, &mqtt::SubscriptionOptions)>, Vec<usize>) {
    let mut distinct: Vec<(&str, &mqtt::SubscriptionOptions)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let occurrences = subscriptions
        .iter()
        .map(|sub| {
            let filter = sub.filter.as_str();
            let i = *index.entry(filter).or_insert(distinct.len());
            match distinct.get_mut(i) {
                Some(entry) => entry.1 = &sub.options,
                None => distinct.push((filter, &sub.options)),
            }
            i
        })
        .collect();
    (distinct, occurrences)
}
