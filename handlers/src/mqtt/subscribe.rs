//! SUBSCRIBE and UNSUBSCRIBE: Fanout subscriptions to the topics' channels, and the
//! retained messages delivered when a subscription starts.
//!
//! Every SUBSCRIBE filter gets its own reason code; SUBACK grants QoS 0. Wildcards and
//! shared subscriptions are not supported (CONNACK says so), and a connection holds at most
//! [`MAX_SUBSCRIPTIONS`] subscriptions.

use pubsub_codec::mqtt::{
    self, DisconnectReasonCode, Packet, ProtocolVersion, RetainHandling, SubAck, SubAckReasonCode,
    Subscribe, UnsubAck, UnsubAckReasonCode, Unsubscribe,
};
use pubsub_core::channel::Kind;
use pubsub_core::message;
use pubsub_core::retained::{self, Version};
use pubsub_core::tokens::Access;
use pubsub_core::{topics, Error};

use super::connection::Connection;
use super::session::Sub;

/// The most subscriptions one connection may hold.
pub const MAX_SUBSCRIPTIONS: usize = 32;

impl Connection<'_> {
    /// The channel a subscription to `topic` listens on.
    fn channel(&self, topic: &str, retain_as_published: bool) -> String {
        match self.version() {
            ProtocolVersion::V5 if retain_as_published => Kind::AsPublished.of(topic),
            ProtocolVersion::V5 => Kind::Live.of(topic),
            ProtocolVersion::V311 => Kind::Mqtt311.of(topic),
        }
    }

    /// Handles a SUBSCRIBE: a reason code per filter in the SUBACK, then the retained
    /// messages of the new subscriptions.
    pub(super) fn subscribe(&mut self, s: Subscribe) {
        let principal = self.principal().cloned();
        if let Err(Error::InvalidToken(_) | Error::UnknownKey(_)) = principal {
            return self.disconnect(
                DisconnectReasonCode::NotAuthorized,
                "the token is no longer valid",
            );
        }
        let mut codes = Vec::with_capacity(s.subscriptions.len());
        let mut retained_wanted: Vec<String> = Vec::new();
        for sub in &s.subscriptions {
            let filter = sub.filter.as_str();
            // A shared subscription is refused as such whether or not its inner filter
            // holds a wildcard (`$share/group/topic` too).
            let code = if mqtt::shared_subscription(filter).is_some() {
                SubAckReasonCode::SharedSubscriptionsNotSupported
            } else if filter.contains(['+', '#']) {
                SubAckReasonCode::WildcardSubscriptionsNotSupported
            } else if topics::validate(filter).is_err() || filter.starts_with("$share/") {
                SubAckReasonCode::TopicFilterInvalid
            } else {
                match &principal {
                    Err(_) => SubAckReasonCode::ImplementationSpecificError,
                    Ok(p) if !p.allows(Access::Read, filter) => SubAckReasonCode::NotAuthorized,
                    Ok(_) => match self.add_subscription(filter, &sub.options) {
                        Ok(wanted) => {
                            if wanted {
                                retained_wanted.push(filter.to_owned());
                            }
                            SubAckReasonCode::GrantedQoS0
                        }
                        Err(code) => code,
                    },
                }
            };
            codes.push(match self.version() {
                ProtocolVersion::V5 => code,
                ProtocolVersion::V311 => code.to_v311(),
            });
        }
        self.send(&Packet::SubAck(SubAck::new(s.packet_id, codes)));
        // [MQTT-3.3.1-9]: retained messages follow the SUBACK, with RETAIN set.
        for filter in retained_wanted {
            // On a store failure the check on the next request delivers the message.
            let seen = self
                .send_retained(&filter, Version::ZERO)
                .unwrap_or(Version::ZERO);
            self.set_check(&filter, seen);
        }
    }

    /// Subscribes to `filter`; `Err` is the failure code. `Ok(true)` when the retained
    /// message is to be sent (Retain Handling 0, or 1 for a new subscription).
    fn add_subscription(
        &mut self,
        filter: &str,
        options: &mqtt::SubscriptionOptions,
    ) -> Result<bool, SubAckReasonCode> {
        let channel = self.channel(filter, options.retain_as_published);
        let existing = self.session.position(filter);
        let exists = existing.is_some();
        if !exists && self.session.subs.len() >= MAX_SUBSCRIPTIONS {
            return Err(SubAckReasonCode::QuotaExceeded);
        }
        if let Some(i) = existing {
            // [MQTT-3.8.4-3]: the new subscription replaces the old one (whose channel
            // differs when Retain As Published changed).
            let old = self.session.subs.remove(i);
            if old.channel != channel {
                self.control("unsubscribe", &old.channel, false);
            }
        }
        let sub = Sub::new(channel.clone(), options);
        let wanted = match options.retain_handling {
            RetainHandling::SendAtSubscribe => true,
            RetainHandling::SendIfNew => !exists,
            RetainHandling::DoNotSend => false,
        };
        self.session.subs.push(sub);
        self.session.touch("mqtt-subs");
        self.control("subscribe", &channel, options.no_local);
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

    /// Sends the retained message of `topic` (if any, not expired, and newer than `after`)
    /// to the client, with RETAIN set and the remaining expiry; returns the slot version.
    fn send_retained(&mut self, topic: &str, after: Version) -> Result<Version, Error> {
        let slot = retained::read(&*self.platform.kv, self.now, topic)?;
        if slot.version <= after {
            return Ok(slot.version);
        }
        if let Some(msg) = slot.message {
            let expiry = msg.remaining_secs(self.now);
            let packet = message::mqtt_publish(
                self.version(),
                topic,
                &msg.payload,
                msg.mqtt.as_ref(),
                expiry,
                true,
            );
            self.send_raw(&packet);
        }
        Ok(slot.version)
    }

    /// Closes the race of a new subscription: a retained message published between the
    /// store read at SUBSCRIBE and the moment Fanout attached the subscription reached
    /// neither. Fanout attached it before sending this request, so a slot version newer
    /// than the one read then is such a message (or one also delivered live: at least
    /// once). Checked once per subscription, on the request after its SUBSCRIBE.
    pub(crate) fn recover_retained(&mut self) {
        if self.closed || self.session.version.is_none() {
            return;
        }
        let pending: Vec<(usize, Version)> = self
            .session
            .subs
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.check.map(|v| (i, v)))
            .collect();
        for (i, seen) in pending {
            let topic = self.session.subs[i].topic();
            // The token is checked again before stored state turns into delivery; a
            // store failure leaves the check for the next request.
            let allowed = match self.principal() {
                Ok(p) => p.allows(Access::Read, &topic),
                Err(Error::StoreUnavailable(_)) => continue,
                Err(_) => false,
            };
            if !allowed || self.send_retained(&topic, seen).is_ok() {
                self.session.subs[i].check = None;
                self.session.touch("mqtt-subs");
            }
        }
    }
}
