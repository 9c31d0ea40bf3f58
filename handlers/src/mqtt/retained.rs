//! Retained messages sent to a subscriber: after its SUBACK, and by the check on the
//! request after (see [`Connection::recover_retained`]).
//!
//! One request's work is bounded whatever the client sends:
//!
//! - each topic's slot is read from the KV store at most once per request, and at most
//!   [`MAX_SLOT_READS`] slots are read per request;
//! - a topic's retained message goes out at most once per answer;
//! - an answer carries at most [`ANSWER_BUDGET_BYTES`] of events, below Fanout's 1,000,000
//!   byte limit on a WebSocket-over-HTTP response body (Pushpin closes the connection
//!   beyond it).
//!
//! A retained message held back by a bound is not lost: its subscription keeps a check at
//! [`Version::ZERO`], so the next request sends whatever the slot holds then, and the
//! answer asks Fanout to call again in `MIN_CALLBACK_SECS` (its shortest interval) so
//! that request comes even if the client stays silent.

use std::collections::{HashMap, HashSet};

use pubsub_core::filter::Filter;
use pubsub_core::render;
use pubsub_core::retained::{self, Slot, Version};
use pubsub_core::tokens::Access;
use pubsub_core::Error;

use super::connection::Connection;
use super::subscribe::MAX_SUBSCRIPTIONS;

/// The most bytes of events one answer carries; retained messages beyond wait for the next
/// request. Fanout refuses a response body over 1,000,000 bytes; the rest of the margin is
/// for the other packets of the answer.
pub const ANSWER_BUDGET_BYTES: usize = 900_000;

/// The most retained slots one request reads: a check and a new subscription for every
/// subscription a connection may hold.
pub const MAX_SLOT_READS: usize = 2 * MAX_SUBSCRIPTIONS;

/// What a BINARY event adds to the packet it carries: the `BINARY <hex length>\r\n`
/// header, the `m:` prefix and the closing `\r\n`, with room to spare.
const EVENT_OVERHEAD: usize = 32;

/// The retained delivery of one request.
#[derive(Default)]
pub(crate) struct Delivery {
    /// The slots read during this request, by topic.
    slots: HashMap<String, Result<Slot, Error>>,
    /// Topics whose retained message is in this answer already.
    sent: HashSet<String>,
    /// Whether a retained message was held back for a bound of this request.
    pub(crate) deferred: bool,
}

impl Connection<'_> {
    /// Sends the retained message of `topic` (if any, not expired, and newer than `after`)
    /// to the client, with RETAIN set and the remaining expiry. `Ok(Some(version))`: the
    /// slot version seen, delivered or nothing to deliver; `Ok(None)`: held back by a bound
    /// of this request.
    pub(super) fn send_retained(
        &mut self,
        topic: &str,
        after: Version,
    ) -> Result<Option<Version>, Error> {
        if !self.read_slot(topic) {
            self.retained.deferred = true;
            return Ok(None);
        }
        let slot = match self.retained.slots.get(topic) {
            Some(Ok(slot)) => slot,
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(Error::Internal(format!("slot of {topic:?} not read"))),
        };
        let version = slot.version;
        let msg = match &slot.message {
            Some(msg) if version > after && !self.retained.sent.contains(topic) => msg,
            _ => return Ok(Some(version)),
        };
        if self.out.len() + msg.payload.len() + EVENT_OVERHEAD > ANSWER_BUDGET_BYTES {
            self.retained.deferred = true;
            return Ok(None);
        }
        let expiry = msg.remaining_secs(self.now);
        let packet = render::mqtt_publish(
            self.version(),
            topic,
            &msg.payload,
            msg.mqtt.as_ref(),
            expiry,
            true,
        );
        if self.out.len() + packet.len() + EVENT_OVERHEAD > ANSWER_BUDGET_BYTES {
            self.retained.deferred = true;
            return Ok(None);
        }
        self.send_raw(&packet);
        self.retained.sent.insert(topic.to_owned());
        Ok(Some(version))
    }

    /// Sends the retained messages of the topics wildcard `filter` matches, at most the
    /// Config Store's `wildcard-retained-max` (see `pubsub_core::retained::topics_matching`).
    /// A message held back by a bound of the request, or a store failure, is not sent
    /// later: a wildcard subscription keeps no per-topic check.
    pub(super) fn send_filter_retained(&mut self, filter: &str) {
        let Ok(parsed) = Filter::parse(filter) else {
            return;
        };
        let limit = self.config.wildcard_retained_max;
        let Ok(topics) = retained::topics_matching(&*self.platform.kv, &parsed, limit) else {
            return;
        };
        for topic in topics {
            let _ = self.send_retained(&topic, Version::ZERO);
        }
    }

    /// Reads `topic`'s slot unless this request did already; `false` when the request's
    /// read budget is spent.
    fn read_slot(&mut self, topic: &str) -> bool {
        if self.retained.slots.contains_key(topic) {
            return true;
        }
        if self.retained.slots.len() >= MAX_SLOT_READS {
            return false;
        }
        let slot = retained::read(&*self.platform.kv, self.now, topic);
        self.retained.slots.insert(topic.to_owned(), slot);
        true
    }

    /// Closes the race of a new subscription: a retained message published between the
    /// store read at SUBSCRIBE and the moment Fanout attached the subscription reached
    /// neither. Fanout attached it before sending this request, so a slot version newer
    /// than the one read then is such a message (or one also delivered live: at least
    /// once). Checked once per subscription, on the request after its SUBSCRIBE (and again
    /// while a bound of the request holds the message back).
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
            if !allowed || matches!(self.send_retained(&topic, seen), Ok(Some(_))) {
                self.session.subs[i].check = None;
                self.session.touch("mqtt-subs");
            }
        }
    }
}
