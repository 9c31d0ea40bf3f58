//! `VerifyGrip`: decides whether the request came through the GRIP proxy.
//!
//! Reads: the `Grip-Sig` header; [`Config`] (from [`LoadConfig`](crate::load_config)) for
//! the local issuer (without it, 500); Secret Store entry `grip-sig-key`; the service id.
//! Writes: [`GripVerified`] into request extensions when `Grip-Sig` verifies; a verified
//! Fanout (ES256) signature into the POP's cache, so that it is not verified again while
//! it is valid ([`grip_sig::verify_cached`]: ECDSA costs more than the rest of a subscribe).
//! Rejects: a `Grip-Sig` that does not verify (wrong key or issuer, no `exp`, expired),
//! with 403 ([`Error::BadGripSig`]); an empty `grip-sig-key` with 500
//! ([`Error::Misconfigured`]) when a `Grip-Sig` is to be checked, since an empty HMAC key
//! would let anyone sign.
//! Without `Grip-Sig`, every `Grip-*` and `Meta-*` header is removed, so nothing
//! downstream can trust what a client sent directly.

use pubsub_core::extensions::required;
use pubsub_core::grip_sig::{self, GripKey, GripVerified};
use pubsub_core::ports::Platform;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

/// The Secret Store entry holding a local proxy's shared `Grip-Sig` key.
pub const GRIP_SIG_KEY_SECRET: &str = "grip-sig-key";

/// See the module documentation.
#[derive(Clone)]
pub struct VerifyGrip(pub Platform);

impl VerifyGrip {
    fn key(&self, config: &Config) -> Result<GripKey, Error> {
        if let Some(key) = self.0.secrets.get(GRIP_SIG_KEY_SECRET) {
            if key.is_empty() {
                return Err(Error::Misconfigured(format!(
                    "Secret Store `secrets` entry `{GRIP_SIG_KEY_SECRET}` is empty: \
                     set Pushpin's sig_key there, or delete the entry to use Fanout's key"
                )));
            }
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
        grip_sig::verify_cached(sig, &key, &*self.0.env).map_err(Error::BadGripSig)?;
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
    fn an_empty_grip_sig_key_is_a_configuration_error() {
        let (mut platform, ..) = platform();
        platform.secrets = std::sync::Arc::new(pubsub_core::ports::memory::MemoryMap::of(&[(
            GRIP_SIG_KEY_SECRET,
            "",
        )]));
        let mut svc = GuardLayer::new(VerifyGrip(platform)).layer(Echo);
        // Signed with the empty key: it must not pass as a proxy's signature.
        let req = request("GET", "/events")
            .header("grip-sig", grip_sig("", "pushpin", NOW + 60))
            .body(Vec::new())
            .expect("request");
        let err = call(&mut svc, with_config(req)).expect_err("refused");
        assert_eq!(err.status(), 500);
        assert!(err.to_string().contains("`grip-sig-key`"), "{err}");
        let shown = crate::error_map::error_response(err, crate::error_map::ErrorForm::Plain);
        assert!(
            String::from_utf8_lossy(shown.body()).contains("grip-sig-key"),
            "the answer names the setting"
        );
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
