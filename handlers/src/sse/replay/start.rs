//! Where a replay starts: the client's `Last-Event-ID`, `lastEventId` or `rewind`, the
//! previous page's `replay=` cursor, or Fanout's `Grip-Last` (see the [`replay`](super)
//! module documentation), resolved into one [`Position`] per topic with history.

use pubsub_core::audience::Feed;
use pubsub_core::history::{self, HistoryId, HistoryRule, Position, REWIND_MAX};
use pubsub_core::ports::Platform;
use pubsub_core::retained::EventId;
use pubsub_core::topic::query::query_value;
use pubsub_core::topic::{Selector, TopicName};
use pubsub_core::{Config, Error, Request};

use super::super::resume::{grip_last, last_event_id_text};
use super::{Replay, Topic, MAX_FILTER_TOPICS, SKEW_MS};

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
pub(in crate::sse) enum Asker {
    /// A client's subscribe.
    Client,
    /// Fanout's request for the next page (`replay=`).
    Page,
    /// Fanout's request of the stream's link (its timeout, or a recovery).
    Link,
}

/// The replay `req` asks for, if any.
pub(in crate::sse) fn requested(
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
            "`rewind`: none of the stream's topics keeps history (Config Store `history`)".into(),
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
    if let Some(id) = id {
        named_here(id, selectors, &topics)?;
    }
    let fallback = id
        .and_then(EventId::latest_history)
        .map(|latest| HistoryId::time_position(latest.ms().saturating_sub(SKEW_MS)));
    let mut cursor = EventId::new();
    let topics = topics
        .into_iter()
        .filter_map(|(name, rule, wildcard)| -> Option<Topic> {
            let named = id.and_then(|id| id.history(name.as_str()));
            let start = position(&asked, name.as_str(), named, fallback);
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
        .collect();
    Ok(Some(Replay { topics, cursor }))
}

/// Refuses a non-empty `id` that names none of the stream's selectors or history topics:
/// an id of another topic set.
fn named_here(
    id: &EventId,
    selectors: &[Selector],
    topics: &[(TopicName, HistoryRule, bool)],
) -> Result<(), Error> {
    let named = id.is_empty()
        || selectors.iter().any(|s| id.names(s.as_str()))
        || topics.iter().any(|(t, ..)| id.names(t.as_str()));
    match named {
        true => Ok(()),
        false => Err(Error::BadRequest(
            "invalid last event id: it names none of this stream's topics (an id of \
             another topic set); reconnect with the id of an event of this stream"
                .into(),
        )),
    }
}

/// Where `topic` starts for `asked`, given what the id names of it (`named`) and the
/// time position for the topics it does not name; `None`: not replayed.
fn position(
    asked: &Asked,
    topic: &str,
    named: Option<HistoryId>,
    fallback: Option<HistoryId>,
) -> Option<Position> {
    match (asked, named) {
        (Asked::Earliest, _) => Some(Position::Earliest),
        (Asked::Rewind(n), _) => Some(Position::Last(*n)),
        (Asked::Recover(seen), _) => seen.history(topic).map(Position::After),
        (_, Some(seen)) => Some(Position::After(seen)),
        (Asked::Page(_), None) => Some(Position::Earliest),
        (Asked::From(_), None) => Some(fallback.map_or(Position::Earliest, Position::After)),
    }
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
) -> Result<Vec<(TopicName, HistoryRule, bool)>, Error> {
    let mut out: Vec<(TopicName, HistoryRule, bool)> = Vec::new();
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
