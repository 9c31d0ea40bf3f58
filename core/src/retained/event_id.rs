//! [`EventId`]: the `id:` of an SSE event, the position seen of each topic it names, and
//! [`topic_tag`], the hash that names a topic in it.
//!
//! Entries are `<16 hex tag>:<value>`, comma-separated, one per tag. The value is a
//! retained [`Version`] (`12hex-12hex`, 25 characters) for a topic without history, or a
//! [`HistoryId`] (`12hex-4hex-8hex`, 26 characters) for a topic with history; the two are
//! told apart by shape, so ids issued before history existed still parse.

use std::fmt;

use super::{InvalidVersion, Version};
use crate::history::HistoryId;
use crate::topic::TopicName;
use crate::Error;

/// FNV-1a 64 of `topic`'s bytes: the topic's tag in an [`EventId`].
pub fn topic_tag(topic: &str) -> u64 {
    topic.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Most entries an [`EventId`] may hold.
pub const EVENT_ID_MAX_ENTRIES: usize = 100;

/// An SSE event id: the position seen of each topic it names (see the [`retained`](super)
/// module documentation). Entries are kept in insertion order; a tag appears once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventId(Vec<(u64, Seen)>);

/// What an entry says was seen of its topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seen {
    /// The retained slot at this version.
    Version(Version),
    /// The history up to this id.
    History(HistoryId),
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version(v) => v.fmt(f),
            Self::History(id) => id.fmt(f),
        }
    }
}

impl EventId {
    /// An id naming no topic.
    pub fn new() -> Self {
        Self::default()
    }

    /// The id of a live event of `topic` at `version`.
    pub fn single(topic: &str, version: Version) -> Self {
        Self(vec![(topic_tag(topic), Seen::Version(version))])
    }

    /// The id of an event of history topic `topic` whose message is `id`.
    pub fn single_history(topic: &str, id: HistoryId) -> Self {
        Self(vec![(topic_tag(topic), Seen::History(id))])
    }

    /// Records that `topic` was seen at `version` (replacing what was recorded for it).
    pub fn set(&mut self, topic: &str, version: Version) {
        self.put(topic_tag(topic), Seen::Version(version));
    }

    /// Records that history topic `topic` was seen up to `id` (replacing what was
    /// recorded for it).
    pub fn set_history(&mut self, topic: &str, id: HistoryId) {
        self.put(topic_tag(topic), Seen::History(id));
    }

    fn put(&mut self, tag: u64, seen: Seen) {
        match self.0.iter_mut().find(|(t, _)| *t == tag) {
            Some(entry) => entry.1 = seen,
            None => self.0.push((tag, seen)),
        }
    }

    fn seen(&self, topic: &str) -> Option<Seen> {
        let tag = topic_tag(topic);
        self.0.iter().find(|(t, _)| *t == tag).map(|(_, s)| *s)
    }

    /// The retained version of `topic` this id names, if it names one.
    pub fn get(&self, topic: &str) -> Option<Version> {
        match self.seen(topic)? {
            Seen::Version(v) => Some(v),
            Seen::History(_) => None,
        }
    }

    /// The history id of `topic` this id names, if it names one.
    pub fn history(&self, topic: &str) -> Option<HistoryId> {
        match self.seen(topic)? {
            Seen::History(id) => Some(id),
            Seen::Version(_) => None,
        }
    }

    /// Whether the id names any of `topics` (a non-empty id naming none of a stream's
    /// topics was issued for another topic set).
    pub fn names_any(&self, topics: &[&TopicName]) -> bool {
        topics.iter().any(|t| {
            let tag = topic_tag(t);
            self.0.iter().any(|(other, _)| *other == tag)
        })
    }

    /// Whether the id names `topic` (a topic name, or a filter's text).
    pub fn names(&self, topic: &str) -> bool {
        let tag = topic_tag(topic);
        self.0.iter().any(|(other, _)| *other == tag)
    }

    /// The largest history id the id names, whatever its topic: a time position for the
    /// stream's topics the id does not name.
    pub fn latest_history(&self) -> Option<HistoryId> {
        self.0
            .iter()
            .filter_map(|(_, seen)| match seen {
                Seen::History(id) => Some(*id),
                Seen::Version(_) => None,
            })
            .max()
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
                 `<16 hex digits>:<version or history id>` entries as sent in the `id:` of \
                 events"
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
            let seen = seen(version).map_err(bad)?;
            if id.0.iter().any(|(t, _)| *t == tag) {
                return Err(bad(format!("topic tag {tag:016x} appears twice")));
            }
            id.0.push((tag, seen));
        }
        Ok(id)
    }
}

/// An entry's value: a history id by its length, else a version.
fn seen(value: &str) -> Result<Seen, String> {
    if value.len() == crate::history::HISTORY_ID_LEN {
        return value
            .parse()
            .map(Seen::History)
            .map_err(|e: crate::history::InvalidHistoryId| e.to_string());
    }
    value
        .parse()
        .map(Seen::Version)
        .map_err(|e: InvalidVersion| e.to_string())
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (tag, seen)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{tag:016x}:{seen}")?;
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
    fn history_entries_and_versions_are_told_apart_by_shape() {
        let v = Version::ZERO.next(NOW);
        let (h1, h2) = (HistoryId::new(5, 0, 1), HistoryId::new(9, 2, 0));
        let mut id = EventId::single_history("a", h1);
        id.set("b", v);
        id.set_history("c", h2);
        let text = id.to_string();
        assert_eq!(
            text,
            format!(
                "{:016x}:{h1},{:016x}:{v},{:016x}:{h2}",
                topic_tag("a"),
                topic_tag("b"),
                topic_tag("c")
            )
        );
        let back = EventId::parse(&text).expect("parses");
        assert_eq!(back, id);
        assert_eq!((back.history("a"), back.get("a")), (Some(h1), None));
        assert_eq!((back.history("b"), back.get("b")), (None, Some(v)));
        assert_eq!(back.latest_history(), Some(h2));
        assert_eq!(EventId::single("b", v).latest_history(), None);
        let (a, z) = (
            TopicName::parse("a").expect("topic"),
            TopicName::parse("z").expect("topic"),
        );
        assert!(back.names_any(&[&z, &a]));
        assert!(!back.names_any(&[&z]));
        assert!(!EventId::new().names_any(&[&a]));
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
            (
                format!("{tag}:0192ab34cd56-0000-9F3A21BC"),
                "is not a history id",
            ),
            (
                format!("{tag}:0192ab34cd56-00000-9f3a21b"),
                "is not a history id",
            ),
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
