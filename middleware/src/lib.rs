//! The layers of Edge Pub/Sub: the `tower_service::Service` middleware every request
//! passes through, and the router. The domain they work on (error, ports, tokens, topics)
//! is `pubsub_core`.
//!
//! ```text
//! Cors ─> ErrorMap ─> LoadConfig ─> RequestLog ─> VerifyGrip ─> ExtractAuth ─> Router
//!     ─> [per route: RequireFeature ─> RateLimit ─> FanoutHandoff ─> Acl] ─> handler
//! ```
//!
//! Most layers only admit a request (continue, answer early, or fail): each is a short
//! [`guard::Guard`] served by the one [`guard::GuardLayer`]. [`cors`], [`error_map`] and
//! [`request_log`] also see or shape responses: each is a [`wrap::Wrap`] served by the
//! one [`wrap::WrapLayer`].
//!
//! - [`guard`], [`wrap`]: the two generic layers.
//! - [`load_config`]: reads and validates the Config Store once per request.
//! - [`request_log`]: one JSON line per request to the real-time log.
//! - [`verify_grip`]: whether the request came through the GRIP proxy (`Grip-Sig`).
//! - [`extract_auth`]: finds the bearer token, without verifying it.
//! - [`router`]: dispatches on the path, then on the method (404, 405 with `Allow`).
//! - [`feature`], [`rate_limit`], [`handoff`], [`acl`]: per route, the feature switch,
//!   the caller's rate limit, the handoff to Fanout, and access by topic.
//! - [`admin_auth`]: admin credentials for the admin API.
//! - [`cors`], [`error_map`]: cross-origin access; the one mapping of an error to a
//!   response.
//!
//! Every service here is synchronous (the Compute platform blocks on I/O), so every
//! future is a [`std::future::Ready`]: the caller takes the result with
//! [`Ready::into_inner`](std::future::Ready::into_inner), no executor needed.

pub mod acl;
pub mod admin_auth;
pub mod cors;
pub mod error_map;
pub mod extract_auth;
pub mod feature;
pub mod guard;
pub mod handoff;
pub mod load_config;
pub mod rate_limit;
pub mod request_log;
pub mod router;
pub mod verify_grip;
pub mod wrap;

#[cfg(test)]
pub(crate) mod test_helpers;

pub use pubsub_core::{Config, Error, Ready, Request, Response, Result};

/// A layer: wraps a service into another (`tower::Layer` without the dependency).
pub trait Layer<S> {
    /// The wrapped service.
    type Service;
    /// Wraps `inner`.
    fn layer(&self, inner: S) -> Self::Service;
}

/// The layer that adds nothing: the default extension point of the app.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity;

impl<S> Layer<S> for Identity {
    type Service = S;
    fn layer(&self, inner: S) -> S {
        inner
    }
}
