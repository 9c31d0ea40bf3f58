//! `VerifyGrip`: decides whether the request came through the GRIP proxy.
//!
//! Reads: the `Grip-Sig` header; [`Config`] (from [`LoadConfig`](crate::load_config)) for
//! the local issuer; Secret Store entry `grip-sig-key`; the service id.
//! Writes: [`GripVerified`] into request extensions when `Grip-Sig` verifies.
//! Rejects: a `Grip-Sig` that does not verify, with 403 ([`Error::BadGripSig`]).
//! Without `Grip-Sig`, every `Grip-*` and `Meta-*` header is removed, so nothing
//! downstream can trust what a client sent directly.

use std::task::{Context, Poll};

use tower_service::Service;

use crate::grip::{self, GripKey, GripVerified};
use crate::ports::Platform;
use crate::{Config, Error, Layer, Ready, Request, Response};

/// Builds [`VerifyGrip`].
#[derive(Clone)]
#[must_use]
pub struct VerifyGripLayer {
    platform: Platform,
}

impl VerifyGripLayer {
    /// A layer reading keys and the clock from `platform`.
    pub fn new(platform: Platform) -> Self {
        Self { platform }
    }
}

impl<S> Layer<S> for VerifyGripLayer {
    type Service = VerifyGrip<S>;
    fn layer(&self, inner: S) -> VerifyGrip<S> {
        VerifyGrip {
            inner,
            platform: self.platform.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Clone)]
pub struct VerifyGrip<S> {
    inner: S,
    platform: Platform,
}

impl<S> VerifyGrip<S> {
    fn key(&self, config: &Config) -> Result<GripKey, Error> {
        if let Some(key) = self.platform.secrets.get("grip-sig-key") {
            return Ok(GripKey::Shared {
                key,
                issuer: config.grip_sig_iss.clone(),
            });
        }
        let service_id =
            self.platform.env.service_id().ok_or_else(|| {
                Error::BadGripSig("no service id to check the issuer against".into())
            })?;
        Ok(GripKey::Fastly { service_id })
    }
}

impl<S> Service<Request> for VerifyGrip<S>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Ready {
        let Some(sig) = req.headers().get("grip-sig") else {
            strip_proxy_headers(req.headers_mut());
            return self.inner.call(req);
        };
        let config = req
            .extensions()
            .get::<Config>()
            .expect("LoadConfig runs before VerifyGrip");
        let checked = sig
            .to_str()
            .map_err(|_| Error::BadGripSig("header is not ASCII".into()))
            .and_then(|sig| {
                let key = self.key(config)?;
                grip::verify(sig, &key, self.platform.env.now()).map_err(Error::BadGripSig)
            });
        match checked {
            Ok(()) => {
                req.extensions_mut().insert(GripVerified);
                self.inner.call(req)
            }
            Err(e) => std::future::ready(Err(e)),
        }
    }
}

fn strip_proxy_headers(headers: &mut http::HeaderMap) {
    let forged: Vec<http::HeaderName> = headers
        .keys()
        .filter(|name| {
            let n = name.as_str();
            n.starts_with("grip-") || n.starts_with("meta-")
        })
        .cloned()
        .collect();
    for name in forged {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn a_verified_signature_marks_the_request() {
        let mut svc = VerifyGripLayer::new(platform().0).layer(Echo);
        let req = request("GET", "/events")
            .header("grip-sig", grip_sig(GRIP_KEY, "pushpin", NOW + 60))
            .header("meta-user", "x")
            .body(Vec::new())
            .expect("request");
        let res = call(&mut svc, with_config(req)).expect("accepted");
        assert_eq!(res.headers()["x-grip-verified"], "true");
        assert_eq!(res.headers()["x-saw-meta"], "true");
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let mut svc = VerifyGripLayer::new(platform().0).layer(Echo);
        let req = request("GET", "/events")
            .header("grip-sig", grip_sig("forged", "pushpin", NOW + 60))
            .body(Vec::new())
            .expect("request");
        let err = call(&mut svc, with_config(req)).expect_err("refused");
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn without_a_signature_proxy_headers_are_dropped() {
        let mut svc = VerifyGripLayer::new(platform().0).layer(Echo);
        let req = request("GET", "/events")
            .header("meta-user", "x")
            .header("grip-last", "a; last-id=1")
            .body(Vec::new())
            .expect("request");
        let res = call(&mut svc, with_config(req)).expect("passed on");
        assert_eq!(res.headers()["x-grip-verified"], "false");
        assert_eq!(res.headers()["x-saw-meta"], "false");
    }
}
