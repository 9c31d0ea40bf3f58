//! Appending a message to a topic's history, and trimming the history to its count.
//!
//! [`append`] writes one record under its own key (ids are unique, so Fastly KV's one
//! write per second per key never refuses it, whatever the topic's rate). The KV item's
//! TTL is the rule's `max-age`, or the message's own TTL when shorter, and at least
//! [`MIN_TTL_SECS`] (Fastly's shortest): so age trims itself. A failed write is an
//! [`Error::StoreUnavailable`] and the publish stops there.
//!
//! Count trim: when the id's random part is a multiple of [`TRIM_EVERY`] (about one
//! append in 16), the append then lists the topic's ids and deletes the oldest beyond
//! `max-count`, at most [`TRIM_DELETES_MAX`] of them. Trimming is best effort: a failure
//! leaves the records for a later pass (readers ignore all but the newest `max-count`
//! anyway) and never fails the append.

use pubsub_config::HistoryRule;

use super::id::HistoryId;
use super::listing::{held_ids, unavailable};
use super::record::{encode, key, Parts};
use crate::ports::{InsertOptions, KvStore};
use crate::retained::{MqttProps, STORE};
use crate::Error;

/// The shortest KV item TTL a record gets, in seconds.
pub const MIN_TTL_SECS: u32 = 60;

/// One append in about this many trims the topic to its count.
pub const TRIM_EVERY: u32 = 16;

/// The longest interval between trims, in appends.
pub const TRIM_EVERY_MAX: u32 = 256;

/// The most records one trim pass deletes: twice the longest interval, so trims keep up.
pub const TRIM_DELETES_MAX: usize = 2 * TRIM_EVERY_MAX as usize;

/// A message to append.
#[derive(Clone, Copy, Debug)]
pub struct NewMessage<'a> {
    /// Its id (assigned by the broker).
    pub id: HistoryId,
    /// The payload.
    pub payload: &'a [u8],
    /// Published retained.
    pub retain: bool,
    /// Its own TTL, in seconds.
    pub ttl_secs: Option<u32>,
    /// The MQTT 5 properties it travels with.
    pub mqtt: Option<&'a MqttProps>,
}

/// Appends `message` to `topic`'s history under `rule`; answers how many old records a
/// trim pass deleted (0 when none ran).
pub fn append(
    kv: &dyn KvStore,
    rule: HistoryRule,
    topic: &str,
    message: &NewMessage<'_>,
) -> Result<usize, Error> {
    let now = message.id.ms() / 1000;
    let parts = Parts {
        id: message.id,
        payload: message.payload,
        retain: message.retain,
        expires_at: message.ttl_secs.map(|t| now.saturating_add(u64::from(t))),
        mqtt: message.mqtt,
    };
    let value = encode(parts)?;
    let ttl = message
        .ttl_secs
        .map_or(rule.max_age_secs, |t| t.min(rule.max_age_secs))
        .max(MIN_TTL_SECS);
    let options = InsertOptions {
        ttl_secs: Some(ttl),
        ..InsertOptions::default()
    };
    kv.insert(STORE, &key(topic, message.id), &value, options)
        .map_err(unavailable)?;
    if !message.id.rand().is_multiple_of(trim_every(rule)) {
        return Ok(0);
    }
    Ok(trim(kv, rule, topic).unwrap_or(0))
}

/// About one append in this many trims `rule`'s topics: [`TRIM_EVERY`], or for a large
/// `max-count` up to [`TRIM_EVERY_MAX`], so that a trim's listing (one call per 1,000
/// records) costs an append about the same whatever the count.
fn trim_every(rule: HistoryRule) -> u32 {
    (rule.max_count / 64).clamp(TRIM_EVERY, TRIM_EVERY_MAX)
}

/// Deletes the oldest of `topic`'s records beyond `rule.max_count` (at most
/// [`TRIM_DELETES_MAX`]); answers how many.
pub fn trim(kv: &dyn KvStore, rule: HistoryRule, topic: &str) -> Result<usize, Error> {
    let ids = held_ids(kv, topic)?;
    let keep = usize::try_from(rule.max_count).unwrap_or(usize::MAX);
    let over = ids.len().saturating_sub(keep).min(TRIM_DELETES_MAX);
    for id in &ids[..over] {
        kv.delete(STORE, &key(topic, *id)).map_err(unavailable)?;
    }
    Ok(over)
}
