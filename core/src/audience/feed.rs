//! Feeds: the one scheme that names Fanout channels after topics, filters and keys.
//!
//! Fanout channels are exact names, so each rendering of a topic's messages that some
//! kind of subscriber needs goes to a channel of its own; a [`Feed`] is one such family of
//! channels, one channel per topic (filter, key). Who listens on which feed, and which
//! rendering each feed gets, is the table in [`crate::audience`].
//!
//! | feed | channel of topic `a b` | carries |
//! |---|---|---|
//! | [`Feed::Live`] | `a%20b` | every message: SSE event and MQTT 5 PUBLISH |
//! | [`Feed::Retained`] | `r#a%20b` | retained messages as SSE events with GRIP `id`/`prev-id` |
//! | [`Feed::Mqtt311`] | `v4#a%20b` | every message as an MQTT 3.1.1 PUBLISH |
//! | [`Feed::AsPublished`] | `a#a%20b` | MQTT 5 PUBLISH with RETAIN as published |
//! | [`Feed::Key`] | `k#k1` (of key id `k1`) | the end of every SSE stream and MQTT 5 connection the key authorised, when it is revoked |
//! | [`Feed::Key311`] | `k4#k1` | the end of every MQTT 3.1.1 connection the key authorised |
//! | [`Feed::Filter`] | `f#a/+` (of filter `a/+`), `f#a/%23` (of `a/#`) | every message whose topic the filter matches: SSE event with its topic, and MQTT 5 PUBLISH (see [`crate::topic::wildcard`]) |
//! | [`Feed::Filter311`] | `f4#a/+` | the same as MQTT 3.1.1 PUBLISH packets |
//! | [`Feed::Mercure`] | `m#https://x/{id}` (of Mercure selector `https://x/{id}`) | public updates the Mercure selector matches, as Mercure events (see [`crate::mercure`]) |
//! | [`Feed::MercurePrivate`] | `mp#https://x/1` (of a topic or a selector) | private Mercure updates of the topic, or that the selector matches |
//!
//! The live channel is the topic itself when it only holds bytes that are safe in a
//! `Grip-Channel` header; every other byte is percent-encoded (`%` itself always is), so
//! the mapping is one-to-one. `#` and `|` never occur in a live channel (they are
//! encoded), so the prefixed feeds cannot collide with a live channel, and `|` can
//! separate a channel from other data in connection metadata.

use std::borrow::Cow;

use crate::topic::query::hex;

/// A family of channels: what each carries (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    /// Every message, for SSE and MQTT 5 subscribers.
    Live,
    /// Retained messages, in version order, for durable SSE subscribers.
    Retained,
    /// Every message encoded for MQTT 3.1.1.
    Mqtt311,
    /// Every message for MQTT 5 subscriptions with Retain As Published.
    AsPublished,
    /// The revocation of a signing key, for SSE streams and MQTT 5 connections; named
    /// after the key id, not a topic.
    Key,
    /// The revocation of a signing key, for MQTT 3.1.1 connections.
    Key311,
    /// Every message a wildcard filter matches, for SSE and MQTT 5 subscribers of the
    /// filter; named after the filter.
    Filter,
    /// Every message a wildcard filter matches, for MQTT 3.1.1 subscribers.
    Filter311,
    /// Public updates a Mercure selector (a URI template, a URL pattern, `*`) matches,
    /// for the Mercure subscribers of that selector; named after the selector.
    Mercure,
    /// Private Mercure updates: of a topic (named after the topic), or that a selector
    /// matches (named after the selector).
    MercurePrivate,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Self; 10] = [
        Self::Live,
        Self::Retained,
        Self::Mqtt311,
        Self::AsPublished,
        Self::Key,
        Self::Key311,
        Self::Filter,
        Self::Filter311,
        Self::Mercure,
        Self::MercurePrivate,
    ];

    /// Whether this feed's channels are sent to only when registered as listened
    /// ([`super::registry`]): the wildcard filters', Retain As Published and Mercure
    /// selector ones (a private Mercure update always goes to its topics' own
    /// [`Feed::MercurePrivate`] channels, and to a selector's only when registered).
    pub const fn registered(self) -> bool {
        matches!(
            self,
            Self::Filter
                | Self::Filter311
                | Self::AsPublished
                | Self::Mercure
                | Self::MercurePrivate
        )
    }

    /// The feed of `channel`, a name this scheme made, read from its prefix alone.
    pub fn of_channel(channel: &str) -> Self {
        Self::ALL[1..]
            .iter()
            .copied()
            .find(|feed| channel.starts_with(feed.prefix()))
            .unwrap_or(Self::Live)
    }

    const fn prefix(self) -> &'static str {
        match self {
            Self::Live => "",
            Self::Retained => "r#",
            Self::Mqtt311 => "v4#",
            Self::AsPublished => "a#",
            Self::Key => "k#",
            Self::Key311 => "k4#",
            Self::Filter => "f#",
            Self::Filter311 => "f4#",
            Self::Mercure => "m#",
            Self::MercurePrivate => "mp#",
        }
    }

    /// The channel of this feed that carries `topic` (a filter for [`Feed::Filter`] and
    /// [`Feed::Filter311`], a key id for [`Feed::Key`] and [`Feed::Key311`]).
    pub fn channel(self, topic: &str) -> String {
        let live = live(topic);
        let mut out = String::with_capacity(self.prefix().len() + live.len());
        out.push_str(self.prefix());
        out.push_str(&live);
        out
    }
}

/// The live channel of `topic`, borrowed when no byte needs encoding.
pub fn live(topic: &str) -> Cow<'_, str> {
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

/// The feed and topic of `channel` (the inverse of [`Feed::channel`]); `None` for a name
/// this scheme never produces.
pub fn parse(channel: &str) -> Option<(Feed, String)> {
    let (kind, rest) = Feed::ALL[1..]
        .iter()
        .find_map(|k| channel.strip_prefix(k.prefix()).map(|rest| (*k, rest)))
        .unwrap_or((Feed::Live, channel));
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let h = bytes.get(i + 1).copied().and_then(hex)?;
            let l = bytes.get(i + 2).copied().and_then(hex)?;
            out.push(h << 4 | l);
            i += 3;
        } else if is_safe(b) {
            out.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok().map(|topic| (kind, topic))
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~/:@!$&'()*+".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_feed_names_its_channel_and_parses_back() {
        let cases = [
            (Feed::Live, "a b", "a%20b"),
            (Feed::Retained, "a b", "r#a%20b"),
            (Feed::Mqtt311, "xé", "v4#x%C3%A9"),
            (Feed::AsPublished, "x", "a#x"),
            (Feed::Key, "k1", "k#k1"),
            (Feed::Key311, "k_1-2", "k4#k_1-2"),
            (Feed::Filter, "a/+", "f#a/+"),
            (Feed::Filter, "#", "f#%23"),
            (Feed::Filter311, "$x/+/#", "f4#$x/+/%23"),
            (Feed::Mercure, "https://x/{id}", "m#https://x/%7Bid%7D"),
            (Feed::MercurePrivate, "*", "mp#*"),
            (Feed::Live, "r#x", "r%23x"),
            (Feed::Live, "100%", "100%25"),
        ];
        for (feed, topic, channel) in cases {
            assert_eq!(feed.channel(topic), channel);
            assert_eq!(parse(channel), Some((feed, topic.to_owned())), "{channel}");
        }
    }

    #[test]
    fn safe_topics_borrow_and_names_never_made_do_not_parse() {
        assert!(matches!(live("devices/42:temp"), Cow::Borrowed(_)));
        for bad in ["a b", "%2", "%zz", "x|y"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn safe_topics_are_their_own_channel_and_others_are_escaped_one_to_one() {
        assert!(matches!(
            live("sensors/room-1"),
            Cow::Borrowed("sensors/room-1")
        ));
        assert_eq!(live("a,b; c"), "a%2Cb%3B%20c");
        assert_eq!(live("100%"), "100%25");
        assert_ne!(live("a%2C"), live("a,"));
        assert_eq!(live("é"), "%C3%A9");
    }

    #[test]
    fn a_channel_maps_back_to_its_topic() {
        for topic in ["plain", "a+b", "a,b; c", "100%", "é/ü", "%2C"] {
            assert_eq!(parse(&live(topic)), Some((Feed::Live, topic.to_owned())));
        }
    }
}
