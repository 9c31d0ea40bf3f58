//! `GET /events?topic=…`: subscribe with Server-Sent Events.
//!
//! Runs after the route's layers: the request came through Fanout (`Grip-Sig` verified)
//! and the token may read every topic ([`Topics`] is set). The answer is a GRIP stream
//! hold: Fanout keeps the connection open, subscribes it to one channel per topic and
//! sends a `keep-alive` event every [`KEEP_ALIVE_SECS`] seconds of silence. The body is the
//! first event of the stream, `stream-open`.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

use pubsub_middleware::acl::Topics;
use pubsub_middleware::{topics, Request, Response, Result};

/// Seconds of silence after which Fanout sends a `keep-alive` event.
pub const KEEP_ALIVE_SECS: u32 = 55;

/// The `Grip-Keep-Alive` value: the event, escaped as a C string, and its interval.
const KEEP_ALIVE: &str = "event: keep-alive\\ndata: \\n\\n; format=cstring; timeout=55";

/// The first event of every stream.
pub const STREAM_OPEN: &str = "event: stream-open\ndata: \n\n";

/// Answers a verified, authorised subscribe with the GRIP stream hold.
pub fn subscribe(req: Request) -> Result {
    let Topics(topics) = req
        .extensions()
        .get::<Topics>()
        .expect("Acl runs before sse::subscribe");
    let mut channels = String::new();
    for topic in topics {
        if !channels.is_empty() {
            channels.push_str(", ");
        }
        channels.push_str(&topics::channel(topic));
    }
    let mut res = Response::new(STREAM_OPEN.as_bytes().to_vec());
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("grip-hold", HeaderValue::from_static("stream"));
    h.insert(
        "grip-channel",
        HeaderValue::try_from(channels)
            .map_err(|e| pubsub_middleware::Error::Internal(format!("channel header: {e}")))?,
    );
    h.insert("grip-keep-alive", HeaderValue::from_static(KEEP_ALIVE));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn a_subscribe_holds_a_stream_on_one_channel_per_topic() {
        let res = subscribe(with_topics(get("/events"), &["a", "b,c"])).expect("held");
        assert_eq!(res.headers()["grip-hold"], "stream");
        assert_eq!(res.headers()["grip-channel"], "a, b%2Cc");
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert!(res.headers()["grip-keep-alive"]
            .to_str()
            .is_ok_and(|v| v.ends_with("timeout=55")));
        assert_eq!(res.body(), STREAM_OPEN.as_bytes());
    }
}
