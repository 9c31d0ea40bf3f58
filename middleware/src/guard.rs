//! `Guard`: the one admission layer. Most layers of the pipeline only inspect or enrich a
//! request and then let it through, answer it early, or fail it; each of them is a short
//! [`Guard`] implementation served by the one [`GuardLayer`] below (a
//! [`crate::wrap::Wrap`] that admits, then calls the inner service).
//!
//! Reads and writes: whatever the guard's [`Guard::admit`] reads and inserts.
//! Rejects: with the guard's [`Error`]; answers early with the guard's response.

use tower_service::Service;

use crate::wrap::{Wrap, WrapLayer, Wrapped};
use crate::{Error, Layer, Ready, Request, Response};

/// What a guard decided about a request.
#[derive(Debug)]
pub enum Admit {
    /// Pass the (possibly enriched) request on to the inner service.
    Continue,
    /// Answer with this response; the inner service never sees the request.
    Respond(Response),
}

/// Inspects or enriches a request before the inner service sees it.
///
/// ```
/// use pubsub_middleware::guard::{Admit, Guard, GuardLayer};
/// use pubsub_middleware::{Error, Request};
///
/// /// Refuses requests without a `User-Agent`.
/// #[derive(Clone)]
/// struct RequireUserAgent;
///
/// impl Guard for RequireUserAgent {
///     fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
///         match req.headers().contains_key(http::header::USER_AGENT) {
///             true => Ok(Admit::Continue),
///             false => Err(Error::BadRequest("a User-Agent header is required".into())),
///         }
///     }
/// }
///
/// let layer = GuardLayer::new(RequireUserAgent);
/// # let _ = layer;
/// ```
pub trait Guard: Clone {
    /// Decides about `req`; may insert request extensions or edit headers.
    fn admit(&self, req: &mut Request) -> Result<Admit, Error>;
}

/// A [`Guard`] as a [`Wrap`]: admits the request, then calls the inner service.
#[derive(Clone, Debug)]
pub struct Admission<G>(pub G);

impl<S, G> Wrap<S> for Admission<G>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
    G: Guard,
{
    type Error = Error;

    fn call(&self, inner: &mut S, mut req: Request) -> Result<Response, Error> {
        match self.0.admit(&mut req)? {
            Admit::Continue => inner.call(req).into_inner(),
            Admit::Respond(res) => Ok(res),
        }
    }
}

/// Wraps a service so that `G` admits every request first.
#[derive(Clone, Debug)]
#[must_use]
pub struct GuardLayer<G>(WrapLayer<Admission<G>>);

impl<G> GuardLayer<G> {
    /// A layer admitting requests with `guard`.
    pub fn new(guard: G) -> Self {
        Self(WrapLayer::new(Admission(guard)))
    }
}

impl<S, G: Clone> Layer<S> for GuardLayer<G> {
    type Service = Guarded<S, G>;
    fn layer(&self, inner: S) -> Guarded<S, G> {
        self.0.layer(inner)
    }
}

/// A service behind a [`Guard`]; built by [`GuardLayer`].
pub type Guarded<S, G> = Wrapped<S, Admission<G>>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[derive(Clone)]
    struct ByPath;

    impl Guard for ByPath {
        fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
            match req.uri().path() {
                "/pass" => Ok(Admit::Continue),
                "/answer" => Ok(Admit::Respond(http::Response::new(b"early".to_vec()))),
                _ => Err(Error::NotFound),
            }
        }
    }

    #[test]
    fn a_guard_continues_answers_early_or_fails() {
        let mut svc = GuardLayer::new(ByPath).layer(Echo);
        let passed = call(&mut svc, get("/pass")).expect("passed");
        assert!(passed.headers().contains_key("x-grip-verified"));
        let early = call(&mut svc, get("/answer")).expect("answered");
        assert_eq!(body_text(&early), "early");
        assert_eq!(
            call(&mut svc, get("/x")).expect_err("failed"),
            Error::NotFound
        );
    }
}
