//! Who listens where: the one table that both the subscribe side (the channels a stream
//! or an MQTT subscription listens on) and the publish side (the channels each rendering
//! of a message is sent to) read, so the two cannot drift apart.
//!
//! | audience | name `t` listens on | filter `f` listens on | key `k` | reads |
//! |---|---|---|---|---|
//! | [`Audience::Sse`] | [`Feed::Live`], [`Feed::Retained`] | [`Feed::Filter`] | [`Feed::Key`] | `Event`, `SequencedEvent`, `FilterEvent`, `Revocation` |
//! | [`Audience::Mqtt5`] | [`Feed::Live`] | [`Feed::Filter`] | [`Feed::Key`] | `Event`, `Mqtt5`, `FilterEvent`, `Revocation` |
//! | [`Audience::Mqtt5AsPublished`] | [`Feed::AsPublished`] | [`Feed::Filter`] | [`Feed::Key`] | `Mqtt5AsPublished`, `FilterEvent`, `Revocation` |
//! | [`Audience::Mqtt311`] | [`Feed::Mqtt311`] | [`Feed::Filter311`] | [`Feed::Key311`] | `Mqtt311`, `Filter311`, `Revocation311` |
//!
//! A Mercure subscription ([`crate::mercure`]) listens on [`MERCURE_FEEDS`]: the live
//! channel of each exact topic it selects (where a Mercure publication's live item
//! carries its Mercure event, and other protocols' messages their SSE event), the
//! [`Feed::Mercure`] channel of each other selector, [`Feed::MercurePrivate`] channels
//! where its grants allow, and [`Feed::Key`] for a token's key; it reads `Event`,
//! `MercureUpdate`, `MercurePrivateUpdate` and `Revocation`.
//!
//! A publication to topic `t` sends, on `t`'s feeds, the renderings of [`publication`]
//! (plain or retained), and on the feeds of every filter that matches `t`
//! ([`crate::topic::wildcard::filters_matching`]) those of [`FILTER_PUBLICATION`], the
//! renderings of a [registered](Feed::registered) feed only to the channels that
//! [`registry`] lists as listened;
//! revoking key `k` sends [`REVOCATION`]. Each [`Rendering`] goes to exactly one feed
//! ([`Rendering::feed`]). The invariant, checked by the table test below: every channel
//! an audience listens on is fed a rendering it reads, and each publication reaches each
//! matching subscription exactly once.
//!
//! A durable SSE stream listens on the same channels as a plain one; it holds its
//! retained channels at a version (`prev-id`). Channel names are made in [`feed`].

pub mod feed;
pub mod registry;

use pubsub_codec::mqtt::ProtocolVersion;

pub use feed::Feed;

use crate::topic::Selector;

/// A kind of subscriber: the formats it reads decide the feeds it listens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// An SSE stream (`GET /events`), plain or durable.
    Sse,
    /// An MQTT 5 subscription.
    Mqtt5,
    /// An MQTT 5 subscription with Retain As Published.
    Mqtt5AsPublished,
    /// An MQTT 3.1.1 subscription.
    Mqtt311,
}

/// What one item of a publish carries: a rendering of a message, or of a key's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rendering {
    /// `http-stream`: the SSE event; `ws-message`: the MQTT 5 PUBLISH. A message that is
    /// not retained.
    Event,
    /// `http-stream` only: the SSE event with its `id:`, in the topic's version sequence
    /// (GRIP `id` and `prev-id`). A retained message.
    SequencedEvent,
    /// `ws-message` only: the MQTT 5 PUBLISH, RETAIN clear. A retained message (its SSE
    /// event is the [`Rendering::SequencedEvent`]).
    Mqtt5,
    /// `ws-message` only: the MQTT 5 PUBLISH with RETAIN as published.
    Mqtt5AsPublished,
    /// `ws-message` only: the MQTT 3.1.1 PUBLISH.
    Mqtt311,
    /// `http-stream`: the SSE event that names its topic; `ws-message`: the MQTT 5
    /// PUBLISH. For the subscribers of a filter.
    FilterEvent,
    /// `ws-message` only: the MQTT 3.1.1 PUBLISH, for the subscribers of a filter.
    Filter311,
    /// The end of SSE streams (`stream-error`, then close) and MQTT 5 connections
    /// (DISCONNECT, then close) a revoked key authorised.
    Revocation,
    /// The end (close) of MQTT 3.1.1 connections a revoked key authorised.
    Revocation311,
    /// `http-stream` only: a public Mercure update as a Mercure event, for the
    /// subscribers of a Mercure selector it matches.
    MercureUpdate,
    /// `http-stream` only: a private Mercure update as a Mercure event.
    MercurePrivateUpdate,
}

impl Rendering {
    /// The feed that carries this rendering: the publish side of the table.
    pub const fn feed(self) -> Feed {
        match self {
            Self::Event | Self::Mqtt5 => Feed::Live,
            Self::SequencedEvent => Feed::Retained,
            Self::Mqtt5AsPublished => Feed::AsPublished,
            Self::Mqtt311 => Feed::Mqtt311,
            Self::FilterEvent => Feed::Filter,
            Self::Filter311 => Feed::Filter311,
            Self::Revocation => Feed::Key,
            Self::Revocation311 => Feed::Key311,
            Self::MercureUpdate => Feed::Mercure,
            Self::MercurePrivateUpdate => Feed::MercurePrivate,
        }
    }

    /// The channel that carries this rendering of `topic` (a filter for the filter
    /// renderings, a key id for the revocations).
    pub fn channel(self, topic: &str) -> String {
        self.feed().channel(topic)
    }
}

/// The renderings a publication sends to each of its topics' feeds, in item order.
pub const fn publication(retained: bool) -> &'static [Rendering] {
    if retained {
        &[
            Rendering::SequencedEvent,
            Rendering::Mqtt5,
            Rendering::Mqtt311,
            Rendering::Mqtt5AsPublished,
        ]
    } else {
        &[
            Rendering::Event,
            Rendering::Mqtt311,
            Rendering::Mqtt5AsPublished,
        ]
    }
}

/// The renderings a publication sends to the feeds of each filter matching its topic.
pub const FILTER_PUBLICATION: [Rendering; 2] = [Rendering::FilterEvent, Rendering::Filter311];

/// The renderings of a Mercure update beside its topics' live items (public: the Mercure
/// selectors it matches; private: its topics' and selectors' private channels, and
/// nothing else).
pub const MERCURE_PUBLICATION: [Rendering; 2] =
    [Rendering::MercureUpdate, Rendering::MercurePrivateUpdate];

/// The feeds a Mercure subscription listens on: the live channel of an exact topic
/// (public updates, and every message of the topic from other protocols), the Mercure
/// channel of any other selector, and private channels where its grants allow.
pub const MERCURE_FEEDS: [Feed; 3] = [Feed::Live, Feed::Mercure, Feed::MercurePrivate];

/// The renderings revoking a key sends to its feeds.
pub const REVOCATION: [Rendering; 2] = [Rendering::Revocation, Rendering::Revocation311];

impl Audience {
    /// The audience of an MQTT subscription.
    pub fn mqtt(version: ProtocolVersion, retain_as_published: bool) -> Self {
        match version {
            ProtocolVersion::V5 if retain_as_published => Self::Mqtt5AsPublished,
            ProtocolVersion::V5 => Self::Mqtt5,
            ProtocolVersion::V311 => Self::Mqtt311,
        }
    }

    /// The feeds a subscription to `selector` listens on: the subscribe side of the table.
    pub fn feeds(self, selector: &Selector) -> &'static [Feed] {
        match (self, selector) {
            (Self::Sse, Selector::Name(_)) => &[Feed::Live, Feed::Retained],
            (Self::Mqtt5, Selector::Name(_)) => &[Feed::Live],
            (Self::Mqtt5AsPublished, Selector::Name(_)) => &[Feed::AsPublished],
            (Self::Mqtt311, Selector::Name(_)) => &[Feed::Mqtt311],
            (Self::Sse | Self::Mqtt5 | Self::Mqtt5AsPublished, Selector::Filter(_)) => {
                &[Feed::Filter]
            }
            (Self::Mqtt311, Selector::Filter(_)) => &[Feed::Filter311],
        }
    }

    /// The channels a subscription to `selector` listens on, each with its feed.
    pub fn channels(self, selector: &Selector) -> impl Iterator<Item = (Feed, String)> + '_ {
        self.feeds(selector)
            .iter()
            .map(move |feed| (*feed, feed.channel(selector.as_str())))
    }

    /// The feed on which the end of a connection authorised by a key is published.
    pub const fn key_feed(self) -> Feed {
        match self {
            Self::Sse | Self::Mqtt5 | Self::Mqtt5AsPublished => Feed::Key,
            Self::Mqtt311 => Feed::Key311,
        }
    }

    /// The channel of key `kid` that this audience's connections listen on.
    pub fn key_channel(self, kid: &str) -> String {
        self.key_feed().channel(kid)
    }

    /// Whether this audience reads `rendering` (the format of it that it decodes is
    /// there, in the encoding it expects).
    pub const fn reads(self, rendering: Rendering) -> bool {
        use Rendering as R;
        match self {
            Self::Sse => matches!(
                rendering,
                R::Event | R::SequencedEvent | R::FilterEvent | R::Revocation
            ),
            Self::Mqtt5 => matches!(
                rendering,
                R::Event | R::Mqtt5 | R::FilterEvent | R::Revocation
            ),
            Self::Mqtt5AsPublished => matches!(
                rendering,
                R::Mqtt5AsPublished | R::FilterEvent | R::Revocation
            ),
            Self::Mqtt311 => matches!(rendering, R::Mqtt311 | R::Filter311 | R::Revocation311),
        }
    }
}

#[cfg(test)]
mod tests;
