//! The ids a read needs, without listing a whole topic when it need not.
//!
//! A record's key ends with its id, whose first 12 hex digits are its millisecond, so
//! the keys of one *window* share a prefix: 65,536 ms for the id's first 8 hex digits,
//! 4,096 ms for 9. A read after a position lists the 4 s window holding it, then (when
//! that window is busy) the 4 s windows after it up to the end of its minute, else that
//! whole minute, then the minutes after, stopping as soon as it has one id more than the
//! page takes; only a position more than [`MAX_WINDOWS`] minutes (about 70 minutes) old
//! lists the topic from its start. So resuming near the end of a long history costs one or two listing
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
        let new = out.last().is_none_or(|last| id > *last);
        if new && id >= at && id.ms() >= oldest_ms {
            later += usize::from(id > at);
            out.push(id);
        }
        later < want
    };
    let (x8, now8) = (at.ms() >> 16, (now_ms >> 16).max(at.ms() >> 16));
    if now8 - x8 > MAX_WINDOWS {
        ids(kv, &prefix, &prefix, &mut take)?;
        return Ok(out);
    }
    let list = |digits: usize, w: u64, take: &mut dyn FnMut(HistoryId) -> bool| {
        let window = format!("{prefix}{w:0digits$x}");
        let mut more = true;
        let mut seen = 0usize;
        ids(kv, &prefix, &window, |id| {
            seen += 1;
            more = take(id);
            more
        })?;
        Ok::<_, Error>((more, seen))
    };
    // x's own 4 s window first; then, when it is dense, its sibling 4 s windows, so that
    // a read deep in a busy minute does not list that minute from its start.
    let x9 = at.ms() >> 12;
    let (more, seen) = list(9, x9, &mut take)?;
    if !more {
        return Ok(out);
    }
    if seen >= DENSE {
        let now9 = (now_ms >> 12).max(x9);
        for w9 in x9 + 1..=(x8 << 4 | 0xf).min(now9) {
            if !list(9, w9, &mut take)?.0 {
                return Ok(out);
            }
        }
    } else if !list(8, x8, &mut take)?.0 {
        return Ok(out);
    }
    for w8 in x8 + 1..=now8 {
        if !list(8, w8, &mut take)?.0 {
            break;
        }
    }
    Ok(out)
}

/// Records in a 4 s window from which a read walks its sibling windows one by one.
const DENSE: usize = 100;
