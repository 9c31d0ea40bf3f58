//! `POST /events?topic=…`: publish the request body to every subscriber of the topics.
//!
//! Runs after the route's layers: the token may write every topic ([`Topics`] is set).
//! The body is the message, any bytes, at most `max-message-bytes` (413 beyond). One GRIP
//! publish request carries the message for every topic, rendered for SSE and MQTT
//! subscribers (see [`pubsub_core::publish`], which also decides every outcome below; this
//! handler parses the query and maps them). Answers 200 once the publish API accepted it,
//! 502 with the reason when it did not.
//!
//! Retained messages: with `retain=true` the message first becomes each topic's retained
//! message (KV store `messages`, see [`pubsub_core::retained`]); an empty body clears it. `ttl=<seconds>`
//! (a positive integer, only with `retain=true`) limits how long it stays deliverable to
//! later subscribers. The live delivery goes to every current subscriber as usual, the SSE
//! event carrying an `id:` and the GRIP `id`/`prev-id` of the topic's version sequence.
//! - A bad `retain` or `ttl` is a 400 that says why.
//! - A failed store write is a 503 and nothing is published (topics stored before the
//!   failing one keep their new message; durable subscribers pick it up when they recover).
//! - A store write refused for rate (Fastly KV: one write per second per key, so one
//!   retained publish per second per topic) is a 429 with `Retry-After: 1`, and likewise
//!   nothing is published.
//! - A failed publish after the store is a 502 that says the message was stored but not
//!   delivered live; durable subscribers still converge on it through GRIP recovery.
//! - Success answers with a `Pubsub-Version` header: the new version of each topic, in
//!   the order of the `topic` parameters, comma-separated.
//!
//! History: when a topic keeps history (Config Store key `history`), the message is also
//! appended to it before anything is published (a failed append is a 503 and nothing is
//! published), and success answers with a `Pubsub-History-Id` header: the message's id,
//! the same in every topic of the request that keeps history.

use http::header::{HeaderValue, CONTENT_TYPE};

use pubsub_core::extensions::{required, Topics};
use pubsub_core::ports::Platform;
use pubsub_core::publish::{self as publishing, Publication};
use pubsub_core::topic::query::query_value;
use pubsub_core::{Config, Error, Request, Response, Result};

/// The response header listing the versions a retained publish stored.
pub const VERSION_HEADER: &str = "pubsub-version";

/// The response header naming the message's id in its topics' history.
pub const HISTORY_ID_HEADER: &str = "pubsub-history-id";

/// What the query asks of a publish besides its topics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublishOptions {
    /// `retain=true`: store as the topics' retained message.
    pub retain: bool,
    /// `ttl=<seconds>`: how long the retained message stays deliverable.
    pub ttl_secs: Option<u32>,
}

impl PublishOptions {
    /// Reads `retain` and `ttl` from a query string.
    pub fn from_query(query: Option<&str>) -> Result<Self, Error> {
        let retain = match query_value(query, "retain")?.as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(Error::BadRequest(format!(
                    "`retain` must be `true` or `false`, not {other:?}"
                )))
            }
        };
        let ttl_secs = match query_value(query, "ttl")? {
            None => None,
            Some(ttl) => {
                let secs = ttl
                    .parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0 && ttl.bytes().all(|b| b.is_ascii_digit()));
                match secs {
                    Some(secs) => Some(secs),
                    None => {
                        return Err(Error::BadRequest(format!(
                            "`ttl` must be a number of seconds from 1 to {}, not {ttl:?}",
                            u32::MAX
                        )))
                    }
                }
            }
        };
        if ttl_secs.is_some() && !retain {
            return Err(Error::BadRequest(
                "`ttl` applies to retained messages only: add `retain=true`".into(),
            ));
        }
        Ok(Self { retain, ttl_secs })
    }
}

/// Publishes the body of `req` through `platform`'s publisher.
pub fn publish(platform: &Platform, req: Request) -> Result {
    let config = required::<Config>(&req)?;
    let payload = req.body();
    if payload.len() > config.max_message_bytes {
        return Err(Error::PayloadTooLarge(config.max_message_bytes));
    }
    let Topics(topics) = required::<Topics>(&req)?;
    let options = PublishOptions::from_query(req.uri().query())?;
    let publication = Publication {
        topics,
        payload,
        retain: options.retain,
        ttl_secs: options.ttl_secs,
        mqtt: None,
        sender: None,
    };
    let published = publishing::publish(platform, config, &publication)?;
    let mut res = published_response();
    if options.retain {
        res.headers_mut().insert(
            VERSION_HEADER,
            HeaderValue::try_from(published.versions())
                .map_err(|e| Error::Internal(format!("version header: {e}")))?,
        );
    }
    if let Some(id) = published.history_id() {
        res.headers_mut().insert(
            HISTORY_ID_HEADER,
            HeaderValue::try_from(id.to_string())
                .map_err(|e| Error::Internal(format!("history id header: {e}")))?,
        );
    }
    Ok(res)
}

fn published_response() -> Response {
    let mut res = Response::new(b"Published\n".to_vec());
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

#[cfg(test)]
mod tests {
    use pubsub_core::retained;

    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn a_publish_sends_one_item_per_topic() {
        let (platform, publisher) = platform();
        let req = with_topics(post("/events", b"hello"), &["a", "b"]);
        let res = publish(&platform, req).expect("published");
        assert_eq!(res.status(), 200);
        let items = publisher.items();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["items"][3]["channel"], "b");
        assert_eq!(items[0]["items"][4]["channel"], "v4#b");
        assert_eq!(items[0]["items"][5]["channel"], "a#b");
        assert_eq!(
            items[0]["items"][0]["formats"]["http-stream"]["content"],
            "event: message\ndata: hello\n\n"
        );
    }

    #[test]
    fn a_publish_to_a_history_topic_names_its_history_id() {
        let (platform, _) = platform();
        let mut config = pubsub_core::Config::default();
        config.history = pubsub_core::config::HistoryRules::parse("h/# 10 1h").expect("rules");
        let send = |topics: &[&str]| {
            let mut req = with_topics(post("/events", b"x"), topics);
            req.extensions_mut().insert(config.clone());
            publish(&platform, req).expect("published")
        };
        let res = send(&["a", "h/1"]);
        let id = res.headers()[HISTORY_ID_HEADER].to_str().expect("ascii");
        assert!(
            id.parse::<pubsub_core::history::HistoryId>().is_ok(),
            "{id}"
        );
        assert!(!send(&["a"]).headers().contains_key(HISTORY_ID_HEADER));
    }

    #[test]
    fn a_message_over_the_limit_is_413_and_not_published() {
        let (platform, publisher) = platform();
        let body = vec![b'x'; 32_513];
        let err =
            publish(&platform, with_topics(post("/events", &body), &["a"])).expect_err("too large");
        assert_eq!(err.status(), 413);
        assert!(publisher.items().is_empty());
        let ok = vec![b'x'; 32_512];
        assert!(publish(&platform, with_topics(post("/events", &ok), &["a"])).is_ok());
    }

    #[test]
    fn a_failed_publish_is_a_502_with_the_reason() {
        let (platform, publisher) = platform();
        *publisher.fail.lock().expect("lock") = Some("connection refused".into());
        let err = publish(&platform, with_topics(post("/events", b"x"), &["a"]))
            .expect_err("publish failed");
        assert_eq!(err.status(), 502);
        assert!(err.to_string().contains("connection refused"));
    }

    #[test]
    fn retain_and_ttl_are_validated_with_a_reason() {
        let cases: [(&str, &str); 7] = [
            ("retain=yes", "`retain` must be"),
            ("retain=true&ttl=0", "`ttl` must be"),
            ("retain=true&ttl=-5", "`ttl` must be"),
            ("retain=true&ttl=1.5", "`ttl` must be"),
            ("retain=true&ttl=+5", "`ttl` must be"),
            ("retain=true&ttl=4294967296", "`ttl` must be"),
            ("ttl=5", "add `retain=true`"),
        ];
        for (query, needle) in cases {
            let (platform, publisher) = platform();
            let req = with_topics(post(&format!("/events?topic=a&{query}"), b"x"), &["a"]);
            let err = publish(&platform, req).expect_err(query);
            assert_eq!(err.status(), 400, "{query}");
            assert!(err.to_string().contains(needle), "{query}: {err}");
            assert!(publisher.items().is_empty());
        }
        let ok = PublishOptions::from_query(Some("retain=true&ttl=4294967295")).expect("max ttl");
        assert_eq!(ok.ttl_secs, Some(u32::MAX));
    }

    #[test]
    fn a_retained_publish_is_stored_then_published_in_sequence() {
        let (platform, publisher) = platform();
        let first = publish(
            &platform,
            with_topics(post("/events?topic=a&retain=true", b"one"), &["a"]),
        )
        .expect("published");
        let second = publish(
            &platform,
            with_topics(post("/events?topic=a&retain=true&ttl=60", b"two"), &["a"]),
        )
        .expect("published");
        let v1 = first.headers()[VERSION_HEADER]
            .to_str()
            .expect("ascii")
            .to_owned();
        let v2 = second.headers()[VERSION_HEADER]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(v1 < v2, "{v1} < {v2}");
        let items = publisher.items();
        let sse = &items[1]["items"][0];
        assert_eq!(sse["channel"], "r#a");
        assert_eq!(sse["id"], v2);
        assert_eq!(sse["prev-id"], v1);
        assert_eq!(
            items[0]["items"][0]["prev-id"],
            retained::Version::ZERO.to_string()
        );
        let stored = retained::load(&*platform.kv, platform.env.now(), "a")
            .expect("read")
            .expect("present");
        assert_eq!(stored.payload, b"two");
        assert_eq!(stored.version.to_string(), v2);
        assert_eq!(stored.remaining_secs(platform.env.now()), Some(60));
    }

    #[test]
    fn a_retained_publish_to_several_topics_reports_each_version() {
        let (platform, publisher) = platform();
        let req = with_topics(post("/events?retain=true", b"x"), &["a", "b"]);
        let res = publish(&platform, req).expect("published");
        let versions = res.headers()[VERSION_HEADER].to_str().expect("ascii");
        assert_eq!(versions.split(',').count(), 2);
        assert_eq!(
            publisher.items()[0]["items"].as_array().map(Vec::len),
            Some(8)
        );
    }

    #[test]
    fn an_empty_retained_publish_clears_the_message_and_is_delivered() {
        let (platform, publisher) = platform();
        let post_retained = |body: &[u8]| {
            publish(
                &platform,
                with_topics(post("/events?topic=a&retain=true", body), &["a"]),
            )
            .expect("published")
        };
        post_retained(b"x");
        post_retained(b"");
        assert_eq!(
            retained::load(&*platform.kv, platform.env.now(), "a").expect("read"),
            None
        );
        let items = publisher.items();
        let content = items[1]["items"][0]["formats"]["http-stream"]["content"]
            .as_str()
            .expect("content");
        assert!(content.ends_with("event: message\ndata: \n\n"), "{content}");
    }

    #[test]
    fn a_publish_also_reaches_every_matching_filter_and_an_oversized_fan_out_stores_nothing() {
        let (platform, publisher) = platform();
        let req = with_topics(post("/events?topic=a/b", b"hi"), &["a/b"]);
        publish(&platform, req).expect("published");
        let channels: Vec<String> = publisher
            .filter_items()
            .iter()
            .filter_map(|i| i["channel"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(
            channels.len(),
            2 * pubsub_core::topic::wildcard::count(2, 6)
        );
        assert!(channels.iter().any(|c| c == "f#a/+"), "{channels:?}");

        let (platform, publisher) = crate::test_helpers::platform();
        let deep = "a/b/c/d/e/f";
        let uri = format!("/events?topic={deep}&retain=true");
        let req = with_topics(post(&uri, &[b'x'; 32_000]), &[deep]);
        let err = publish(&platform, req).expect_err("over the budget");
        assert_eq!(err.status(), 413);
        assert!(publisher.items().is_empty() && publisher.filter_items().is_empty());
        let slot = retained::read(&*platform.kv, 0, deep).expect("read");
        assert!(slot.message.is_none(), "nothing stored");
    }

    #[test]
    fn a_store_failure_is_a_503_and_nothing_is_published() {
        let (platform, publisher) = platform();
        let kv = std::sync::Arc::new(pubsub_core::ports::memory::MemoryKv::default());
        kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
        let platform = Platform { kv, ..platform };
        let req = with_topics(post("/events?topic=a&retain=true", b"x"), &["a"]);
        assert_eq!(
            publish(&platform, req).expect_err("store down").status(),
            503
        );
        assert!(publisher.items().is_empty());
    }

    #[test]
    fn a_second_retained_write_within_a_second_is_a_429_and_publishes_nothing() {
        let ports = pubsub_core::ports::memory::InMemory::new().with_kv_write_limit();
        let retain = |body: &[u8]| {
            let req = with_topics(post("/events?topic=a&retain=true", body), &["a"]);
            publish(&ports.platform, req)
        };
        retain(b"first").expect("published");
        let err = retain(b"second").expect_err("rate limited");
        assert_eq!(err.status(), 429);
        assert!(matches!(
            err,
            Error::RateLimited {
                retry_after_secs: 1,
                ..
            }
        ));
        assert_eq!(ports.publisher.items().len(), 1, "nothing more published");
        let now = ports.platform.env.now();
        let kept = retained::load(&*ports.platform.kv, now, "a").expect("read");
        assert_eq!(kept.map(|m| m.payload), Some(b"first".to_vec()));
        // Live (non-retained) publishes never write the store.
        let live = with_topics(post("/events?topic=a", b"live"), &["a"]);
        assert!(publish(&ports.platform, live).is_ok());
        ports
            .env
            .now
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        retain(b"second").expect("a second later");
        assert_eq!(ports.publisher.items().len(), 3);
    }

    #[test]
    fn a_publish_failure_after_the_store_is_a_502_saying_it_was_stored() {
        let (platform, publisher) = platform();
        *publisher.fail.lock().expect("lock") = Some("connection refused".into());
        let req = with_topics(post("/events?topic=a&retain=true", b"x"), &["a"]);
        let err = publish(&platform, req).expect_err("not delivered");
        assert_eq!(err.status(), 502);
        let text = err.to_string();
        assert!(
            text.contains("stored") && text.contains("not delivered live"),
            "{text}"
        );
        assert!(retained::load(&*platform.kv, platform.env.now(), "a")
            .expect("read")
            .is_some());
    }
}
