//! What the protocol core asks the driver to do: the typed [`Effect`]s one packet (or the
//! start or end of a request) produces, executed by the driver in order.
//!
//! Two effects need an answer from a port, and the driver feeds it back: a
//! [`Effect::Publish`] carries its [`Ack`] (what to acknowledge once the outcome is
//! known: the driver calls `protocol::on_published` with it), and an
//! [`Effect::DeliverRetained`] its [`Follow`] (what the slot version seen changes in the
//! session: `protocol::on_retained`). Every other effect is fire and forget.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{Packet, ProtocolVersion, Publish, QoS};
use pubsub_core::render;
use pubsub_core::retained::{MqttProps, Version};
use pubsub_core::topic::{Filter, TopicName};

/// The effects of one step, in the order the driver executes them.
pub(crate) type Effects = Vec<Effect>;

/// One thing for the driver to do.
// A packet is large (its properties) but an effect lives only until the driver executes
// it, a few per packet: boxing would allocate for every packet sent.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Send `packet` to the client, encoded for `version`.
    Send {
        packet: Packet,
        version: ProtocolVersion,
    },
    /// Send these packet bytes to the client as they are.
    SendRaw(Vec<u8>),
    /// Make Fanout deliver `channel` to the connection; with `skip_self`, not the
    /// connection's own publications (No Local).
    Listen { channel: String, skip_self: bool },
    /// Stop delivering `channel` to the connection.
    Unlisten(String),
    /// Send these publish request bodies (the end of the other connections of a client
    /// id, see `pubsub_core::mqtt_session::takeover`), now; a failure is not answered.
    TakeOver(Vec<Vec<u8>>),
    /// Tell Fanout the connection's `user` (what `skip-self` compares with a sender).
    IdentifyAs(String),
    /// Publish a message to every subscriber of its topic, then answer per [`Ack`].
    Publish { publication: Publication, ack: Ack },
    /// Send `topic`'s retained message if its slot is newer than `after`, then record the
    /// version seen per [`Follow`].
    DeliverRetained {
        topic: String,
        after: Version,
        then: Follow,
    },
    /// Send the retained messages of the topics a wildcard filter matches.
    DeliverFilterRetained(Filter),
    /// Close the WebSocket with this code.
    Close(u16),
}

/// A message a client (or its Will) publishes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Publication {
    pub(crate) topic: TopicName,
    pub(crate) payload: Vec<u8>,
    pub(crate) retain: bool,
    /// The MQTT 5 properties subscribers receive (and a retained slot keeps).
    pub(crate) props: MqttProps,
    /// Message Expiry Interval, seconds.
    pub(crate) expiry: Option<u32>,
    /// The connection that publishes it (for `skip-self`).
    pub(crate) sender: String,
}

impl Publication {
    /// The publication of a PUBLISH packet, whose topic is `topic`, sent on connection
    /// `sender`.
    pub(crate) fn of(p: Publish, topic: TopicName, sender: &str) -> Self {
        Self {
            props: render::mqtt_props(&p.properties),
            expiry: p.properties.message_expiry_interval,
            topic,
            payload: p.payload,
            retain: p.retain,
            sender: sender.to_owned(),
        }
    }
}

/// What to answer once a [`Effect::Publish`] has an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ack {
    /// Nothing (QoS 0, or a Will).
    Nothing,
    /// A PUBACK (QoS 1) or PUBREC (QoS 2) for this Packet Identifier.
    Publish { qos: QoS, id: NonZeroU16 },
}

/// Why a publication did not go out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NotPublished {
    /// The retained message could not be stored; nothing was published.
    NotStored(String),
    /// The store refused the retained message for rate; nothing was published.
    RateLimited(String),
    /// The publish API refused it.
    NotDelivered(String),
    /// Its wildcard fan-out is over the publish budget; nothing was stored or published.
    TooLarge(String),
}

/// The outcome of a [`Effect::Publish`].
pub(crate) type Published = Result<(), NotPublished>;

/// What the slot version a [`Effect::DeliverRetained`] saw changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Follow {
    /// A new subscription: remember the version seen (zero when held back or failed), to
    /// check the slot again on the next request.
    Check,
    /// The check of an earlier subscription: done once the slot was read and answered.
    Recheck,
}

/// The outcome of a [`Effect::DeliverRetained`]: `Ok(Some(version))` the slot version
/// seen (delivered, or nothing to deliver); `Ok(None)` held back by a bound of the request.
pub(crate) type Delivered = Result<Option<Version>, pubsub_core::Error>;
