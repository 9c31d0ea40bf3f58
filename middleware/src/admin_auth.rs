//! `AdminAuth`: admits a request to the admin API only with admin credentials.
//!
//! Reads: the `Fastly-Key` request header; the [`Environment`](pubsub_core::ports::Environment)
//! port (is the header a valid Fastly API token for this service?); Secret Store
//! `secrets` entry `admin-token`.
//! Writes: [`AdminAuthorized`] into request extensions, naming which credential matched.
//! Rejects: a missing, empty or wrong `Fastly-Key` with 401 ([`Error::AdminUnauthorized`]).
//!
//! Two credentials are accepted:
//!
//! - In production, a Fastly API token that Fastly says is valid for this service
//!   (`fastly::Request::fastly_key_is_valid`, behind the `Environment` port), as with
//!   Fastly's original app.
//! - Anywhere, the value of the Secret Store entry `admin-token`, compared in constant
//!   time ([`constant_time_eq`]). Locally this is the only way in, since no Fastly API
//!   exists to validate a key; in production the entry is optional. An empty entry never
//!   matches.
//!
//! Whether the admin API exists at all is decided before this layer, by
//! `RequireFeature(Feature::Admin)` (404 when the Config Store switches `admin` off).

use pubsub_core::ports::Platform;

use crate::guard::{Admit, Guard};
use crate::{Error, Request};

pub use pubsub_core::extensions::AdminAuthorized;

/// The request header that carries admin credentials.
pub const HEADER: &str = "fastly-key";

/// The Secret Store entry holding the optional admin token.
pub const ADMIN_TOKEN_SECRET: &str = "admin-token";

/// See the module documentation.
#[derive(Clone)]
pub struct AdminAuth(pub Platform);

impl Guard for AdminAuth {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let admitted = authorize(req, &self.0)?;
        req.extensions_mut().insert(admitted);
        Ok(Admit::Continue)
    }
}

/// Decides whether `req` carries admin credentials valid on `platform`.
pub fn authorize(req: &Request, platform: &Platform) -> Result<AdminAuthorized, Error> {
    let key = req
        .headers()
        .get(HEADER)
        .map(|v| v.as_bytes())
        .filter(|v| !v.is_empty())
        .ok_or(Error::AdminUnauthorized)?;
    // A Fastly API token is printable ASCII; anything else cannot be one.
    if let Ok(text) = std::str::from_utf8(key) {
        if platform.env.fastly_key_is_valid(text) {
            return Ok(AdminAuthorized::FastlyKey);
        }
    }
    match platform.secrets.get(ADMIN_TOKEN_SECRET) {
        Some(token) if !token.is_empty() && constant_time_eq(key, &token) => {
            Ok(AdminAuthorized::AdminToken)
        }
        _ => Err(Error::AdminUnauthorized),
    }
}

/// Compares two byte strings in time that does not depend on where they differ.
///
/// Every byte position up to the longer length is visited and folded into one
/// accumulator with XOR/OR, with no early exit, so an attacker timing the comparison of a
/// guess against the secret learns nothing about how many leading bytes were right. The
/// lengths are compared the same way (folded in, not branched on); the running time still
/// grows with the longer input, which reveals at most whether the guess is longer than the
/// secret. [`std::hint::black_box`] keeps the optimiser from turning the loop back into an
/// early-exit comparison.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let len = a.len().max(b.len());
    // Non-zero when the lengths differ, without a branch.
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..len {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= std::hint::black_box(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;
    use pubsub_core::ports::memory::{MemoryMap, TestEnv};

    const ADMIN_TOKEN: &str = "local-admin-token";
    const FASTLY_KEY: &str = "valid-fastly-api-token";

    fn platform_with(admin_token: Option<&str>, fastly_key: Option<&str>) -> Platform {
        let (mut platform, ..) = platform();
        platform.secrets = Arc::new(match admin_token {
            Some(t) => MemoryMap::of(&[(ADMIN_TOKEN_SECRET, t)]),
            None => MemoryMap::default(),
        });
        let mut env = TestEnv::default();
        env.fastly_key = fastly_key.map(str::to_owned);
        platform.env = Arc::new(env);
        platform
    }

    fn admin_request(key: Option<&str>) -> Request {
        let mut builder = request("POST", "/admin/keys");
        if let Some(key) = key {
            builder = builder.header("Fastly-Key", key);
        }
        with_config(builder.body(Vec::new()).expect("request"))
    }

    #[test]
    fn admin_credentials_are_checked() {
        let both = || platform_with(Some(ADMIN_TOKEN), Some(FASTLY_KEY));
        type Case = (
            &'static str,
            Platform,
            Option<&'static str>,
            Result<AdminAuthorized, u16>,
        );
        let cases: Vec<Case> = vec![
            ("no header", both(), None, Err(401)),
            ("empty header", both(), Some(""), Err(401)),
            ("wrong key", both(), Some("guess"), Err(401)),
            ("admin token prefix", both(), Some("local-admin"), Err(401)),
            (
                "admin token plus a byte",
                both(),
                Some("local-admin-tokenX"),
                Err(401),
            ),
            (
                "admin token",
                both(),
                Some(ADMIN_TOKEN),
                Ok(AdminAuthorized::AdminToken),
            ),
            (
                "valid Fastly-Key",
                both(),
                Some(FASTLY_KEY),
                Ok(AdminAuthorized::FastlyKey),
            ),
            (
                "valid Fastly-Key without an admin token",
                platform_with(None, Some(FASTLY_KEY)),
                Some(FASTLY_KEY),
                Ok(AdminAuthorized::FastlyKey),
            ),
            (
                "admin token when Fastly cannot validate keys",
                platform_with(Some(ADMIN_TOKEN), None),
                Some(ADMIN_TOKEN),
                Ok(AdminAuthorized::AdminToken),
            ),
            (
                "no admin token configured",
                platform_with(None, None),
                Some(ADMIN_TOKEN),
                Err(401),
            ),
            (
                "an empty admin token never matches",
                platform_with(Some(""), None),
                Some(""),
                Err(401),
            ),
        ];
        for (name, platform, key, want) in cases {
            let got = authorize(&admin_request(key), &platform).map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn the_layer_admits_with_a_marker_and_rejects_with_401() {
        let platform = platform_with(Some(ADMIN_TOKEN), None);
        let mut svc = GuardLayer::new(AdminAuth(platform)).layer(Echo);
        let err = call(&mut svc, admin_request(Some("nope"))).expect_err("wrong key");
        assert_eq!(err, Error::AdminUnauthorized);
        assert_eq!(err.status(), 401);
        assert!(call(&mut svc, admin_request(Some(ADMIN_TOKEN))).is_ok());
    }

    #[test]
    fn constant_time_eq_agrees_with_plain_equality() {
        let cases: [(&[u8], &[u8]); 9] = [
            (b"", b""),
            (b"a", b""),
            (b"", b"a"),
            (b"abc", b"abc"),
            (b"abc", b"abd"),
            (b"abc", b"xbc"),
            (b"abc", b"abcd"),
            (b"abc\0", b"abc"),
            (&[0xff; 64], &[0xff; 64]),
        ];
        for (a, b) in cases {
            assert_eq!(constant_time_eq(a, b), a == b, "{a:?} vs {b:?}");
        }
    }
}
