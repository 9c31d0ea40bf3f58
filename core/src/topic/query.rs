//! Topic names: validation and reading them from a query string. Their Fanout channels
//! are named in [`crate::channel`].
//!
//! A topic is non-empty UTF-8 of at most [`MAX_TOPIC_BYTES`] bytes without control
//! characters and without the MQTT wildcards `+` and `#` [MQTT-4.7.0-1] (the original app
//! accepted them in topic names). A subscription names topics or, with a wildcard, topic
//! filters ([`validate_subscription`], see [`crate::wildcard`]).

pub use pubsub_config::MAX_TOPIC_BYTES;

use crate::{channel, filter, wildcard, Error};

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
    if filter::has_wildcards(topic) {
        return Err(Error::BadRequest(format!(
            "topic {topic:?} contains `+` or `#`: topic names cannot contain the MQTT \
             wildcards"
        )));
    }
    Ok(())
}

/// Checks one topic a client subscribes to: a topic name, or a topic filter with a
/// wildcard of at most `max_levels` levels (`wildcard-max-levels`).
pub fn validate_subscription(topic: &str, max_levels: usize) -> Result<(), Error> {
    if filter::has_wildcards(topic) {
        return wildcard::check_subscription(topic, max_levels)
            .map_err(|why| Error::BadRequest(format!("topic filter {topic:?}: {why}")));
    }
    validate(topic)
}

/// Decodes the `topic` parameters of a query string, in order, each validated, at least
/// one and at most `max`; repeated topics are kept once.
pub fn from_query(query: Option<&str>, max: usize) -> Result<Vec<String>, Error> {
    read_query(query, max, validate)
}

/// [`from_query`] for a subscription: each topic checked by [`validate_subscription`].
pub fn subscriptions_from_query(
    query: Option<&str>,
    max: usize,
    max_levels: usize,
) -> Result<Vec<String>, Error> {
    read_query(query, max, |t| validate_subscription(t, max_levels))
}

fn read_query(
    query: Option<&str>,
    max: usize,
    validate: impl Fn(&str) -> Result<(), Error>,
) -> Result<Vec<String>, Error> {
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
    unescape(s)
}

fn unescape(s: &str) -> Option<String> {
    if !(s.contains('%') || s.contains('+')) {
        return Some(s.to_owned());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match (channel::hex(bytes[i + 1]), channel::hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
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
    fn a_wildcard_is_refused_in_a_topic_name_and_makes_a_subscription_a_filter() {
        for topic in ["a/+", "#", "a/#", "a+b", "x#"] {
            let err = validate(topic).expect_err(topic);
            assert_eq!(err.status().as_u16(), 400);
            assert!(err.to_string().contains("cannot contain"), "{err}");
        }
        for (topic, max_levels, outcome) in [
            ("a/+", 6, Ok(())),
            ("#", 1, Ok(())),
            ("a/b/#", 3, Ok(())),
            ("a/b/#", 2, Err("at most 2 levels; this one has 3")),
            ("a+b", 6, Err("`+` must be a whole level")),
            ("x#", 6, Err("`#` must be a whole level")),
            ("a/+", 0, Err("turned off")),
        ] {
            let got = validate_subscription(topic, max_levels).map_err(|e| e.to_string());
            match (got, outcome) {
                (Ok(()), Ok(())) => {}
                (Err(err), Err(needle)) => assert!(err.contains(needle), "{topic}: {err}"),
                (got, want) => panic!("{topic} at {max_levels}: {got:?}, want {want:?}"),
            }
        }
        let query = Some("topic=a&topic=b%2F%23");
        let err = from_query(query, 9).expect_err("wildcard");
        assert!(err.to_string().contains("cannot contain"), "{err}");
        assert_eq!(
            subscriptions_from_query(query, 9, 6).ok(),
            Some(vec!["a".into(), "b/#".into()])
        );
        assert!(validate_subscription("", 6).is_err());
    }

    #[test]
    fn a_topic_of_256_bytes_is_accepted() {
        assert!(validate(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn percent_decoding_keeps_a_lone_percent() {
        assert_eq!(percent_decode("50%").as_deref(), Some("50%"));
        assert_eq!(percent_decode("%4").as_deref(), Some("%4"));
        assert_eq!(percent_decode("%41%42").as_deref(), Some("AB"));
    }
}
