//! Listing history records: the ids one topic holds, and the topics with history that a
//! wildcard filter matches.
//!
//! [`held_ids`] reads every page of the topic's key prefix, in key (= id) order, at most
//! [`MAX_LIST_PAGES`] pages of [`LIST_PAGE`] keys: enough for the largest `max-count`
//! plus the records not yet trimmed. Keys this module never writes are skipped. Listings
//! are eventually consistent on Fastly: a record just written may be missing from a
//! listing for a while (it shows in a later one).
//!
//! [`topics_with_history`] lists the keys under the filter's literal prefix (everything
//! before its first wildcard, without a trailing `/`), at most [`TOPIC_LIST_PAGES`]
//! pages, and keeps the distinct topics the filter matches, in byte order, at most the
//! caller's limit. Every record is one key, so a topic with many records takes room in
//! those pages: the bound is on the keys read, not on the topics found.

use super::id::HistoryId;
use super::record::{parse_key, push_hex, topic_prefix};
use crate::ports::{KvError, KvStore};
use crate::retained::STORE;
use crate::topic::Filter;
use crate::Error;

/// Keys per listing page (Fastly KV's largest page).
pub const LIST_PAGE: u32 = 1000;

/// The most pages [`held_ids`] reads for one topic.
pub const MAX_LIST_PAGES: usize = 120;

/// The most pages [`topics_with_history`] reads.
pub const TOPIC_LIST_PAGES: usize = 4;

pub(super) fn unavailable(e: KvError) -> Error {
    Error::StoreUnavailable(format!("KV store `{STORE}` (history): {e}"))
}

/// Every id `topic`'s history holds, ascending, as listed now.
pub fn held_ids(kv: &dyn KvStore, topic: &str) -> Result<Vec<HistoryId>, Error> {
    let prefix = topic_prefix(topic);
    let mut ids = Vec::new();
    each_key(kv, &prefix, MAX_LIST_PAGES, |key| {
        if let Some(id) = key.strip_prefix(&prefix).and_then(|id| id.parse().ok()) {
            ids.push(id);
        }
        true
    })?;
    Ok(ids)
}

/// The topics with history that `filter` matches, in byte order, at most `limit`.
pub fn topics_with_history(
    kv: &dyn KvStore,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<String>, Error> {
    let mut topics: Vec<String> = Vec::new();
    if limit == 0 {
        return Ok(topics);
    }
    let text = filter.as_str();
    let literal = &text[..text.find(['+', '#']).unwrap_or(text.len())];
    let mut prefix = String::from("h/");
    push_hex(&mut prefix, literal.strip_suffix('/').unwrap_or(literal));
    each_key(kv, &prefix, TOPIC_LIST_PAGES, |key| {
        if let Some((topic, _)) = parse_key(key) {
            let new = topics.last() != Some(&topic);
            if new && filter.matches(&topic) {
                topics.push(topic);
            }
        }
        topics.len() < limit
    })?;
    Ok(topics)
}

/// Calls `each` with every key under `prefix`, in order, at most `max_pages` pages, until
/// it answers `false`.
fn each_key(
    kv: &dyn KvStore,
    prefix: &str,
    max_pages: usize,
    mut each: impl FnMut(&str) -> bool,
) -> Result<(), Error> {
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let page = kv
            .list_page(STORE, prefix, cursor.as_deref(), LIST_PAGE)
            .map_err(unavailable)?;
        for key in &page.keys {
            if !each(key) {
                return Ok(());
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
    Ok(())
}
