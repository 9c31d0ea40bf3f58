//! `POST /events?topic=…`: publish the request body to every subscriber of the topics.
//!
//! Runs after the route's layers: the token may write every topic ([`Topics`] is set).
//! The body is the message, any bytes, at most `max-message-bytes` (413 beyond). One GRIP
//! publish request carries one item per topic, each with the SSE and the MQTT rendering
//! (see [`message`](crate::message)). Answers 200 once the publish API accepted it, 502
//! with the reason when it did not.

use http::header::{HeaderValue, CONTENT_TYPE};

use pubsub_middleware::acl::Topics;
use pubsub_middleware::ports::Platform;
use pubsub_middleware::{Config, Error, Request, Response, Result};

use crate::message::{mqtt_publish_v311, mqtt_publish_v5, publish_body, Outgoing};

/// Publishes the body of `req` through `platform`'s publisher.
pub fn publish(platform: &Platform, req: Request) -> Result {
    let config = req
        .extensions()
        .get::<Config>()
        .expect("LoadConfig runs before publish");
    let payload = req.body();
    if payload.len() > config.max_message_bytes {
        return Err(Error::PayloadTooLarge(config.max_message_bytes));
    }
    let Topics(topics) = req
        .extensions()
        .get::<Topics>()
        .expect("Acl runs before publish");
    let messages: Vec<Outgoing<'_>> = topics
        .iter()
        .map(|topic| Outgoing {
            topic,
            payload,
            mqtt_v5: mqtt_publish_v5(topic, payload),
            mqtt_v311: mqtt_publish_v311(topic, payload),
            sender: None,
        })
        .collect();
    platform
        .publisher
        .publish(config, publish_body(&messages))
        .map_err(Error::PublishFailed)?;
    let mut res = Response::new(b"Published\n".to_vec());
    res.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
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
        assert_eq!(items[0]["items"][2]["channel"], "b");
        assert_eq!(items[0]["items"][3]["channel"], "v4#b");
        assert_eq!(
            items[0]["items"][0]["formats"]["http-stream"]["content"],
            "event: message\ndata: hello\n\n"
        );
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
}
