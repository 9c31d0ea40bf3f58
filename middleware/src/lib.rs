//! The request pipeline of Edge Pub/Sub: shared types, the one error enum, the platform
//! ports, and the `tower_service::Service` layers every request passes through.
//!
//! ```text
//! Cors ─> ErrorMap ─> LoadConfig ─> VerifyGrip ─> ExtractAuth ─> Router ─> [per route:
//!     RequireFeature ─> FanoutHandoff ─> Acl] ─> handler
//! ```
//!
//! Every service here is synchronous (the Compute platform blocks on I/O), so every
//! future is a [`std::future::Ready`]: the caller takes the result with
//! [`Ready::into_inner`](std::future::Ready::into_inner), no executor needed.

pub mod acl;
pub mod admin_auth;
pub mod cors;
pub mod error;
pub mod error_map;
pub mod extract_auth;
pub mod feature;
pub mod grip;
pub mod handoff;
pub mod keys;
pub mod load_config;
pub mod ports;
pub mod router;
pub mod tokens;
pub mod topics;
pub mod verify_grip;

#[cfg(test)]
pub(crate) mod test_helpers;

pub use error::Error;
pub use pubsub_config::Config;

/// A request as the pipeline sees it: the whole body is read up front (messages are small).
pub type Request = http::Request<Vec<u8>>;
/// A response as the pipeline produces it.
pub type Response = http::Response<Vec<u8>>;
/// What a handler or layer returns.
pub type Result<T = Response, E = Error> = std::result::Result<T, E>;
/// The future every service in the pipeline returns.
pub type Ready<T = Response, E = Error> = std::future::Ready<std::result::Result<T, E>>;

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
