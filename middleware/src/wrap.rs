//! `Wrap`: the one layer for middleware that also shapes responses. A [`Wrap`] sees the
//! request, decides whether to call the inner service, and turns its result into the
//! response; [`WrapLayer`] / [`Wrapped`] serve every such implementation
//! ([`Cors`](crate::cors::Cors), [`ErrorMap`](crate::error_map::ErrorMap)). A layer that
//! only admits requests is a [`Guard`](crate::guard::Guard) instead.
//!
//! Every service of the pipeline is synchronous and always ready, so [`Wrapped`] is ready
//! at once and its future is a [`std::future::Ready`].

use std::task::{Context, Poll};

use tower_service::Service;

use crate::{Layer, Ready, Request, Response};

/// Calls (or does not call) `inner` for a request and shapes the result.
pub trait Wrap<S>: Clone {
    /// What the wrapped service fails with.
    type Error;
    /// Answers `req`, calling `inner` when it should see the request.
    fn call(&self, inner: &mut S, req: Request) -> Result<Response, Self::Error>;
}

/// Wraps a service in `W`.
#[derive(Clone, Debug)]
#[must_use]
pub struct WrapLayer<W> {
    wrap: W,
}

impl<W> WrapLayer<W> {
    /// A layer wrapping services in `wrap`.
    pub fn new(wrap: W) -> Self {
        Self { wrap }
    }
}

impl<S, W: Clone> Layer<S> for WrapLayer<W> {
    type Service = Wrapped<S, W>;
    fn layer(&self, inner: S) -> Wrapped<S, W> {
        Wrapped {
            inner,
            wrap: self.wrap.clone(),
        }
    }
}

/// A service inside a [`Wrap`]; built by [`WrapLayer`].
#[derive(Clone, Debug)]
pub struct Wrapped<S, W> {
    inner: S,
    wrap: W,
}

impl<S, W: Wrap<S>> Service<Request> for Wrapped<S, W> {
    type Response = Response;
    type Error = W::Error;
    type Future = Ready<Response, W::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), W::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Ready<Response, W::Error> {
        std::future::ready(self.wrap.call(&mut self.inner, req))
    }
}
