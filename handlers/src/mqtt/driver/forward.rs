//! A client's publication (or its Will) on its way to every subscriber: rendered for each
//! kind of subscriber, refused for its wildcard fan-out, stored first when retained, then
//! published through the publish API. The one platform step of `Effect::Publish`; its
//! outcome goes back to the protocol core, which chooses the acknowledgement.
//!
//! Invariants: nothing is stored or published when the wildcard fan-out is over budget;
//! nothing is published when a retained message cannot be stored.

use pubsub_codec::mqtt::ProtocolVersion;
use pubsub_core::message::{self, Outgoing, RetainedOutgoing};
use pubsub_core::ports::Platform;
use pubsub_core::retained::{self, NewRetained};
use pubsub_core::{Config, Error};

use crate::mqtt::protocol::effects::{NotPublished, Publication, Published};

/// Publishes `p` to every subscriber of its topic; a retained one is stored first (`Err`
/// before anything is published when the store fails).
pub(super) fn forward(
    platform: &Platform,
    config: &Config,
    now: u64,
    p: &Publication,
) -> Published {
    let props = &p.props;
    let render = |version| {
        message::mqtt_publish(version, &p.topic, &p.payload, Some(props), p.expiry, false)
    };
    let outgoing = Outgoing {
        topic: &p.topic,
        payload: &p.payload,
        mqtt_v5: render(ProtocolVersion::V5),
        mqtt_v311: render(ProtocolVersion::V311),
        sender: Some(&p.sender),
    };
    // Refused for its wildcard fan-out before anything is stored or published.
    let wildcard =
        message::wildcard_bodies(std::slice::from_ref(&outgoing), config.wildcard_max_levels)
            .map_err(|e| NotPublished::TooLarge(e.to_string()))?;
    let body = if p.retain {
        let new = NewRetained {
            payload: &p.payload,
            ttl_secs: p.expiry,
            mqtt: Some(props.clone()),
        };
        let stored = retained::store(&*platform.kv, now, &p.topic, new).map_err(|e| match e {
            Error::RateLimited { .. } => NotPublished::RateLimited(e.to_string()),
            e => NotPublished::NotStored(e.to_string()),
        })?;
        message::retained_publish_body(&[RetainedOutgoing {
            message: outgoing,
            stored,
        }])
    } else {
        message::publish_body(&[outgoing])
    };
    message::publish_all(&*platform.publisher, config, body, wildcard).map_err(|why| {
        match p.retain {
            true => NotPublished::NotDelivered(format!(
                "stored as the retained message but not delivered live: {why}"
            )),
            false => NotPublished::NotDelivered(why),
        }
    })
}
