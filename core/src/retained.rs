//! Retained messages: the last retained message of each topic, kept in KV store
//! [`STORE`] (`messages`), with a [`Version`] that only grows.
//!
//! # Slots
//!
//! Each topic that ever had a retained message owns one KV item, its *slot*, under
//! [`key`]`(topic)`: `t/` followed by the lowercase hex of the topic's UTF-8 bytes (at most
//! 2 + 2 × 256 = 514 bytes, only `[0-9a-f/t]`, so it meets every Fastly KV key rule: no
//! `.`/`..`, no control characters, none of `[]*?#`, no `.well-known/acme-challenge/`
//! prefix, at most 1024 bytes).
//!
//! The value is one JSON object (`format` 1):
//!
//! ```json
//! {"format":1,"version":"0000691c2a5e-000000000002","stored_at":1763715678,
//!  "expires_at":1763715738,"payload":"aGVsbG8=","mqtt":{"content_type":"text/plain"}}
//! ```
//!
//! `payload` is the standard base64 of the message; it is absent in a *tombstone*, which an
//! empty retained payload writes (MQTT semantics: the retained message is cleared). A
//! tombstone keeps the slot, so its version sequence goes on. `expires_at` (seconds since
//! the Unix epoch) is present when the message was published with a TTL; `mqtt` holds the
//! MQTT v5 properties to forward ([`MqttProps`]) when the publisher was an MQTT client.
//!
//! # Versions
//!
//! A [`Version`] is `<epoch>-<sequence>`, two 12-digit lowercase hex numbers (25 ASCII
//! characters, so versions compare as strings and are safe in an SSE `id:` line, a
//! `Last-Event-ID` header and a GRIP `prev-id`). The epoch is the time (seconds) at which
//! the slot was created; the sequence counts writes from 1. [`Version::ZERO`] stands for
//! "no slot": it is the previous version of the write that creates a slot, and what a
//! subscriber of a topic without a slot has seen.
//!
//! Every write reads the slot, computes the next version and writes with compare-and-swap
//! on the KV item's generation (or "only if absent" when creating the slot). A write that
//! loses the race reads again, up to [`MAX_ATTEMPTS`] times, then fails with 503
//! ([`Error::StoreUnavailable`]). So concurrent publishers never lose an update, every
//! successful write gets a distinct version, and versions never go backwards. [`store`]
//! returns the new version and the one it replaced, which the publish item carries as its
//! GRIP `id` and `prev-id`.
//!
//! # Expiry
//!
//! A message's TTL is enforced when it is read: [`read`] and [`load`] never return an
//! expired message. The KV item itself gets a TTL only when its content can expire:
//! message TTL + [`SLOT_GRACE_SECS`] (30 days) for a message with a TTL, and
//! [`SLOT_GRACE_SECS`] for a tombstone; a message without TTL keeps its slot forever. So the
//! version sequence survives the message's expiry by 30 days, and when a slot does
//! disappear, the slot created after it starts a new epoch, later than the old one, so
//! versions still only grow.
//!
//! # Channels
//!
//! Retained messages travel to SSE subscribers on their own Fanout channel,
//! [`Kind::Retained`](crate::channel::Kind::Retained) (`r#` + the topic's live channel), where every item is in the
//! version sequence (`id` = version, `prev-id` = previous version). Live messages that are
//! not retained carry no ids and stay on the topic's live channel, so a durable
//! subscriber's `prev-id` check never trips on them. `#` never occurs in a live channel
//! name (it is percent-encoded there), so the two kinds of channels cannot collide.
//!
//! # Event ids
//!
//! An SSE event's `id:` is an [`EventId`]: comma-separated `<tag>:<version>` entries,
//! where the tag is [`topic_tag`], the 16-hex-digit FNV-1a 64 hash of the topic. A live
//! event names its own topic only (one published item is shared by every subscriber); the
//! events a durable subscribe answers with name every topic of the request they cover.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::ports::{InsertOptions, KvError, KvStore};
use crate::Error;

/// The KV store holding the slots.
pub const STORE: &str = "messages";

/// How many times a write reads and tries again after losing a compare-and-swap.
pub const MAX_ATTEMPTS: usize = 10;

/// How long a slot outlives the expiry of its message (or its clearing): 30 days.
pub const SLOT_GRACE_SECS: u32 = 30 * 24 * 60 * 60;

/// The record format this module writes.
const FORMAT: u32 = 1;

/// Hex digits of each part of a [`Version`].
const VERSION_DIGITS: usize = 12;

/// Largest value of each part of a [`Version`] (12 hex digits).
const VERSION_PART_MAX: u64 = (1 << (4 * VERSION_DIGITS)) - 1;

/// The version of a retained-message slot: see the module documentation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    epoch: u64,
    sequence: u64,
}

impl Version {
    /// The version before any write: what a topic without a slot is at.
    pub const ZERO: Version = Version {
        epoch: 0,
        sequence: 0,
    };

    /// The epoch: when the slot was created, in seconds since the Unix epoch.
    pub fn epoch(self) -> u64 {
        self.epoch
    }

    /// The number of writes to the slot since it was created.
    pub fn sequence(self) -> u64 {
        self.sequence
    }

    /// The version a write at time `now` gives after this one.
    fn next(self, now: u64) -> Version {
        if self == Version::ZERO {
            return Version {
                epoch: now.clamp(1, VERSION_PART_MAX),
                sequence: 1,
            };
        }
        if self.sequence < VERSION_PART_MAX {
            return Version {
                sequence: self.sequence + 1,
                ..self
            };
        }
        // The sequence is exhausted: open a new, later epoch.
        Version {
            epoch: now.max(self.epoch + 1).min(VERSION_PART_MAX),
            sequence: 1,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:0w$x}-{:0w$x}",
            self.epoch,
            self.sequence,
            w = VERSION_DIGITS
        )
    }
}

/// A string that is not a [`Version`]; carries the string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidVersion(pub String);

impl fmt::Display for InvalidVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a version (two 12-digit lowercase hex numbers joined by `-`)",
            self.0
        )
    }
}

impl std::error::Error for InvalidVersion {}

impl FromStr for Version {
    type Err = InvalidVersion;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidVersion(s.chars().take(64).collect());
        let (epoch, sequence) = s.split_once('-').ok_or_else(invalid)?;
        let part = |p: &str| {
            let fixed_width_lower_hex = p.len() == VERSION_DIGITS
                && p.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            fixed_width_lower_hex
                .then(|| u64::from_str_radix(p, 16).ok())
                .flatten()
        };
        match (part(epoch), part(sequence)) {
            (Some(epoch), Some(sequence)) => Ok(Version { epoch, sequence }),
            _ => Err(invalid()),
        }
    }
}

/// MQTT v5 PUBLISH properties that a retained message keeps for its later subscribers.
/// Filled by the MQTT handler; HTTP publishes have none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttProps {
    /// Payload Format Indicator (0: unspecified bytes, 1: UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_indicator: Option<u8>,
    /// Content Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Response Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<String>,
    /// Correlation Data (binary; standard base64 in the record).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_base64")]
    pub correlation_data: Option<Vec<u8>>,
    /// User Properties, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<(String, String)>,
}

/// A retained message to store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewRetained<'a> {
    /// The payload; empty clears the topic's retained message.
    pub payload: &'a [u8],
    /// Seconds the message stays deliverable; `None`: until replaced.
    pub ttl_secs: Option<u32>,
    /// MQTT v5 properties to forward with it.
    pub mqtt: Option<MqttProps>,
}

/// The outcome of a successful [`store`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The version this write got.
    pub version: Version,
    /// The version it replaced ([`Version::ZERO`] when it created the slot).
    pub previous: Version,
}

/// A deliverable retained message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retained {
    /// Its version.
    pub version: Version,
    /// The payload (never empty: an empty payload is a cleared slot).
    pub payload: Vec<u8>,
    /// When it was stored, in seconds since the Unix epoch.
    pub stored_at: u64,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// MQTT v5 properties to forward.
    pub mqtt: Option<MqttProps>,
}

impl Retained {
    /// Seconds left before expiry at `now` (for MQTT's Message Expiry Interval); `None`
    /// when it does not expire.
    pub fn remaining_secs(&self, now: u64) -> Option<u32> {
        self.expires_at
            .map(|at| u32::try_from(at.saturating_sub(now)).unwrap_or(u32::MAX))
    }
}

/// A topic's slot as read at one moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The slot's current version ([`Version::ZERO`] when there is no slot). This is what
    /// a subscriber that read the slot has seen, delivered or not.
    pub version: Version,
    /// The message to deliver: `None` when there is no slot, or it was cleared, or the
    /// message expired.
    pub message: Option<Retained>,
}

#[derive(Serialize, Deserialize)]
struct Record {
    format: u32,
    version: String,
    stored_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    payload: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mqtt: Option<MqttProps>,
}

/// The KV key of `topic`'s slot.
pub fn key(topic: &str) -> String {
    let mut key = String::with_capacity(2 + 2 * topic.len());
    key.push_str("t/");
    for b in topic.bytes() {
        key.push(char::from(HEX[usize::from(b >> 4)]));
        key.push(char::from(HEX[usize::from(b & 15)]));
    }
    key
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn unavailable(e: KvError) -> Error {
    Error::StoreUnavailable(format!("KV store `{STORE}`: {e}"))
}

/// Stores `msg` as `topic`'s retained message at time `now` (an empty payload clears it).
pub fn store(
    kv: &dyn KvStore,
    now: u64,
    topic: &str,
    msg: NewRetained<'_>,
) -> Result<Stored, Error> {
    let key = key(topic);
    let payload = (!msg.payload.is_empty()).then(|| BASE64.encode(msg.payload));
    let expires_at = msg.ttl_secs.map(|ttl| now.saturating_add(u64::from(ttl)));
    let kv_ttl = match (&payload, msg.ttl_secs) {
        (None, _) => Some(SLOT_GRACE_SECS),
        (Some(_), Some(ttl)) => Some(ttl.saturating_add(SLOT_GRACE_SECS)),
        (Some(_), None) => None,
    };
    for _ in 0..MAX_ATTEMPTS {
        let current = kv.lookup(STORE, &key).map_err(unavailable)?;
        let (previous, condition) = match current {
            None => (
                Version::ZERO,
                InsertOptions {
                    if_absent: true,
                    ..InsertOptions::default()
                },
            ),
            Some(item) => (
                // An unreadable record is replaced as if the slot were new: its epoch
                // (now) is later than the lost one's unless it was created this second.
                decode(&item.value).map_or(Version::ZERO, |(version, _)| version),
                InsertOptions {
                    if_generation: Some(item.generation),
                    ..InsertOptions::default()
                },
            ),
        };
        let version = previous.next(now);
        let record = Record {
            format: FORMAT,
            version: version.to_string(),
            stored_at: now,
            expires_at,
            payload: payload.clone(),
            mqtt: msg.mqtt.clone(),
        };
        let value = serde_json::to_vec(&record)
            .map_err(|e| Error::Internal(format!("retained record: {e}")))?;
        let options = InsertOptions {
            ttl_secs: kv_ttl,
            ..condition
        };
        match kv.insert(STORE, &key, &value, options) {
            Ok(()) => return Ok(Stored { version, previous }),
            Err(KvError::GenerationMismatch) => continue,
            Err(e) => return Err(unavailable(e)),
        }
    }
    Err(Error::StoreUnavailable(format!(
        "too many concurrent writes to the retained message of topic {topic:?}; \
         gave up after {MAX_ATTEMPTS} attempts"
    )))
}

/// Reads `topic`'s slot at time `now`.
pub fn read(kv: &dyn KvStore, now: u64, topic: &str) -> Result<Slot, Error> {
    let Some(item) = kv.lookup(STORE, &key(topic)).map_err(unavailable)? else {
        return Ok(Slot {
            version: Version::ZERO,
            message: None,
        });
    };
    let (version, message) = decode(&item.value).ok_or_else(|| {
        Error::Internal(format!(
            "the retained message of topic {topic:?} is not a format-{FORMAT} record"
        ))
    })?;
    let message = message.filter(|m| m.expires_at.is_none_or(|at| now < at));
    Ok(Slot { version, message })
}

/// `topic`'s deliverable retained message at time `now`: `None` when absent, cleared or
/// expired.
pub fn load(kv: &dyn KvStore, now: u64, topic: &str) -> Result<Option<Retained>, Error> {
    read(kv, now, topic).map(|slot| slot.message)
}

/// The version and the message (if not a tombstone) of a stored record.
fn decode(value: &[u8]) -> Option<(Version, Option<Retained>)> {
    let record: Record = serde_json::from_slice(value).ok()?;
    if record.format != FORMAT {
        return None;
    }
    let version: Version = record.version.parse().ok()?;
    let message = match record.payload {
        None => None,
        Some(b64) => Some(Retained {
            version,
            payload: BASE64.decode(b64).ok()?,
            stored_at: record.stored_at,
            expires_at: record.expires_at,
            mqtt: record.mqtt,
        }),
    };
    Some((version, message.filter(|m| !m.payload.is_empty())))
}

/// FNV-1a 64 of `topic`'s bytes: the topic's tag in an [`EventId`].
pub fn topic_tag(topic: &str) -> u64 {
    topic.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Most entries an [`EventId`] may hold.
pub const EVENT_ID_MAX_ENTRIES: usize = 100;

/// An SSE event id: the version seen of each topic it names (see the module
/// documentation). Entries are kept in insertion order; a tag appears once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventId(Vec<(u64, Version)>);

impl EventId {
    /// An id naming no topic.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a live event of `topic` at `version`.
    pub fn single(topic: &str, version: Version) -> Self {
        Self(vec![(topic_tag(topic), version)])
    }

    /// Records that `topic` was seen at `version` (replacing what was recorded for it).
    pub fn set(&mut self, topic: &str, version: Version) {
        let tag = topic_tag(topic);
        match self.0.iter_mut().find(|(t, _)| *t == tag) {
            Some(entry) => entry.1 = version,
            None => self.0.push((tag, version)),
        }
    }

    /// The version of `topic` this id names, if it names it.
    pub fn get(&self, topic: &str) -> Option<Version> {
        let tag = topic_tag(topic);
        self.0.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }

    /// Whether the id names no topic.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses an id sent back by a client (`Last-Event-ID`, `lastEventId`). Every entry
    /// must be well formed; an empty string names no topic.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |why: String| {
            Error::BadRequest(format!(
                "invalid last event id: {why}; expected comma-separated \
                 `<16 hex digits>:<version>` entries as sent in the `id:` of events"
            ))
        };
        let mut id = EventId::new();
        if s.is_empty() {
            return Ok(id);
        }
        for entry in s.split(',') {
            if id.0.len() == EVENT_ID_MAX_ENTRIES {
                return Err(bad(format!("more than {EVENT_ID_MAX_ENTRIES} entries")));
            }
            let shown: String = entry.chars().take(64).collect();
            let (tag, version) = entry
                .split_once(':')
                .ok_or_else(|| bad(format!("entry {shown:?} has no `:`")))?;
            let tag_ok = tag.len() == 16
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            let tag = tag_ok
                .then(|| u64::from_str_radix(tag, 16).ok())
                .flatten()
                .ok_or_else(|| bad(format!("entry {shown:?} has no 16-hex-digit topic tag")))?;
            let version: Version = version
                .parse()
                .map_err(|e: InvalidVersion| bad(e.to_string()))?;
            if id.0.iter().any(|(t, _)| *t == tag) {
                return Err(bad(format!("topic tag {tag:016x} appears twice")));
            }
            id.0.push((tag, version));
        }
        Ok(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (tag, version)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tag:016x}:{version}")?;
        }
        Ok(())
    }
}

mod opt_base64 {
    //! `Option<Vec<u8>>` as an optional standard-base64 string.

    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&BASE64.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|s| BASE64.decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use crate::ports::memory::MemoryKv;
    use crate::ports::KvItem;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn text(payload: &'static str) -> NewRetained<'static> {
        NewRetained {
            payload: payload.as_bytes(),
            ..NewRetained::default()
        }
    }

    /// A store whose compare-and-swap writes fail the first `failures` times.
    struct Contended {
        inner: MemoryKv,
        failures: AtomicUsize,
    }

    impl Contended {
        fn failing(failures: usize) -> Self {
            Self {
                inner: MemoryKv::default(),
                failures: AtomicUsize::new(failures),
            }
        }
    }

    impl KvStore for Contended {
        fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
            self.inner.lookup(store, key)
        }
        fn insert(
            &self,
            store: &str,
            key: &str,
            value: &[u8],
            options: InsertOptions,
        ) -> Result<(), KvError> {
            let left = self.failures.load(Ordering::SeqCst);
            if left > 0 {
                self.failures.store(left - 1, Ordering::SeqCst);
                return Err(KvError::GenerationMismatch);
            }
            self.inner.insert(store, key, value, options)
        }
        fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
            self.inner.delete(store, key)
        }
        fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
            self.inner.list(store)
        }
    }

    #[test]
    fn versions_print_fixed_width_and_parse_back() {
        let v = Version {
            epoch: NOW,
            sequence: 26,
        };
        assert_eq!(v.to_string(), "00006b49d200-00000000001a");
        assert_eq!(v.to_string().parse(), Ok(v));
        assert_eq!(Version::ZERO.to_string(), "000000000000-000000000000");
    }

    #[test]
    fn malformed_versions_are_refused() {
        for s in [
            "",
            "00006b49d200",
            "00006b49d200-00000000001A",
            "6b49d200-1a",
            "00006b49d200-00000000001a-",
            "00006b49d200_00000000001a",
            "+0006b49d200-00000000001a",
            "00006b49d200-0000000001g1",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn versions_order_by_epoch_then_sequence_like_their_strings() {
        let a = Version {
            epoch: 5,
            sequence: 0xfff,
        };
        let b = Version {
            epoch: 6,
            sequence: 1,
        };
        let c = Version {
            epoch: 6,
            sequence: 2,
        };
        assert!(Version::ZERO < a && a < b && b < c);
        assert!(a.to_string() < b.to_string() && b.to_string() < c.to_string());
    }

    #[test]
    fn a_version_sequence_that_runs_out_opens_a_later_epoch() {
        let last = Version {
            epoch: NOW,
            sequence: VERSION_PART_MAX,
        };
        let next = last.next(NOW);
        assert!(next > last);
        assert_eq!(next.sequence(), 1);
        assert_eq!(Version::ZERO.next(NOW).epoch(), NOW);
    }

    #[test]
    fn the_first_write_creates_the_slot_and_each_write_increments() {
        let kv = MemoryKv::default();
        let first = store(&kv, NOW, "a", text("one")).expect("stored");
        assert_eq!(first.previous, Version::ZERO);
        assert_eq!(first.version.epoch(), NOW);
        assert_eq!(first.version.sequence(), 1);
        let second = store(&kv, NOW + 5, "a", text("two")).expect("stored");
        assert_eq!(second.previous, first.version);
        assert_eq!(
            second.version.epoch(),
            NOW,
            "the epoch is fixed at creation"
        );
        assert_eq!(second.version.sequence(), 2);
        let got = load(&kv, NOW + 5, "a").expect("read").expect("present");
        assert_eq!(got.payload, b"two");
        assert_eq!(got.version, second.version);
        assert_eq!(got.stored_at, NOW + 5);
    }

    #[test]
    fn topics_have_separate_slots() {
        let kv = MemoryKv::default();
        store(&kv, NOW, "a", text("for a")).expect("stored");
        assert_eq!(load(&kv, NOW, "b").expect("read"), None);
        let b = read(&kv, NOW, "b").expect("read");
        assert_eq!(b.version, Version::ZERO);
    }

    #[test]
    fn an_expired_message_is_never_returned_but_its_version_is() {
        let kv = MemoryKv::default();
        let msg = NewRetained {
            ttl_secs: Some(10),
            ..text("short-lived")
        };
        let stored = store(&kv, NOW, "a", msg).expect("stored");
        let fresh = load(&kv, NOW + 9, "a").expect("read").expect("present");
        assert_eq!(fresh.remaining_secs(NOW + 9), Some(1));
        assert_eq!(load(&kv, NOW + 10, "a").expect("read"), None);
        let slot = read(&kv, NOW + 10, "a").expect("read");
        assert_eq!(slot.version, stored.version);
        let next = store(&kv, NOW + 11, "a", text("again")).expect("stored");
        assert_eq!(
            next.previous, stored.version,
            "the sequence survives expiry"
        );
    }

    #[test]
    fn an_empty_payload_clears_the_message_and_keeps_the_sequence() {
        let kv = MemoryKv::default();
        let first = store(&kv, NOW, "a", text("x")).expect("stored");
        let cleared = store(&kv, NOW, "a", text("")).expect("cleared");
        assert!(cleared.version > first.version);
        let slot = read(&kv, NOW, "a").expect("read");
        assert_eq!(slot.message, None);
        assert_eq!(slot.version, cleared.version);
        let again = store(&kv, NOW, "a", text("y")).expect("stored");
        assert_eq!(again.previous, cleared.version);
    }

    #[test]
    fn the_kv_item_lingers_long_after_its_message_can_expire() {
        let kv = Arc::new(MemoryKv::default());
        struct SeeTtl(Arc<MemoryKv>, std::sync::Mutex<Vec<Option<u32>>>);
        impl KvStore for SeeTtl {
            fn lookup(&self, s: &str, k: &str) -> Result<Option<KvItem>, KvError> {
                self.0.lookup(s, k)
            }
            fn insert(&self, s: &str, k: &str, v: &[u8], o: InsertOptions) -> Result<(), KvError> {
                self.1.lock().expect("lock").push(o.ttl_secs);
                self.0.insert(s, k, v, o)
            }
            fn delete(&self, s: &str, k: &str) -> Result<(), KvError> {
                self.0.delete(s, k)
            }
            fn list(&self, s: &str) -> Result<Vec<String>, KvError> {
                self.0.list(s)
            }
        }
        let seen = SeeTtl(kv, std::sync::Mutex::default());
        store(&seen, NOW, "a", text("forever")).expect("stored");
        let ttl = NewRetained {
            ttl_secs: Some(60),
            ..text("a minute")
        };
        store(&seen, NOW, "a", ttl).expect("stored");
        store(&seen, NOW, "a", text("")).expect("cleared");
        assert_eq!(
            *seen.1.lock().expect("lock"),
            [None, Some(60 + SLOT_GRACE_SECS), Some(SLOT_GRACE_SECS)]
        );
    }

    #[test]
    fn a_lost_compare_and_swap_is_retried() {
        let kv = Contended::failing(MAX_ATTEMPTS - 1);
        let stored = store(&kv, NOW, "a", text("x")).expect("stored on the last attempt");
        assert_eq!(stored.version.sequence(), 1);
    }

    #[test]
    fn endless_contention_is_a_503_and_writes_nothing() {
        let kv = Contended::failing(MAX_ATTEMPTS);
        let err = store(&kv, NOW, "a", text("x")).expect_err("gave up");
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("concurrent"), "{err}");
        assert_eq!(read(&kv, NOW, "a").expect("read").version, Version::ZERO);
    }

    #[test]
    fn an_unavailable_store_is_a_503() {
        let kv = MemoryKv::default();
        kv.fail.store(true, Ordering::Relaxed);
        assert_eq!(
            store(&kv, NOW, "a", text("x")).expect_err("down").status(),
            503
        );
        assert_eq!(load(&kv, NOW, "a").expect_err("down").status(), 503);
    }

    #[test]
    fn concurrent_writers_never_lose_an_update_nor_reuse_a_version() {
        let kv = Arc::new(MemoryKv::default());
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let kv = kv.clone();
                std::thread::spawn(move || {
                    let mut stored = Vec::new();
                    let mut gave_up = 0;
                    for i in 0..50 {
                        let payload = format!("{w}-{i}");
                        let msg = NewRetained {
                            payload: payload.as_bytes(),
                            ..NewRetained::default()
                        };
                        // Writers that spin on an in-memory store can starve one another:
                        // a 503 is an allowed answer, a lost or repeated version is not.
                        match store(&*kv, NOW, "hot", msg) {
                            Ok(s) => stored.push(s),
                            Err(e) => {
                                assert_eq!(e.status(), 503);
                                gave_up += 1;
                            }
                        }
                    }
                    (stored, gave_up)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut gave_up = 0;
        for writer in writers {
            let (stored, failed) = writer.join().expect("writer");
            all.extend(stored);
            gave_up += failed;
        }
        all.sort_by_key(|s| s.version);
        assert_eq!(all.len() + gave_up, 200);
        assert!(
            all.len() >= 100,
            "only {} of 200 writes succeeded",
            all.len()
        );
        for (i, s) in all.iter().enumerate() {
            assert_eq!(s.version.sequence(), i as u64 + 1, "no gap, no duplicate");
            let expected_previous = if i == 0 {
                Version::ZERO
            } else {
                all[i - 1].version
            };
            assert_eq!(
                s.previous, expected_previous,
                "each write replaced the one before"
            );
        }
        let last = read(&*kv, NOW, "hot").expect("read");
        assert_eq!(Some(last.version), all.last().map(|s| s.version));
    }

    #[test]
    fn keys_are_hex_and_safe_for_fastly_kv() {
        assert_eq!(key("a/b"), "t/612f62");
        let long = key(&"é".repeat(128));
        assert_eq!(long.len(), 2 + 512);
        assert!(long
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b't' || b == b'/'));
        assert_ne!(key("a"), key("b"));
    }

    #[test]
    fn records_keep_mqtt_properties_and_binary_payloads() {
        let kv = MemoryKv::default();
        let props = MqttProps {
            payload_format_indicator: Some(1),
            content_type: Some("text/plain".into()),
            response_topic: Some("replies".into()),
            correlation_data: Some(vec![0, 255]),
            user_properties: vec![("k".into(), "v".into()), ("k".into(), "w".into())],
        };
        let msg = NewRetained {
            payload: &[0xff, 0, 1],
            ttl_secs: None,
            mqtt: Some(props.clone()),
        };
        store(&kv, NOW, "a", msg).expect("stored");
        let got = load(&kv, NOW, "a").expect("read").expect("present");
        assert_eq!(got.payload, [0xff, 0, 1]);
        assert_eq!(got.mqtt, Some(props));
        assert_eq!(got.remaining_secs(NOW), None);
        let raw = kv.lookup(STORE, &key("a")).expect("read").expect("present");
        let json: serde_json::Value = serde_json::from_slice(&raw.value).expect("json");
        assert_eq!(json["format"], 1);
        assert_eq!(json["payload"], "/wAB");
        assert_eq!(json["mqtt"]["correlation_data"], "AP8=");
    }

    #[test]
    fn an_unreadable_record_is_an_internal_error_on_read_and_replaced_on_write() {
        let kv = MemoryKv::default();
        kv.insert(STORE, &key("a"), b"garbage", InsertOptions::default())
            .expect("seed");
        assert_eq!(read(&kv, NOW, "a").expect_err("corrupt").status(), 500);
        let stored = store(&kv, NOW, "a", text("fresh")).expect("replaced");
        assert_eq!(stored.previous, Version::ZERO);
        assert!(load(&kv, NOW, "a").expect("read").is_some());
    }

    #[test]
    fn topic_tags_are_fnv1a_64() {
        // Reference values of FNV-1a 64.
        assert_eq!(topic_tag(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(topic_tag("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(topic_tag("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn event_ids_round_trip() {
        let v1 = Version::ZERO.next(NOW);
        let v2 = v1.next(NOW);
        let mut id = EventId::new();
        id.set("a", v1);
        id.set("b", v2);
        id.set("a", v2);
        let text = id.to_string();
        assert_eq!(
            text,
            format!("{:016x}:{v2},{:016x}:{v2}", topic_tag("a"), topic_tag("b"))
        );
        let back = EventId::parse(&text).expect("parses");
        assert_eq!(back, id);
        assert_eq!(back.get("a"), Some(v2));
        assert_eq!(back.get("c"), None);
        assert_eq!(EventId::single("a", v1).get("a"), Some(v1));
        assert!(EventId::parse("").expect("empty").is_empty());
    }

    #[test]
    fn malformed_event_ids_are_a_400_naming_the_problem() {
        let v = Version::ZERO.next(NOW);
        let tag = format!("{:016x}", topic_tag("a"));
        let cases = [
            ("junk".to_owned(), "no `:`"),
            (format!("{tag}:{v},"), "no `:`"),
            (format!("abc:{v}"), "16-hex-digit"),
            (format!("{}:{v}", tag.to_uppercase()), "16-hex-digit"),
            (format!("{tag}:nope"), "is not a version"),
            (format!("{tag}:{v},{tag}:{v}"), "twice"),
            (
                (0..=EVENT_ID_MAX_ENTRIES)
                    .map(|i| format!("{i:016x}:{v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                "more than",
            ),
        ];
        for (text, needle) in cases {
            let err = EventId::parse(&text).expect_err(&text);
            assert_eq!(err.status(), 400, "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
