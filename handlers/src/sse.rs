//! `GET /events?topic=…`: subscribe with Server-Sent Events.
//!
//! Runs after the route's layers: the request came through Fanout (`Grip-Sig` verified)
//! and the token may read every topic ([`Topics`] is set). The answer is a GRIP stream
//! hold: Fanout keeps the connection open, subscribes it to two channels per topic — the
//! topic's live channel and its retained channel ([`Kind::Retained`]), so that every
//! message reaches the subscriber once — and sends a `keep-alive` event every
//! [`KEEP_ALIVE_SECS`] seconds of silence. The body starts with the `stream-open` event.
//!
//! # Durable subscriptions (`durable=true`)
//!
//! The body goes on, after `stream-open`, with the current retained message of each topic
//! (if any, and not expired), each event with an `id:` (a [`retained::EventId`]). Then:
//!
//! - Each retained channel is held with `prev-id` = the slot version the answer reflects,
//!   and `Grip-Link: <this request>; rel=next; timeout=`[`RECOVERY_INTERVAL_SECS`]. When a
//!   retained message is published between the KV read and the moment the proxy attaches
//!   the subscription, or later arrives with a `prev-id` the subscription has not seen, the
//!   proxy drops it and *recovers*: it requests the link again with one
//!   `Grip-Last: <channel>; last-id=<version>` header per retained channel. The proxy also
//!   does so after [`RECOVERY_INTERVAL_SECS`] without traffic, so a message stored but not
//!   delivered live (publish API failure) still arrives.
//! - A recovery request (verified `Grip-Sig` and `Grip-Last` present) is answered with the
//!   messages newer than the `last-id`s only, no `stream-open`, and fresh `prev-id`s and
//!   link. A `last-id` that is not a version counts as nothing seen.
//! - A client that reconnects sends the id of the last event it got (`Last-Event-ID`, as
//!   `EventSource` does, or the `lastEventId` query parameter; the header wins). Topics the
//!   id names get only messages newer than the version it gives; topics it does not name
//!   get their current retained message (at least once: duplicates are possible, skips are
//!   not). A malformed id is a 400 (`stream-error` with condition `bad-request`).
//!
//! Event ids: a live retained event names its own topic only (its content is shared by
//! every subscriber). The events of an initial or recovery answer name every topic of the
//! request whose state they cover: the topics delivered so far in the answer, and the
//! topics with nothing to deliver (at their slot version). A topic still to come in the
//! answer is never named, so a client cut off mid-answer never skips it on resume.
//!
//! The recovery request carries no client headers, so the link carries the token that
//! authorised the subscribe as its `auth` parameter, wherever it came from (Fanout keeps the
//! link to itself; it never reaches the client). An expired token thus ends the stream at
//! the next recovery, and the client reconnects with a fresh one.
//!
//! Two channels per topic: with Pushpin's default `connection_subscription_max` of 20, keep
//! `max-topics` at 10 or less.

use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

use pubsub_core::channel::{self, Kind};
use pubsub_core::extensions::Credentials;
use pubsub_core::extensions::GripVerified;
use pubsub_core::extensions::{required, Topics};
use pubsub_core::ports::Platform;
use pubsub_core::topics::query_value;
use pubsub_core::{Error, Request, Response, Result};

use pubsub_core::message::sse_event;
use pubsub_core::retained::{self, EventId, Slot, Version};

/// Seconds of silence after which Fanout sends a `keep-alive` event.
pub const KEEP_ALIVE_SECS: u32 = 55;

/// Seconds without traffic after which Fanout re-requests a durable stream's link (the
/// `timeout` of its `Grip-Link`).
pub const RECOVERY_INTERVAL_SECS: u32 = 60;

/// The `Grip-Keep-Alive` value: the event, escaped as a C string, and its interval.
const KEEP_ALIVE: &str = "event: keep-alive\\ndata: \\n\\n; format=cstring; timeout=55";

/// The first event of every stream.
pub const STREAM_OPEN: &str = "event: stream-open\ndata: \n\n";

/// Answers a verified, authorised subscribe with the GRIP stream hold; a durable one (see
/// the module documentation) reads the retained messages from `platform`'s KV store.
pub fn subscribe(platform: &Platform, req: Request) -> Result {
    let topics = topics_of(&req)?;
    if !durable(&req)? {
        return hold(topics, None, STREAM_OPEN.as_bytes().to_vec(), None);
    }
    let recovering =
        req.extensions().get::<GripVerified>().is_some() && req.headers().contains_key("grip-last");
    let seen = if recovering {
        seen_by_proxy(req.headers(), topics)
    } else {
        seen_by_client(&req, topics)?
    };
    let now = platform.env.now();
    let slots = topics
        .iter()
        .map(|topic| retained::read(&*platform.kv, now, topic))
        .collect::<Result<Vec<Slot>, Error>>()?;

    let mut body = if recovering {
        String::new()
    } else {
        STREAM_OPEN.to_owned()
    };
    // Every event names the topics with nothing to send; a topic with a message is named
    // from its own event on, so a client cut off mid-answer never skips it on resume.
    let mut id = EventId::new();
    for ((topic, slot), seen) in topics.iter().zip(&slots).zip(&seen) {
        if deliver(slot, *seen).is_none() && slot.version != Version::ZERO {
            id.set(topic, slot.version);
        }
    }
    for ((topic, slot), seen) in topics.iter().zip(&slots).zip(&seen) {
        if let Some((version, payload)) = deliver(slot, *seen) {
            id.set(topic, version);
            body.push_str(&sse_event(payload, Some(&id.to_string())));
        }
    }
    let versions: Vec<Version> = slots.iter().map(|s| s.version).collect();
    hold(
        topics,
        Some(&versions),
        body.into_bytes(),
        Some(next_link(&req)),
    )
}

/// What a resuming client has seen of each topic, from the id it sends back.
fn seen_by_client(req: &Request, topics: &[String]) -> Result<Vec<Option<Version>>, Error> {
    let id = last_event_id(req)?.unwrap_or_default();
    Ok(topics.iter().map(|topic| id.get(topic)).collect())
}

/// What the proxy delivered of each topic, from its `Grip-Last` headers; a `last-id` that
/// is not a version counts as nothing seen.
fn seen_by_proxy(headers: &HeaderMap, topics: &[String]) -> Vec<Option<Version>> {
    let last = grip_last(headers);
    topics
        .iter()
        .map(|topic| {
            let channel = Kind::Retained.of(topic);
            last.iter()
                .find(|(c, _)| *c == channel)
                .and_then(|(_, id)| id.parse().ok())
        })
        .collect()
}

/// The message of `slot` to send to a subscriber that has seen `seen`.
fn deliver(slot: &Slot, seen: Option<Version>) -> Option<(Version, &[u8])> {
    slot.message
        .as_ref()
        .filter(|m| seen.is_none_or(|seen| m.version > seen))
        .map(|m| (m.version, m.payload.as_slice()))
}

fn topics_of(req: &Request) -> Result<&[String]> {
    Ok(&required::<Topics>(req)?.0)
}

/// The `durable` query parameter.
fn durable(req: &Request) -> Result<bool, Error> {
    match query_value(req.uri().query(), "durable")?.as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(Error::BadRequest(format!(
            "`durable` must be `true` or `false`, not {other:?}"
        ))),
    }
}

/// The id the client resumes from: the `Last-Event-ID` header, else the `lastEventId`
/// query parameter; empty values count as absent.
fn last_event_id(req: &Request) -> Result<Option<EventId>, Error> {
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
    let text = match header.filter(|h| !h.is_empty()) {
        Some(h) => Some(h),
        None => query_value(req.uri().query(), "lastEventId")?.filter(|q| !q.is_empty()),
    };
    text.map(|t| EventId::parse(&t)).transpose()
}

/// `(channel, last-id)` of every `Grip-Last` entry (`<channel>; last-id=<id>`).
fn grip_last(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for value in headers.get_all("grip-last") {
        let Ok(value) = value.to_str() else { continue };
        for entry in value.split(',') {
            let mut parts = entry.split(';');
            let channel = parts.next().unwrap_or("").trim();
            let last_id = parts.find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k.trim() == "last-id").then(|| v.trim().trim_matches('"'))
            });
            if let (false, Some(id)) = (channel.is_empty(), last_id) {
                out.push((channel.to_owned(), id.to_owned()));
            }
        }
    }
    out
}

/// The link Fanout requests to recover: this request's path and query, with the token
/// that authorised it (header or query) as the `auth` parameter.
fn next_link(req: &Request) -> String {
    let mut link = req.uri().path().to_owned();
    let mut separator = '?';
    for pair in req.uri().query().unwrap_or("").split('&') {
        if pair.is_empty() || pair == "auth" || pair.starts_with("auth=") {
            continue;
        }
        link.push(separator);
        link.push_str(pair);
        separator = '&';
    }
    if let Some(Credentials(token)) = req.extensions().get() {
        link.push(separator);
        link.push_str("auth=");
        for b in token.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                link.push(char::from(b));
            } else {
                link.push_str(&format!("%{b:02X}"));
            }
        }
    }
    link
}

/// The stream hold on `topics`' channels. With `versions` (durable), each retained channel
/// is held at its topic's version and `link` is the recovery link.
fn hold(
    topics: &[String],
    versions: Option<&[Version]>,
    body: Vec<u8>,
    link: Option<String>,
) -> Result {
    let mut channels = String::new();
    for (i, topic) in topics.iter().enumerate() {
        if !channels.is_empty() {
            channels.push_str(", ");
        }
        channels.push_str(&channel::live(topic));
        channels.push_str(", ");
        channels.push_str(&Kind::Retained.of(topic));
        if let Some(version) = versions.and_then(|v| v.get(i)) {
            channels.push_str("; prev-id=");
            channels.push_str(&version.to_string());
        }
    }
    let header = |value: String, what: &str| {
        HeaderValue::try_from(value).map_err(|e| Error::Internal(format!("{what} header: {e}")))
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("grip-hold", HeaderValue::from_static("stream"));
    h.insert("grip-channel", header(channels, "channel")?);
    h.insert("grip-keep-alive", HeaderValue::from_static(KEEP_ALIVE));
    if let Some(link) = link {
        let value = format!("<{link}>; rel=next; timeout={RECOVERY_INTERVAL_SECS}");
        h.insert("grip-link", header(value, "link")?);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;
    use pubsub_core::retained::{NewRetained, Stored};

    fn publish(platform: &Platform, topic: &str, payload: &str, ttl: Option<u32>) -> Stored {
        let msg = NewRetained {
            payload: payload.as_bytes(),
            ttl_secs: ttl,
            mqtt: None,
        };
        retained::store(&*platform.kv, platform.env.now(), topic, msg).expect("stored")
    }

    fn subscribe_to(platform: &Platform, uri: &str, topics: &[&str]) -> Result {
        let mut req = with_topics(get(uri), topics);
        req.extensions_mut().insert(GripVerified);
        subscribe(platform, req)
    }

    fn body(res: &Response) -> &str {
        std::str::from_utf8(res.body()).expect("utf-8")
    }

    fn header<'a>(res: &'a Response, name: &str) -> &'a str {
        res.headers()
            .get(name)
            .map_or("", |v| v.to_str().expect("ascii"))
    }

    fn prev_id(version: Version) -> String {
        format!("; prev-id={version}")
    }

    #[test]
    fn a_subscribe_holds_the_live_and_retained_channel_of_each_topic() {
        let (platform, _) = platform();
        let res = subscribe(&platform, with_topics(get("/events"), &["a", "b,c"])).expect("held");
        assert_eq!(res.headers()["grip-hold"], "stream");
        assert_eq!(res.headers()["grip-channel"], "a, r#a, b%2Cc, r#b%2Cc");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert!(res.headers()["grip-keep-alive"]
            .to_str()
            .is_ok_and(|v| v.ends_with("timeout=55")));
        assert!(res.headers().get("grip-link").is_none());
        assert_eq!(res.body(), STREAM_OPEN.as_bytes());
    }

    #[test]
    fn a_non_durable_subscribe_gets_no_retained_message() {
        let (platform, _) = platform();
        publish(&platform, "a", "kept", None);
        let res = subscribe_to(&platform, "/events?topic=a", &["a"]).expect("held");
        assert_eq!(body(&res), STREAM_OPEN);
        assert!(!header(&res, "grip-channel").contains("prev-id"));
    }

    #[test]
    fn a_durable_subscribe_starts_with_each_retained_message() {
        let (platform, _) = platform();
        let a = publish(&platform, "a", "for a", None);
        let b = publish(&platform, "b", "for b", None);
        let uri = "/events?topic=a&topic=c&topic=b&durable=true";
        let mut req = with_topics(get(&format!("{uri}&auth=T")), &["a", "c", "b"]);
        req.extensions_mut().insert(GripVerified);
        req.extensions_mut().insert(Credentials("T".into()));
        let res = subscribe(&platform, req).expect("held");
        let mut id_a = EventId::new();
        id_a.set("a", a.version);
        let mut id_ab = id_a.clone();
        id_ab.set("b", b.version);
        assert_eq!(
            body(&res),
            format!(
                "{STREAM_OPEN}id: {id_a}\nevent: message\ndata: for a\n\n\
                 id: {id_ab}\nevent: message\ndata: for b\n\n"
            )
        );
        assert_eq!(
            header(&res, "grip-channel"),
            format!(
                "a, r#a{}, c, r#c{}, b, r#b{}",
                prev_id(a.version),
                prev_id(Version::ZERO),
                prev_id(b.version)
            )
        );
        assert_eq!(
            header(&res, "grip-link"),
            format!("<{uri}&auth=T>; rel=next; timeout={RECOVERY_INTERVAL_SECS}")
        );
    }

    #[test]
    fn ids_name_topics_with_nothing_to_deliver_but_never_one_still_to_come() {
        let (platform, _) = platform();
        publish(&platform, "gone", "x", None);
        let cleared = publish(&platform, "gone", "", None);
        let b = publish(&platform, "b", "for b", None);
        let res = subscribe_to(&platform, "/events?durable=true", &["b", "gone"]).expect("held");
        let mut id = EventId::new();
        id.set("gone", cleared.version);
        id.set("b", b.version);
        assert_eq!(
            body(&res),
            format!("{STREAM_OPEN}id: {id}\nevent: message\ndata: for b\n\n")
        );
    }

    #[test]
    fn an_expired_message_is_not_sent_but_the_hold_reflects_its_version() {
        let (platform, _) = platform();
        let a = publish(&platform, "a", "brief", Some(1));
        let later = pubsub_core::ports::memory::TestEnv::default();
        later
            .now
            .store(platform.env.now() + 2, std::sync::atomic::Ordering::Relaxed);
        let platform = Platform {
            env: std::sync::Arc::new(later),
            ..platform.clone()
        };
        let res = subscribe_to(&platform, "/events?durable=true", &["a"]).expect("held");
        assert_eq!(body(&res), STREAM_OPEN);
        assert!(header(&res, "grip-channel").ends_with(&prev_id(a.version)));
    }

    #[test]
    fn a_resume_gets_only_newer_messages_and_unnamed_topics_in_full() {
        let (platform, _) = platform();
        let a1 = publish(&platform, "a", "a1", None);
        let b1 = publish(&platform, "b", "b1", None);
        let c1 = publish(&platform, "c", "c1", None);
        let a2 = publish(&platform, "a", "a2", None);
        let mut seen = EventId::new();
        seen.set("a", a1.version);
        seen.set("b", b1.version);
        let uri = format!("/events?durable=true&lastEventId={seen}");
        let res = subscribe_to(&platform, &uri, &["a", "b", "c"]).expect("held");
        let text = body(&res);
        assert!(
            text.contains("data: a2\n") && text.contains("data: c1\n"),
            "{text}"
        );
        assert!(
            !text.contains("data: a1\n") && !text.contains("data: b1\n"),
            "{text}"
        );
        let channels = header(&res, "grip-channel");
        assert!(channels.contains(&prev_id(a2.version)) && channels.contains(&prev_id(c1.version)));
    }

    #[test]
    fn the_last_event_id_header_wins_over_the_query() {
        let (platform, _) = platform();
        let a1 = publish(&platform, "a", "a1", None);
        let mut req = with_topics(get("/events?durable=true&lastEventId=junk"), &["a"]);
        req.headers_mut().insert(
            "last-event-id",
            HeaderValue::try_from(EventId::single("a", a1.version).to_string()).expect("ascii"),
        );
        let res = subscribe(&platform, req).expect("held");
        assert_eq!(body(&res), STREAM_OPEN);
    }

    #[test]
    fn a_malformed_last_event_id_is_a_400() {
        let (platform, _) = platform();
        let err = subscribe_to(&platform, "/events?durable=true&lastEventId=nope", &["a"])
            .expect_err("malformed");
        assert_eq!(err, Error::BadRequest(err.to_string()));
        let mut req = with_topics(get("/events?durable=true"), &["a"]);
        req.headers_mut()
            .insert("last-event-id", HeaderValue::from_static("0123:zz"));
        assert_eq!(
            subscribe(&platform, req).expect_err("malformed").status(),
            400
        );
        let err = subscribe_to(&platform, "/events?durable=yes", &["a"]).expect_err("bad flag");
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn a_recovery_sends_only_newer_messages_and_fresh_prev_ids() {
        let (platform, _) = platform();
        let a1 = publish(&platform, "a", "a1", None);
        let b1 = publish(&platform, "b", "b1", None);
        let a2 = publish(&platform, "a", "a2", None);
        let mut req = with_topics(
            get("/events?durable=true&auth=T&lastEventId=junk"),
            &["a", "b"],
        );
        req.extensions_mut().insert(GripVerified);
        for (channel, version) in [("r#a", a1.version), ("r#b", b1.version)] {
            req.headers_mut().append(
                "grip-last",
                HeaderValue::try_from(format!("{channel}; last-id={version}")).expect("ascii"),
            );
        }
        let res = subscribe(&platform, req).expect("recovered");
        let mut id = EventId::new();
        id.set("b", b1.version);
        id.set("a", a2.version);
        assert_eq!(
            body(&res),
            format!("id: {id}\nevent: message\ndata: a2\n\n")
        );
        assert_eq!(
            header(&res, "grip-channel"),
            format!(
                "a, r#a{}, b, r#b{}",
                prev_id(a2.version),
                prev_id(b1.version)
            )
        );
        assert!(header(&res, "grip-link").starts_with("</events?durable=true&lastEventId=junk>"));
    }

    #[test]
    fn a_recovery_without_a_usable_last_id_sends_the_current_message() {
        let (platform, _) = platform();
        publish(&platform, "a", "a1", None);
        let mut req = with_topics(get("/events?durable=true"), &["a"]);
        req.extensions_mut().insert(GripVerified);
        req.headers_mut().insert(
            "grip-last",
            HeaderValue::from_static("r#a; last-id=whatever, x; y"),
        );
        let res = subscribe(&platform, req).expect("recovered");
        assert!(body(&res).ends_with("data: a1\n\n"));
        assert!(!body(&res).contains("stream-open"));
    }

    #[test]
    fn the_link_carries_the_token_that_authorised_the_request() {
        let (platform, _) = platform();
        let cases = [
            (
                "/events?topic=a&durable=true",
                "</events?topic=a&durable=true&auth=x.y%2Bz>",
            ),
            (
                "/events?auth=old&durable=true&auth",
                "</events?durable=true&auth=x.y%2Bz>",
            ),
        ];
        for (uri, link) in cases {
            let mut req = with_topics(get(uri), &["a"]);
            req.extensions_mut().insert(GripVerified);
            req.extensions_mut().insert(Credentials("x.y+z".into()));
            let res = subscribe(&platform, req).expect("held");
            assert!(header(&res, "grip-link").starts_with(link), "{uri}");
        }
    }

    #[test]
    fn grip_last_entries_are_read_from_every_header_and_list() {
        let mut headers = HeaderMap::new();
        headers.append(
            "grip-last",
            HeaderValue::from_static("r#a; last-id=1, r#b;last-id=\"2\""),
        );
        headers.append("grip-last", HeaderValue::from_static("r#c; other=3"));
        headers.append("grip-last", HeaderValue::from_static("r#d; last-id=4"));
        assert_eq!(
            grip_last(&headers),
            [("r#a", "1"), ("r#b", "2"), ("r#d", "4")].map(|(c, i)| (c.to_owned(), i.to_owned()))
        );
    }

    #[test]
    fn a_store_failure_is_a_503() {
        let (platform, _) = platform();
        let kv = std::sync::Arc::new(pubsub_core::ports::memory::MemoryKv::default());
        kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
        let platform = Platform { kv, ..platform };
        let err = subscribe_to(&platform, "/events?durable=true", &["a"]).expect_err("down");
        assert_eq!(err.status(), 503);
    }
}
