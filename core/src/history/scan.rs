//! The ids a read needs, without listing a whole topic when it need not.
//!
//! A record's key ends with its id, whose first 12 hex digits are its millisecond, so
//! the keys of one *window* of 65,536 ms share a prefix (the topic's prefix and the id's
//! first 8 hex digits). A read after a position lists the window holding it and the
//! windows after it, stopping as soon as it has one id more than the page takes; only a
//! position more than [`MAX_WINDOWS`] windows (about 70 minutes) old lists the topic
//! from its start. So resuming near the end of a long history costs one or two listing
//! calls, not one per thousand records held.
//!
//! [`after`] answers a list that decides a read the way the full listing would: the
//! oldest held id (when it is older than the position), the position itself when it is
//! held, then up to `want` ids after it. [`from_start`] answers the first `want` ids.

use super::id::HistoryId;
use super::listing::{each_key, MAX_LIST_PAGES};
use super::record::topic_prefix;
use crate::ports::KvStore;
use crate::Error;

/// Windows walked before a read lists the topic from its start instead.
pub const MAX_WINDOWS: u64 = 64;

/// The window of millisecond `ms`.
fn window(ms: u64) -> u64 {
    ms >> 16
}

/// The ids listed under `prefix`, in order, `each` deciding whether to go on.
fn ids(
    kv: &dyn KvStore,
    topic_prefix: &str,
    prefix: &str,
    mut each: impl FnMut(HistoryId) -> bool,
) -> Result<(), Error> {
    each_key(kv, prefix, MAX_LIST_PAGES, |key| {
        match key
            .strip_prefix(topic_prefix)
            .and_then(|id| id.parse().ok())
        {
            Some(id) => each(id),
            None => true,
        }
    })
}

/// The first `want` ids of `topic` not older than `oldest_ms`.
pub(super) fn from_start(
    kv: &dyn KvStore,
    topic: &str,
    want: usize,
    oldest_ms: u64,
) -> Result<Vec<HistoryId>, Error> {
    let prefix = topic_prefix(topic);
    let mut out = Vec::new();
    ids(kv, &prefix, &prefix, |id| {
        if id.ms() >= oldest_ms {
            out.push(id);
        }
        out.len() < want
    })?;
    Ok(out)
}

/// The ids deciding a read after `at` (see the module documentation), ascending: at
/// most `want` after it, none older than `oldest_ms`, none past window `now_ms`'s.
pub(super) fn after(
    kv: &dyn KvStore,
    topic: &str,
    at: HistoryId,
    want: usize,
    now_ms: u64,
    oldest_ms: u64,
) -> Result<Vec<HistoryId>, Error> {
    let prefix = topic_prefix(topic);
    let mut out = from_start(kv, topic, 1, oldest_ms)?;
    out.retain(|oldest| *oldest < at);
    let mut later = 0usize;
    let mut take = |id: HistoryId| {
        if id >= at && id.ms() >= oldest_ms && out.last() != Some(&id) {
            later += usize::from(id > at);
            out.push(id);
        }
        later < want
    };
    let (first, last) = (window(at.ms()), window(now_ms).max(window(at.ms())));
    if last - first > MAX_WINDOWS {
        ids(kv, &prefix, &prefix, &mut take)?;
        return Ok(out);
    }
    let mut window_prefix = String::with_capacity(prefix.len() + 8);
    for w in first..=last {
        window_prefix.clear();
        window_prefix.push_str(&prefix);
        window_prefix.push_str(&format!("{w:08x}"));
        let mut more = true;
        ids(kv, &prefix, &window_prefix, |id| {
            more = take(id);
            more
        })?;
        if !more {
            break;
        }
    }
    Ok(out)
}
