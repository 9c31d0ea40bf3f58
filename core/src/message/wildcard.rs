//! The publish requests that carry messages to wildcard subscribers: per message, one item
//! on the [`Feed::Filter`](crate::audience::Feed::Filter) channel (the SSE event with its topic, and the MQTT 5 PUBLISH)
//! and one on the [`Feed::Filter311`](crate::audience::Feed::Filter311) channel (the MQTT 3.1.1 PUBLISH) of every filter that
//! matches its topic ([`wildcard::filters_matching`]).
//!
//! Every such item of a message carries the same formats, so they are rendered and
//! JSON-escaped once per message and copied into each item. Items are packed into
//! requests of at most [`REQUEST_BYTES`] (Fanout's limit on a publish request body), and
//! one publish may send at most [`BUDGET_BYTES`] in all: a message whose wildcard
//! delivery would need more is refused before anything is stored or published
//! ([`Error::FanoutTooLarge`]).
//!
//! An SSE subscriber of a filter must be able to tell each message's topic, so its events
//! carry a JSON object as their one `data:` line: `{"topic":"a/b","data":"<text>"}` under
//! `event: message`, or `{"topic":"a/b","data":"<base64>"}` under `event: message-base64`
//! for a payload that is not UTF-8. (Subscribers of exact topics keep the plain events.)

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::Serialize;

use super::publish::Outgoing;
use crate::audience::Rendering;
use crate::ports::Publisher;
use crate::topic::wildcard;
use crate::Config;
use crate::Error;

/// The largest publish request body: Fanout refuses a bigger one.
pub const REQUEST_BYTES: usize = 1_000_000;

/// The most bytes of wildcard items one publish may send (four full requests).
pub const BUDGET_BYTES: usize = 4 * REQUEST_BYTES;

/// The SSE event of a message for the subscribers of a filter.
pub fn filter_sse_event(topic: &str, payload: &[u8]) -> String {
    #[derive(Serialize)]
    struct Envelope<'a> {
        topic: &'a str,
        data: &'a str,
    }
    let (event, encoded);
    let data = match std::str::from_utf8(payload) {
        Ok(text) => {
            event = "message";
            text
        }
        Err(_) => {
            event = "message-base64";
            encoded = BASE64.encode(payload);
            &encoded
        }
    };
    let json = serde_json::to_string(&Envelope { topic, data }).unwrap_or_default();
    format!("event: {event}\ndata: {json}\n\n")
}

/// The publish request bodies that carry `messages` to the wildcard subscribers of their
/// topics, filters of at most `max_levels` levels; none when `max_levels` is 0.
pub fn wildcard_bodies(
    messages: &[Outgoing<'_>],
    max_levels: usize,
) -> Result<Vec<Vec<u8>>, Error> {
    let mut bodies = Bodies::default();
    if max_levels == 0 {
        return Ok(bodies.done());
    }
    for m in messages {
        let sender = m
            .sender
            .map(|s| format!(",\"meta\":{{\"sender\":{}}}", json_string(s)))
            .unwrap_or_default();
        let v5 = format!(
            "{sender},\"formats\":{{\"http-stream\":{{\"content\":{}}},\"ws-message\":{{\"content-bin\":\"{}\"}}}}}}",
            json_string(&filter_sse_event(m.topic, m.payload)),
            BASE64.encode(&m.mqtt_v5)
        );
        let v311 = format!(
            "{sender},\"formats\":{{\"ws-message\":{{\"content-bin\":\"{}\"}}}}}}",
            BASE64.encode(&m.mqtt_v311)
        );
        let mut result = Ok(());
        wildcard::filters_matching(m.topic, max_levels, |filter| {
            if result.is_ok() {
                result = bodies
                    .push(&Rendering::FilterEvent.channel(filter), &v5)
                    .and_then(|()| bodies.push(&Rendering::Filter311.channel(filter), &v311));
            }
        });
        result.map_err(|sent| Error::FanoutTooLarge {
            topic: m.topic.to_owned(),
            filters: wildcard::count(m.topic.split('/').count(), max_levels),
            bytes: sent,
        })?;
    }
    Ok(bodies.done())
}

/// Publishes `first` (the items of the messages' own channels), then the wildcard
/// `bodies`, packing them into as few requests as [`REQUEST_BYTES`] allows (each request
/// to the publish API is a backend round trip, the largest cost of a small publish);
/// `Err` carries a one-line reason, saying when the message reached its topic's
/// subscribers but not every wildcard subscription.
pub fn publish_all(
    publisher: &dyn Publisher,
    config: &Config,
    first: Vec<u8>,
    bodies: Vec<Vec<u8>>,
) -> Result<(), String> {
    let mut current = first;
    let mut sent_first = false;
    for body in bodies {
        match join(&mut current, &body) {
            true => continue,
            false => {
                let full = std::mem::replace(&mut current, body);
                send(publisher, config, full, sent_first)?;
                sent_first = true;
            }
        }
    }
    send(publisher, config, current, sent_first)
}

fn send(
    publisher: &dyn Publisher,
    config: &Config,
    body: Vec<u8>,
    after_first: bool,
) -> Result<(), String> {
    publisher
        .publish(config, body)
        .map_err(|why| match after_first {
            false => why,
            true => format!(
            "delivered to the topic's subscribers but not to every wildcard subscription: {why}"
        ),
        })
}

/// Appends the items of publish request `more` to `body` when the result stays within
/// [`REQUEST_BYTES`]; `false` (and `body` unchanged) otherwise.
fn join(body: &mut Vec<u8>, more: &[u8]) -> bool {
    const HEAD: &[u8] = b"{\"items\":[";
    const TAIL: &[u8] = b"]}";
    let shaped =
        |b: &[u8]| b.starts_with(HEAD) && b.ends_with(TAIL) && b.len() > HEAD.len() + TAIL.len();
    // The joined request: `body` without its tail, a comma, `more` without its head.
    if !shaped(body) || !shaped(more) || body.len() + more.len() - HEAD.len() >= REQUEST_BYTES {
        return false;
    }
    body.truncate(body.len() - TAIL.len());
    body.push(b',');
    body.extend_from_slice(&more[HEAD.len()..]);
    true
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Publish request bodies being filled.
#[derive(Default)]
struct Bodies {
    done: Vec<Vec<u8>>,
    current: Vec<u8>,
    total: usize,
}

impl Bodies {
    /// Appends the item `{"channel":"<channel>"<rest>` (`rest` closes it); `Err` with the
    /// bytes it would have taken when that goes over [`BUDGET_BYTES`]. A channel name holds
    /// only bytes that need no JSON escaping (see `crate::audience::feed`: quotes, backslashes and
    /// control characters are percent-encoded), so it is copied as it is.
    fn push(&mut self, channel: &str, rest: &str) -> Result<(), usize> {
        const HEAD: &[u8] = b"{\"channel\":\"";
        let len = HEAD.len() + channel.len() + 1 + rest.len() + 1;
        if self.total + len > BUDGET_BYTES {
            return Err(self.total + len);
        }
        if !self.current.is_empty() && self.current.len() + len + 2 > REQUEST_BYTES {
            self.finish();
        }
        self.current.extend_from_slice(if self.current.is_empty() {
            b"{\"items\":["
        } else {
            b","
        });
        self.current.extend_from_slice(HEAD);
        self.current.extend_from_slice(channel.as_bytes());
        self.current.push(b'"');
        self.current.extend_from_slice(rest.as_bytes());
        self.total += len;
        Ok(())
    }

    fn finish(&mut self) {
        if !self.current.is_empty() {
            self.current.extend_from_slice(b"]}");
            self.done.push(std::mem::take(&mut self.current));
        }
    }

    fn done(mut self) -> Vec<Vec<u8>> {
        self.finish();
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<'a>(topic: &'a str, payload: &'a [u8], sender: Option<&'a str>) -> Outgoing<'a> {
        Outgoing {
            topic,
            payload,
            mqtt_v5: b"five".to_vec(),
            mqtt_v311: b"three".to_vec(),
            sender,
        }
    }

    fn items(bodies: &[Vec<u8>]) -> Vec<serde_json::Value> {
        bodies
            .iter()
            .flat_map(|b| {
                let v: serde_json::Value = serde_json::from_slice(b).expect("json body");
                v["items"].as_array().expect("items").clone()
            })
            .collect()
    }

    #[test]
    fn each_matching_filter_gets_an_sse_and_mqtt_5_item_and_an_mqtt_311_item() {
        let bodies =
            wildcard_bodies(&[message("a/b", b"hi\nthere", Some("c1"))], 6).expect("within budget");
        assert_eq!(bodies.len(), 1);
        let items = items(&bodies);
        // a/+, +/b, +/+, #, a/#, +/#, a/b/#, a/+/#, +/b/#, +/+/#: 10 filters, 2 items each.
        assert_eq!(items.len(), 20);
        let first = &items[0];
        assert_eq!(first["channel"], "f#+/b");
        assert_eq!(first["meta"]["sender"], "c1");
        assert_eq!(
            first["formats"]["http-stream"]["content"],
            "event: message\ndata: {\"topic\":\"a/b\",\"data\":\"hi\\nthere\"}\n\n"
        );
        assert_eq!(
            first["formats"]["ws-message"]["content-bin"],
            BASE64.encode("five")
        );
        assert_eq!(items[1]["channel"], "f4#+/b");
        assert!(items[1]["formats"].get("http-stream").is_none());
        assert_eq!(
            items[1]["formats"]["ws-message"]["content-bin"],
            BASE64.encode("three")
        );
        let channels: Vec<&str> = items.iter().filter_map(|i| i["channel"].as_str()).collect();
        assert!(channels.contains(&"f#%23") && channels.contains(&"f4#+/b/%23"));
    }

    #[test]
    fn wildcard_items_share_the_first_request_when_they_fit() {
        let publisher = crate::ports::memory::RecordingPublisher::default();
        let m = message("a/b", b"hi", None);
        let first = super::super::publish_body(std::slice::from_ref(&m));
        let bodies = wildcard_bodies(std::slice::from_ref(&m), 6).expect("fits");
        publish_all(&publisher, &Config::default(), first, bodies).expect("published");
        let sent = publisher.published.lock().expect("lock").clone();
        assert_eq!(sent.len(), 1, "one request");
        let v: serde_json::Value = serde_json::from_slice(&sent[0]).expect("json");
        assert_eq!(v["items"].as_array().expect("items").len(), 3 + 20);

        let publisher = crate::ports::memory::RecordingPublisher::default();
        let big = vec![b'x'; 30_000];
        let mut m = message("a/b/c", &big, None);
        m.mqtt_v5.clone_from(&big);
        m.mqtt_v311.clone_from(&big);
        let first = super::super::publish_body(std::slice::from_ref(&m));
        let bodies = wildcard_bodies(std::slice::from_ref(&m), 6).expect("fits");
        let n = bodies.len();
        publish_all(&publisher, &Config::default(), first, bodies).expect("published");
        let sent = publisher.published.lock().expect("lock").clone();
        assert!(sent.iter().all(|b| b.len() <= REQUEST_BYTES));
        assert!(
            sent.len() <= n + 1,
            "{} requests for {n} wildcard bodies",
            sent.len()
        );
        let items: usize = items(&sent).len();
        assert_eq!(items, 3 + 2 * wildcard::count(3, 6));
    }

    #[test]
    fn channels_of_topics_with_json_specials_stay_valid_json() {
        let bodies = wildcard_bodies(&[message("a\"b\\c/d", b"x", None)], 6).expect("fits");
        let channels: Vec<String> = items(&bodies)
            .iter()
            .filter_map(|i| i["channel"].as_str().map(str::to_owned))
            .collect();
        assert!(
            channels.contains(&"f#a%22b%5Cc/+".to_owned()),
            "{channels:?}"
        );
    }

    #[test]
    fn binary_payloads_travel_as_base64_with_their_topic() {
        assert_eq!(
            filter_sse_event("t", &[0xff, 0]),
            "event: message-base64\ndata: {\"topic\":\"t\",\"data\":\"/wA=\"}\n\n"
        );
    }

    #[test]
    fn items_are_split_into_requests_within_fanouts_limit_and_the_budget_is_kept() {
        let payload = vec![b'x'; 30_000];
        let mut m = message("a/b/c", &payload, None);
        m.mqtt_v5.clone_from(&payload);
        m.mqtt_v311.clone_from(&payload);
        let bodies = wildcard_bodies(&[m], 6).expect("fits");
        assert!(bodies.len() > 1, "{} requests", bodies.len());
        assert!(bodies.iter().all(|b| b.len() <= REQUEST_BYTES));
        assert_eq!(items(&bodies).len(), 2 * wildcard::count(3, 6));

        let big = vec![b'x'; 32_000];
        let mut m = message("a/b/c/d/e", &big, None);
        m.mqtt_v5.clone_from(&big);
        let err = wildcard_bodies(&[m], 6).expect_err("over");
        assert!(
            matches!(err, Error::FanoutTooLarge { filters: 94, .. }),
            "{err:?}"
        );
        assert!(wildcard_bodies(&[message("a/b/c/d/e", &big, None)], 0)
            .expect("off")
            .is_empty());
    }
}
