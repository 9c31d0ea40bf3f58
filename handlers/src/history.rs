//! `GET /history?topic=…`: one page of a topic's history as JSON, for clients that do not
//! stream (a page load, a backfill).
//!
//! Runs after `Acl(query, read)`: the token may read the topic (a wildcard read claim
//! covers it as it covers a subscribe). Exactly one topic name, with a history rule
//! (Config Store `history`), else 400 / 404. Parameters:
//!
//! - `after`: where the page starts: a message id (`id` of a message below), an SSE event
//!   id of this topic's stream (`Last-Event-ID`), or `earliest` (the default);
//! - `last=N`: the last N messages instead (1 to [`MAX_LIMIT`]); not with `after`;
//! - `limit`: most messages in the page, 1 to [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
//!
//! The answer (`200 application/json`):
//! `{"topic":…,"messages":[{"id":…,"event_id":…,"at":<ms>,"retain":bool,"data":…}],"next":…,"gap":…}`:
//! `data` is the text of a UTF-8 payload, else `data_base64` holds it in base64; `next`
//! is the `after` of the following page (`null`: nothing more now); `gap` (or `null`)
//! says that messages after the asked position are no longer held, and from which id the
//! page really starts. Errors are the usual JSON errors: a malformed id or parameter is a
//! 400 naming it.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::{json, Map, Value};

use pubsub_core::extensions::{required, Selectors};
use pubsub_core::history::{self, HistoryId, HistoryMessage, Page, Position};
use pubsub_core::ports::Platform;
use pubsub_core::retained::EventId;
use pubsub_core::topic::query::query_value;
use pubsub_core::topic::{Selector, TopicName};
use pubsub_core::{Config, Error, Request, Response, Result};

/// Most messages one page may hold.
pub const MAX_LIMIT: usize = 1000;
/// Messages in a page when `limit` is absent.
pub const DEFAULT_LIMIT: usize = 100;
/// Most payload bytes one page holds (base64 and JSON make the answer larger).
pub const PAGE_BYTES: usize = 512 * 1024;

/// Answers one page of the history of the request's topic.
pub fn read(platform: &Platform, req: Request) -> Result {
    let config = required::<Config>(&req)?;
    let topic = one_topic(&required::<Selectors>(&req)?.0)?;
    let Some(rule) = config.history.rule_for(topic.as_str()) else {
        return Err(Error::NoSuchResource(format!(
            "topic {:?} keeps no history (Config Store `history` has no rule for it)",
            topic.as_str()
        )));
    };
    let query = req.uri().query();
    let start = position(topic, query)?;
    let limit = match query_value(query, "limit")? {
        None => DEFAULT_LIMIT,
        Some(text) => count("limit", &text)?,
    };
    let page = history::read(platform, rule, topic, start, limit, PAGE_BYTES)?;
    let mut res = Response::new(answer(topic, &page).to_string().into_bytes());
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The one topic name the request reads.
fn one_topic(selectors: &[Selector]) -> Result<&TopicName, Error> {
    match selectors {
        [Selector::Name(name)] => Ok(name),
        [Selector::Filter(f)] => Err(Error::BadRequest(format!(
            "topic {:?} is a filter; `/history` reads one topic name",
            f.as_str()
        ))),
        _ => Err(Error::BadRequest(
            "`/history` reads exactly one `topic`".into(),
        )),
    }
}

/// Where the page starts, from `after` or `last`.
fn position(topic: &TopicName, query: Option<&str>) -> Result<Position, Error> {
    let after = query_value(query, "after")?;
    let last = query_value(query, "last")?;
    match (after, last) {
        (Some(_), Some(_)) => Err(Error::BadRequest("give `after` or `last`, not both".into())),
        (None, Some(text)) => {
            let n = count("last", &text)?;
            Ok(Position::Last(u32::try_from(n).unwrap_or(u32::MAX)))
        }
        (None, None) => Ok(Position::Earliest),
        (Some(text), None) if text == "earliest" => Ok(Position::Earliest),
        (Some(text), None) if text.contains(':') => {
            let id = EventId::parse(&text)?;
            id.history(topic.as_str())
                .map(Position::After)
                .ok_or_else(|| {
                    Error::BadRequest(format!(
                        "`after`: the event id names no position of topic {:?}",
                        topic.as_str()
                    ))
                })
        }
        (Some(text), None) => text
            .parse::<HistoryId>()
            .map(Position::After)
            .map_err(|e| Error::BadRequest(format!("`after`: {e}"))),
    }
}

/// A count parameter: 1 to [`MAX_LIMIT`].
fn count(name: &str, text: &str) -> Result<usize, Error> {
    let n = text
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n));
    n.ok_or_else(|| {
        Error::BadRequest(format!(
            "`{name}` must be a whole number from 1 to {MAX_LIMIT}, not {:?}",
            text.chars().take(32).collect::<String>()
        ))
    })
}

/// The JSON answer for `page` of `topic`.
fn answer(topic: &TopicName, page: &Page) -> Value {
    let messages: Vec<Value> = page.messages.iter().map(|m| message(topic, m)).collect();
    let gap = page.gap.as_ref().map_or(Value::Null, |gap| {
        json!({
            "after": gap.after.map(|id| id.to_string()),
            "from": gap.from.map(|id| id.to_string()),
        })
    });
    json!({
        "topic": topic.as_str(),
        "messages": messages,
        "next": page.next.map(|id| id.to_string()),
        "gap": gap,
    })
}

/// One message of the answer.
fn message(topic: &TopicName, m: &HistoryMessage) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), m.id.to_string().into());
    let event_id = EventId::single_history(topic.as_str(), m.id);
    out.insert("event_id".into(), event_id.to_string().into());
    out.insert("at".into(), m.at_ms.into());
    out.insert("retain".into(), m.retain.into());
    match std::str::from_utf8(&m.payload) {
        Ok(text) => out.insert("data".into(), text.into()),
        Err(_) => out.insert("data_base64".into(), BASE64.encode(&m.payload).into()),
    };
    Value::Object(out)
}
