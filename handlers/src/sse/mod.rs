//! `GET /events?topic=…`: subscribe with Server-Sent Events.
//!
//! Runs after the route's layers: the request came through Fanout (`Grip-Sig` verified)
//! and the token may read every selector ([`Selectors`] and the [`Principal`] are set).
//! The answer is a GRIP stream hold: Fanout keeps the connection open, subscribes it to
//! the channels [`Audience::Sse`](pubsub_core::audience::Audience::Sse) listens on — per
//! topic name its live channel and its retained channel, so that every message reaches
//! the subscriber once; per filter its filter channel — and to the channel of the key
//! that verified the token (revoking the key ends the stream at once), and sends a
//! `keep-alive` event every [`KEEP_ALIVE_SECS`] seconds of silence. The body starts with
//! the `stream-open` event.
//!
//! # Expiry
//!
//! The hold names a `Grip-Link` that Fanout requests on its own after `link_timeout`
//! seconds: when the token has expired (`exp` plus the
//! [`LEEWAY_SECS`](pubsub_core::principal::LEEWAY_SECS)) or the link's grant is due
//! (Config Store `link-grant-max-age`, also for a token without `exp`), whichever comes
//! first. The link carries a grant (see `pubsub_core::grant`), never the client's token,
//! and only Fanout may request it (the route refuses a request without a verified
//! `Grip-Sig`). When the token has expired, or the grant's key is revoked, the link's
//! answer is the `stream-error` event (condition `unauthorized`, status 200), and Fanout
//! ends the stream after writing it; otherwise the stream goes on, held again with a
//! fresh grant.
//!
//! # Durable subscriptions (`durable=true`)
//!
//! The body goes on, after `stream-open`, with the current retained message of each topic
//! (if any, and not expired), each event with an `id:` (a [`retained::EventId`]). Then:
//!
//! - Each retained channel is held with `prev-id` = the slot version the answer reflects,
//!   and the link fires after at most the recovery interval (Config Store
//!   `durable-recovery-interval`, default 600 s). When a
//!   retained message is published between the KV read and the moment the proxy attaches
//!   the subscription, or later arrives with a `prev-id` the subscription has not seen, the
//!   proxy drops it and *recovers*: it requests the link again with one
//!   `Grip-Last: <channel>; last-id=<version>` header per retained channel. The proxy also
//!   does so after the recovery interval without traffic, so a message stored but not
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
//! Two channels per topic and one for the key: with Pushpin's default
//! `connection_subscription_max` of 20, keep `max-topics` at 9 or less (the default).

mod hold;
mod replay;
mod resume;

use pubsub_core::extensions::{required, GripVerified, Selectors};
use pubsub_core::grant;
use pubsub_core::history::HistoryId;
use pubsub_core::ports::Platform;
use pubsub_core::principal::Principal;
use pubsub_core::render::sse_event;
use pubsub_core::retained::{self, EventId, Slot, Version};
use pubsub_core::topic::query::query_value;
use pubsub_core::topic::{Selector, TopicName};
use pubsub_core::{Config, Error, Request, Result};

use hold::{grant_key, link_timeout, Hold, Link};
use replay::{Asker, Replay};
use resume::{seen_by_client, seen_by_proxy};

/// Seconds of silence after which Fanout sends a `keep-alive` event.
pub const KEEP_ALIVE_SECS: u32 = 55;

/// The longest `Grip-Link` timeout: Pushpin counts it in milliseconds in a 32-bit integer
/// (24.8 days).
pub const MAX_LINK_TIMEOUT_SECS: u64 = 2_000_000;

/// The `Grip-Keep-Alive` value: the event, escaped as a C string, and its interval.
const KEEP_ALIVE: &str = "event: keep-alive\\ndata: \\n\\n; format=cstring; timeout=55";

/// Where the links Fanout requests on its own live: `/events/link/<grant>?topic=…`.
pub const LINK_PREFIX: &str = "/events/link/";

/// The first event of every stream.
pub const STREAM_OPEN: &str = "event: stream-open\ndata: \n\n";

/// Answers a verified, authorised subscribe with the GRIP stream hold; a durable one (see
/// the module documentation) reads the retained messages from `platform`'s KV store, and
/// one that asks for a replay (see [`replay`]) reads the history of its topics.
pub fn subscribe(platform: &Platform, req: Request) -> Result {
    let selectors = &required::<Selectors>(&req)?.0;
    let principal = required::<Principal>(&req)?;
    let config = required::<Config>(&req)?;
    let now = platform.env.now();
    let durable = durable(&req)?;
    let asker = asker(&req)?;
    let mut replay = replay::requested(platform, config, &req, selectors, asker)?;
    let recovery = u64::from(config.durable_recovery_interval);
    let max_age = u64::from(config.link_grant_max_age);
    let grant = grant::issue(&grant_key(platform), principal, selectors, now, max_age)?;
    let link = Link {
        timeout: link_timeout(principal.exp, grant.until, now, durable.then_some(recovery)),
        grant: grant.text,
    };
    let mut hold = Hold {
        selectors,
        kid: &principal.kid,
        durable,
        link,
    };
    hold.register(platform, config)?;
    // Fanout's own requests go on with the stream, so they start no new one.
    let mut body = match asker {
        Asker::Client => stream_open(platform, config, selectors, replay.is_some()),
        _ => String::new(),
    };
    let page_request = asker == Asker::Page;
    let versions = match durable {
        true => Some(retained_part(
            platform,
            &req,
            &mut body,
            replay.as_mut(),
            page_request,
        )?),
        false => None,
    };
    let Some(replay) = &mut replay else {
        return hold.answer(versions.as_deref(), None, body.into_bytes());
    };
    let paged = replay::page(platform, replay, &mut body)?;
    if paged.more {
        return hold.next_page(&replay.cursor, body.into_bytes());
    }
    // After a resume or a replay, Fanout asks again soon (with what it delivered since,
    // in `Grip-Last`), so a message that slipped through the seam and has no successor
    // still arrives; a quiet recovery goes back to the usual timeout.
    if asker != Asker::Link || paged.sent > 0 {
        hold.link.timeout = hold.link.timeout.min(replay::SETTLE_SECS);
    }
    let held_at = replay::held_at(replay, platform.env.now_micros() / 1000);
    hold.answer(versions.as_deref(), Some(&held_at), body.into_bytes())
}

/// Who asks: a link Fanout requests on its own carries the grant (a page request also
/// `replay=`, the next page of a replay); a recovery is Fanout's request with
/// `Grip-Last`; anything else is the client's subscribe.
fn asker(req: &Request) -> Result<Asker, Error> {
    let fanout = req.extensions().get::<GripVerified>().is_some();
    let link = fanout && req.uri().path().starts_with(LINK_PREFIX);
    if link && query_value(req.uri().query(), "replay")?.is_some() {
        return Ok(Asker::Page);
    }
    match link || fanout && req.headers().contains_key("grip-last") {
        true => Ok(Asker::Link),
        false => Ok(Asker::Client),
    }
}

/// The `stream-open` event. A fresh stream (no replay asked) of topics that may have
/// history names them at this moment in its `id:`, so an `EventSource` that reconnects
/// before any message arrived still resumes from when it subscribed.
fn stream_open(
    platform: &Platform,
    config: &Config,
    selectors: &[Selector],
    replaying: bool,
) -> String {
    if replaying || config.history.is_empty() {
        return STREAM_OPEN.to_owned();
    }
    let now = HistoryId::time_position(platform.env.now_micros() / 1000);
    let mut id = EventId::new();
    for selector in selectors {
        let history = match selector {
            Selector::Name(name) => config.history.rule_for(name.as_str()).is_some(),
            Selector::Filter(_) => true,
        };
        if history {
            id.set_history(selector.as_str(), now);
        }
    }
    match id.is_empty() {
        true => STREAM_OPEN.to_owned(),
        false => format!("id: {id}\n{STREAM_OPEN}"),
    }
}

/// The retained part of a durable answer: appends the retained events the subscriber
/// still needs to `body` and answers the version each topic is held at. A topic being
/// replayed from history gets its retained message from the replay instead; while a
/// replay goes on over pages, its cursor carries the versions sent.
fn retained_part(
    platform: &Platform,
    req: &Request,
    body: &mut String,
    replay: Option<&mut Replay>,
    page_request: bool,
) -> Result<Vec<Version>, Error> {
    let topics = names_only(&required::<Selectors>(req)?.0)?;
    let recovering = !page_request
        && req.extensions().get::<GripVerified>().is_some()
        && (req.uri().path().starts_with(LINK_PREFIX) || req.headers().contains_key("grip-last"));
    let mut seen = match (&replay, recovering) {
        (Some(r), _) if page_request => topics.iter().map(|t| r.cursor.get(t)).collect(),
        (_, true) => seen_by_proxy(req.headers(), &topics),
        _ => seen_by_client(req, &topics)?,
    };
    let now = platform.env.now();
    let slots = topics
        .iter()
        .map(|topic| retained::read(&*platform.kv, now, topic))
        .collect::<Result<Vec<Slot>, Error>>()?;
    if let Some(replay) = replay {
        for ((topic, slot), seen) in topics.iter().zip(&slots).zip(seen.iter_mut()) {
            if replay.topics.iter().any(|t| &t.name == *topic) {
                *seen = Some(slot.version);
            } else if slot.version != Version::ZERO {
                replay.cursor.set(topic, slot.version);
            }
        }
    }
    retained_events(body, &topics, &slots, &seen);
    Ok(slots.iter().map(|s| s.version).collect())
}

/// Appends to `body` the retained events of `slots` that a subscriber who has `seen` them
/// still needs, each with the id of everything the answer covers so far.
fn retained_events(
    body: &mut String,
    topics: &[&TopicName],
    slots: &[Slot],
    seen: &[Option<Version>],
) {
    // Every event names the topics with nothing to send; a topic with a message is named
    // from its own event on, so a client cut off mid-answer never skips it on resume.
    let mut id = EventId::new();
    for ((topic, slot), seen) in topics.iter().zip(slots).zip(seen) {
        if deliver(slot, *seen).is_none() && slot.version != Version::ZERO {
            id.set(topic, slot.version);
        }
    }
    for ((topic, slot), seen) in topics.iter().zip(slots).zip(seen) {
        if let Some((version, payload)) = deliver(slot, *seen) {
            // A message also kept in history is named by its history id, so a resume
            // goes on from the history.
            match slot.message.as_ref().and_then(|m| m.history_id) {
                Some(history_id) => id.set_history(topic, history_id),
                None => id.set(topic, version),
            }
            body.push_str(&sse_event(payload, Some(&id.to_string())));
        }
    }
}

/// The message of `slot` to send to a subscriber that has seen `seen`.
fn deliver(slot: &Slot, seen: Option<Version>) -> Option<(Version, &[u8])> {
    slot.message
        .as_ref()
        .filter(|m| seen.is_none_or(|seen| m.version > seen))
        .map(|m| (m.version, m.payload.as_slice()))
}

/// The topic names of a durable subscription, which takes no filter.
fn names_only(selectors: &[Selector]) -> Result<Vec<&TopicName>, Error> {
    selectors
        .iter()
        .map(|selector| match selector {
            Selector::Name(name) => Ok(name),
            Selector::Filter(f) => Err(Error::BadRequest(format!(
                "topic filter {:?}: a durable subscription takes topic names only; \
                 subscribe to a filter without `durable=true`",
                f.as_str()
            ))),
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::resume::grip_last;
    use super::*;
    use crate::test_helpers::*;
    use http::header::{HeaderMap, HeaderValue};
    use pubsub_core::retained::{NewRetained, Stored};
    use pubsub_core::Response;

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

    #[test]
    fn a_filter_listens_on_its_filter_channel_and_cannot_be_durable() {
        let (platform, ..) = platform();
        let res = subscribe_to(&platform, "/events", &["a", "s/+/t"]).expect("held");
        assert_eq!(header(&res, "grip-channel"), "a, r#a, f#s/+/t, k#k1");
        // The filter channel is registered as listened (hex of `f#s/+/t`), the topic's not.
        let registered = platform
            .kv
            .list_prefix("messages", "sr/", 10)
            .expect("listed");
        assert_eq!(registered, ["sr/6623732f2b2f74"]);
        let err = subscribe_to(&platform, "/events?durable=true", &["a", "s/#"])
            .expect_err("durable filter");
        assert_eq!(err.status(), 400);
        assert!(err.to_string().contains("topic names only"), "{err}");
    }

    fn prev_id(version: Version) -> String {
        format!("; prev-id={version}")
    }

    #[test]
    fn a_subscribe_holds_the_live_and_retained_channel_of_each_topic() {
        let (platform, _) = platform();
        let res = subscribe(&platform, with_topics(get("/events"), &["a", "b,c"])).expect("held");
        assert_eq!(res.headers()["grip-hold"], "stream");
        assert_eq!(
            res.headers()["grip-channel"],
            "a, r#a, b%2Cc, r#b%2Cc, k#k1"
        );
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert!(res.headers()["grip-keep-alive"]
            .to_str()
            .is_ok_and(|v| v.ends_with("timeout=55")));
        // A token without `exp` still gets a link: when its grant is due (the max age).
        let link = res.headers()["grip-link"].to_str().expect("ascii");
        assert!(link.ends_with("; rel=next; timeout=3600"), "{link}");
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
                "a, r#a{}, c, r#c{}, b, r#b{}, k#k1",
                prev_id(a.version),
                prev_id(Version::ZERO),
                prev_id(b.version)
            )
        );
        let link = header(&res, "grip-link");
        let due = platform.env.now() + 3_600;
        assert!(
            link.starts_with(&format!("</events/link/0.{due}.k1."))
                && link.ends_with("?topic=a&topic=c&topic=b&durable=true>; rel=next; timeout=600")
                && !link.contains("auth"),
            "{link}"
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
        assert!(header(&res, "grip-channel").contains(&format!("r#a{}", prev_id(a.version))));
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
                "a, r#a{}, b, r#b{}, k#k1",
                prev_id(a2.version),
                prev_id(b1.version)
            )
        );
        assert!(header(&res, "grip-link").contains("?topic=a&topic=b&durable=true>"));
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
    fn the_link_carries_a_grant_for_the_topics_never_the_token() {
        let (platform, _) = platform();
        let mut req = with_topics(get("/events?topic=a&auth=x.y%2Bz"), &["a,b; c", "d"]);
        req.extensions_mut().insert(GripVerified);
        principal_mut(&mut req).exp = Some(platform.env.now() + 3_600);
        let res = subscribe(&platform, req).expect("held");
        let link = header(&res, "grip-link");
        let uri = link
            .strip_prefix("</events/link/")
            .and_then(|rest| rest.split_once("?topic=a%2Cb%3B%20c&topic=d>"))
            .map(|(grant, _)| grant.to_owned());
        let Some(grant) = uri else { panic!("{link}") };
        assert!(!link.contains("x.y"), "{link}");
        let topics = ["a,b; c", "d"].map(|t| Selector::subscription(t.into(), 6).expect(t));
        let now = platform.env.now();
        let p = grant::verify(GRANT_KEY.as_bytes(), &grant, &topics, now, &*platform.kv);
        // The in-memory store has no key `k1`: a grant whose key is gone is refused.
        assert_eq!(p, Err(Error::UnknownKey("k1".into())));
        platform
            .kv
            .insert(
                pubsub_core::keys::STORE,
                "k1",
                b"secret",
                Default::default(),
            )
            .expect("stored");
        let p = grant::verify(GRANT_KEY.as_bytes(), &grant, &topics, now, &*platform.kv)
            .expect("a grant for exactly those topics");
        assert_eq!(p.kid, "k1");
    }

    #[test]
    fn the_link_fires_when_the_token_expires_the_grant_is_due_or_durable_streams_recover() {
        let hour = Some(10_000 + 3_600);
        let due = 10_000 + 3_600;
        let cases = [
            (None, due, None, 3_600),
            (None, 10_000 + 60, None, 60),
            (None, due, Some(600), 600),
            (hour, due + 3_600, None, 3_660),
            (hour, due, None, 3_600),
            (hour, due, Some(600), 600),
            (hour, due, Some(2), 2),
            (Some(10_100), due, Some(600), 160),
            (Some(9_950), due, None, 10),
            (Some(9_900), due, None, 1),
            (None, 9_000, None, 1),
            (Some(u64::MAX), u64::MAX, None, MAX_LINK_TIMEOUT_SECS),
        ];
        for (exp, until, recovery, want) in cases {
            assert_eq!(
                link_timeout(exp, until, 10_000, recovery),
                want,
                "{exp:?} {until} {recovery:?}"
            );
        }
    }

    #[test]
    fn a_durable_stream_is_recovered_at_the_configured_interval() {
        let (platform, _) = platform();
        for (interval, want) in [(None, "timeout=600"), (Some(2), "timeout=2")] {
            let mut req = with_topics(get("/events?topic=a&durable=true"), &["a"]);
            principal_mut(&mut req).exp = Some(platform.env.now() + 3_600);
            if let (Some(secs), Some(config)) = (interval, req.extensions_mut().get_mut::<Config>())
            {
                config.durable_recovery_interval = secs;
            }
            let res = subscribe(&platform, req).expect("held");
            let link = header(&res, "grip-link");
            assert!(link.ends_with(want), "{link}");
        }
    }

    #[test]
    fn a_link_request_goes_on_with_the_stream_without_a_new_stream_open() {
        let (platform, _) = platform();
        let mut req = with_topics(get("/events/link/g?topic=a"), &["a"]);
        req.extensions_mut().insert(GripVerified);
        let res = subscribe(&platform, req).expect("held");
        assert_eq!(body(&res), "");
        assert_eq!(header(&res, "grip-hold"), "stream");
        let unsigned = with_topics(get("/events?topic=a"), &["a"]);
        let res = subscribe(&platform, unsigned).expect("held");
        assert_eq!(body(&res), STREAM_OPEN);
    }

    #[test]
    fn without_a_grant_key_a_subscribe_is_a_500_naming_it() {
        let (mut platform, _) = platform();
        platform.secrets = std::sync::Arc::new(pubsub_core::ports::memory::MemoryMap::default());
        let err = subscribe_to(&platform, "/events?topic=a", &["a"]).expect_err("no key");
        assert_eq!(err.status(), 500);
        assert!(err.to_string().contains("grant-key"), "{err}");
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
