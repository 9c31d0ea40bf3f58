//! Token verification: a JWT whose header `kid` names a key in KV store `keys`.
//!
//! The accepted algorithm is the one bound to the stored key ([`KeyRecord::algorithm`]);
//! the token's own `alg` must equal it, so `none`, and an HS256 token presented with an
//! ES256 key id, are refused. `exp` is required (a token without it would never expire)
//! unless Config Store key `allow-tokens-without-exp` is `true`; `exp` and `nbf` are
//! honoured with [`LEEWAY_SECS`] of clock skew. Claims `x-fastly-read` and
//! `x-fastly-write` list the topics the bearer may subscribe to and publish to, as topic
//! names or MQTT topic filters ([`filter`]): see [`Principal::allows`].
//!
//! A key whose stored value is not a usable key ([`KeyRecord::parse`],
//! [`KeyRecord::verifying_key`]) refuses every token with 401 `signing key "<id>" is
//! unusable`; the reason is shown to admins by `GET /admin/keys`, not to token bearers.

use serde::Deserialize;

use crate::filter::{self, Filter};
use crate::jwt;
use crate::keys::{self, KeyRecord};
use crate::ports::KvStore;
use crate::{Config, Error};

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 60;

/// Who is making the request, as proven by a verified token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Principal {
    /// Topics (names or filters) the bearer may subscribe to.
    #[serde(rename = "x-fastly-read", default)]
    pub read: Vec<String>,
    /// Topics (names or filters) the bearer may publish to.
    #[serde(rename = "x-fastly-write", default)]
    pub write: Vec<String>,
    /// Expiry, seconds since the epoch.
    #[serde(default)]
    pub exp: Option<u64>,
    /// Not-before, seconds since the epoch.
    #[serde(default)]
    pub nbf: Option<u64>,
    /// The subject (`sub`), if the token names one: who the bearer is, for rate limits.
    #[serde(default)]
    pub sub: Option<String>,
    /// The id of the signing key that verified the token (its `kid`): revoking that key
    /// ends every connection it authorised (see `grip::revocation_requests`).
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
    /// Whether the token grants `access` to topic name `topic`: some claim of that access
    /// matches it. A claim without wildcards is exactly that topic (compared without
    /// allocating); a malformed filter matches nothing and leaves the other claims in force.
    pub fn allows(&self, access: Access, topic: &str) -> bool {
        self.claims(access)
            .iter()
            .any(|claim| filter::claim_matches(claim, topic))
    }

    /// Whether the token grants `access` to every topic `filter` can match: some claim of
    /// that access covers it ([`Filter::covers`]). What a wildcard subscription needs.
    pub fn allows_filter(&self, access: Access, filter: &Filter) -> bool {
        self.claims(access)
            .iter()
            .any(|claim| filter::claim_covers(claim, filter))
    }

    fn claims(&self, access: Access) -> &[String] {
        match access {
            Access::Read => &self.read,
            Access::Write => &self.write,
        }
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

    /// `Ok` when the token may subscribe to `topic`, a topic name or (with a wildcard) a
    /// filter some read claim covers; else [`Error::Forbidden`].
    pub fn check_subscription(&self, topic: &str) -> Result<(), Error> {
        if !filter::has_wildcards(topic) {
            return self.check(Access::Read, topic);
        }
        let allowed = Filter::parse(topic).is_ok_and(|f| self.allows_filter(Access::Read, &f));
        if allowed {
            Ok(())
        } else {
            Err(Error::Forbidden {
                access: "read",
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

/// The refusal of a token without `exp` (when `allow-tokens-without-exp` is off).
pub const NO_EXP: &str = "token has no exp claim";

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
    if keys::validate_id(&kid).is_err() {
        return Err(Error::UnknownKey(kid));
    }
    let item = match kv.lookup(keys::STORE, &kid) {
        Ok(Some(item)) => item,
        Ok(None) => return Err(Error::UnknownKey(kid)),
        Err(e) => return Err(Error::StoreUnavailable(format!("key lookup failed: {e}"))),
    };
    let unusable = || Error::InvalidToken(format!("signing key {kid:?} is unusable"));
    let record = KeyRecord::parse(&item.value).map_err(|_| unusable())?;
    // A stored key that cannot verify (a point off the curve) is broken, not the token.
    let key = record.verifying_key().map_err(|_| unusable())?;
    let mut principal: Principal = parsed.claims(&key).map_err(|why| {
        Error::InvalidToken(match why.strip_prefix("the key only verifies") {
            Some(rest) => format!("key {kid:?} only verifies{rest}"),
            None => why,
        })
    })?;
    principal.kid = kid;
    if principal.exp.is_none() && !config.allow_tokens_without_exp {
        return Err(Error::InvalidToken(NO_EXP.into()));
    }
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
