//! Dev tokens: HS256 JWTs in the shape Edge Pub/Sub clients send, minted by the
//! `pubsub-token` library (the code behind the `pubsub-token` tool).
//!
//! Header `{"alg":"HS256","typ":"JWT","kid":<key id>}`; claims `x-fastly-read` and
//! `x-fastly-write` (arrays of topics), `iat` and `exp` (seconds since the Unix epoch).

use pubsub_token::{mint, now_secs, SigningKey};

/// Mints an HS256 JWT signed with `secret` (the raw key bytes), valid for `ttl_secs`.
///
/// ```
/// use pubsub_devstack::{mint_token, DEV_KEY_ID, DEV_KEY_SECRET};
/// let token = mint_token(DEV_KEY_ID, DEV_KEY_SECRET.as_bytes(), &["demo"], &[], 3600);
/// assert_eq!(token.split('.').count(), 3);
/// ```
///
/// # Panics
///
/// When `secret` is empty (an HMAC key needs at least one byte).
// Dev tooling: an empty key is the caller's bug, and HS256 signing itself cannot fail.
#[allow(clippy::expect_used)]
pub fn mint_token(
    kid: &str,
    secret: &[u8],
    read: &[&str],
    write: &[&str],
    ttl_secs: u64,
) -> String {
    let owned = |topics: &[&str]| topics.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    let key = SigningKey::hs256(secret).expect("an HS256 secret is not empty");
    mint(kid, &key, &owned(read), &owned(write), ttl_secs, now_secs())
        .expect("HS256 signing cannot fail")
}

/// A token signed with the dev key ([`crate::DEV_KEY_ID`], [`crate::DEV_KEY_SECRET`])
/// that the stack's KV store `keys` holds, valid for one hour.
pub fn dev_token(read: &[&str], write: &[&str]) -> String {
    mint_token(
        crate::DEV_KEY_ID,
        crate::DEV_KEY_SECRET.as_bytes(),
        read,
        write,
        3600,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};

    #[test]
    fn token_has_kid_topics_and_expiry() {
        let token = mint_token("k1", b"secret", &["a", "b"], &["c"], 60);
        let header = decode_header(&token).expect("header");
        assert_eq!(header.kid.as_deref(), Some("k1"));
        assert_eq!(header.alg, Algorithm::HS256);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.required_spec_claims.insert("exp".into());
        let data =
            decode::<serde_json::Value>(&token, &DecodingKey::from_secret(b"secret"), &validation)
                .expect("valid");
        let c = data.claims;
        assert_eq!(c["x-fastly-read"], serde_json::json!(["a", "b"]));
        assert_eq!(c["x-fastly-write"], serde_json::json!(["c"]));
        let iat = c["iat"].as_u64().expect("iat");
        assert_eq!(c["exp"].as_u64(), Some(iat + 60));
        assert!(decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(b"other"),
            &validation
        )
        .is_err());
    }

    #[test]
    fn empty_topic_lists_are_arrays() {
        let token = dev_token(&[], &[]);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = true;
        let data = decode::<serde_json::Value>(
            &token,
            &DecodingKey::from_secret(crate::DEV_KEY_SECRET.as_bytes()),
            &validation,
        )
        .expect("valid");
        assert_eq!(data.claims["x-fastly-read"], serde_json::json!([]));
        assert_eq!(data.claims["x-fastly-write"], serde_json::json!([]));
    }
}
