//! The domain of Edge Pub/Sub, free of any layer or endpoint: what the middleware and the
//! handlers share.
//!
//! - [`error`]: the one error enum of the broker.
//! - [`extensions`]: the typed values layers put into a request for later ones, and their
//!   accessors.
//! - [`ports`]: the platform effects (KV, Config Store, Secret Store, publish, clock) as
//!   traits; in-memory implementations behind the `test-util` feature.
//! - `test_util`: fixtures for native tests (feature `test-util`).
//! - [`principal`]: who is asking and what they may read and write, as selectors.
//! - [`tokens`], [`claims`], [`keys`], [`jwt`]: access tokens (JWTs) and their
//!   verification, their claims read per dialect, the signing keys that verify them.
//! - [`grip_sig`]: `Grip-Sig` verification.
//! - [`limits`]: the request-body cap the Compute adapter applies before reading.
//! - [`rate_limit`]: rate limits by caller, on Edge Rate Limiting.
//! - [`grant`]: the credential of the links Fanout requests on its own.
//! - [`topic`]: topic names, filters and selectors, parsed once; the publish-side
//!   expansion of wildcards.
//! - [`uri_match`]: Mercure's topic selectors (URI templates, URL patterns, exact, `*`),
//!   parsed once and matched in bounded time.
//! - [`mercure`]: the Mercure hub's updates, their events, channels and stream links.
//! - [`audience`]: who listens on which Fanout channel and which rendering each channel
//!   is sent, with the one scheme that names channels.
//! - [`retained`]: the last retained message of each topic, in KV store `messages`.
//! - [`history`]: the recent messages of history topics, in the same store, read back
//!   after a position.
//! - [`publish`]: the one publish use case, from a typed publication to a typed outcome.
//! - [`render`]: one message rendered for every kind of subscriber (SSE, MQTT).
//! - `json`: JSON string escaping for the GRIP serializer (crate-private).
//! - [`grip`]: GRIP publish bodies: the typed item, its serializer, the batcher, the
//!   revocation items.
//! - [`mqtt_session`]: an MQTT connection's state in connection metadata, and its header
//!   names.

pub mod audience;
pub mod claims;
pub mod error;
pub mod extensions;
pub mod grant;
pub mod grip;
pub mod grip_sig;
pub mod history;
mod json;
pub mod jwt;
pub mod keys;
pub mod limits;
pub mod mercure;
pub mod mqtt_session;
pub mod ports;
pub mod principal;
pub mod publish;
pub mod rate_limit;
pub mod render;
pub mod retained;
pub mod tokens;
pub mod topic;
pub mod uri_match;

#[cfg(any(test, feature = "test-util"))]
pub mod test_util;

pub use error::Error;
pub use pubsub_config::{self as config, Config};

/// A request as the pipeline sees it: the whole body is read up front (messages are small).
pub type Request = http::Request<Vec<u8>>;
/// A response as the pipeline produces it.
pub type Response = http::Response<Vec<u8>>;
/// What a handler or layer returns.
pub type Result<T = Response, E = Error> = std::result::Result<T, E>;
/// The future every service in the pipeline returns: the platform is synchronous.
pub type Ready<T = Response, E = Error> = std::future::Ready<std::result::Result<T, E>>;
