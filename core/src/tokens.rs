//! Token verification: a JWT whose header `kid` names a key in KV store `keys`.
//!
//! The accepted algorithm is the one bound to the stored key ([`KeyRecord::algorithm`]);
//! the token's own `alg` must equal it, so `none`, and an HS256 token presented with an
//! ES256 key id, are refused. `exp` and `nbf` are honoured when present, with
//! [`LEEWAY_SECS`] of clock skew. Claims `x-fastly-read` and `x-fastly-write` list the
//! topics the bearer may subscribe to and publish to.

use jsonwebtoken::{decode, decode_header, Validation};
use serde::Deserialize;

use crate::keys::{self, KeyRecord};
use crate::ports::{KvError, KvStore};
use crate::Error;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Who is making the request, as proven by a verified token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Principal {
    /// Topics the bearer may subscribe to.
    #[serde(rename = "x-fastly-read", default)]
    pub read: Vec<String>,
    /// Topics the bearer may publish to.
    #[serde(rename = "x-fastly-write", default)]
    pub write: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Not-before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// The id of the signing key that verified the token (its `kid`): revoking that key
    /// ends every connection it authorised (see `message::revocation_body`).
    #[serde(skip)]
    pub kid: String,
}

/// The kind of access a route needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Subscribe.
    Read,
    /// Publish.
    Write,
}

impl Principal {
    /// Whether the token grants `access` to `topic`.
    pub fn allows(&self, access: Access, topic: &str) -> bool {
        let topics = match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        };
        topics.iter().any(|t| t == topic)
    }

    /// `Ok` when the token grants `access` to `topic`, else [`Error::Forbidden`].
    pub fn check(&self, access: Access, topic: &str) -> Result<(), Error> {
        if self.allows(access, topic) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                access: match access {
                    Access::Read => "read",
                    Access::Write => "write",
                },
                topic: topic.to_owned(),
            })
        }
    }

    /// Whether the token has expired at `now` (leeway included).
    pub fn expired_at(&self, now: u64) -> bool {
        self.exp
            .is_some_and(|exp| now > exp.saturating_add(LEEWAY_SECS))
    }
}

/// Verifies `token` against the keys in `kv` at time `now`.
pub fn verify(token: &str, kv: &dyn KvStore, now: u64) -> Result<Principal, Error> {
    let header =
        decode_header(token).map_err(|e| Error::InvalidToken(format!("malformed JWT ({e})")))?;
    let kid = header
        .kid
        .ok_or_else(|| Error::InvalidToken("the JWT header has no `kid`".into()))?;
    if keys::validate_id(&kid).is_err() {
        return Err(Error::UnknownKey(kid));
    }
    let item = match kv.lookup(keys::STORE, &kid) {
        Ok(Some(item)) => item,
        Ok(None) => return Err(Error::UnknownKey(kid)),
        Err(e @ (KvError::Unavailable(_) | KvError::GenerationMismatch)) => {
            return Err(Error::StoreUnavailable(format!("key lookup failed: {e}")))
        }
    };
    let record = KeyRecord::parse(&item.value);
    let algorithm = record.algorithm();
    if header.alg != algorithm {
        return Err(Error::InvalidToken(format!(
            "key {kid:?} only verifies {algorithm:?} tokens, not {:?}",
            header.alg
        )));
    }
    let mut validation = Validation::new(algorithm);
    // exp/nbf are checked below against the platform clock, so tests can move time.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut principal = decode::<Principal>(token, &record.decoding_key()?, &validation)
        .map_err(|e| Error::InvalidToken(e.to_string()))?
        .claims;
    principal.kid = kid;
    if principal.expired_at(now) {
        return Err(Error::InvalidToken("the token has expired".into()));
    }
    if principal
        .nbf
        .is_some_and(|nbf| now.saturating_add(LEEWAY_SECS) < nbf)
    {
        return Err(Error::InvalidToken(
            "the token is not valid yet (nbf)".into(),
        ));
    }
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::*;

    #[test]
    fn a_good_token_gives_its_topics() {
        let kv = kv_with_dev_key();
        let token = mint(&serde_json::json!({"x-fastly-read":["a"],"x-fastly-write":["b"]}));
        let p = verify(&token, &kv, NOW).expect("valid token");
        assert!(p.allows(Access::Read, "a") && !p.allows(Access::Write, "a"));
        assert!(p.allows(Access::Write, "b") && !p.allows(Access::Read, "b"));
    }

    #[test]
    fn bad_tokens_are_refused_with_the_right_error() {
        let kv = kv_with_dev_key();
        let exp_ok = NOW - 30;
        let cases: Vec<(&str, String, u16)> = vec![
            ("garbage", "not.a.jwt".into(), 401),
            (
                "expired beyond leeway",
                mint(&serde_json::json!({"exp": NOW - 61})),
                401,
            ),
            (
                "not yet valid",
                mint(&serde_json::json!({"nbf": NOW + 61})),
                401,
            ),
            (
                "unknown kid",
                mint_with("HS256", "nope", DEV_SECRET, &serde_json::json!({})),
                401,
            ),
            (
                "wrong secret",
                mint_with("HS256", DEV_KID, "other", &serde_json::json!({})),
                401,
            ),
            (
                "alg none",
                unsigned_token(&serde_json::json!({"alg":"none","kid":DEV_KID})),
                401,
            ),
            (
                "alg HS384",
                mint_with("HS384", DEV_KID, DEV_SECRET, &serde_json::json!({})),
                401,
            ),
            (
                "exp within leeway",
                mint(&serde_json::json!({"exp": exp_ok})),
                0,
            ),
        ];
        for (name, token, status) in cases {
            match verify(&token, &kv, NOW) {
                Ok(_) => assert_eq!(status, 0, "{name} was accepted"),
                Err(e) => assert_eq!(e.status().as_u16(), status, "{name}: {e}"),
            }
        }
    }

    #[test]
    fn a_storage_failure_is_a_503_not_a_401() {
        let kv = kv_with_dev_key();
        kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
        let err = verify(&mint(&serde_json::json!({})), &kv, NOW).expect_err("store down");
        assert_eq!(err.status().as_u16(), 503);
    }
}
