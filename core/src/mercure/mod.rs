//! The Mercure hub's core: an update ([`Update`]) and its event ([`event`]), the channels
//! a Mercure subscription listens on and those an update goes to ([`channels`]), and the
//! link that keeps a subscription's registrations alive ([`link`]).
//!
//! A Mercure update is an ordinary message of its topics: a public one is published by the
//! publish use case ([`crate::publish::publish_mercure`]) to each topic's live channel,
//! with its Mercure event as the SSE rendering (so `/events` streams of the topic and
//! Mercure subscribers of it as an exact topic get the same event, and MQTT subscribers
//! its data), to the wildcard filters that match, and to the Mercure channel of every
//! registered selector ([`crate::audience::registry`]) that matches one of its topics. A
//! private update goes only to private channels: its topics' own, and those of the
//! registered selectors that match. An update with several topics (canonical and
//! alternates) reaches a subscriber once per channel it listens on that the update goes
//! to: a subscriber of two of its topics as exact selectors gets it twice.

pub mod channels;
pub mod event;
pub mod link;

use crate::topic::TopicName;

/// One update, as the hub's publish parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update<'a> {
    /// Its topics: the canonical one first, then the alternates.
    pub topics: &'a [TopicName],
    /// The data, as given (its lines become `data:` lines).
    pub data: &'a str,
    /// The update's id (`id:`): the publisher's, or one the hub made.
    pub id: &'a str,
    /// The event type (`event:`), if given.
    pub kind: Option<&'a str>,
    /// The reconnection time in milliseconds (`retry:`), if given.
    pub retry: Option<u64>,
    /// Only subscribers whose grants cover one of its topics receive it.
    pub private: bool,
}

impl Update<'_> {
    /// The topics as text.
    pub fn topic_names(&self) -> impl Iterator<Item = &str> + Clone {
        self.topics.iter().map(TopicName::as_str)
    }
}
