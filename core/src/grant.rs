//! Grants: the credential the app issues for the links Fanout requests on its own
//! (`Grip-Link`), so the client's token never appears in a URL the app builds.
//!
//! A subscribe answered with a stream hold names a link that Fanout requests later: when
//! the token expires (SSE, to end the stream), and for durable streams also to recover
//! missed retained messages. That request carries no client header, so the link must
//! carry its own authorisation. A grant is
//!
//! ```text
//! <exp>.<kid>.<mac>
//! ```
//!
//! `exp` is the token's expiry (seconds since the epoch; `0` for a token without one),
//! `kid` the key that verified it, and `mac` the base64url HMAC-SHA256, under Secret Store
//! entry [`SECRET`], of the grant's version, `exp`, `kid` and the topics in order. So a
//! grant reads exactly the topics of the subscribe it was issued for (and is never a
//! credential to publish), expires with the token, and is checked without a store round
//! trip. (A revoked key's
//! streams end by event, see `grip::revocation_requests`; a grant does not outlive them.)

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::principal::Principal;
use crate::topic::Selector;
use crate::Error;

/// The Secret Store entry holding the key grants are signed with.
pub const SECRET: &str = "grant-key";

fn mac(key: &[u8], exp: u64, kid: &str, topics: &[Selector]) -> Result<Hmac<Sha256>, Error> {
    if key.is_empty() {
        return Err(Error::Misconfigured(format!(
            "Secret Store entry `{SECRET}` is missing or empty"
        )));
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|e| Error::Internal(format!("Secret Store entry `{SECRET}`: {e}")))?;
    mac.update(b"edge-pubsub grant 1\0");
    mac.update(exp.to_string().as_bytes());
    mac.update(b"\0");
    mac.update(kid.as_bytes());
    for topic in topics {
        mac.update(b"\0");
        mac.update(topic.as_str().as_bytes());
    }
    Ok(mac)
}

/// A grant for `principal`'s token to read `topics` (a subscription's selectors), signed
/// with `key`.
pub fn issue(key: &[u8], principal: &Principal, topics: &[Selector]) -> Result<String, Error> {
    let exp = principal.exp.unwrap_or(0);
    let tag = mac(key, exp, &principal.kid, topics)?
        .finalize()
        .into_bytes();
    Ok(format!(
        "{exp}.{}.{}",
        principal.kid,
        URL_SAFE_NO_PAD.encode(tag)
    ))
}

/// The principal `grant` stands for, if it was issued with `key` for exactly `topics` and
/// has not expired at `now`: read access to those topics.
pub fn verify(key: &[u8], grant: &str, topics: &[Selector], now: u64) -> Result<Principal, Error> {
    let invalid = || Error::InvalidToken("the link's grant does not verify".into());
    let mut parts = grant.splitn(3, '.');
    let (Some(exp), Some(kid), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid());
    };
    let exp: u64 = exp.parse().map_err(|_| invalid())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| invalid())?;
    mac(key, exp, kid, topics)?
        .verify_slice(&tag)
        .map_err(|_| invalid())?;
    let principal = Principal {
        read: topics.to_vec(),
        exp: (exp != 0).then_some(exp),
        kid: kid.to_owned(),
        ..Principal::default()
    };
    if principal.expired_at(now) {
        return Err(Error::InvalidToken("the token has expired".into()));
    }
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"grant-test-key";

    fn selectors<const N: usize>(topics: [&str; N]) -> Vec<Selector> {
        let parse = |t: &str| Selector::subscription(t.to_owned(), 6).expect(t);
        topics.into_iter().map(parse).collect()
    }

    fn principal(exp: Option<u64>) -> Principal {
        Principal {
            read: selectors(["a", "b"]),
            exp,
            kid: "k1".into(),
            ..Principal::default()
        }
    }

    #[test]
    fn a_grant_reads_exactly_its_topics_until_the_token_expires() {
        let topics = selectors(["a", "b/+"]);
        let scope = &topics[..];
        let grant = issue(KEY, &principal(Some(1_000)), scope).expect("issued");
        assert!(grant.starts_with("1000.k1."), "{grant}");
        let p = verify(KEY, &grant, scope, 1_000).expect("valid");
        assert_eq!(
            (p.read.as_slice(), p.exp, p.kid.as_str()),
            (&topics[..], Some(1_000), "k1")
        );
        // Expired (past the leeway).
        assert!(verify(KEY, &grant, scope, 1_000 + 61).is_err());
        // Other topics, another key, or a tampered grant.
        let narrower = selectors(["a"]);
        let reordered = selectors(["b/+", "a"]);
        assert!(verify(KEY, &grant, &narrower, 1_000).is_err());
        assert!(verify(KEY, &grant, &reordered, 1_000).is_err());
        assert!(verify(b"other", &grant, scope, 1_000).is_err());
        let later = grant.replacen("1000.", "9000.", 1);
        assert!(verify(KEY, &later, scope, 1_000).is_err());
        for junk in ["", "1.k1", "x.k1.AAAA", "1.k1.!!"] {
            assert!(verify(KEY, junk, scope, 0).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn a_token_without_exp_gives_a_grant_without_exp_and_an_empty_key_is_refused() {
        let topics = selectors(["a"]);
        let scope = &topics[..];
        let grant = issue(KEY, &principal(None), scope).expect("issued");
        assert!(grant.starts_with("0.k1."));
        assert_eq!(
            verify(KEY, &grant, scope, u64::MAX / 2).expect("valid").exp,
            None
        );
        let err = issue(b"", &principal(None), scope).expect_err("empty key");
        assert!(err.to_string().contains("grant-key"));
        assert_eq!(err.status(), 500);
    }
}
