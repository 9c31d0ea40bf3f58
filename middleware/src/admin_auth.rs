//! `AdminAuth`: admits a request to the admin API only with admin credentials.
//!
//! Reads: the `Fastly-Key` request header; [`Config`] (from
//! [`LoadConfig`](crate::load_config); without it, 500); Secret Store `secrets` entries
//! `admin-token` and `publish-token`; the [`Environment`](pubsub_core::ports::Environment)
//! port (is the header a valid Fastly API token for this service?).
//! Writes: [`AdminAuthorized`] into request extensions, naming which credential matched.
//! Rejects: a missing, empty or wrong `Fastly-Key` with 401 ([`Error::AdminUnauthorized`]).
//!
//! Credentials:
//!
//! - The value of the Secret Store entry `admin-token`, compared in constant time
//!   ([`constant_time_eq`]). This is the admin credential by default, locally and in
//!   production. An empty entry never matches.
//! - Only when Config Store key `admin-fastly-key` is `true`: a Fastly API token that
//!   Fastly says is valid for this service (`fastly::Request::fastly_key_is_valid`, behind
//!   the `Environment` port), as with Fastly's original app. That check only says the token
//!   may purge this service, so it is off by default: the service's own `publish-token`
//!   and any CI purge token pass it, and neither should manage signing keys.
//! - Never, even with `admin-fastly-key`: a `Fastly-Key` equal to the Secret Store entry
//!   `publish-token` (compared in constant time). The app holds that token to publish; it
//!   is not an admin credential.
//!
//! Whether the admin API exists at all is decided before this layer, by
//! `RequireFeature(Feature::Admin)` (404 when the Config Store switches `admin` off).

use pubsub_core::ports::Platform;

use pubsub_core::extensions::required;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

pub use pubsub_core::extensions::AdminAuthorized;

/// The request header that carries admin credentials.
pub const HEADER: &str = "fastly-key";

/// The Secret Store entry holding the admin token.
pub const ADMIN_TOKEN_SECRET: &str = "admin-token";

/// The Secret Store entry holding the app's publish token, which is never an admin
/// credential.
pub const PUBLISH_TOKEN_SECRET: &str = "publish-token";

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
    if let Some(token) = platform.secrets.get(ADMIN_TOKEN_SECRET) {
        if !token.is_empty() && constant_time_eq(key, &token) {
            return Ok(AdminAuthorized::AdminToken);
        }
    }
    if required::<Config>(req)?.admin_fastly_key && !is_publish_token(key, platform) {
        // A Fastly API token is printable ASCII; anything else cannot be one.
        if let Ok(text) = std::str::from_utf8(key) {
            if platform.env.fastly_key_is_valid(text) {
                return Ok(AdminAuthorized::FastlyKey);
            }
        }
    }
    Err(Error::AdminUnauthorized)
}

/// Whether `key` is the app's own publish token (constant time; an empty entry matches
/// nothing, and `key` is never empty here).
fn is_publish_token(key: &[u8], platform: &Platform) -> bool {
    platform
        .secrets
        .get(PUBLISH_TOKEN_SECRET)
        .is_some_and(|token| !token.is_empty() && constant_time_eq(key, &token))
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
    const PUBLISH_TOKEN: &str = "the-apps-publish-token";

    /// A platform whose Secret Store holds `admin_token` and `PUBLISH_TOKEN`, and on which
    /// Fastly says `fastly_key` is a valid API token for the service.
    fn platform_with(admin_token: Option<&str>, fastly_key: Option<&str>) -> Platform {
        let (mut platform, ..) = platform();
        let mut secrets = vec![(PUBLISH_TOKEN_SECRET, PUBLISH_TOKEN)];
        if let Some(t) = admin_token {
            secrets.push((ADMIN_TOKEN_SECRET, t));
        }
        platform.secrets = Arc::new(MemoryMap::of(&secrets));
        let mut env = TestEnv::default();
        env.fastly_key = fastly_key.map(str::to_owned);
        platform.env = Arc::new(env);
        platform
    }

    fn admin_request(key: Option<&str>) -> Request {
        admin_request_with(key, false)
    }

    /// A request to the admin API; `admin_fastly_key` is the Config Store switch.
    fn admin_request_with(key: Option<&str>, admin_fastly_key: bool) -> Request {
        let mut builder = request("POST", "/admin/keys");
        if let Some(key) = key {
            builder = builder.header("Fastly-Key", key);
        }
        let mut req = builder.body(Vec::new()).expect("request");
        let mut config = Config::default();
        config.admin_fastly_key = admin_fastly_key;
        req.extensions_mut().insert(config);
        req
    }

    type Case = (
        &'static str,
        Platform,
        Option<&'static str>,
        Result<AdminAuthorized, u16>,
    );

    fn check(cases: Vec<Case>, admin_fastly_key: bool) {
        for (name, platform, key, want) in cases {
            let req = admin_request_with(key, admin_fastly_key);
            let got = authorize(&req, &platform).map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "{name} (admin-fastly-key {admin_fastly_key})");
        }
    }

    #[test]
    fn by_default_only_the_admin_token_is_an_admin_credential() {
        let both = || platform_with(Some(ADMIN_TOKEN), Some(FASTLY_KEY));
        check(
            vec![
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
                    "a Fastly API token Fastly says may purge this service",
                    both(),
                    Some(FASTLY_KEY),
                    Err(401),
                ),
                (
                    "the publish token, valid as a Fastly API token",
                    platform_with(Some(ADMIN_TOKEN), Some(PUBLISH_TOKEN)),
                    Some(PUBLISH_TOKEN),
                    Err(401),
                ),
                (
                    "no admin token configured",
                    platform_with(None, Some(FASTLY_KEY)),
                    Some(ADMIN_TOKEN),
                    Err(401),
                ),
                (
                    "an empty admin token never matches",
                    platform_with(Some(""), None),
                    Some(""),
                    Err(401),
                ),
            ],
            false,
        );
    }

    #[test]
    fn with_admin_fastly_key_a_valid_api_token_but_never_the_publish_token_is_admitted() {
        let both = || platform_with(Some(ADMIN_TOKEN), Some(FASTLY_KEY));
        check(
            vec![
                ("wrong key", both(), Some("guess"), Err(401)),
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
                    "the publish token, valid as a Fastly API token",
                    platform_with(Some(ADMIN_TOKEN), Some(PUBLISH_TOKEN)),
                    Some(PUBLISH_TOKEN),
                    Err(401),
                ),
                (
                    "admin token when Fastly cannot validate keys",
                    platform_with(Some(ADMIN_TOKEN), None),
                    Some(ADMIN_TOKEN),
                    Ok(AdminAuthorized::AdminToken),
                ),
            ],
            true,
        );
    }

    #[test]
    fn without_the_configuration_the_request_is_refused_as_a_bug() {
        let platform = platform_with(Some(ADMIN_TOKEN), Some(FASTLY_KEY));
        let req = request("POST", "/admin/keys")
            .header("Fastly-Key", FASTLY_KEY)
            .body(Vec::new())
            .expect("request");
        let err = authorize(&req, &platform).expect_err("no Config");
        assert_eq!(err.status(), 500);
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
