//! The history replay of a subscribe: what a stream asks to see again of its topics that
//! have history (Config Store `history`), read from KV in pages.
//!
//! # Where a replay starts
//!
//! In this order, the first present wins: the `Last-Event-ID` header (an `EventSource`
//! reconnecting sends it, whatever its URL says), the `lastEventId` query parameter, then
//! `rewind=N` (the last N messages of each topic, at most [`REWIND_MAX`]). `earliest` as
//! the id replays all that history holds. An id names, per topic, the last message seen;
//! a topic of the stream it does not name (a live event names its own topic only) resumes
//! from the newest position the id names, less [`SKEW_MS`]: messages of those topics in
//! that second may come twice, none is skipped. An id that names none of the stream's
//! topics is a 400. Without any of these, nothing is replayed.
//!
//! # Pages
//!
//! One answer holds at most [`PAGE_MESSAGES`] messages and [`PAGE_BYTES`] of payload, so it
//! stays far below Fanout's 1,000,000-byte limit whatever the messages. When more remain,
//! the answer is not held: its `Grip-Link` (no timeout) makes Fanout ask for the next page
//! at once, with the position reached in `replay=` (a topic it does not name had nothing
//! held, so it starts from the earliest). The last page holds the stream, so live messages
//! follow it. Every topic is read on the first page, so each one's start is settled there
//! (and so is its `gap` event).

use pubsub_core::history::{self, Gap, HistoryId, Page, Position};
use pubsub_core::ports::Platform;
use pubsub_core::retained::EventId;
use pubsub_core::topic::TopicName;
use pubsub_core::Error;

mod start;

pub(in crate::sse) use start::{requested, Asker};

/// Most messages in one answer.
pub(super) const PAGE_MESSAGES: usize = 1000;
/// Most payload bytes in one answer (base64 makes them at most 4/3 larger).
pub(super) const PAGE_BYTES: usize = 384 * 1024;
/// How far before the newest position an id names the stream's other topics resume.
pub(super) const SKEW_MS: u64 = 1_000;
/// How soon Fanout asks the link again after a replay that may have a seam to close.
pub(super) const SETTLE_SECS: u64 = 3;
/// Most topics of one filter whose history a replay reads.
pub(super) const MAX_FILTER_TOPICS: usize = 32;

/// A topic to replay: its name, the rule keeping its history, whether its events take
/// the wildcard form, and where it starts.
pub(super) struct Topic {
    pub(super) name: TopicName,
    pub(super) rule: history::HistoryRule,
    pub(super) wildcard: bool,
    pub(super) start: Position,
}

/// A replay asked for: its topics and the id events carry (every topic's position).
pub(super) struct Replay {
    pub(super) topics: Vec<Topic>,
    pub(super) cursor: EventId,
}

/// What a page did: whether more remain, and how many messages it sent.
pub(super) struct Paged {
    pub(super) more: bool,
    pub(super) sent: usize,
}

/// One page of `replay`: the gap events (first page only), then the messages, each with
/// the id of every position reached so far.
pub(super) fn page(
    platform: &Platform,
    replay: &mut Replay,
    body: &mut String,
) -> Result<Paged, Error> {
    let share = replay.topics.len().max(1);
    let limit = (PAGE_MESSAGES / share).max(1);
    let bytes = (PAGE_BYTES / share).max(1);
    let mut pages: Vec<Page> = Vec::with_capacity(replay.topics.len());
    for topic in &replay.topics {
        pages.push(history::read(
            platform,
            topic.rule,
            &topic.name,
            topic.start,
            limit,
            bytes,
        )?);
    }
    for page in &pages {
        if let Some(gap) = &page.gap {
            push_gap(body, gap);
        }
    }
    let (mut more, mut sent) = (false, 0);
    for (topic, page) in replay.topics.iter().zip(&pages) {
        sent += page.messages.len();
        for m in &page.messages {
            replay.cursor.set_history(topic.name.as_str(), m.id);
            let id = replay.cursor.to_string();
            let event = if topic.wildcard {
                pubsub_core::render::filter_sse_event_with_id(
                    topic.name.as_str(),
                    &m.payload,
                    Some(&id),
                )
            } else {
                pubsub_core::render::sse_event(&m.payload, Some(&id))
            };
            body.push_str(&event);
        }
        more |= page.next.is_some();
    }
    Ok(Paged { more, sent })
}

/// The id the live channel of each replayed topic name is held at (its GRIP `prev-id`):
/// the last position reached, or, for a topic with nothing held, [`SKEW_MS`] before now.
/// A live message whose `prev-id` differs (one published while the stream was being
/// attached) then makes Fanout recover through the link instead of leaving a hole.
pub(super) fn held_at(replay: &Replay, now_ms: u64) -> EventId {
    let mut ids = EventId::new();
    let before = HistoryId::time_position(now_ms.saturating_sub(SKEW_MS));
    for topic in replay.topics.iter().filter(|t| !t.wildcard) {
        let at = replay.cursor.history(topic.name.as_str()).unwrap_or(before);
        ids.set_history(topic.name.as_str(), at);
    }
    ids
}

/// `event: gap`: which topic lost messages, the position asked for and where the replay
/// really starts (`null` when history holds nothing).
fn push_gap(body: &mut String, gap: &Gap) {
    let text = |id: Option<HistoryId>| id.map_or("null".to_owned(), |id| format!("\"{id}\""));
    body.push_str("event: gap\ndata: {\"topic\":");
    body.push_str(&serde_json::Value::from(gap.topic.as_str()).to_string());
    body.push_str(",\"after\":");
    body.push_str(&text(gap.after));
    body.push_str(",\"from\":");
    body.push_str(&text(gap.from));
    body.push_str("}\n\n");
}

#[cfg(test)]
mod tests;
