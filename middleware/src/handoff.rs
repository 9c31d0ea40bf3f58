//! `FanoutHandoff`: sends a request that did not come through the GRIP proxy to it;
//! `FanoutOnly`: refuses one that did not.
//!
//! Reads: [`GripVerified`] (from [`VerifyGrip`](crate::verify_grip)).
//! Writes: nothing.
//! [`FanoutHandoff`], without [`GripVerified`], answers at once with a response carrying
//! the [`Handoff`] extension, which the Compute adapter turns into
//! `Request::handoff_fanout(backend)`: Fanout then holds the client connection and calls
//! the app again, signed. No token is checked on this first pass; the signed second pass
//! checks it, so a subscribe costs one token verification, not two.
//! [`FanoutOnly`], for routes only Fanout itself requests (the links of streams), rejects
//! a request without [`GripVerified`] with 403 ([`Error::BadGripSig`]) and never hands
//! it off: a client holding a link's URL cannot open a stream with it.

use pubsub_core::extensions::{handoff_response, GripVerified};

use crate::guard::{Admit, Guard};
use crate::{Error, Request};

pub use pubsub_core::extensions::{Handoff, SELF_BACKEND};

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct FanoutHandoff;

impl Guard for FanoutHandoff {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        if req.extensions().get::<GripVerified>().is_some() {
            Ok(Admit::Continue)
        } else {
            Ok(Admit::Respond(handoff_response()))
        }
    }
}

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct FanoutOnly;

/// The refusal of a request to a route only Fanout requests.
pub const NOT_FROM_FANOUT: &str =
    "this link is requested by Fanout only, and the request carries no Grip-Sig";

impl Guard for FanoutOnly {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        match req.extensions().get::<GripVerified>() {
            Some(_) => Ok(Admit::Continue),
            None => Err(Error::BadGripSig(NOT_FROM_FANOUT.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;

    #[test]
    fn an_unsigned_request_is_handed_off_without_reaching_the_handler() {
        let mut svc = GuardLayer::new(FanoutHandoff).layer(Echo);
        let res = call(&mut svc, get("/events")).expect("handoff");
        assert_eq!(res.extensions().get::<Handoff>(), Some(&Handoff("self")));
        assert!(res.headers().get("x-grip-verified").is_none());
    }

    #[test]
    fn only_a_signed_request_reaches_a_fanout_only_route() {
        let mut svc = GuardLayer::new(FanoutOnly).layer(Echo);
        let err = call(&mut svc, get("/events/link/g")).expect_err("unsigned");
        assert_eq!(err.status(), 403);
        assert_eq!(
            err.to_string(),
            "Grip-Sig rejected: this link is requested by Fanout only, and the request \
             carries no Grip-Sig"
        );
        let mut req = get("/events/link/g");
        req.extensions_mut().insert(GripVerified);
        assert!(call(&mut svc, req).is_ok());
    }

    #[test]
    fn a_signed_request_reaches_the_handler() {
        let mut svc = GuardLayer::new(FanoutHandoff).layer(Echo);
        let mut req = get("/events");
        req.extensions_mut().insert(GripVerified);
        let res = call(&mut svc, req).expect("passed");
        assert!(res.extensions().get::<Handoff>().is_none());
        assert_eq!(res.headers()["x-grip-verified"], "true");
    }
}
