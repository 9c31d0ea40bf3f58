//! Reading a topic's history from a position, one bounded page at a time.
//!
//! [`read`] lists the ids the topic holds ([`held_ids`]), keeps the newest `max-count`
//! of them whose id is not older than `max-age`, finds where the [`Position`] starts, and
//! reads the records from there: at most `limit` messages and `max_bytes` of payload
//! (but always one message when one remains, so a reader never stalls). It reads one
//! record past a full page, so [`Page::next`] is set only when a message really remains. A record past
//! its own `expires_at`, or gone since the listing (trimmed, expired), is skipped.
//! [`Page::next`] is the last id returned when more remain: read again with
//! [`Position::After`] it. Records are read in batches of at most [`LOOKUP_BATCH`]
//! ([`KvStore::lookup_many`](crate::ports::KvStore::lookup_many): concurrent on Fastly),
//! no more than the page needs.
//!
//! Positions and gaps ([`Position::After`] of an id `x` that is not held):
//! - `x` older than the oldest held id (trimmed, expired, or written before history was
//!   switched on): the page starts at the oldest, with [`Gap`] `{after: x, from: oldest}`;
//! - nothing held and `x` older than `max-age`: [`Gap`] `{after: x, from: None}`;
//! - `x` newer than every held id (its record not listed yet, or nothing newer): nothing,
//!   no gap;
//! - `x` within the held range: [`Error::BadRequest`] (an id this topic never had);
//! - `x` more than [`FUTURE_SLACK_MS`] ahead of the clock: [`Error::BadRequest`].
//!
//! A time position ([`Position::Since`], or [`Position::After`] of a
//! [time position](HistoryId::time_position)) starts at the first id from that moment on;
//! it has a gap only when the moment is older than `max-age`.
//!
//! [`Position::Earliest`] never has a gap. [`Position::Last`] of more than the rule's
//! `max-count` or [`REWIND_MAX`] is a [`Error::BadRequest`] naming `rewind`.

use pubsub_config::HistoryRule;

use super::id::HistoryId;
use super::listing::{held_ids, unavailable};
use super::record::{decode, key, HistoryMessage};
use crate::ports::Platform;
use crate::retained::STORE;
use crate::topic::TopicName;
use crate::Error;

/// The most messages a [`Position::Last`] may ask for.
pub const REWIND_MAX: u32 = 10_000;

/// The most records one batch of lookups reads (issued together on Fastly).
pub const LOOKUP_BATCH: usize = 32;

/// How far ahead of the clock an id may be before it is refused, in milliseconds.
pub const FUTURE_SLACK_MS: u64 = 60_000;

/// Where a reader starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// Every message held.
    Earliest,
    /// The messages after this id.
    After(HistoryId),
    /// The last this many messages.
    Last(u32),
    /// The messages from this moment on (milliseconds since the Unix epoch): where a
    /// [time position](HistoryId::time_position) resumes.
    Since(u64),
}

/// Messages a reader asked for that the history no longer holds (or never held).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The topic.
    pub topic: String,
    /// The position asked for.
    pub after: Option<HistoryId>,
    /// The first id really held; `None`: nothing is held.
    pub from: Option<HistoryId>,
}

/// One page of a topic's history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    /// The messages, in id order.
    pub messages: Vec<HistoryMessage>,
    /// Set when the position lies before what is held.
    pub gap: Option<Gap>,
    /// The last id of this page when more messages remain.
    pub next: Option<HistoryId>,
}

/// Reads `topic`'s history under `rule` from `from`: at most `limit` messages (at least
/// 1) and `max_bytes` of payload.
pub fn read(
    platform: &Platform,
    rule: HistoryRule,
    topic: &TopicName,
    from: Position,
    limit: usize,
    max_bytes: usize,
) -> Result<Page, Error> {
    let now_ms = platform.env.now_micros() / 1000;
    let oldest_ms = now_ms.saturating_sub(u64::from(rule.max_age_secs) * 1000);
    let mut ids = held_ids(&*platform.kv, topic)?;
    let keep = usize::try_from(rule.max_count).unwrap_or(usize::MAX);
    ids.drain(..ids.len().saturating_sub(keep));
    ids.drain(..ids.partition_point(|id| id.ms() < oldest_ms));
    let (start, gap) = start(&ids, topic, from, rule, now_ms, oldest_ms)?;
    let mut page = Page {
        gap,
        ..Page::default()
    };
    let (limit, mut bytes) = (limit.max(1), 0usize);
    let now_secs = now_ms / 1000;
    let mut rest = &ids[start..];
    while !rest.is_empty() {
        // Enough lookups to fill the page and see whether one more remains.
        let want = limit.saturating_add(1).saturating_sub(page.messages.len());
        let (batch, tail) = rest.split_at(want.clamp(1, LOOKUP_BATCH).min(rest.len()));
        rest = tail;
        let keys: Vec<String> = batch.iter().map(|id| key(topic, *id)).collect();
        let items = platform.kv.lookup_many(STORE, &keys).map_err(unavailable)?;
        for item in items {
            let Some(message) = item.and_then(|item| decode(topic, &item.value)) else {
                continue;
            };
            if message.expires_at.is_some_and(|at| at <= now_secs) {
                continue;
            }
            let size = message.payload.len();
            let full = page.messages.len() >= limit || bytes.saturating_add(size) > max_bytes;
            if full && !page.messages.is_empty() {
                page.next = page.messages.last().map(|m| m.id);
                return Ok(page);
            }
            bytes += size;
            page.messages.push(message);
        }
    }
    Ok(page)
}

/// Where in `ids` the time position `at` starts: at its first id from that moment on,
/// with a gap when the moment is older than `max-age` and something may have expired.
fn since(ids: &[HistoryId], topic: &str, at: HistoryId, oldest_ms: u64) -> (usize, Option<Gap>) {
    let start = ids.partition_point(|id| *id < at);
    let gap = (at.ms() < oldest_ms).then(|| Gap {
        topic: topic.to_owned(),
        after: Some(at),
        from: ids.get(start).copied(),
    });
    (start, gap)
}

/// Where in `ids` the position `from` starts, and its gap.
fn start(
    ids: &[HistoryId],
    topic: &str,
    from: Position,
    rule: HistoryRule,
    now_ms: u64,
    oldest_ms: u64,
) -> Result<(usize, Option<Gap>), Error> {
    let after = match from {
        Position::Earliest => return Ok((0, None)),
        Position::Last(n) => {
            let max = rule.max_count.min(REWIND_MAX);
            if n > max {
                return Err(Error::BadRequest(format!(
                    "`rewind` must be at most {max} for topic {topic:?} (its history keeps \
                     {} messages), not {n}",
                    rule.max_count
                )));
            }
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            return Ok((ids.len().saturating_sub(n), None));
        }
        Position::After(x) => x,
        Position::Since(ms) => HistoryId::time_position(ms),
    };
    if after.ms() > now_ms.saturating_add(FUTURE_SLACK_MS) {
        return Err(Error::BadRequest(format!(
            "unknown event id {after} for topic {topic:?}: it lies in the future"
        )));
    }
    if after.is_time_position() {
        return Ok(since(ids, topic, after, oldest_ms));
    }
    let gap = |from| Gap {
        topic: topic.to_owned(),
        after: Some(after),
        from,
    };
    match ids.binary_search(&after) {
        Ok(i) => Ok((i + 1, None)),
        Err(_) if ids.is_empty() => Ok((0, (after.ms() < oldest_ms).then(|| gap(None)))),
        Err(0) => Ok((0, Some(gap(Some(ids[0]))))),
        Err(i) if i == ids.len() => Ok((i, None)),
        Err(_) => Err(Error::BadRequest(format!(
            "unknown event id {after} for topic {topic:?}: the topic's history never held it"
        ))),
    }
}
