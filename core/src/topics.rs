//! Topic names: validation, reading them from a query string, and mapping them to Fanout
//! channel names.
//!
//! A topic is non-empty UTF-8 of at most [`MAX_TOPIC_BYTES`] bytes without control
//! characters. The channel of a topic is the topic itself when it only holds characters
//! that are safe in a `Grip-Channel` header; any other byte is percent-encoded, so the
//! mapping is one-to-one (`%` itself is always encoded).

use std::borrow::Cow;

pub use pubsub_config::MAX_TOPIC_BYTES;

use crate::Error;

/// Checks one topic name.
pub fn validate(topic: &str) -> Result<(), Error> {
    if topic.is_empty() {
        return Err(Error::BadRequest("topic must not be empty".into()));
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Err(Error::BadRequest(format!(
            "topic is {} bytes long; the limit is {MAX_TOPIC_BYTES}",
            topic.len()
        )));
    }
    if topic.chars().any(char::is_control) {
        return Err(Error::BadRequest(
            "topic must not contain control characters".into(),
        ));
    }
    Ok(())
}

/// Decodes the `topic` parameters of a query string, in order, each validated, at least
/// one and at most `max`; repeated topics are kept once.
pub fn from_query(query: Option<&str>, max: usize) -> Result<Vec<String>, Error> {
    let mut topics: Vec<String> = Vec::new();
    for value in query_values(query, "topic") {
        let topic = value?;
        validate(&topic)?;
        if !topics.contains(&topic) {
            if topics.len() == max {
                return Err(Error::BadRequest(format!(
                    "too many topics; at most {max} per request"
                )));
            }
            topics.push(topic);
        }
    }
    if topics.is_empty() {
        return Err(Error::BadRequest("missing `topic` query parameter".into()));
    }
    Ok(topics)
}

/// The Fanout channel that carries `topic`.
pub fn channel(topic: &str) -> Cow<'_, str> {
    if topic.bytes().all(is_safe) {
        return Cow::Borrowed(topic);
    }
    let mut out = String::with_capacity(topic.len() + 16);
    for b in topic.bytes() {
        if is_safe(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    Cow::Owned(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~/:@!$&'()*+".contains(&b)
}

/// Every value of query parameter `name`, percent-decoded (`+` is a space) as UTF-8.
pub fn query_values<'a>(
    query: Option<&'a str>,
    name: &'a str,
) -> impl Iterator<Item = Result<String, Error>> + 'a {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(move |pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (k == name).then_some(v)
        })
        .map(move |v| {
            percent_decode(v).ok_or_else(|| {
                Error::BadRequest(format!("query parameter `{name}` is not valid UTF-8"))
            })
        })
}

/// The first value of query parameter `name`, if present.
pub fn query_value(query: Option<&str>, name: &str) -> Result<Option<String>, Error> {
    query_values(query, name).next().transpose()
}

/// Percent-decodes a query component; `None` if the bytes are not UTF-8. A `%` not
/// followed by two hex digits is kept as is.
pub fn percent_decode(s: &str) -> Option<String> {
    unescape(s, true)
}

/// The topic whose [`channel`] is `channel` (the inverse of [`channel`]).
pub fn topic_of_channel(channel: &str) -> Option<String> {
    unescape(channel, false)
}

fn unescape(s: &str, plus_is_space: bool) -> Option<String> {
    if !(s.contains('%') || plus_is_space && s.contains('+')) {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_decoded_and_deduplicated() {
        let t = from_query(Some("topic=a&x=1&topic=b%20c&topic=a&topic=d+e"), 10)
            .expect("valid topics");
        assert_eq!(t, ["a", "b c", "d e"]);
    }

    #[test]
    fn bad_topic_lists_are_refused_with_a_reason() {
        let long = format!("topic={}", "x".repeat(257));
        let cases: [(&str, usize, &str); 6] = [
            ("", 10, "missing"),
            ("topic=", 10, "empty"),
            ("topic=a&topic=b&topic=c", 2, "too many"),
            ("topic=%FF", 10, "UTF-8"),
            ("topic=a%0Ab", 10, "control"),
            (&long, 10, "257 bytes"),
        ];
        for (query, max, needle) in cases {
            let err = from_query(Some(query), max).expect_err(query);
            assert!(err.to_string().contains(needle), "{query}: {err}");
        }
    }

    #[test]
    fn a_topic_of_256_bytes_is_accepted() {
        assert!(validate(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn safe_topics_are_their_own_channel_and_others_are_escaped_one_to_one() {
        assert!(matches!(
            channel("sensors/room-1"),
            Cow::Borrowed("sensors/room-1")
        ));
        assert_eq!(channel("a,b; c"), "a%2Cb%3B%20c");
        assert_eq!(channel("100%"), "100%25");
        assert_ne!(channel("a%2C"), channel("a,"));
        assert_eq!(channel("é"), "%C3%A9");
    }

    #[test]
    fn a_channel_maps_back_to_its_topic() {
        for topic in ["plain", "a+b", "a,b; c", "100%", "é/ü", "%2C"] {
            assert_eq!(topic_of_channel(&channel(topic)).as_deref(), Some(topic));
        }
    }

    #[test]
    fn percent_decoding_keeps_a_lone_percent() {
        assert_eq!(percent_decode("50%").as_deref(), Some("50%"));
        assert_eq!(percent_decode("%4").as_deref(), Some("%4"));
        assert_eq!(percent_decode("%41%42").as_deref(), Some("AB"));
    }
}
