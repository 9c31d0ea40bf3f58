//! Token verification: a JWT whose header `kid` names a key in KV store `keys`, read into
//! a [`Principal`].
//!
//! The accepted algorithm is the one bound to the stored key ([`KeyRecord::algorithm`]);
//! the token's own `alg` must equal it, so `none`, and an HS256 token presented with an
//! ES256 key id, are refused. `exp` is required (a token without it would never expire)
//! unless Config Store key `allow-tokens-without-exp` is `true`; `exp` and `nbf` are
//! honoured with [`LEEWAY_SECS`] of clock skew. The claims that name topics are read per
//! dialect ([`claims`]): today `x-fastly-read` and `x-fastly-write`.
//!
//! A key whose stored value is not a usable key ([`KeyRecord::parse`],
//! [`KeyRecord::verifying_key`]) refuses every token with 401 `signing key "<id>" is
//! unusable`; the reason is shown to admins by `GET /admin/keys`, not to token bearers.

use crate::claims;
use crate::jwt;
use crate::keys;
#[cfg(doc)]
use crate::keys::KeyRecord;
use crate::ports::KvStore;
use crate::principal::{Principal, LEEWAY_SECS};
use crate::{Config, Error};

pub mod mercure;

pub use mercure::{verify_mercure, MercureTokenRules};

/// The refusal of a token without `exp` (when `allow-tokens-without-exp` is off).
pub const NO_EXP: &str = "token has no exp claim";

/// The refusal of a token past its `exp` (and the leeway).
pub const EXPIRED: &str = "the token has expired";

/// Verifies `token` against the keys in `kv` at time `now` with the default rules: a
/// token must carry `exp`. [`verify_with`] applies the request's configuration.
pub fn verify(token: &str, kv: &dyn KvStore, now: u64) -> Result<Principal, Error> {
    verify_with(token, kv, now, &Config::default())
}

/// Verifies `token` against the keys in `kv` at time `now`, accepting a token without
/// `exp` only when `config.allow_tokens_without_exp` is set.
pub fn verify_with(
    token: &str,
    kv: &dyn KvStore,
    now: u64,
    config: &Config,
) -> Result<Principal, Error> {
    let parsed =
        jwt::parse(token).map_err(|e| Error::InvalidToken(format!("malformed JWT ({e})")))?;
    let kid = parsed
        .kid
        .clone()
        .ok_or_else(|| Error::InvalidToken("the JWT header has no `kid`".into()))?;
    let key = keys::verifying_key_for(kv, &kid)?;
    let principal =
        claims::read(&parsed, &key, kid.clone()).map_err(|why| claims::refusal(&kid, why))?;
    if principal.exp.is_none() && !config.allow_tokens_without_exp {
        return Err(Error::InvalidToken(NO_EXP.into()));
    }
    if principal.expired_at(now) {
        return Err(Error::InvalidToken(EXPIRED.into()));
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
    use crate::principal::Access;
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

    /// An HS256 token of the dev key whose claims are exactly `claims` (raw JSON text).
    fn raw_token(claims: &str) -> String {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine as _;
        use hmac::{Hmac, Mac};
        let header = format!(r#"{{"alg":"HS256","kid":"{DEV_KID}"}}"#);
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(DEV_SECRET.as_bytes()).expect("key");
        mac.update(input.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{tag}")
    }

    #[test]
    fn claim_edge_cases_get_a_precise_answer() {
        let kv = kv_with_dev_key();
        let json = |v: serde_json::Value| mint(&v);
        let cases: Vec<(&str, String, Result<(), &str>)> = vec![
            (
                "exp exactly at the leeway",
                json(serde_json::json!({"exp": NOW - 60})),
                Ok(()),
            ),
            (
                "exp one second past it",
                json(serde_json::json!({"exp": NOW - 61})),
                Err(EXPIRED),
            ),
            (
                "nbf exactly at the leeway",
                json(serde_json::json!({"nbf": NOW + 60})),
                Ok(()),
            ),
            (
                "nbf one second past it",
                json(serde_json::json!({"nbf": NOW + 61})),
                Err("not valid yet"),
            ),
            ("exp 0", json(serde_json::json!({"exp": 0})), Err(EXPIRED)),
            (
                "exp null",
                json(serde_json::json!({"exp": null})),
                Err(NO_EXP),
            ),
            (
                "exp a float",
                json(serde_json::json!({"exp": 1.9e9})),
                Err("`exp`"),
            ),
            (
                "exp negative",
                json(serde_json::json!({"exp": -1})),
                Err("`exp`"),
            ),
            (
                "exp twice",
                raw_token(&format!(
                    r#"{{"exp":{},"exp":{}}}"#,
                    NOW - 3_600,
                    NOW + 3_600
                )),
                Err("duplicate field `exp`"),
            ),
            (
                "x-fastly-read twice",
                raw_token(&format!(
                    r#"{{"exp":{},"x-fastly-read":[],"x-fastly-read":["a"]}}"#,
                    NOW + 60
                )),
                Err("duplicate field `x-fastly-read`"),
            ),
        ];
        for (name, token, want) in cases {
            match (verify(&token, &kv, NOW), want) {
                (Ok(_), Ok(())) => {}
                (Err(e), Err(text)) => {
                    assert_eq!(e.status().as_u16(), 401, "{name}: {e}");
                    assert!(e.to_string().contains(text), "{name}: {e}");
                }
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_token_without_exp_is_refused_unless_the_config_allows_it() {
        let kv = kv_with_dev_key();
        let token = mint_with(
            "HS256",
            DEV_KID,
            DEV_SECRET,
            &serde_json::json!({"x-fastly-read":["a"]}),
        );
        let err = verify(&token, &kv, NOW).expect_err("no exp");
        assert_eq!(err.status().as_u16(), 401);
        assert!(err.to_string().contains(NO_EXP), "{err}");
        assert_eq!(NO_EXP, "token has no exp claim");

        let mut allowing = Config::default();
        allowing.allow_tokens_without_exp = true;
        let p = verify_with(&token, &kv, NOW, &allowing).expect("allowed by the config");
        assert!(p.allows(Access::Read, "a"));
        // The switch only waives the claim's presence: a present `exp` still counts.
        let expired = mint(&serde_json::json!({"exp": NOW - 61}));
        assert!(verify_with(&expired, &kv, NOW, &allowing).is_err());
    }

    #[test]
    fn a_malformed_key_record_refuses_every_token() {
        // Each value is what a token would have to be signed with if the record were
        // read as a bare secret; none of them may verify anything.
        let values: [&[u8]; 6] = [
            br#"{"kind":"ES256","public":"-----BEGIN PUBLIC KEY-----"}"#,
            br#"{"kind":"es256","public":{"kty":"EC","crv":"P-256","x":"a","y":"b"}}"#,
            br#"{"kind":"hs256","secret":""}"#,
            br#"{"kind":"es256","public":"not a PEM"}"#,
            b"{not json",
            b"",
        ];
        for value in values {
            let kv = crate::ports::memory::MemoryKv::default();
            kv.insert(keys::STORE, DEV_KID, value, Default::default())
                .expect("seed");
            let secret = String::from_utf8_lossy(value);
            let claims = serde_json::json!({"x-fastly-read":["a"], "exp": NOW + 60});
            let mut tokens = vec![mint_with("HS256", DEV_KID, "x", &claims)];
            if !secret.is_empty() {
                tokens.push(mint_with("HS256", DEV_KID, &secret, &claims));
            }
            for token in tokens {
                let err = verify(&token, &kv, NOW).expect_err(&secret);
                assert_eq!(err.status().as_u16(), 401, "{secret}: {err}");
                assert!(
                    err.to_string()
                        .contains(&format!("signing key {DEV_KID:?} is unusable")),
                    "{secret}: {err}"
                );
            }
        }
    }

    #[test]
    fn a_legacy_bare_secret_still_verifies() {
        let kv = crate::ports::memory::MemoryKv::default();
        kv.insert(keys::STORE, DEV_KID, b"legacy-secret", Default::default())
            .expect("seed");
        let claims = serde_json::json!({"x-fastly-read":["a"], "exp": NOW + 60});
        let token = mint_with("HS256", DEV_KID, "legacy-secret", &claims);
        assert!(verify(&token, &kv, NOW).is_ok());
    }

    #[test]
    fn a_storage_failure_is_a_503_not_a_401() {
        let kv = kv_with_dev_key();
        kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
        let err = verify(&mint(&serde_json::json!({})), &kv, NOW).expect_err("store down");
        assert_eq!(err.status().as_u16(), 503);
    }
}
