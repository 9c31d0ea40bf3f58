//! `FanoutHandoff`: sends a request that did not come through the GRIP proxy to it.
//!
//! Reads: [`GripVerified`] (from [`VerifyGrip`](crate::verify_grip)).
//! Writes: nothing.
//! Without [`GripVerified`], answers at once with a response carrying the [`Handoff`]
//! extension, which the Compute adapter turns into `Request::handoff_fanout(backend)`:
//! Fanout then holds the client connection and calls the app again, signed. No token is
//! checked on this first pass; the signed second pass checks it, so a subscribe costs one
//! token verification, not two.

use std::task::{Context, Poll};

use tower_service::Service;

use crate::grip::GripVerified;
use crate::{Error, Layer, Ready, Request, Response};

/// Response extension: hand the request off to Fanout through this backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff(pub &'static str);

/// The backend through which Fanout reaches this service again.
pub const SELF_BACKEND: &str = "self";

/// Builds [`FanoutHandoff`].
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct FanoutHandoffLayer;

impl<S> Layer<S> for FanoutHandoffLayer {
    type Service = FanoutHandoff<S>;
    fn layer(&self, inner: S) -> FanoutHandoff<S> {
        FanoutHandoff { inner }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct FanoutHandoff<S> {
    inner: S,
}

/// The response that asks the adapter to hand the request off to Fanout.
pub fn handoff_response() -> Response {
    let mut res = Response::default();
    res.extensions_mut().insert(Handoff(SELF_BACKEND));
    res
}

impl<S> Service<Request> for FanoutHandoff<S>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Ready {
        if req.extensions().get::<GripVerified>().is_some() {
            self.inner.call(req)
        } else {
            std::future::ready(Ok(handoff_response()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn an_unsigned_request_is_handed_off_without_reaching_the_handler() {
        let mut svc = FanoutHandoffLayer.layer(Echo);
        let res = call(&mut svc, get("/events")).expect("handoff");
        assert_eq!(res.extensions().get::<Handoff>(), Some(&Handoff("self")));
        assert!(res.headers().get("x-grip-verified").is_none());
    }

    #[test]
    fn a_signed_request_reaches_the_handler() {
        let mut svc = FanoutHandoffLayer.layer(Echo);
        let mut req = get("/events");
        req.extensions_mut().insert(GripVerified);
        let res = call(&mut svc, req).expect("passed");
        assert!(res.extensions().get::<Handoff>().is_none());
        assert_eq!(res.headers()["x-grip-verified"], "true");
    }
}
