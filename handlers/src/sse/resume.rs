//! Resuming a durable stream: what the client (its `Last-Event-ID`) or the proxy (its
//! `Grip-Last` headers) has already seen of each topic.

use http::header::HeaderMap;

use pubsub_core::audience::Feed;
use pubsub_core::grip_sig::last_ids;
use pubsub_core::retained::{EventId, Version};
use pubsub_core::topic::query::query_value;
use pubsub_core::topic::TopicName;
use pubsub_core::{Error, Request};

/// What a resuming client has seen of each topic, from the id it sends back.
pub(super) fn seen_by_client(
    req: &Request,
    topics: &[&TopicName],
) -> Result<Vec<Option<Version>>, Error> {
    let id = last_event_id(req)?.unwrap_or_default();
    Ok(topics.iter().map(|topic| id.get(topic)).collect())
}

/// What the proxy delivered of each topic, from its `Grip-Last` headers; a `last-id` that
/// is not a version counts as nothing seen.
pub(super) fn seen_by_proxy(headers: &HeaderMap, topics: &[&TopicName]) -> Vec<Option<Version>> {
    let last = grip_last(headers);
    topics
        .iter()
        .map(|topic| {
            let channel = Feed::Retained.channel(topic);
            last.iter()
                .find(|(c, _)| *c == channel)
                .and_then(|(_, id)| id.parse().ok())
        })
        .collect()
}

/// The id the client resumes from: the `Last-Event-ID` header, else the `lastEventId`
/// query parameter; empty values count as absent.
pub(super) fn last_event_id(req: &Request) -> Result<Option<EventId>, Error> {
    last_event_id_text(req)?
        .filter(|t| t != "earliest")
        .map(|t| EventId::parse(&t))
        .transpose()
}

/// The text of the id the client resumes from (see [`last_event_id`]), unparsed.
pub(super) fn last_event_id_text(req: &Request) -> Result<Option<String>, Error> {
    let header = match req.headers().get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .map_err(|_| Error::BadRequest("invalid last event id: not ASCII".into()))?
                .trim()
                .to_owned(),
        ),
        None => None,
    };
    match header.filter(|h| !h.is_empty()) {
        Some(h) => Ok(Some(h)),
        None => Ok(query_value(req.uri().query(), "lastEventId")?.filter(|q| !q.is_empty())),
    }
}

/// `(channel, last-id)` of every `Grip-Last` entry (`<channel>; last-id=<id>`), from every
/// `Grip-Last` header in order (see [`pubsub_core::grip_sig::last_ids`]).
pub(super) fn grip_last(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all("grip-last")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(last_ids)
        .map(|(channel, id)| (channel.to_owned(), id.to_owned()))
        .collect()
}
