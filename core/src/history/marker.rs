//! Topic markers: one small KV item per topic with history, so that a wildcard replay
//! lists topics, not records.
//!
//! The key is `hm/<lowercase hex of the topic's UTF-8>` in KV store `messages` (its value
//! is one byte, never read): the topics under a filter's literal prefix are one key
//! prefix, listed in the topics' byte order, and a topic with many records takes one key
//! of the listing like any other.
//!
//! [`mark`] runs on the publish path after a record was appended. It writes the marker
//! only when this POP's cache does not say it was refreshed within `max-age / 2`
//! ([`FRESH_PREFIX`] + the topic, cached for that long): one KV write per topic per
//! POP per half `max-age`, whatever the topic's rate. The marker's KV TTL is
//! `max-age × 1.5` (at least [`MIN_TTL_SECS`]), so it outlives the newest record this POP
//! wrote: that record is at most `max-age / 2` younger than the marker's last refresh.
//! A refusal for rate means another writer refreshed it within the second and counts as
//! refreshed; any other failure is dropped (the next publish tries again) and never fails
//! the publish: a missing marker only hides the topic from wildcard replays.

use pubsub_config::HistoryRule;

/// The shortest KV item TTL a marker gets, in seconds (as a record's).
const MIN_TTL_SECS: u32 = 60;
use super::record::{parse_hex, push_hex};
use crate::ports::{Environment, InsertOptions, KvError, KvStore};
use crate::retained::STORE;

/// The key prefix of every marker.
pub const MARKER_PREFIX: &str = "hm/";

/// The POP-cache key prefix saying a topic's marker was refreshed lately.
pub const FRESH_PREFIX: &str = "hm-fresh/";

/// The stored value of a marker (never read).
const VALUE: &[u8] = b"1";

/// The key of `topic`'s marker: `hm/<hex of the topic>`.
pub fn marker_key(topic: &str) -> String {
    let mut key = String::with_capacity(MARKER_PREFIX.len() + 2 * topic.len());
    key.push_str(MARKER_PREFIX);
    push_hex(&mut key, topic);
    key
}

/// The topic of marker key `key`; `None` for a key this module never writes.
pub(super) fn parse_marker_key(key: &str) -> Option<String> {
    parse_hex(key.strip_prefix(MARKER_PREFIX)?)
}

/// The KV TTL of a marker under `rule`: `max-age × 1.5`, at least [`MIN_TTL_SECS`].
pub fn marker_ttl_secs(rule: HistoryRule) -> u32 {
    let half = rule.max_age_secs / 2;
    rule.max_age_secs.saturating_add(half).max(MIN_TTL_SECS)
}

/// How long this POP takes a marker it wrote under `rule` as fresh: `max-age / 2`, at
/// least one second.
pub fn marker_fresh_secs(rule: HistoryRule) -> u32 {
    (rule.max_age_secs / 2).max(1)
}

/// Refreshes `topic`'s marker unless this POP refreshed it within `max-age / 2`; never
/// fails.
pub fn mark(kv: &dyn KvStore, env: &dyn Environment, rule: HistoryRule, topic: &str) {
    let mut fresh = String::with_capacity(FRESH_PREFIX.len() + topic.len());
    fresh.push_str(FRESH_PREFIX);
    fresh.push_str(topic);
    if env.cached(&fresh) {
        return;
    }
    let options = InsertOptions {
        ttl_secs: Some(marker_ttl_secs(rule)),
        ..InsertOptions::default()
    };
    match kv.insert(STORE, &marker_key(topic), VALUE, options) {
        Ok(()) | Err(KvError::RateLimited) => env.cache(&fresh, marker_fresh_secs(rule)),
        Err(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_keys_are_hex_and_parse_back() {
        assert_eq!(marker_key("a/b"), "hm/612f62");
        assert_eq!(parse_marker_key(&marker_key("é/x")).as_deref(), Some("é/x"));
        for bad in ["h/61", "hm/6", "hm/zz", "hm/ff", "t/61"] {
            assert_eq!(parse_marker_key(bad), None, "{bad}");
        }
    }

    #[test]
    fn markers_live_half_again_max_age_and_stay_fresh_half_of_it() {
        let rule = |max_age_secs| HistoryRule {
            max_count: 10,
            max_age_secs,
        };
        let cases = [(3600, 5400, 1800), (61, 91, 30), (10, 60, 5), (1, 60, 1)];
        for (age, ttl, fresh) in cases {
            assert_eq!(marker_ttl_secs(rule(age)), ttl, "{age}");
            assert_eq!(marker_fresh_secs(rule(age)), fresh, "{age}");
        }
    }
}
