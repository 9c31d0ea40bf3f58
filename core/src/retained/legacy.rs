//! Records and event ids of Fastly's original Pub/Sub app, read so that its wasm can be
//! replaced by ours on the same KV stores without losing a retained message or a client's
//! place (`docs/deployment.md`, "Upgrading from Fastly's original app").
//!
//! The original keeps a topic's retained message in KV store `messages` under
//! `r:<topic>` (the topic verbatim); the value is the payload, byte for byte; the item's
//! KV metadata is JSON `{"generation":G,"seq":S,"expires-at":[year, day of year, hour,
//! minute, second, nanosecond]}` (UTC, `expires-at` only with a TTL); G is random per
//! item, S counts its writes from 1. Its SSE event ids are comma-joined
//! `<topic>:<G as 16-character space-padded lowercase hex>-<S in decimal>` entries.
//!
//! Such a record is read as version [`Version::of_original`]`(S)` (epoch 0: below every
//! version of our slots). [`read`] is asked only when the topic has no slot of ours; a
//! record whose metadata is missing or unreadable holds no message (the original could
//! not read it either), and an empty payload counts as cleared, as an empty retained
//! publish does here. The write that creates a topic's
//! slot continues the record's version sequence ([`previous`]) and then deletes it
//! ([`retire`]). An original event id resumes each topic it names as "seen S": compared
//! by sequence only, since G cannot be compared with our versions.

use serde_json::Value;

use super::{EventId, Retained, Slot, Version, EVENT_ID_MAX_ENTRIES, STORE};
use crate::ports::{KvError, KvStore};
use crate::Error;

/// Prefix of the original app's record keys.
const KEY_PREFIX: &str = "r:";

/// Longest key Fastly KV accepts.
const KEY_MAX: usize = 1024;

/// What the KV metadata of an original record says.
struct Metadata {
    seq: u64,
    /// Seconds since the Unix epoch.
    expires_at: Option<u64>,
}

/// The key of `topic`'s record; `None` when Fastly KV would refuse the key, so that the
/// original could never have written it.
fn key(topic: &str) -> Option<String> {
    let refused = |c: char| c.is_control() || matches!(c, '[' | ']' | '*' | '?' | '#');
    let fits = KEY_PREFIX.len() + topic.len() <= KEY_MAX && !topic.contains(refused);
    fits.then(|| format!("{KEY_PREFIX}{topic}"))
}

fn unavailable(e: KvError) -> Error {
    Error::StoreUnavailable(format!("KV store `{STORE}`: {e}"))
}

/// `topic`'s record of the original app at time `now`, as a slot ([`Version::ZERO`] and
/// no message when there is none).
pub(super) fn read(kv: &dyn KvStore, now: u64, topic: &str) -> Result<Slot, Error> {
    let none = Slot {
        version: Version::ZERO,
        message: None,
    };
    let Some(key) = key(topic) else {
        return Ok(none);
    };
    let Some(entry) = kv.lookup_with_metadata(STORE, &key).map_err(unavailable)? else {
        return Ok(none);
    };
    let Some(meta) = entry.metadata.as_deref().and_then(metadata) else {
        return Ok(none);
    };
    let version = Version::of_original(meta.seq);
    let expires_at = meta.expires_at;
    let payload = entry.item.value;
    let live = !payload.is_empty() && expires_at.is_none_or(|at| now < at);
    let message = live.then_some(Retained {
        version,
        payload,
        stored_at: 0,
        expires_at,
        mqtt: None,
        history_id: None,
    });
    Ok(Slot { version, message })
}

/// The version of `topic`'s record of the original app, for the write that creates the
/// topic's slot over it: `None` when there is no record, [`Version::ZERO`] when it has
/// no readable metadata.
pub(super) fn previous(kv: &dyn KvStore, topic: &str) -> Result<Option<Version>, Error> {
    let Some(key) = key(topic) else {
        return Ok(None);
    };
    let entry = kv.lookup_with_metadata(STORE, &key).map_err(unavailable)?;
    Ok(entry.map(|e| {
        e.metadata
            .as_deref()
            .and_then(metadata)
            .map_or(Version::ZERO, |m| Version::of_original(m.seq))
    }))
}

/// Deletes `topic`'s record of the original app once the topic has a slot of ours.
/// Best effort: a failure leaves a record that reads never reach while the slot exists,
/// and the next write that creates a slot deletes it again.
pub(super) fn retire(kv: &dyn KvStore, topic: &str) {
    if let Some(key) = key(topic) {
        kv.delete(STORE, &key).ok();
    }
}

/// Reads the metadata JSON. `generation` is required, as the original requires it, but
/// never compared; `expires-at` is the `time` crate's compact form (it is built without
/// the human-readable feature): `[year, day of year, hour, minute, second, nanosecond]`.
fn metadata(bytes: &[u8]) -> Option<Metadata> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    value.get("generation")?.as_u64()?;
    let seq = value.get("seq")?.as_u64()?;
    let expires_at = match value.get("expires-at") {
        None | Some(Value::Null) => None,
        Some(at) => Some(expiry(at.as_array()?)?),
    };
    Some(Metadata { seq, expires_at })
}

/// Seconds since the Unix epoch of an `expires-at` array; 0 for a time before it.
fn expiry(parts: &[Value]) -> Option<u64> {
    let [year, ordinal, hour, minute, second, _nanos] = parts else {
        return None;
    };
    let part = |v: &Value, max: i64| v.as_i64().filter(|n| (0..=max).contains(n));
    let year = i64::from(i32::try_from(year.as_i64()?).ok()?);
    let ordinal = part(ordinal, 366).filter(|&day| day >= 1)?;
    let leap_days = |y: i64| y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400);
    let days = 365 * (year - 1970) + leap_days(year - 1) - leap_days(1969) + ordinal - 1;
    let secs = days * 86_400 + part(hour, 23)? * 3600 + part(minute, 59)? * 60 + part(second, 59)?;
    Some(u64::try_from(secs).unwrap_or(0))
}

/// Parses `s` if it is an event id of the original app: `None` when its first entry is
/// not in the original's form (so it is one of ours), else the id or a 400 naming the
/// entry that is not.
pub(super) fn event_id(s: &str) -> Option<Result<EventId, Error>> {
    original_entry(s.split(',').next()?)?;
    let mut id = EventId::new();
    for (i, entry) in s.split(',').enumerate() {
        if i == EVENT_ID_MAX_ENTRIES {
            return Some(Err(bad_id(format!(
                "more than {EVENT_ID_MAX_ENTRIES} entries"
            ))));
        }
        let Some((topic, seq)) = original_entry(entry) else {
            let shown: String = entry.chars().take(64).collect();
            return Some(Err(bad_id(format!(
                "entry {shown:?} is not `<topic>:<generation>-<sequence>` like the entries \
                 before it"
            ))));
        };
        id.set(topic, Version::of_original(seq));
    }
    Some(Ok(id))
}

fn bad_id(why: String) -> Error {
    Error::BadRequest(format!(
        "invalid last event id (in the form of Fastly's original app): {why}"
    ))
}

/// The topic and sequence of one entry of an original event id. The generation is
/// exactly 16 characters (spaces, then lowercase hex), which no id of ours has.
fn original_entry(entry: &str) -> Option<(&str, u64)> {
    let (topic, version) = entry.rsplit_once(':')?;
    let (generation, seq) = version.split_once('-')?;
    let digits = generation.trim_start_matches(' ');
    let generation_ok = generation.len() == 16
        && !digits.is_empty()
        && digits
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let seq_ok = (1..=20).contains(&seq.len()) && seq.bytes().all(|b| b.is_ascii_digit());
    if !(generation_ok && seq_ok) {
        return None;
    }
    Some((topic, seq.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::MetadataKv;
    use crate::retained::{load, read as read_slot, store, NewRetained};

    const NOW: u64 = 1_796_323_000;

    /// Writes a record as the original app leaves it: payload as the value, version and
    /// expiry in the KV metadata.
    fn seed(kv: &MetadataKv, topic: &str, payload: &[u8], metadata: &str) {
        kv.insert_with_metadata(STORE, &format!("r:{topic}"), payload, metadata.as_bytes())
            .expect("seed");
    }

    /// An event id entry as the original app writes it.
    fn original_id(topic: &str, generation: u64, seq: u64) -> String {
        format!("{topic}:{generation:16x}-{seq}")
    }

    #[test]
    fn an_original_record_is_a_retained_message_of_a_topic_without_a_slot() {
        let kv = MetadataKv::default();
        seed(&kv, "a/b", b"hello", r#"{"generation":123,"seq":7}"#);
        let got = load(&kv, NOW, "a/b").expect("read").expect("present");
        assert_eq!(got.payload, b"hello");
        assert_eq!(got.version, Version::of_original(7));
        assert_eq!(got.expires_at, None);
        assert_eq!(got.mqtt, None);
        assert!(Version::ZERO < got.version && got.version < Version::ZERO.next(1));
    }

    #[test]
    fn the_simulated_write_limit_passes_metadata_through() {
        use crate::ports::memory::{RateLimitedKv, TestEnv};
        use std::sync::Arc;
        let inner = Arc::new(MetadataKv::default());
        seed(&inner, "a", b"hello", r#"{"generation":1,"seq":4}"#);
        let kv = RateLimitedKv::new(inner, Arc::new(TestEnv::default()));
        let got = load(&kv, NOW, "a").expect("read").expect("present");
        assert_eq!(got.version, Version::of_original(4));
    }

    #[test]
    fn an_original_expiry_is_honoured_to_the_second() {
        let kv = MetadataKv::default();
        // 2026-12-03 18:43:40.5 UTC is day 337 of 2026, Unix time 1796323420.
        let meta = r#"{"generation":1,"seq":2,"expires-at":[2026,337,18,43,40,500000000]}"#;
        seed(&kv, "t", &[0xff, 0], meta);
        let fresh = load(&kv, 1_796_323_419, "t").expect("read").expect("live");
        assert_eq!(fresh.payload, [0xff, 0]);
        assert_eq!(fresh.remaining_secs(1_796_323_419), Some(1));
        let slot = read_slot(&kv, 1_796_323_420, "t").expect("read");
        assert_eq!(slot.message, None, "expired");
        assert_eq!(slot.version, Version::of_original(2), "its version stays");
    }

    #[test]
    fn utc_date_times_convert_to_unix_seconds() {
        let at = |text: &str| {
            let parts: Vec<Value> = serde_json::from_str(text).expect("json");
            expiry(&parts)
        };
        assert_eq!(at("[1970,1,0,0,0,0]"), Some(0));
        assert_eq!(at("[2000,1,0,0,0,0]"), Some(946_684_800));
        assert_eq!(at("[2024,366,23,59,59,999]"), Some(1_735_689_599));
        assert_eq!(at("[1969,365,23,59,59,0]"), Some(0));
        for bad in [
            "[2024,0,0,0,0,0]",
            "[2024,367,0,0,0,0]",
            "[2024,1,24,0,0,0]",
            "[1e10,1,0,0,0,0]",
            "[2024,1,0,0,0]",
        ] {
            assert_eq!(at(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_record_the_original_could_not_read_either_holds_no_message() {
        let kv = MetadataKv::default();
        // `{"version":1}` is the metadata of the sample the original ships
        // (example_messages.json); its own reader refuses it.
        for (topic, meta) in [("sample", r#"{"version":1}"#), ("junk", "not json")] {
            seed(&kv, topic, b"saved message", meta);
            assert_eq!(
                read_slot(&kv, NOW, topic).expect("read").version,
                Version::ZERO
            );
        }
        kv.insert(
            STORE,
            "r:bare",
            b"x",
            crate::ports::InsertOptions::default(),
        )
        .expect("no metadata");
        assert_eq!(load(&kv, NOW, "bare").expect("read"), None);
        seed(&kv, "empty", b"", r#"{"generation":1,"seq":3}"#);
        let empty = read_slot(&kv, NOW, "empty").expect("read");
        assert_eq!(
            (empty.version, empty.message),
            (Version::of_original(3), None)
        );
    }

    #[test]
    fn topics_fastly_kv_could_not_key_are_never_looked_up() {
        let kv = MetadataKv::default();
        seed(&kv, "a?b", b"x", r#"{"generation":1,"seq":1}"#);
        assert_eq!(load(&kv, NOW, "a?b").expect("read"), None);
        assert_eq!(key(&"x".repeat(KEY_MAX)), None);
        assert_eq!(key("a/b").as_deref(), Some("r:a/b"));
    }

    #[test]
    fn our_first_write_continues_the_original_sequence_and_deletes_the_record() {
        let kv = MetadataKv::default();
        seed(&kv, "a", b"old", r#"{"generation":5,"seq":7}"#);
        let msg = NewRetained {
            payload: b"new",
            ..NewRetained::default()
        };
        let stored = store(&kv, NOW, "a", msg.clone()).expect("stored");
        assert_eq!(stored.previous, Version::of_original(7), "the GRIP prev-id");
        assert_eq!(stored.version, Version::ZERO.next(NOW), "a slot of ours");
        assert_eq!(kv.lookup(STORE, "r:a").expect("read"), None, "retired");
        let got = load(&kv, NOW, "a").expect("read").expect("present");
        assert_eq!(got.payload, b"new");
        let again = store(&kv, NOW + 1, "a", msg).expect("stored");
        assert_eq!(again.previous, stored.version);
    }

    #[test]
    fn a_slot_of_ours_hides_a_record_of_the_original() {
        let kv = MetadataKv::default();
        let msg = NewRetained {
            payload: b"ours",
            ..NewRetained::default()
        };
        store(&kv, NOW, "a", msg).expect("stored");
        seed(&kv, "a", b"theirs", r#"{"generation":5,"seq":9}"#);
        let got = load(&kv, NOW, "a").expect("read").expect("present");
        assert_eq!(got.payload, b"ours");
    }

    #[test]
    fn original_event_ids_name_each_topic_at_its_sequence() {
        let text = [
            original_id("a", 0x7b, 3),
            original_id("x:y", u64::MAX, 12),
            original_id("b", 1 << 62, 1),
        ]
        .join(",");
        assert!(text.starts_with("a:              7b-3,"), "{text}");
        let id = EventId::parse(&text).expect("parses");
        assert_eq!(id.get("a"), Some(Version::of_original(3)));
        assert_eq!(id.get("x:y"), Some(Version::of_original(12)));
        assert_eq!(id.get("b"), Some(Version::of_original(1)));
        assert_eq!(id.get("c"), None);
    }

    #[test]
    fn an_original_event_id_resumes_as_seen_that_sequence() {
        let kv = MetadataKv::default();
        seed(&kv, "a", b"m7", r#"{"generation":99,"seq":7}"#);
        let slot = read_slot(&kv, NOW, "a").expect("read");
        let seen = |seq| {
            EventId::parse(&original_id("a", 99, seq))
                .expect("parses")
                .get("a")
                .expect("names a")
        };
        assert!(slot.version <= seen(7), "seen: not sent again");
        assert!(slot.version > seen(6), "older: sent");
        let msg = NewRetained {
            payload: b"ours",
            ..NewRetained::default()
        };
        store(&kv, NOW, "a", msg).expect("stored");
        let ours = read_slot(&kv, NOW, "a").expect("read");
        assert!(ours.version > seen(u64::MAX), "every slot of ours is newer");
    }

    #[test]
    fn an_original_event_id_with_a_foreign_entry_is_a_400_naming_it() {
        let ours = format!("{:016x}:{}", 1, Version::ZERO.next(NOW));
        let cases = [
            (
                format!("{},{ours}", original_id("a", 1, 1)),
                "is not `<topic>",
            ),
            (format!("{},junk", original_id("a", 1, 1)), "\"junk\""),
            (
                (0..=EVENT_ID_MAX_ENTRIES)
                    .map(|i| original_id(&format!("t{i}"), 1, 1))
                    .collect::<Vec<_>>()
                    .join(","),
                "more than",
            ),
        ];
        for (text, needle) in cases {
            let err = EventId::parse(&text).expect_err(&text);
            assert_eq!(err.status(), 400, "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
            assert!(err.to_string().contains("original app"), "{err}");
        }
        for not_original in [
            "a:7b-3",
            "a:               g-3",
            "a:              7b-",
            &ours,
        ] {
            assert!(event_id(not_original).is_none(), "{not_original:?}");
        }
    }
}
