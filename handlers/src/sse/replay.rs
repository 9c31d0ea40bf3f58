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

use pubsub_core::audience::Feed;
use pubsub_core::history::{self, Gap, HistoryId, Page, Position, REWIND_MAX};
use pubsub_core::ports::Platform;
use pubsub_core::retained::EventId;
use pubsub_core::topic::query::query_value;
use pubsub_core::topic::{Selector, TopicName};
use pubsub_core::{Config, Error, Request};

use super::resume::{grip_last, last_event_id_text};

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

/// Where the client, the previous page or Fanout's recovery asks a replay to start.
enum Asked {
    Earliest,
    Rewind(u32),
    From(EventId),
    Page(EventId),
    /// Fanout's recovery: the last id the stream saw of each history topic's live channel
    /// (`Grip-Last`), or a topic it names no id of (not replayed).
    Recover(EventId),
}

/// What kind of request asks: a client's subscribe, or one of Fanout's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Asker {
    /// A client's subscribe.
    Client,
    /// Fanout's request for the next page (`replay=`).
    Page,
    /// Fanout's request of the stream's link (its timeout, or a recovery).
    Link,
}

/// The replay `req` asks for, if any.
pub(super) fn requested(
    platform: &Platform,
    config: &Config,
    req: &Request,
    selectors: &[Selector],
    asker: Asker,
) -> Result<Option<Replay>, Error> {
    if config.history.is_empty() && asker != Asker::Client {
        return Ok(None);
    }
    let Some(asked) = asked(req, asker, config, selectors)? else {
        return Ok(None);
    };
    let may_have_history = |s: &Selector| match s {
        Selector::Name(name) => config.history.rule_for(name.as_str()).is_some(),
        Selector::Filter(_) => !config.history.is_empty(),
    };
    if let (Asked::Rewind(_), false) = (&asked, selectors.iter().any(may_have_history)) {
        return Err(Error::BadRequest(
            "`rewind`: none of the stream's topics keeps history (Config Store `history`)"
                .into(),
        ));
    }
    if config.history.is_empty() {
        return Ok(None);
    }
    let topics = history_topics(platform, config, selectors)?;
    let id = match &asked {
        Asked::From(id) | Asked::Page(id) => Some(id),
        _ => None,
    };
    if let Some(id) = id.filter(|id| !id.is_empty()) {
        let named = selectors.iter().any(|s| id.names(s.as_str()))
            || topics.iter().any(|(t, ..)| id.names(t.as_str()));
        if !named {
            return Err(Error::BadRequest(
                "invalid last event id: it names none of this stream's topics (an id of \
                 another topic set); reconnect with the id of an event of this stream"
                    .into(),
            ));
        }
    }
    let fallback = id
        .and_then(EventId::latest_history)
        .map(|latest| HistoryId::time_position(latest.ms().saturating_sub(SKEW_MS)));
    let mut cursor = EventId::new();
    let topics = topics
        .into_iter()
        .map(|(name, rule, wildcard)| -> Option<Topic> {
            let named = id.and_then(|id| id.history(name.as_str()));
            let start = match (&asked, named) {
                (Asked::Earliest, _) => Some(Position::Earliest),
                (Asked::Rewind(n), _) => Some(Position::Last(*n)),
                (Asked::Recover(seen), _) => seen.history(name.as_str()).map(Position::After),
                (_, Some(seen)) => Some(Position::After(seen)),
                (Asked::Page(_), None) => Some(Position::Earliest),
                (Asked::From(_), None) => {
                    Some(fallback.map_or(Position::Earliest, Position::After))
                }
            };
            let start = start?;
            if let Position::After(at) = start {
                cursor.set_history(name.as_str(), at);
            }
            Some(Topic {
                name,
                rule,
                wildcard,
                start,
            })
        })
        .flatten()
        .collect();
    Ok(Some(Replay { topics, cursor }))
}

/// Where `req` asks to start: the page cursor of a page request, the `Grip-Last` ids of
/// a link request, else the client's.
fn asked(
    req: &Request,
    asker: Asker,
    config: &Config,
    selectors: &[Selector],
) -> Result<Option<Asked>, Error> {
    let query = req.uri().query();
    match asker {
        Asker::Page => {
            let text = query_value(query, "replay")?.unwrap_or_default();
            return EventId::parse(&text).map(|id| Some(Asked::Page(id)));
        }
        Asker::Link => return Ok(recovered(req, config, selectors).map(Asked::Recover)),
        Asker::Client => {}
    }
    if let Some(text) = last_event_id_text(req)? {
        if text == "earliest" {
            return Ok(Some(Asked::Earliest));
        }
        return EventId::parse(&text).map(|id| Some(Asked::From(id)));
    }
    match query_value(query, "rewind")? {
        None => Ok(None),
        Some(text) => rewind(&text).map(|n| Some(Asked::Rewind(n))),
    }
}

/// The last id Fanout delivered on the live channel of each history topic named in
/// `selectors`, from `Grip-Last`; `None` when it names none.
fn recovered(req: &Request, config: &Config, selectors: &[Selector]) -> Option<EventId> {
    let last = grip_last(req.headers());
    let mut seen = EventId::new();
    for selector in selectors {
        let Selector::Name(name) = selector else {
            continue;
        };
        if config.history.rule_for(name.as_str()).is_none() {
            continue;
        }
        let channel = Feed::Live.channel(name.as_str());
        let id = last.iter().find(|(c, _)| *c == channel);
        if let Some(id) = id.and_then(|(_, id)| id.parse::<HistoryId>().ok()) {
            seen.set_history(name.as_str(), id);
        }
    }
    (!seen.is_empty()).then_some(seen)
}

/// The value of `rewind`: a count from 1 to [`REWIND_MAX`].
fn rewind(text: &str) -> Result<u32, Error> {
    let n = text
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=REWIND_MAX).contains(n));
    n.ok_or_else(|| {
        Error::BadRequest(format!(
            "`rewind` must be a whole number of messages from 1 to {REWIND_MAX}, not {:?}",
            text.chars().take(32).collect::<String>()
        ))
    })
}

/// The topics of `selectors` with history, in order: each name with a rule, and for each
/// filter the topics it matches that have history (at most [`MAX_FILTER_TOPICS`]).
fn history_topics(
    platform: &Platform,
    config: &Config,
    selectors: &[Selector],
) -> Result<Vec<(TopicName, history::HistoryRule, bool)>, Error> {
    let mut out: Vec<(TopicName, history::HistoryRule, bool)> = Vec::new();
    for selector in selectors {
        match selector {
            Selector::Name(name) => {
                if let Some(rule) = config.history.rule_for(name.as_str()) {
                    out.push((name.clone(), rule, false));
                }
            }
            Selector::Filter(filter) => {
                let found = history::topics_with_history(&*platform.kv, filter, MAX_FILTER_TOPICS)?;
                for topic in found {
                    let Ok(name) = TopicName::from_string(topic) else {
                        continue;
                    };
                    let rule = config.history.rule_for(name.as_str());
                    if let Some(rule) = rule.filter(|_| !out.iter().any(|(t, ..)| *t == name)) {
                        out.push((name, rule, true));
                    }
                }
            }
        }
    }
    Ok(out)
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
