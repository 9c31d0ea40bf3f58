//! Retained messages sent to a subscriber, as the protocol core asks
//! (`Effect::DeliverRetained`, `Effect::DeliverFilterRetained`): slots read from KV store
//! `messages` and written into the answer, within the bounds of one request.
//!
//! One request's work is bounded whatever the client sends:
//!
//! - each topic's slot is read from the KV store at most once per request, and at most
//!   [`MAX_SLOT_READS`] slots are read per request;
//! - each wildcard filter's topics are listed from the KV store at most once per request,
//!   and at most [`MAX_FILTER_LISTINGS`] filters are listed per request (a filter past
//!   it gets no retained messages, as when its listing fails);
//! - a topic's retained message goes out at most once per answer;
//! - an answer carries at most [`ANSWER_BUDGET_BYTES`] of events, below Fanout's 1,000,000
//!   byte limit on a WebSocket-over-HTTP response body (Pushpin closes the connection
//!   beyond it).
//!
//! A retained message held back by a bound is not lost: the delivery answers `Ok(None)`,
//! its subscription keeps a check at `Version::ZERO` (the core's `retained.rs`), and the
//! answer asks Fanout to call again in `MIN_CALLBACK_SECS` ([`Delivery::deferred`]).

use std::collections::{HashMap, HashSet};

use pubsub_codec::mqtt::ProtocolVersion;
use pubsub_core::ports::KvStore;
use pubsub_core::render;
use pubsub_core::retained::{self, Slot, Version};
use pubsub_core::topic::Filter;
use pubsub_core::{Config, Error};

use super::wire::{self, EVENT_OVERHEAD};
use crate::mqtt::protocol::effects::Delivered;
use crate::mqtt::protocol::subscribe::MAX_SUBSCRIPTIONS;

/// The most bytes of events one answer carries; retained messages beyond wait for the next
/// request. Fanout refuses a response body over 1,000,000 bytes; the rest of the margin is
/// for the other packets of the answer.
pub const ANSWER_BUDGET_BYTES: usize = 900_000;

/// The most retained slots one request reads: a check and a new subscription for every
/// subscription a connection may hold.
pub const MAX_SLOT_READS: usize = 2 * MAX_SUBSCRIPTIONS;

/// The most wildcard filters whose retained topics one request lists: one for every
/// subscription a connection may hold.
pub const MAX_FILTER_LISTINGS: usize = MAX_SUBSCRIPTIONS;

/// The retained delivery of one request.
#[derive(Default)]
pub(super) struct Delivery {
    /// The slots read during this request, by topic.
    slots: HashMap<String, Result<Slot, Error>>,
    /// Topics whose retained message is in this answer already.
    sent: HashSet<String>,
    /// The topics each wildcard filter matched, listed during this request, by filter.
    listings: HashMap<String, Vec<String>>,
    /// Whether a retained message was held back for a bound of this request.
    pub(super) deferred: bool,
}

/// Where a delivery reads and writes.
pub(super) struct Target<'a> {
    pub(super) kv: &'a dyn KvStore,
    pub(super) now: u64,
    pub(super) version: ProtocolVersion,
    pub(super) out: &'a mut Vec<u8>,
}

impl Delivery {
    /// Sends the retained message of `topic` (if any, not expired, and newer than `after`)
    /// to the client, with RETAIN set and the remaining expiry.
    pub(super) fn send(&mut self, to: &mut Target, topic: &str, after: Version) -> Delivered {
        if !self.read_slot(to, topic) {
            self.deferred = true;
            return Ok(None);
        }
        let slot = match self.slots.get(topic) {
            Some(Ok(slot)) => slot,
            Some(Err(e)) => return Err(e.clone()),
            None => return Err(Error::Internal(format!("slot of {topic:?} not read"))),
        };
        let version = slot.version;
        let msg = match &slot.message {
            Some(msg) if version > after && !self.sent.contains(topic) => msg,
            _ => return Ok(Some(version)),
        };
        if to.out.len() + msg.payload.len() + EVENT_OVERHEAD > ANSWER_BUDGET_BYTES {
            self.deferred = true;
            return Ok(None);
        }
        let expiry = msg.remaining_secs(to.now);
        let mqtt = msg.mqtt.as_ref();
        let packet = render::mqtt_publish(to.version, topic, &msg.payload, mqtt, expiry, true);
        if to.out.len() + packet.len() + EVENT_OVERHEAD > ANSWER_BUDGET_BYTES {
            self.deferred = true;
            return Ok(None);
        }
        wire::raw(to.out, &packet);
        self.sent.insert(topic.to_owned());
        Ok(Some(version))
    }

    /// Sends the retained messages of the topics wildcard `filter` matches, at most the
    /// Config Store's `wildcard-retained-max` (see `pubsub_core::retained::topics_matching`).
    /// A message held back by a bound of the request, or a store failure, is not sent
    /// later: a wildcard subscription keeps no per-topic check.
    pub(super) fn send_filter(&mut self, to: &mut Target, config: &Config, filter: &Filter) {
        let topics = match self.listings.get(filter.as_str()) {
            Some(topics) => topics.clone(),
            None if self.listings.len() >= MAX_FILTER_LISTINGS => return,
            None => {
                let limit = config.wildcard_retained_max;
                let listed = retained::topics_matching(to.kv, filter, limit).unwrap_or_default();
                self.listings
                    .insert(filter.as_str().to_owned(), listed.clone());
                listed
            }
        };
        for topic in topics {
            let _ = self.send(to, &topic, Version::ZERO);
        }
    }

    /// Reads `topic`'s slot unless this request did already; `false` when the request's
    /// read budget is spent.
    fn read_slot(&mut self, to: &Target, topic: &str) -> bool {
        if self.slots.contains_key(topic) {
            return true;
        }
        if self.slots.len() >= MAX_SLOT_READS {
            return false;
        }
        let slot = retained::read(to.kv, to.now, topic);
        self.slots.insert(topic.to_owned(), slot);
        true
    }
}
