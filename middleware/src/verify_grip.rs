//! `VerifyGrip`: decides whether the request came through the GRIP proxy.
//!
//! Reads: the `Grip-Sig` header; [`Config`] (from [`LoadConfig`](crate::load_config)) for
//! the local issuer (without it, 500); Secret Store entry `grip-sig-key`; the service id.
//! Writes: [`GripVerified`] into request extensions when `Grip-Sig` verifies.
//! Rejects: a `Grip-Sig` that does not verify, with 403 ([`Error::BadGripSig`]).
//! Without `Grip-Sig`, every `Grip-*` and `Meta-*` header is removed, so nothing
//! downstream can trust what a client sent directly.

use pubsub_core::extensions::required;
use pubsub_core::grip::{self, GripKey, GripVerified};
use pubsub_core::ports::Platform;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

/// See the module documentation.
#[derive(Clone)]
pub struct VerifyGrip(pub Platform);

impl VerifyGrip {
    fn key(&self, config: &Config) -> Result<GripKey, Error> {
        if let Some(key) = self.0.secrets.get("grip-sig-key") {
            return Ok(GripKey::Shared {
                key,
                issuer: config.grip_sig_iss.clone(),
            });
        }
        let service_id =
            self.0.env.service_id().ok_or_else(|| {
                Error::BadGripSig("no service id to check the issuer against".into())
            })?;
        Ok(GripKey::Fastly { service_id })
    }
}

impl Guard for VerifyGrip {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let Some(sig) = req.headers().get("grip-sig") else {
            strip_proxy_headers(req.headers_mut());
            return Ok(Admit::Continue);
        };
        let sig = sig
            .to_str()
            .map_err(|_| Error::BadGripSig("header is not ASCII".into()))?;
        let key = self.key(required::<Config>(req)?)?;
        grip::verify(sig, &key, self.0.env.now()).map_err(Error::BadGripSig)?;
        req.extensions_mut().insert(GripVerified);
        Ok(Admit::Continue)
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
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;

    #[test]
    fn a_verified_signature_marks_the_request() {
        let mut svc = GuardLayer::new(VerifyGrip(platform().0)).layer(Echo);
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
        let mut svc = GuardLayer::new(VerifyGrip(platform().0)).layer(Echo);
        let req = request("GET", "/events")
            .header("grip-sig", grip_sig("forged", "pushpin", NOW + 60))
            .body(Vec::new())
            .expect("request");
        let err = call(&mut svc, with_config(req)).expect_err("refused");
        assert_eq!(err.status(), 403);
    }

    #[test]
    fn without_a_signature_proxy_headers_are_dropped() {
        let mut svc = GuardLayer::new(VerifyGrip(platform().0)).layer(Echo);
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
