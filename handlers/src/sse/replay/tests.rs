//! The replay of a subscribe over in-memory ports: pages and their links, the hold's
//! `prev-id`s, Fanout's recovery through `Grip-Last`, and the settle timeout.

use http::header::HeaderValue;

use pubsub_core::extensions::GripVerified;
use pubsub_core::history::HistoryId;
use pubsub_core::ports::Platform;
use pubsub_core::publish::{publish, Publication};
use pubsub_core::retained::EventId;
use pubsub_core::topic::TopicName;
use pubsub_core::{Config, Request, Response};

use super::super::subscribe;
use super::{PAGE_MESSAGES, SETTLE_SECS};
use crate::test_helpers::*;

fn config() -> Config {
    let mut config = Config::default();
    config.history = pubsub_core::history::HistoryRules::parse("# 5000 1h").expect("rules");
    config
}

fn publish_n(platform: &Platform, topic: &str, n: usize) -> Vec<HistoryId> {
    let topics = [TopicName::parse(topic).expect("topic")];
    (0..n)
        .map(|i| {
            let payload = format!("m{i}");
            let p = Publication {
                topics: &topics,
                payload: payload.as_bytes(),
                retain: false,
                ttl_secs: None,
                mqtt: None,
                sender: None,
            };
            let published = publish(platform, &config(), &p).expect("published");
            published.history_id().expect("an id")
        })
        .collect()
}

fn request(uri: &str, topics: &[&str], fanout: bool) -> Request {
    let mut req = with_topics(get(uri), topics);
    req.extensions_mut().insert(config());
    if fanout {
        req.extensions_mut().insert(GripVerified);
    }
    req
}

fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map_or("", |v| v.to_str().expect("ascii"))
}

fn events(res: &Response) -> usize {
    std::str::from_utf8(res.body())
        .expect("utf-8")
        .matches("event: message\n")
        .count()
}

#[test]
fn a_long_replay_is_paged_and_the_last_page_holds_with_prev_ids_and_settles() {
    let (platform, _) = platform();
    let ids = publish_n(&platform, "t", PAGE_MESSAGES + 10);
    let first = subscribe(
        &platform,
        request("/events?lastEventId=earliest", &["t"], false),
    )
    .expect("first page");
    assert_eq!(events(&first), PAGE_MESSAGES);
    assert_eq!(
        header(&first, "grip-hold"),
        "",
        "a page with more to come is not held"
    );
    let link = header(&first, "grip-link");
    let next = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=next"))
        .map(|(uri, rest)| (uri.to_owned(), rest.to_owned()));
    let Some((uri, rest)) = next else {
        panic!("{link}")
    };
    assert!(rest.is_empty(), "fetched at once: {link}");
    assert!(
        uri.starts_with("/events/link/") && uri.contains("&replay="),
        "{uri}"
    );
    let last = subscribe(&platform, request(&uri, &["t"], true)).expect("last page");
    assert_eq!(events(&last), 10);
    assert_eq!(header(&last, "grip-hold"), "stream");
    let channels = header(&last, "grip-channel");
    assert!(
        channels.starts_with(&format!("t; prev-id={}, ", ids[ids.len() - 1])),
        "{channels}"
    );
    assert!(header(&last, "grip-link").ends_with(&format!("timeout={SETTLE_SECS}")));
}

#[test]
fn a_recovery_replays_after_the_last_id_fanout_delivered() {
    let (platform, _) = platform();
    let ids = publish_n(&platform, "t", 5);
    let mut req = request("/events/link/g?topic=t", &["t"], true);
    req.headers_mut().insert(
        "grip-last",
        HeaderValue::try_from(format!("t; last-id={}", ids[2])).expect("ascii"),
    );
    let res = subscribe(&platform, req).expect("recovered");
    let body = std::str::from_utf8(res.body()).expect("utf-8");
    assert!(!body.contains("stream-open"), "{body}");
    assert_eq!(events(&res), 2);
    assert!(
        body.contains("data: m3\n") && body.contains("data: m4\n"),
        "{body}"
    );
    let id = EventId::single_history("t", ids[4]).to_string();
    assert!(body.contains(&format!("id: {id}\n")), "{body}");
    assert!(header(&res, "grip-channel").starts_with(&format!("t; prev-id={}", ids[4])));
    // A quiet recovery (nothing after the last id) goes back to the usual timeout.
    let mut req = request("/events/link/g?topic=t", &["t"], true);
    req.headers_mut().insert(
        "grip-last",
        HeaderValue::try_from(format!("t; last-id={}", ids[4])).expect("ascii"),
    );
    let res = subscribe(&platform, req).expect("quiet");
    assert_eq!(events(&res), 0);
    assert!(header(&res, "grip-link").ends_with("timeout=3600"));
}

#[test]
fn a_fresh_stream_names_its_start_and_holds_without_prev_ids() {
    let (platform, _) = platform();
    let res = subscribe(&platform, request("/events", &["t", "other/+"], false)).expect("held");
    let body = std::str::from_utf8(res.body()).expect("utf-8");
    let id = body
        .strip_prefix("id: ")
        .and_then(|rest| rest.split_once('\n'))
        .map(|(id, _)| EventId::parse(id).expect("an event id"));
    let Some(id) = id else { panic!("{body}") };
    let start = id.history("t").expect("the topic is named");
    assert!(start.is_time_position());
    assert!(id.history("other/+").is_some(), "the filter is named too");
    assert!(!header(&res, "grip-channel").contains("prev-id"));
}
