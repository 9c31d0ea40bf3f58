//! A client's publications (and Wills) on their way to every subscriber: the platform
//! step of `Effect::Publish`. Each is queued in the request's [`Outbox`] of the one
//! publish use case ([`pubsub_core::publish`], shared with HTTP), which stores a retained
//! one at once and sends the request's publications together; each outcome becomes the
//! [`NotPublished`] the protocol core chooses the acknowledgement from.
//!
//! Invariants (the use case's): nothing is stored or published when the wildcard fan-out
//! is over budget; nothing is published when a retained message cannot be stored.

use pubsub_core::ports::Platform;
use pubsub_core::publish::{self as publishing, Outbox, PublishError};
use pubsub_core::Config;

use crate::mqtt::protocol::effects::{NotPublished, Publication, Published};

/// Queues `p` in `outbox`; a retained one is stored now.
pub(super) fn queue(outbox: &mut Outbox, platform: &Platform, config: &Config, p: &Publication) {
    let publication = publishing::Publication {
        topics: std::slice::from_ref(&p.topic),
        payload: &p.payload,
        retain: p.retain,
        ttl_secs: p.expiry,
        mqtt: Some(p.props.clone()),
        sender: Some(&p.sender),
    };
    outbox.add(platform, config, &publication);
}

/// A sent publication's outcome, as the protocol core reads it.
pub(super) fn outcome(sent: Result<publishing::Published, PublishError>) -> Published {
    match sent {
        Ok(_) => Ok(()),
        Err(e) => Err(match e {
            PublishError::TooLarge(_) => NotPublished::TooLarge(e.to_string()),
            PublishError::RateLimited(_) => NotPublished::RateLimited(e.to_string()),
            PublishError::NotDelivered { .. } => NotPublished::NotDelivered(e.to_string()),
            _ => NotPublished::NotStored(e.to_string()),
        }),
    }
}
