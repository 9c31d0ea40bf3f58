//! Topic names: what a message is published to.
//!
//! A topic name is non-empty UTF-8 of at most [`MAX_TOPIC_BYTES`] bytes without control
//! characters and without the MQTT wildcards `+` and `#` [MQTT-4.7.0-1] (the original app
//! accepted them in topic names). A [`TopicName`] is checked once, where the string enters
//! (a query string, an MQTT PUBLISH or Will, a token claim), and is a topic name from then
//! on; its Fanout channels are named in [`crate::audience`].

use std::fmt;
use std::ops::Deref;

pub use pubsub_config::MAX_TOPIC_BYTES;

/// A validated topic name (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicName(String);

/// Why a string is not a topic name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty.
    Empty,
    /// The name is this many bytes long, over [`MAX_TOPIC_BYTES`].
    TooLong(usize),
    /// The name contains a control character.
    ControlCharacter,
    /// The name (given) contains `+` or `#`.
    Wildcard(String),
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("topic must not be empty"),
            Self::TooLong(n) => {
                write!(f, "topic is {n} bytes long; the limit is {MAX_TOPIC_BYTES}")
            }
            Self::ControlCharacter => f.write_str("topic must not contain control characters"),
            Self::Wildcard(topic) => write!(
                f,
                "topic {topic:?} contains `+` or `#`: topic names cannot contain the MQTT \
                 wildcards"
            ),
        }
    }
}

impl std::error::Error for NameError {}

impl From<NameError> for crate::Error {
    fn from(e: NameError) -> Self {
        crate::Error::BadRequest(e.to_string())
    }
}

/// Whether `s` holds an MQTT wildcard character: the one test that tells a filter from a
/// name, asked only by the parsers of this module.
pub(crate) fn has_wildcards(s: &str) -> bool {
    s.contains(['+', '#'])
}

/// Checks that `topic` is a topic name without copying it.
pub fn check(topic: &str) -> Result<(), NameError> {
    if topic.is_empty() {
        return Err(NameError::Empty);
    }
    if topic.len() > MAX_TOPIC_BYTES {
        return Err(NameError::TooLong(topic.len()));
    }
    if topic.chars().any(char::is_control) {
        return Err(NameError::ControlCharacter);
    }
    if has_wildcards(topic) {
        return Err(NameError::Wildcard(topic.to_owned()));
    }
    Ok(())
}

impl TopicName {
    /// Validates `topic`.
    pub fn parse(topic: &str) -> Result<Self, NameError> {
        check(topic)?;
        Ok(Self(topic.to_owned()))
    }

    /// Validates `topic`, keeping its allocation.
    pub fn from_string(topic: String) -> Result<Self, NameError> {
        check(&topic)?;
        Ok(Self(topic))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for TopicName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for TopicName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TopicName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for TopicName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for TopicName {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_with_a_reason() {
        let long = "x".repeat(257);
        let cases: [(&str, &str); 4] = [
            ("", "empty"),
            ("a\nb", "control"),
            (&long, "257 bytes"),
            ("a/+", "cannot contain"),
        ];
        for (topic, needle) in cases {
            let err = TopicName::parse(topic).expect_err(topic);
            assert!(err.to_string().contains(needle), "{topic:?}: {err}");
            assert_eq!(crate::Error::from(err).status().as_u16(), 400);
        }
    }

    #[test]
    fn a_wildcard_is_refused_in_a_topic_name() {
        for topic in ["a/+", "#", "a/#", "a+b", "x#"] {
            let err = TopicName::parse(topic).expect_err(topic);
            assert!(err.to_string().contains("cannot contain"), "{err}");
        }
    }

    #[test]
    fn a_topic_of_256_bytes_is_accepted() {
        let name = "é".repeat(128);
        assert_eq!(TopicName::parse(&name).map(|t| t.len()), Ok(256));
        assert_eq!(TopicName::from_string(name.clone()).as_deref(), Ok(&*name));
    }
}
