//! [`EventId`]: the `id:` of an SSE event, the version seen of each topic it names, and
//! [`topic_tag`], the hash that names a topic in it.

use std::fmt;

use super::{InvalidVersion, Version};
use crate::Error;

/// FNV-1a 64 of `topic`'s bytes: the topic's tag in an [`EventId`].
pub fn topic_tag(topic: &str) -> u64 {
    topic.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Most entries an [`EventId`] may hold.
pub const EVENT_ID_MAX_ENTRIES: usize = 100;

/// An SSE event id: the version seen of each topic it names (see the [`retained`](super)
/// module documentation). Entries are kept in insertion order; a tag appears once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventId(Vec<(u64, Version)>);

impl EventId {
    /// An id naming no topic.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a live event of `topic` at `version`.
    pub fn single(topic: &str, version: Version) -> Self {
        Self(vec![(topic_tag(topic), version)])
    }

    /// Records that `topic` was seen at `version` (replacing what was recorded for it).
    pub fn set(&mut self, topic: &str, version: Version) {
        let tag = topic_tag(topic);
        match self.0.iter_mut().find(|(t, _)| *t == tag) {
            Some(entry) => entry.1 = version,
            None => self.0.push((tag, version)),
        }
    }

    /// The version of `topic` this id names, if it names it.
    pub fn get(&self, topic: &str) -> Option<Version> {
        let tag = topic_tag(topic);
        self.0.iter().find(|(t, _)| *t == tag).map(|(_, v)| *v)
    }

    /// Whether the id names no topic.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses an id sent back by a client (`Last-Event-ID`, `lastEventId`). Every entry
    /// must be well formed; an empty string names no topic. An id of Fastly's original app
    /// is read as its entries' sequences (see `legacy`).
    pub fn parse(s: &str) -> Result<Self, Error> {
        let bad = |why: String| {
            Error::BadRequest(format!(
                "invalid last event id: {why}; expected comma-separated \
                 `<16 hex digits>:<version>` entries as sent in the `id:` of events"
            ))
        };
        if let Some(original) = super::legacy::event_id(s) {
            return original;
        }
        let mut id = EventId::new();
        if s.is_empty() {
            return Ok(id);
        }
        for entry in s.split(',') {
            if id.0.len() == EVENT_ID_MAX_ENTRIES {
                return Err(bad(format!("more than {EVENT_ID_MAX_ENTRIES} entries")));
            }
            let shown: String = entry.chars().take(64).collect();
            let (tag, version) = entry
                .split_once(':')
                .ok_or_else(|| bad(format!("entry {shown:?} has no `:`")))?;
            let tag_ok = tag.len() == 16
                && tag
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            let tag = tag_ok
                .then(|| u64::from_str_radix(tag, 16).ok())
                .flatten()
                .ok_or_else(|| bad(format!("entry {shown:?} has no 16-hex-digit topic tag")))?;
            let version: Version = version
                .parse()
                .map_err(|e: InvalidVersion| bad(e.to_string()))?;
            if id.0.iter().any(|(t, _)| *t == tag) {
                return Err(bad(format!("topic tag {tag:016x} appears twice")));
            }
            id.0.push((tag, version));
        }
        Ok(id)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (tag, version)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tag:016x}:{version}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn topic_tags_are_fnv1a_64() {
        // Reference values of FNV-1a 64.
        assert_eq!(topic_tag(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(topic_tag("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(topic_tag("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn event_ids_round_trip() {
        let v1 = Version::ZERO.next(NOW);
        let v2 = v1.next(NOW);
        let mut id = EventId::new();
        id.set("a", v1);
        id.set("b", v2);
        id.set("a", v2);
        let text = id.to_string();
        assert_eq!(
            text,
            format!("{:016x}:{v2},{:016x}:{v2}", topic_tag("a"), topic_tag("b"))
        );
        let back = EventId::parse(&text).expect("parses");
        assert_eq!(back, id);
        assert_eq!(back.get("a"), Some(v2));
        assert_eq!(back.get("c"), None);
        assert_eq!(EventId::single("a", v1).get("a"), Some(v1));
        assert!(EventId::parse("").expect("empty").is_empty());
    }

    #[test]
    fn malformed_event_ids_are_a_400_naming_the_problem() {
        let v = Version::ZERO.next(NOW);
        let tag = format!("{:016x}", topic_tag("a"));
        let cases = [
            ("junk".to_owned(), "no `:`"),
            (format!("{tag}:{v},"), "no `:`"),
            (format!("abc:{v}"), "16-hex-digit"),
            (format!("{}:{v}", tag.to_uppercase()), "16-hex-digit"),
            (format!("{tag}:nope"), "is not a version"),
            (format!("{tag}:{v},{tag}:{v}"), "twice"),
            (
                (0..=EVENT_ID_MAX_ENTRIES)
                    .map(|i| format!("{i:016x}:{v}"))
                    .collect::<Vec<_>>()
                    .join(","),
                "more than",
            ),
        ];
        for (text, needle) in cases {
            let err = EventId::parse(&text).expect_err(&text);
            assert_eq!(err.status(), 400, "{text}");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }
}
