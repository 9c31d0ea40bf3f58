//! Grants: the credential the app issues for the links Fanout requests on its own
//! (`Grip-Link`), so the client's token never appears in a URL the app builds.
//!
//! A subscribe answered with a stream hold names a link that Fanout requests later: when
//! the token expires (SSE, to end the stream), when the grant itself is due, and for
//! durable streams also to recover missed retained messages. That request carries no
//! client header, so the link must carry its own authorisation. A grant is
//!
//! ```text
//! <exp>.<until>.<kid>.<mac>
//! ```
//!
//! `exp` is the token's expiry (seconds since the epoch; `0` for a token without one),
//! `until` the grant's own expiry (issue time plus Config Store `link-grant-max-age`,
//! never later than `exp`), `kid` the key that verified the token, and `mac` the
//! base64url HMAC-SHA256, under Secret Store entry [`SECRET`], of the grant's version,
//! `exp`, `until`, `kid` and the topics in order. Invariants of a verified grant:
//!
//! - it reads exactly the topics of the subscribe it was issued for, and is never a
//!   credential to publish;
//! - it is refused once `until` (plus the leeway) or the token's `exp` has passed, so
//!   even a grant of a token without `exp` dies; the link's answer issues a fresh one;
//! - it is refused once its key is gone from KV store `keys` (one lookup per use, as a
//!   token verification does), so a revoked key's grants open no stream;
//! - it is only ever honoured on a request Fanout signed (the route refuses others).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys;
use crate::ports::KvStore;
use crate::principal::{Principal, LEEWAY_SECS};
use crate::tokens;
use crate::topic::Selector;
use crate::Error;

/// The Secret Store entry holding the key grants are signed with.
pub const SECRET: &str = "grant-key";

/// An issued grant: its text (for the link's path) and the time it stops verifying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// `<exp>.<until>.<kid>.<mac>`.
    pub text: String,
    /// Seconds since the epoch after which (plus the leeway) the grant is refused.
    pub until: u64,
}

fn mac(
    key: &[u8],
    exp: u64,
    until: u64,
    kid: &str,
    topics: &[Selector],
) -> Result<Hmac<Sha256>, Error> {
    let mut mac = keyed(key)?;
    mac.update(b"edge-pubsub grant 2\0");
    mac.update(exp.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(until.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(kid.as_bytes());
    for topic in topics {
        mac.update(b"\0");
        mac.update(topic.as_str().as_bytes());
    }
    Ok(mac)
}

/// An HMAC-SHA256 keyed with `key`, the Secret Store's [`SECRET`]; refused when empty.
pub(crate) fn keyed(key: &[u8]) -> Result<Hmac<Sha256>, Error> {
    if key.is_empty() {
        return Err(Error::Misconfigured(format!(
            "Secret Store entry `{SECRET}` is missing or empty"
        )));
    }
    Hmac::<Sha256>::new_from_slice(key)
        .map_err(|e| Error::Internal(format!("Secret Store entry `{SECRET}`: {e}")))
}

/// A grant for `principal`'s token to read `topics` (a subscription's selectors), signed
/// with `key` at `now`, valid for at most `max_age` seconds and never past the token's
/// `exp`.
pub fn issue(
    key: &[u8],
    principal: &Principal,
    topics: &[Selector],
    now: u64,
    max_age: u64,
) -> Result<Grant, Error> {
    let exp = principal.exp.unwrap_or(0);
    let cap = now.saturating_add(max_age);
    let until = principal.exp.map_or(cap, |exp| exp.min(cap));
    let tag = mac(key, exp, until, &principal.kid, topics)?
        .finalize()
        .into_bytes();
    let text = format!(
        "{exp}.{until}.{}.{}",
        principal.kid,
        URL_SAFE_NO_PAD.encode(tag)
    );
    Ok(Grant { text, until })
}

/// The principal `grant` stands for, if it was issued with `key` for exactly `topics`,
/// neither it nor its token has expired at `now`, and its key is still in `kv`'s store
/// `keys`: read access to those topics.
pub fn verify(
    key: &[u8],
    grant: &str,
    topics: &[Selector],
    now: u64,
    kv: &dyn KvStore,
) -> Result<Principal, Error> {
    let invalid = || Error::InvalidToken("the link's grant does not verify".into());
    let mut parts = grant.splitn(4, '.');
    let (Some(exp), Some(until), Some(kid), Some(tag)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let exp: u64 = exp.parse().map_err(|_| invalid())?;
    let until: u64 = until.parse().map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(key, exp, until, kid, topics)?
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let principal = Principal {
        read: topics.to_vec(),
        exp: (exp != 0).then_some(exp),
        kid: kid.to_owned(),
        ..Principal::default()
    };
    if principal.expired_at(now) {
        return Err(Error::InvalidToken(tokens::EXPIRED.into()));
    }
    if now > until.saturating_add(LEEWAY_SECS) {
        return Err(Error::InvalidToken("the link's grant has expired".into()));
    }
    match kv.lookup(keys::STORE, kid) {
        Ok(Some(_)) => Ok(principal),
        Ok(None) => Err(Error::UnknownKey(kid.to_owned())),
        Err(e) => Err(Error::StoreUnavailable(format!("key lookup failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::MemoryKv;
    use crate::test_util::{kv_with_dev_key, DEV_KID};

    const KEY: &[u8] = b"grant-test-key";
    const NOW: u64 = 1_000;
    const DAY: u64 = 86_400;

    fn selectors<const N: usize>(topics: [&str; N]) -> Vec<Selector> {
        let parse = |t: &str| Selector::subscription(t.to_owned(), 6).expect(t);
        topics.into_iter().map(parse).collect()
    }

    fn principal(exp: Option<u64>) -> Principal {
        Principal {
            read: selectors(["a", "b"]),
            exp,
            kid: DEV_KID.into(),
            ..Principal::default()
        }
    }

    #[test]
    fn a_grant_reads_exactly_its_topics_until_the_token_expires() {
        let kv = kv_with_dev_key();
        let topics = selectors(["a", "b/+"]);
        let scope = &topics[..];
        let grant = issue(KEY, &principal(Some(2_000)), scope, NOW, DAY).expect("issued");
        assert_eq!(grant.until, 2_000, "never past the token's exp");
        let text = &grant.text;
        assert!(text.starts_with("2000.2000.k1."), "{text}");
        let p = verify(KEY, text, scope, 2_000, &kv).expect("valid");
        assert_eq!(
            (p.read.as_slice(), p.exp, p.kid.as_str()),
            (&topics[..], Some(2_000), "k1")
        );
        // Expired (past the leeway).
        let err = verify(KEY, text, scope, 2_000 + 61, &kv).expect_err("expired");
        assert_eq!(err.to_string(), "invalid token: the token has expired");
        // Other topics, another key, or a tampered grant.
        let narrower = selectors(["a"]);
        let reordered = selectors(["b/+", "a"]);
        assert!(verify(KEY, text, &narrower, NOW, &kv).is_err());
        assert!(verify(KEY, text, &reordered, NOW, &kv).is_err());
        assert!(verify(b"other", text, scope, NOW, &kv).is_err());
        for forged in [
            text.replacen("2000.", "9000.", 1),
            text.replacen("2000.2000.", "2000.9000.", 1),
            text.replacen("2000.2000.", "0.2000.", 1),
            text.replacen("2000.2000.", "0.0.", 1),
        ] {
            assert!(verify(KEY, &forged, scope, NOW, &kv).is_err(), "{forged}");
        }
        for junk in [
            "",
            "1.k1",
            "1.2.k1",
            "x.1.k1.AAAA",
            "1.x.k1.AAAA",
            "1.2.k1.!!",
        ] {
            assert!(verify(KEY, junk, scope, 0, &kv).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn a_grant_of_a_token_without_exp_still_expires_at_its_max_age() {
        let kv = kv_with_dev_key();
        let topics = selectors(["a"]);
        let scope = &topics[..];
        let grant = issue(KEY, &principal(None), scope, NOW, 600).expect("issued");
        assert_eq!(grant.until, NOW + 600);
        assert!(grant.text.starts_with("0.1600.k1."), "{}", grant.text);
        let p = verify(KEY, &grant.text, scope, NOW + 600 + LEEWAY_SECS, &kv).expect("valid");
        assert_eq!(
            p.exp, None,
            "the token's own exp is kept for the next grant"
        );
        let err = verify(KEY, &grant.text, scope, NOW + 600 + LEEWAY_SECS + 1, &kv)
            .expect_err("the grant expired");
        assert_eq!(
            err.to_string(),
            "invalid token: the link's grant has expired"
        );
        // A token that outlives the max age: the grant stops first.
        let long = issue(KEY, &principal(Some(NOW + DAY)), scope, NOW, 600).expect("issued");
        assert_eq!(long.until, NOW + 600);
        assert!(verify(KEY, &long.text, scope, NOW + 700, &kv).is_err());
    }

    #[test]
    fn a_grant_dies_with_its_key() {
        let topics = selectors(["a"]);
        let grant = issue(KEY, &principal(None), &topics, NOW, 600).expect("issued");
        let err = verify(KEY, &grant.text, &topics, NOW, &MemoryKv::default())
            .expect_err("the key is gone");
        assert_eq!(err, Error::UnknownKey(DEV_KID.into()));
        assert_eq!(err.status(), 401);
    }

    #[test]
    fn an_empty_grant_key_is_refused_naming_the_entry() {
        let topics = selectors(["a"]);
        let err = issue(b"", &principal(None), &topics, NOW, 600).expect_err("empty key");
        assert!(err.to_string().contains("grant-key"));
        assert_eq!(err.status(), 500);
    }
}
