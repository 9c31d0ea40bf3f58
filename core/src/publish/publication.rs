//! [`Publication`], what a protocol handler hands the publish use case, and
//! [`Published`], what a successful publish reports back.
//!
//! A publication names validated topic names only (no wildcards): subscribers of
//! wildcard filters are reached through the fan-out plan. Its `ttl_secs` bounds how long
//! the retained message stays deliverable and, for an MQTT publication (one with MQTT
//! properties), is also the Message Expiry Interval of its MQTT 5 packets; an HTTP
//! publication's packets carry no properties. Versions are reported in topic order, as
//! the HTTP `Pubsub-Version` header lists them; the history ids of the topics that keep
//! history too (one message has one id, the same in each of them).

use crate::history::HistoryId;

use crate::retained::{MqttProps, Stored};
use crate::topic::TopicName;

/// A message to publish, as a protocol handler parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Publication<'a> {
    /// The topics, validated topic names (no wildcards), in order.
    pub topics: &'a [TopicName],
    /// The payload, any bytes; empty with `retain` clears the retained message.
    pub payload: &'a [u8],
    /// Store it as each topic's retained message before publishing it.
    pub retain: bool,
    /// Seconds it stays deliverable: the retained message's TTL and, for an MQTT
    /// publication, the Message Expiry Interval its MQTT 5 packets carry.
    pub ttl_secs: Option<u32>,
    /// The MQTT 5 properties it travels with; `None` for an HTTP publication.
    pub mqtt: Option<MqttProps>,
    /// The connection that sent it, for MQTT's No Local (Pushpin's `skip-self` filter
    /// compares it with each subscriber's `user` meta).
    pub sender: Option<&'a str>,
}

/// A publication every subscriber was sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    /// With `retain`: per topic, in order, the version stored and the one it replaced.
    pub stored: Vec<Stored>,
    /// The topics that keep history, in order, each with the message's id in it (the
    /// same id in each).
    pub history: Vec<(TopicName, HistoryId)>,
}

impl Published {
    /// The message's id in the history of its topics, when one of them keeps history.
    pub fn history_id(&self) -> Option<HistoryId> {
        self.history.first().map(|(_, id)| *id)
    }

    /// The stored versions, comma-separated in topic order (empty when not retained).
    pub fn versions(&self) -> String {
        versions(&self.stored)
    }
}

/// `stored`'s versions, comma-separated.
pub(super) fn versions(stored: &[Stored]) -> String {
    let mut out = String::with_capacity(stored.len() * 26);
    for (i, s) in stored.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&s.version.to_string());
    }
    out
}
