//! [`PublishError`]: why a publication did not reach every subscriber, and what of it
//! happened anyway.
//!
//! Each variant says how far the publish got, which is what a protocol answers on (an
//! HTTP status, an MQTT reason code); each carries the [`Error`] that words it, so the
//! HTTP answer is the one mapping of [`Error`] and an MQTT reason string is the same text
//! ([`PublishError`]'s `Display`). Retained writes go topic by topic: when one fails,
//! topics stored before it keep their new message (durable subscribers converge on it).

use std::fmt;

use crate::retained::Stored;
use crate::Error;

/// Why the publish use case did not deliver a publication.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublishError {
    /// Its wildcard fan-out would take more than the budget: nothing was stored or
    /// published ([`Error::FanoutTooLarge`]).
    TooLarge(Error),
    /// The store refused a retained message for rate (one write per second per key):
    /// nothing was published ([`Error::RateLimited`]).
    RateLimited(Error),
    /// A retained message could not be stored: nothing was published (the store's error,
    /// [`Error::StoreUnavailable`] or [`Error::Internal`]).
    NotStored(Error),
    /// The publish API failed.
    NotDelivered {
        /// The retained versions stored before (empty when not retained): durable
        /// subscribers still receive the message.
        stored: Vec<Stored>,
        /// Why, as the publish API (or its client) said.
        reason: String,
    },
    /// The message could not be rendered (a bug): nothing was stored or published.
    Unrenderable(String),
}

impl fmt::Display for PublishError {
    /// The one-line reason, without the status wording of [`Error`] (an MQTT reason
    /// string).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge(e) | Self::RateLimited(e) | Self::NotStored(e) => e.fmt(f),
            Self::NotDelivered { stored, reason } if stored.is_empty() => f.write_str(reason),
            Self::NotDelivered { stored, reason } => write!(
                f,
                "the message was stored as the retained message (version {}) but not \
                 delivered live: {reason}",
                super::publication::versions(stored)
            ),
            Self::Unrenderable(why) => write!(f, "message not encodable: {why}"),
        }
    }
}

impl std::error::Error for PublishError {}

impl From<PublishError> for Error {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::TooLarge(e)
            | PublishError::RateLimited(e)
            | PublishError::NotStored(e) => e,
            e @ PublishError::NotDelivered { .. } => Error::PublishFailed(e.to_string()),
            e @ PublishError::Unrenderable(_) => Error::Internal(e.to_string()),
        }
    }
}
