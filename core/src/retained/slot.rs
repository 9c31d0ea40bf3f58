//! A topic's slot in KV store [`STORE`]: its key, its record, and the reads and
//! compare-and-swap writes of retained messages (expiry, tombstones, KV item TTLs).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{legacy, MqttProps, Version};
use crate::history::HistoryId;
use crate::ports::{InsertOptions, KvError, KvItem, KvStore};
use crate::Error;

/// The KV store holding the slots.
pub const STORE: &str = "messages";

/// How many times a write reads and tries again after losing a compare-and-swap.
pub const MAX_ATTEMPTS: usize = 10;

/// How long a slot outlives the expiry of its message (or its clearing): 30 days.
pub const SLOT_GRACE_SECS: u32 = 30 * 24 * 60 * 60;

/// The record format this module writes.
const FORMAT: u32 = 1;

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
    /// When it was stored, in seconds since the Unix epoch; 0 when unknown (a record of
    /// Fastly's original app).
    pub stored_at: u64,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: Option<u64>,
    /// MQTT v5 properties to forward.
    pub mqtt: Option<MqttProps>,
    /// The id of the same message in its topic's history, when the topic keeps one: a
    /// resume from a history position already covers this message.
    pub history_id: Option<HistoryId>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    history_id: Option<String>,
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

/// Seconds a writer refused for rate waits: Fastly KV takes one write per second per key.
pub const RETRY_AFTER_SECS: u32 = 1;

/// Stores `msg` as `topic`'s retained message at time `now` (an empty payload clears it).
pub fn store(
    kv: &dyn KvStore,
    now: u64,
    topic: &str,
    msg: NewRetained<'_>,
) -> Result<Stored, Error> {
    store_linked(kv, now, topic, msg, None)
}

/// [`store`], recording that the message is `history_id` in its topic's history.
pub fn store_linked(
    kv: &dyn KvStore,
    now: u64,
    topic: &str,
    msg: NewRetained<'_>,
    history_id: Option<HistoryId>,
) -> Result<Stored, Error> {
    let key = key(topic);
    let history_id = history_id.map(|id| id.to_string());
    let payload = (!msg.payload.is_empty()).then(|| BASE64.encode(msg.payload));
    let expires_at = msg.ttl_secs.map(|ttl| now.saturating_add(u64::from(ttl)));
    let kv_ttl = item_ttl(payload.is_some(), msg.ttl_secs);
    for _ in 0..MAX_ATTEMPTS {
        let current = kv.lookup(STORE, &key).map_err(unavailable)?;
        // The write that creates the slot takes over a record of the original app.
        let original = match current {
            None => legacy::previous(kv, topic)?,
            Some(_) => None,
        };
        let (previous, condition) = precondition(current, original);
        // A slot's epoch is its creation time, also when it continues an original record.
        let version = match original {
            Some(_) => Version::ZERO.next(now),
            None => previous.next(now),
        };
        let value = encode(Record {
            format: FORMAT,
            version: version.to_string(),
            stored_at: now,
            expires_at,
            payload: payload.clone(),
            mqtt: msg.mqtt.clone(),
            history_id: history_id.clone(),
        })?;
        let options = InsertOptions {
            ttl_secs: kv_ttl,
            ..condition
        };
        match kv.insert(STORE, &key, &value, options) {
            Ok(()) => {
                if original.is_some() {
                    legacy::retire(kv, topic);
                }
                return Ok(Stored { version, previous });
            }
            Err(KvError::GenerationMismatch) => continue,
            Err(e) => return Err(refused(e, topic)),
        }
    }
    Err(Error::StoreUnavailable(format!(
        "too many concurrent writes to the retained message of topic {topic:?}; \
         gave up after {MAX_ATTEMPTS} attempts"
    )))
}

/// The error of a slot write the store refused other than for a lost race. A refusal
/// for rate is not a lost race: reading and retrying at once would be refused again.
fn refused(e: KvError, topic: &str) -> Error {
    match e {
        KvError::RateLimited => Error::RateLimited {
            what: format!("the retained message of topic {topic:?}"),
            retry_after_secs: RETRY_AFTER_SECS,
        },
        e => unavailable(e),
    }
}

/// The KV item TTL of a slot holding a message (with TTL `ttl`) or a tombstone.
fn item_ttl(message: bool, ttl: Option<u32>) -> Option<u32> {
    match (message, ttl) {
        (false, _) => Some(SLOT_GRACE_SECS),
        (true, Some(ttl)) => Some(ttl.saturating_add(SLOT_GRACE_SECS)),
        (true, None) => None,
    }
}

fn encode(record: Record) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(&record).map_err(|e| Error::Internal(format!("retained record: {e}")))
}

/// The version a write over `current` replaces, and the condition that makes the write a
/// compare-and-swap: on `current`'s generation, or "only if absent" for a new slot, which
/// replaces `original` (the version of the original app's record) if there is one.
fn precondition(current: Option<KvItem>, original: Option<Version>) -> (Version, InsertOptions) {
    match current {
        None => (
            original.unwrap_or(Version::ZERO),
            InsertOptions {
                if_absent: true,
                ..InsertOptions::default()
            },
        ),
        Some(item) => (
            // An unreadable record is replaced as if the slot were new: its epoch (now) is
            // later than the lost one's unless it was created this second.
            decode(&item.value).map_or(Version::ZERO, |(version, _)| version),
            InsertOptions {
                if_generation: Some(item.generation),
                ..InsertOptions::default()
            },
        ),
    }
}

/// Reads `topic`'s slot at time `now`.
pub fn read(kv: &dyn KvStore, now: u64, topic: &str) -> Result<Slot, Error> {
    let Some(item) = kv.lookup(STORE, &key(topic)).map_err(unavailable)? else {
        return legacy::read(kv, now, topic);
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
            // An unreadable link is no link: the message is then delivered as retained.
            history_id: record.history_id.and_then(|id| id.parse().ok()),
        }),
    };
    Some((version, message.filter(|m| !m.payload.is_empty())))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use crate::ports::memory::MemoryKv;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn text(payload: &'static str) -> NewRetained<'static> {
        NewRetained {
            payload: payload.as_bytes(),
            ..NewRetained::default()
        }
    }

    /// A store whose compare-and-swap writes fail the first `failures` times, and that
    /// records the KV item TTL of each write that goes through.
    struct FlakyKv {
        inner: MemoryKv,
        failures: AtomicUsize,
        ttls: Mutex<Vec<Option<u32>>>,
    }

    impl FlakyKv {
        fn failing(failures: usize) -> Self {
            Self {
                inner: MemoryKv::default(),
                failures: AtomicUsize::new(failures),
                ttls: Mutex::default(),
            }
        }
    }

    impl KvStore for FlakyKv {
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
            self.ttls.lock().expect("lock").push(options.ttl_secs);
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
        let seen = FlakyKv::failing(0);
        store(&seen, NOW, "a", text("forever")).expect("stored");
        let ttl = NewRetained {
            ttl_secs: Some(60),
            ..text("a minute")
        };
        store(&seen, NOW, "a", ttl).expect("stored");
        store(&seen, NOW, "a", text("")).expect("cleared");
        assert_eq!(
            *seen.ttls.lock().expect("lock"),
            [None, Some(60 + SLOT_GRACE_SECS), Some(SLOT_GRACE_SECS)]
        );
    }

    #[test]
    fn a_lost_compare_and_swap_is_retried() {
        let kv = FlakyKv::failing(MAX_ATTEMPTS - 1);
        let stored = store(&kv, NOW, "a", text("x")).expect("stored on the last attempt");
        assert_eq!(stored.version.sequence(), 1);
    }

    #[test]
    fn endless_contention_is_a_503_and_writes_nothing() {
        let kv = FlakyKv::failing(MAX_ATTEMPTS);
        let err = store(&kv, NOW, "a", text("x")).expect_err("gave up");
        assert_eq!(err.status(), 503);
        assert!(err.to_string().contains("concurrent"), "{err}");
        assert_eq!(read(&kv, NOW, "a").expect("read").version, Version::ZERO);
    }

    /// A store that refuses every insert for rate and counts the attempts.
    #[derive(Default)]
    struct Refusing {
        inner: MemoryKv,
        inserts: AtomicUsize,
    }

    impl KvStore for Refusing {
        fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
            self.inner.lookup(store, key)
        }
        fn insert(&self, _: &str, _: &str, _: &[u8], _: InsertOptions) -> Result<(), KvError> {
            self.inserts.fetch_add(1, Ordering::SeqCst);
            Err(KvError::RateLimited)
        }
        fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
            self.inner.delete(store, key)
        }
        fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
            self.inner.list(store)
        }
    }

    #[test]
    fn a_write_refused_for_rate_is_a_429_at_once_without_retrying() {
        let kv = Refusing::default();
        let err = store(&kv, NOW, "a", text("x")).expect_err("refused");
        assert_eq!(err.status(), 429);
        assert_eq!(
            err,
            Error::RateLimited {
                what: "the retained message of topic \"a\"".into(),
                retry_after_secs: RETRY_AFTER_SECS,
            }
        );
        assert_eq!(
            kv.inserts.load(Ordering::SeqCst),
            1,
            "no compare-and-swap loop"
        );
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
        assert_eq!(got.history_id, None);
        let raw = kv.lookup(STORE, &key("a")).expect("read").expect("present");
        let json: serde_json::Value = serde_json::from_slice(&raw.value).expect("json");
        assert_eq!(json["format"], 1);
        assert_eq!(json["payload"], "/wAB");
        assert_eq!(json["mqtt"]["correlation_data"], "AP8=");
    }

    #[test]
    fn a_linked_record_names_its_history_id() {
        let kv = MemoryKv::default();
        let id = HistoryId::new(1_800_000_000_000, 0, 3);
        store_linked(&kv, NOW, "a", text("x"), Some(id)).expect("stored");
        let got = load(&kv, NOW, "a").expect("read").expect("present");
        assert_eq!(got.history_id, Some(id));
        let raw = kv.lookup(STORE, &key("a")).expect("read").expect("present");
        let json: serde_json::Value = serde_json::from_slice(&raw.value).expect("json");
        assert_eq!(json["history_id"], id.to_string());
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
}
