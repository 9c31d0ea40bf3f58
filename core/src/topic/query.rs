//! Reading `topic` parameters (and other values) from a query string, each percent-decoded
//! (`+` is a space) as UTF-8 and parsed once: topic names for a publish ([`topics`]),
//! selectors for a subscribe ([`selectors`]). At least one topic, at most `max` distinct
//! ones (a repeated topic is kept once, in first-seen order); each refusal is a 400 that
//! says why, with the same text whichever parameter is at fault.

use super::name::TopicName;
use super::selector::Selector;
use crate::Error;

/// The `topic` parameters of a query string as topic names, in order.
pub fn topics(query: Option<&str>, max: usize) -> Result<Vec<TopicName>, Error> {
    read_topics(query, max, |t| Ok(TopicName::from_string(t)?))
}

/// The `topic` parameters of a query string as subscriptions ([`Selector::subscription`],
/// filters of at most `max_levels` levels), in order.
pub fn selectors(
    query: Option<&str>,
    max: usize,
    max_levels: usize,
) -> Result<Vec<Selector>, Error> {
    read_topics(query, max, |t| Ok(Selector::subscription(t, max_levels)?))
}

fn read_topics<T: AsRef<str>>(
    query: Option<&str>,
    max: usize,
    parse: impl Fn(String) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let mut topics: Vec<T> = Vec::new();
    for value in query_values(query, "topic") {
        let topic = parse(value?)?;
        if !topics.iter().any(|t| t.as_ref() == topic.as_ref()) {
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

/// The value of ASCII hex digit `b`.
pub(crate) fn hex(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_read_decoded_and_deduplicated() {
        let t =
            topics(Some("topic=a&x=1&topic=b%20c&topic=a&topic=d+e"), 10).expect("valid topics");
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
            let err = topics(Some(query), max).expect_err(query);
            assert!(err.to_string().contains(needle), "{query}: {err}");
            let err = selectors(Some(query), max, 6).expect_err(query);
            assert!(err.to_string().contains(needle), "{query}: {err}");
        }
    }

    #[test]
    fn a_wildcard_is_refused_in_a_published_topic_and_read_as_a_filter_when_subscribing() {
        let query = Some("topic=a&topic=b%2F%23");
        let err = topics(query, 9).expect_err("wildcard");
        assert!(err.to_string().contains("cannot contain"), "{err}");
        assert_eq!(err.status().as_u16(), 400);
        let got = selectors(query, 9, 6).expect("a name and a filter");
        assert!(matches!(&got[..], [Selector::Name(a), Selector::Filter(f)]
            if a == "a" && f.as_str() == "b/#"));
        let err = selectors(Some("topic=a/b/%23"), 9, 2).expect_err("too deep");
        assert!(
            err.to_string().contains(
                "topic filter \"a/b/#\": a wildcard topic filter may \
             have at most 2 levels; this one has 3"
            ),
            "{err}"
        );
    }

    #[test]
    fn percent_decoding_keeps_a_lone_percent() {
        assert_eq!(percent_decode("50%").as_deref(), Some("50%"));
        assert_eq!(percent_decode("%4").as_deref(), Some("%4"));
        assert_eq!(percent_decode("%41%42").as_deref(), Some("AB"));
    }
}
