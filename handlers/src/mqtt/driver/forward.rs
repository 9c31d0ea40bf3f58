//! A client's publication (or its Will) on its way to every subscriber: the one platform
//! step of `Effect::Publish`. It hands the message to the one publish use case
//! ([`pubsub_core::publish`], shared with HTTP) and turns its outcome into the
//! [`NotPublished`] the protocol core chooses the acknowledgement from.
//!
//! Invariants (the use case's): nothing is stored or published when the wildcard fan-out
//! is over budget; nothing is published when a retained message cannot be stored.

use pubsub_core::ports::Platform;
use pubsub_core::publish::{self as publishing, PublishError};
use pubsub_core::Config;

use crate::mqtt::protocol::effects::{NotPublished, Publication, Published};

/// Publishes `p` to every subscriber of its topic; a retained one is stored first.
pub(super) fn forward(platform: &Platform, config: &Config, p: &Publication) -> Published {
    let publication = publishing::Publication {
        topics: std::slice::from_ref(&p.topic),
        payload: &p.payload,
        retain: p.retain,
        ttl_secs: p.expiry,
        mqtt: Some(p.props.clone()),
        sender: Some(&p.sender),
    };
    match publishing::publish(platform, config, &publication) {
        Ok(_) => Ok(()),
        Err(e) => Err(match e {
            PublishError::TooLarge(_) => NotPublished::TooLarge(e.to_string()),
            PublishError::RateLimited(_) => NotPublished::RateLimited(e.to_string()),
            PublishError::NotDelivered { .. } => NotPublished::NotDelivered(e.to_string()),
            _ => NotPublished::NotStored(e.to_string()),
        }),
    }
}
