//! Listing history records: the ids one topic holds, and the topics with history that a
//! wildcard filter matches.
//!
//! [`held_ids`] reads every page of the topic's key prefix, in key (= id) order, at most
//! [`MAX_LIST_PAGES`] pages of [`LIST_PAGE`] keys: enough for the largest `max-count`
//! plus the records not yet trimmed. Keys this module never writes are skipped. Listings
//! are eventually consistent on Fastly: a record just written may be missing from a
//! listing for a while (it shows in a later one).
//!
//! [`topics_with_history`] lists the topic markers (`marker.rs`, `hm/<hex of the topic>`)
//! under the filter's literal prefix (everything before its first wildcard, without a
//! trailing `/`: `a/#` also matches `a`), one page of [`LIST_PAGE`], and keeps the topics
//! the filter matches, in byte order, at most the caller's limit. One key per topic, so
//! the bound is on the topics, whatever their record counts; a topic whose marker was
//! never written (every write of it failed) is not found.

use super::id::HistoryId;
use super::marker::{parse_marker_key, MARKER_PREFIX};
use super::record::{push_hex, topic_prefix};
use crate::ports::{KvError, KvStore};
use crate::retained::STORE;
use crate::topic::Filter;
use crate::Error;

/// Keys per listing page (Fastly KV's largest page).
pub const LIST_PAGE: u32 = 1000;

/// The most pages [`held_ids`] reads for one topic.
pub const MAX_LIST_PAGES: usize = 120;

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

/// The topics with history that `filter` matches, in byte order, at most `limit`, from
/// the first [`LIST_PAGE`] topic markers under the filter's literal prefix.
pub fn topics_with_history(
    kv: &dyn KvStore,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<String>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut prefix = String::from(MARKER_PREFIX);
    push_hex(&mut prefix, filter.literal_prefix());
    let page = kv
        .list_page(STORE, &prefix, None, LIST_PAGE)
        .map_err(unavailable)?;
    Ok(page
        .keys
        .iter()
        .filter_map(|key| parse_marker_key(key))
        .filter(|topic| filter.matches(topic))
        .take(limit)
        .collect())
}

/// Calls `each` with every key under `prefix`, in order, at most `max_pages` pages, until
/// it answers `false`.
pub(super) fn each_key(
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
