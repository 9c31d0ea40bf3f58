//! SUBSCRIBE and UNSUBSCRIBE: Fanout subscriptions to the topics' channels, and the
//! retained messages delivered when a subscription starts.
//!
//! Every SUBSCRIBE filter gets its own reason code; SUBACK grants QoS 0. A filter with a
//! wildcard listens on its filter channel (see `pubsub_core::audience`); one deeper than
//! `wildcard-max-levels` gets 0xA2 (3.1.1: 0x80). Shared subscriptions are not supported
//! (CONNACK says so), and a connection holds at most [`MAX_SUBSCRIPTIONS`] subscriptions. The retained messages sent after a SUBACK, and the
//! bounds on them, are in `retained.rs`.

use std::collections::HashMap;

use pubsub_codec::mqtt::{
    self, DisconnectReasonCode, Packet, ProtocolVersion, RetainHandling, SubAck, SubAckReasonCode,
    Subscribe, Subscription, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};
use pubsub_core::audience::Audience;
use pubsub_core::principal::{Access, Principal};
use pubsub_core::retained::Version;
use pubsub_core::topic::wildcard::Refusal;
use pubsub_core::topic::{Selector, SelectorError};
use pubsub_core::Error;

use super::connection::Connection;
use super::session::Sub;

/// The most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 32;

impl Connection<'_> {
    /// The channel a subscription to `selector` listens on: an MQTT audience listens on
    /// one channel per selector.
    fn channel(&self, selector: &Selector, retain_as_published: bool) -> String {
        let audience = Audience::mqtt(self.version(), retain_as_published);
        let mut channels = audience.channels(selector).map(|(_, channel)| channel);
        channels.next().unwrap_or_default()
    }

    /// Handles a SUBSCRIBE: a reason code per filter in the SUBACK, then the retained
    /// messages of the new subscriptions.
    ///
    /// A filter repeated within the packet replaces its earlier occurrence [MQTT-3.8.4-3],
    /// so each distinct filter is handled once, with the options of its last occurrence,
    /// and every occurrence gets its reason code. Distinct filters beyond the first
    /// [`MAX_SUBSCRIPTIONS`] get "quota exceeded" without being looked at: a connection
    /// cannot hold more.
    pub(super) fn subscribe(&mut self, s: Subscribe) {
        let principal = self.principal().cloned();
        if let Err(Error::InvalidToken(_) | Error::UnknownKey(_)) = principal {
            return self.disconnect(
                DisconnectReasonCode::NotAuthorized,
                "the token is no longer valid",
            );
        }
        let (distinct, occurrences) = distinct_filters(&s.subscriptions);
        let mut outcomes = Vec::with_capacity(distinct.len());
        let mut retained_wanted: Vec<Selector> = Vec::new();
        for (i, (filter, options)) in distinct.into_iter().enumerate() {
            let code = if i < MAX_SUBSCRIPTIONS {
                let (code, wanted) = self.subscribe_filter(filter, options, &principal);
                retained_wanted.extend(wanted);
                code
            } else {
                SubAckReasonCode::QuotaExceeded
            };
            outcomes.push(match self.version() {
                ProtocolVersion::V5 => code,
                ProtocolVersion::V311 => code.to_v311(),
            });
        }
        let codes = occurrences.into_iter().map(|i| outcomes[i]).collect();
        self.send(&Packet::SubAck(SubAck::new(s.packet_id, codes)));
        // [MQTT-3.3.1-9]: retained messages follow the SUBACK, with RETAIN set.
        for selector in retained_wanted {
            let topic = match &selector {
                Selector::Filter(filter) => {
                    self.send_filter_retained(filter.as_str());
                    continue;
                }
                Selector::Name(topic) => topic,
            };
            // Held back by a bound of the request, or a store failure: the check on the
            // next request delivers the message.
            let seen = self.send_retained(topic, Version::ZERO);
            self.set_check(topic, seen.ok().flatten().unwrap_or(Version::ZERO));
        }
    }

    /// One distinct filter of a SUBSCRIBE: its reason code, and its selector when its
    /// retained messages are to be sent.
    fn subscribe_filter(
        &mut self,
        filter: &str,
        options: &mqtt::SubscriptionOptions,
        principal: &Result<Principal, Error>,
    ) -> (SubAckReasonCode, Option<Selector>) {
        // A shared subscription is refused as such whether or not its inner filter holds
        // a wildcard (`$share/group/topic` too).
        if mqtt::shared_subscription(filter).is_some() {
            return (SubAckReasonCode::SharedSubscriptionsNotSupported, None);
        }
        let selector = match self.selector(filter) {
            Ok(selector) => selector,
            Err(code) => return (code, None),
        };
        let code = match principal {
            Err(_) => SubAckReasonCode::ImplementationSpecificError,
            Ok(p) if p.check(Access::Read, &selector).is_err() => SubAckReasonCode::NotAuthorized,
            Ok(_) => match self.add_subscription(&selector, options) {
                Ok(wanted) => return (SubAckReasonCode::GrantedQoS0, wanted.then_some(selector)),
                Err(code) => code,
            },
        };
        (code, None)
    }

    /// A SUBSCRIBE's filter as a selector: a topic name, or a filter with a wildcard
    /// within `wildcard-max-levels`; else the code refusing it.
    fn selector(&self, filter: &str) -> Result<Selector, SubAckReasonCode> {
        if filter.starts_with("$share/") {
            return Err(SubAckReasonCode::TopicFilterInvalid);
        }
        let max_levels = self.config.wildcard_max_levels;
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
        &mut self,
        selector: &Selector,
        options: &mqtt::SubscriptionOptions,
    ) -> Result<bool, SubAckReasonCode> {
        let channel = self.channel(selector, options.retain_as_published);
        let existing = self.session.position(selector.as_str());
        let exists = existing.is_some();
        if !exists && self.session.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(SubAckReasonCode::QuotaExceeded);
        }
        // Fanout already listens as asked when the subscription being replaced had the
        // same channel and No Local.
        let mut listening = false;
        if let Some(i) = existing {
            // [MQTT-3.8.4-3]: the new subscription replaces the old one (whose channel
            // differs when Retain As Published changed).
            let old = self.session.subs.remove(i);
            if old.channel != channel {
                self.control("unsubscribe", &old.channel, false);
            }
            listening = old.channel == channel && old.no_local == options.no_local;
        }
        let sub = Sub::new(channel.clone(), options);
        let wanted = match options.retain_handling {
            RetainHandling::SendAtSubscribe => true,
            RetainHandling::SendIfNew => !exists,
            RetainHandling::DoNotSend => false,
        };
        self.session.subs.push(sub);
        self.session.touch("mqtt-subs");
        if !listening {
            self.control("subscribe", &channel, options.no_local);
        }
        Ok(wanted)
    }

    /// Records the slot version the retained delivery saw, for [`Self::recover_retained`].
    fn set_check(&mut self, filter: &str, seen: Version) {
        if let Some(i) = self.session.position(filter) {
            self.session.subs[i].check = Some(seen);
            self.session.touch("mqtt-subs");
        }
    }

    /// Handles an UNSUBSCRIBE: a reason code per filter in the UNSUBACK.
    pub(super) fn unsubscribe(&mut self, u: Unsubscribe) {
        let mut codes = Vec::with_capacity(u.filters.len());
        for filter in &u.filters {
            let code = if let Some(i) = self.session.position(filter) {
                let old = self.session.subs.remove(i);
                self.session.touch("mqtt-subs");
                self.control("unsubscribe", &old.channel, false);
                UnsubAckReasonCode::Success
            } else {
                UnsubAckReasonCode::NoSubscriptionExisted
            };
            codes.push(code);
        }
        self.send(&Packet::UnsubAck(UnsubAck::new(u.packet_id, codes)));
    }

    /// Ends every subscription of the connection.
    pub(super) fn unsubscribe_all(&mut self) {
        let subs = std::mem::take(&mut self.session.subs);
        if !subs.is_empty() {
            self.session.touch("mqtt-subs");
        }
        for sub in subs {
            self.control("unsubscribe", &sub.channel, false);
        }
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
