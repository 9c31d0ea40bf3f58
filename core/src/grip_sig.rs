//! Verifying `Grip-Sig`, the JWT a GRIP proxy (Fanout, Pushpin) signs every request it
//! forwards with.
//!
//! Only a request whose `Grip-Sig` verifies may use `Grip-*` and `Meta-*` headers, because
//! a client that reaches the app directly can send any of them. Two keys exist:
//! - Fastly Fanout signs with ES256 and Fastly's published key; `iss` is
//!   `fastly:<service id>`.
//! - A local Pushpin signs with HS256 and its `sig_key`; `iss` is its `sig_iss`. The app
//!   uses this key when Secret Store `secrets` holds `grip-sig-key`, with the issuer from
//!   Config Store key `grip-sig-iss`. An empty shared key verifies nothing.
//!
//! Every signature must carry `exp` and be unexpired (with [`LEEWAY_SECS`]).

use std::borrow::Cow;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::jwt::{self, Alg, VerifyingKey};
use crate::ports::Environment;

use crate::principal::LEEWAY_SECS;

/// Fastly Fanout's public key for `Grip-Sig` (ES256), as Fastly publishes it.
pub const FASTLY_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAECKo5A1ebyFcnmVV8SE5On+8G81Jy
BjSvcrx4VLetWCjuDAmppTo3xM/zz763COTCgHfp/6lPdCyYjjqc+GM7sw==
-----END PUBLIC KEY-----
";

pub use crate::extensions::GripVerified;

/// The key a `Grip-Sig` must verify with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GripKey {
    /// Fanout in production: ES256 with [`FASTLY_PUBLIC_KEY`], `iss = fastly:<service_id>`.
    Fastly {
        /// The Fastly service id.
        service_id: String,
    },
    /// A proxy sharing an HS256 key with the app (local Pushpin).
    Shared {
        /// The shared key.
        key: Vec<u8>,
        /// The expected issuer.
        issuer: String,
    },
}

#[derive(Deserialize)]
struct GripClaims {
    iss: Option<String>,
    exp: Option<u64>,
}

/// Verifies `sig` with `key` at time `now`: the signature, the issuer, and `exp` (which
/// must be present). `Err` says why it was refused.
pub fn verify(sig: &str, key: &GripKey, now: u64) -> Result<(), String> {
    let sig = base64url(sig);
    let (verifying_key, issuer) = match key {
        GripKey::Fastly { service_id } => (fastly_key()?, format!("fastly:{service_id}")),
        GripKey::Shared { key, .. } if key.is_empty() => {
            return Err("the shared Grip-Sig key is empty".into())
        }
        GripKey::Shared { key, issuer } => (VerifyingKey::Hs256(key.clone()), issuer.clone()),
    };
    check(&sig, &verifying_key, &issuer, now).map(drop)
}

/// [`verify`], with each Fanout signature put through ES256 at most once per POP while it
/// is valid: ECDSA costs about 1.6 ms of a Compute request (measured in the wasm module
/// on Viceroy), several times the rest of a subscribe. Once a signature verified, the
/// SHA-256 of its exact bytes goes into the POP's cache ([`Environment::cache`]) until
/// its `exp`; a signature found there is not verified again, but its issuer and `exp`
/// still are. A forged signature has other bytes, so another hash: it is verified, and
/// fails. Shared-key (HS256) signatures cost microseconds and are always verified.
pub fn verify_cached(sig: &str, key: &GripKey, env: &dyn Environment) -> Result<(), String> {
    match key {
        GripKey::Fastly { service_id } => {
            verify_remembered(sig, fastly_key, &format!("fastly:{service_id}"), env)
        }
        GripKey::Shared { .. } => verify(sig, key, env.now()),
    }
}

/// The longest a verified signature is remembered, whatever its `exp`.
const MAX_REMEMBERED_SECS: u64 = 3600;

/// [`verify_cached`] for an ES256 signature under the key `key` returns (only called on
/// a cache miss) and issuer `issuer`.
fn verify_remembered(
    sig: &str,
    key: impl FnOnce() -> Result<VerifyingKey, String>,
    issuer: &str,
    env: &dyn Environment,
) -> Result<(), String> {
    let sig = base64url(sig);
    let memo = format!(
        "grip-sig:{}",
        URL_SAFE_NO_PAD.encode(Sha256::digest(sig.as_bytes()))
    );
    let now = env.now();
    if env.cached(&memo) {
        let claims = jwt::parse(&sig)
            .and_then(|token| token.claims_verified_before(Alg::Es256))
            .map_err(|e| format!("signature does not verify ({e})"))?;
        return check_claims(claims, issuer, now).map(drop);
    }
    let exp = check(&sig, &key()?, issuer, now)?;
    let ttl = exp
        .saturating_add(LEEWAY_SECS)
        .saturating_sub(now)
        .clamp(1, MAX_REMEMBERED_SECS);
    env.cache(&memo, u32::try_from(ttl).unwrap_or(1));
    Ok(())
}

/// Fanout's key, [`FASTLY_PUBLIC_KEY`].
fn fastly_key() -> Result<VerifyingKey, String> {
    crate::keys::spki::public_key(FASTLY_PUBLIC_KEY)
        .and_then(|(_, point)| VerifyingKey::es256(&point))
        .map_err(|e| format!("Fanout key unusable: {e}"))
}

/// Some proxies sign with standard base64 (`+`, `/`); JWT wants base64url.
fn base64url(sig: &str) -> Cow<'_, str> {
    if sig.contains(['+', '/', '=']) {
        sig.replace('+', "-")
            .replace('/', "_")
            .replace('=', "")
            .into()
    } else {
        sig.into()
    }
}

/// The signature of `sig` under `key`, then its claims; its `exp` when all is well.
fn check(sig: &str, key: &VerifyingKey, issuer: &str, now: u64) -> Result<u64, String> {
    let claims = jwt::parse(sig)
        .and_then(|token| token.claims(key))
        .map_err(|e| format!("signature does not verify ({e})"))?;
    check_claims(claims, issuer, now)
}

/// The issuer and `exp` (which must be present); `exp` when they pass.
fn check_claims(claims: GripClaims, issuer: &str, now: u64) -> Result<u64, String> {
    if claims.iss.as_deref() != Some(issuer) {
        return Err(format!("issuer is not {issuer:?}"));
    }
    // Fanout and Pushpin always set `exp`; a signature without it would be replayable
    // forever.
    let Some(exp) = claims.exp else {
        return Err("signature has no exp claim".into());
    };
    if now > exp.saturating_add(LEEWAY_SECS) {
        return Err("signature has expired".into());
    }
    Ok(exp)
}

/// The `(channel, last-id)` entries of one `Grip-Last` header value: comma-separated
/// `<channel>; last-id=<id>` entries, the id optionally quoted. An entry without a channel
/// or a `last-id` parameter is skipped.
pub fn last_ids(value: &str) -> impl Iterator<Item = (&str, &str)> {
    value.split(',').filter_map(|entry| {
        let mut parts = entry.split(';');
        let channel = parts.next().unwrap_or("").trim();
        let last_id = parts.find_map(|p| {
            let (k, v) = p.split_once('=')?;
            (k.trim() == "last-id").then(|| v.trim().trim_matches('"'))
        })?;
        (!channel.is_empty()).then_some((channel, last_id))
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::ports::memory::TestEnv;
    use crate::test_util::{grip_sig, GRIP_KEY, NOW};

    fn shared() -> GripKey {
        GripKey::Shared {
            key: GRIP_KEY.as_bytes().to_vec(),
            issuer: "pushpin".into(),
        }
    }

    #[test]
    fn a_signature_from_the_shared_key_verifies() {
        assert_eq!(
            verify(&grip_sig(GRIP_KEY, "pushpin", NOW + 60), &shared(), NOW),
            Ok(())
        );
    }

    #[test]
    fn forged_or_stale_signatures_are_refused() {
        let cases = [
            ("other key", grip_sig("forged", "pushpin", NOW + 60)),
            ("other issuer", grip_sig(GRIP_KEY, "mallory", NOW + 60)),
            ("expired", grip_sig(GRIP_KEY, "pushpin", NOW - 61)),
            ("garbage", "x.y.z".to_owned()),
        ];
        for (name, sig) in cases {
            assert!(verify(&sig, &shared(), NOW).is_err(), "{name}");
        }
    }

    #[test]
    fn a_signature_without_exp_is_refused() {
        let sig = jsonwebtoken::encode(
            &jsonwebtoken::Header::default(),
            &serde_json::json!({ "iss": "pushpin" }),
            &jsonwebtoken::EncodingKey::from_secret(GRIP_KEY.as_bytes()),
        )
        .expect("signed");
        let err = verify(&sig, &shared(), NOW).expect_err("no exp");
        assert!(err.contains("no exp"), "{err}");
    }

    #[test]
    fn an_empty_shared_key_verifies_nothing() {
        let empty = GripKey::Shared {
            key: Vec::new(),
            issuer: "pushpin".into(),
        };
        let err = verify(&grip_sig("", "pushpin", NOW + 60), &empty, NOW).expect_err("empty");
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_fanout_es256_signature_verifies_with_the_published_key() {
        // A Grip-Sig signed by Fastly Fanout (iss "fastly", expired in 2023), found in
        // public test fixtures; its signature is in standard base64.
        let sig = "eyJ0eXAiOiJKV1QiLCJhbGciOiJFUzI1NiJ9.eyJleHAiOjE2NzUzNjU0MjgsImlzcyI6ImZhc3RseSJ9.QL2Pm1JnXV/vAYK7ijeD4U1CBjOTLihNMDZ+qfvjkKOTUiK1jyxGEwjZfeApijRaOtQT8fVkdPnKjF+tBiUzkA";
        let when_valid = 1_675_365_000;
        let key = GripKey::Fastly {
            service_id: "x".into(),
        };
        let err = verify(sig, &key, when_valid).expect_err("issuer differs");
        assert!(
            err.contains("issuer"),
            "signature itself must verify: {err}"
        );
        let tampered = sig.replace("QL2P", "QL2Q");
        let err = verify(&tampered, &key, when_valid).expect_err("tampered");
        assert!(err.contains("does not verify"), "{err}");
    }

    /// An ES256 `Grip-Sig` from a test key standing in for Fanout's, and that key.
    fn es256_sig(iss: &str, exp: u64) -> (String, VerifyingKey) {
        use p256::ecdsa::signature::Signer as _;
        let signer = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("scalar");
        let b64 = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!(
            "{}.{}",
            b64(serde_json::json!({"alg": "ES256", "typ": "JWT"})),
            b64(serde_json::json!({"iss": iss, "exp": exp}))
        );
        let signature: p256::ecdsa::Signature = signer.sign(input.as_bytes());
        let sig = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()));
        let point = signer.verifying_key().to_encoded_point(false);
        (sig, VerifyingKey::es256(point.as_bytes()).expect("point"))
    }

    /// `verify_remembered` with the test key; counts the full verifications in `full`.
    fn remembered(
        sig: &str,
        key: &VerifyingKey,
        env: &TestEnv,
        full: &Cell<u32>,
    ) -> Result<(), String> {
        let key = || {
            full.set(full.get() + 1);
            Ok(key.clone())
        };
        verify_remembered(sig, key, "fastly:svc", env)
    }

    #[test]
    fn a_verified_fanout_signature_is_verified_once_per_pop_while_valid() {
        let env = TestEnv::default();
        let now = env.now.load(std::sync::atomic::Ordering::Relaxed);
        let (sig, key) = es256_sig("fastly:svc", now + 60);
        let full = Cell::new(0);
        assert_eq!(remembered(&sig, &key, &env, &full), Ok(()));
        assert_eq!(remembered(&sig, &key, &env, &full), Ok(()));
        assert_eq!(full.get(), 1, "the second request found it in the cache");
        let ttl = env
            .cache
            .lock()
            .unwrap()
            .values()
            .next()
            .copied()
            .expect("remembered")
            - now;
        assert_eq!(
            ttl,
            60 + LEEWAY_SECS,
            "remembered until exp (with the leeway)"
        );
        env.now.store(
            now + 60 + LEEWAY_SECS + 1,
            std::sync::atomic::Ordering::Relaxed,
        );
        let err = remembered(&sig, &key, &env, &full).expect_err("expired");
        assert!(err.contains("expired"), "{err}");
    }

    #[test]
    fn a_forged_signature_still_fails_while_the_genuine_one_is_remembered() {
        let env = TestEnv::default();
        let now = env.now.load(std::sync::atomic::Ordering::Relaxed);
        let (sig, key) = es256_sig("fastly:svc", now + 60);
        let full = Cell::new(0);
        remembered(&sig, &key, &env, &full).expect("genuine");
        let (input, signature) = sig.rsplit_once('.').expect("jwt");
        let mut forged_sig = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        forged_sig[10] ^= 1;
        let forged = format!("{input}.{}", URL_SAFE_NO_PAD.encode(forged_sig));
        let err = remembered(&forged, &key, &env, &full).expect_err("forged");
        assert!(err.contains("does not verify"), "{err}");
        // Another payload under the genuine signature.
        let (header, _) = input.split_once('.').expect("jwt");
        let payload = URL_SAFE_NO_PAD.encode(r#"{"iss":"fastly:svc","exp":9999999999}"#);
        let swapped = format!("{header}.{payload}.{signature}");
        let err = remembered(&swapped, &key, &env, &full).expect_err("swapped");
        assert!(err.contains("does not verify"), "{err}");
        assert_eq!(full.get(), 3, "neither was taken from the cache");
    }

    /// `sig` with its ECDSA `s` replaced by `n - s`: the malleable twin, which verifies
    /// wherever the original does unless a verifier demands low `s`.
    fn high_s_twin(sig: &str) -> String {
        let (input, signature) = sig.rsplit_once('.').expect("jwt");
        let bytes = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        let parsed = p256::ecdsa::Signature::from_slice(&bytes).expect("r || s");
        let (r, s) = parsed.split_scalars();
        let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())
            .expect("n - s is a scalar");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(twin.to_bytes()))
    }

    #[test]
    fn a_malleable_twin_of_a_remembered_signature_is_never_taken_from_the_memo() {
        let env = TestEnv::default();
        let now = env.now.load(std::sync::atomic::Ordering::Relaxed);
        let (sig, key) = es256_sig("fastly:svc", now + 60);
        let full = Cell::new(0);
        remembered(&sig, &key, &env, &full).expect("genuine");
        let twin = high_s_twin(&sig);
        assert_ne!(twin, sig);
        // The memo names exact bytes: the twin is verified on its own, and gets exactly
        // the answer the verifier gives it without any memo (its claims are the
        // genuine ones, so accepting it grants nothing the original does not).
        let alone = check(&twin, &key, "fastly:svc", now).map(drop);
        assert_eq!(remembered(&twin, &key, &env, &full), alone);
        assert_eq!(full.get(), 2, "the twin was not taken from the memo");
        // A twin with a corrupted `s` never verifies, memo or not.
        let (input, _) = twin.rsplit_once('.').expect("jwt");
        let mut bytes = URL_SAFE_NO_PAD
            .decode(twin.rsplit('.').next().expect("sig"))
            .expect("b64");
        bytes[63] ^= 1;
        let broken = format!("{input}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(remembered(&broken, &key, &env, &full).is_err());
        assert_eq!(full.get(), 3);
    }

    #[test]
    fn a_refused_signature_is_not_remembered() {
        let env = TestEnv::default();
        let now = env.now.load(std::sync::atomic::Ordering::Relaxed);
        let full = Cell::new(0);
        let (other_issuer, key) = es256_sig("fastly:other", now + 60);
        assert!(remembered(&other_issuer, &key, &env, &full).is_err());
        assert!(remembered(&other_issuer, &key, &env, &full).is_err());
        assert_eq!(full.get(), 2);
        assert!(env.cache.lock().unwrap().is_empty());
    }

    #[test]
    fn shared_key_signatures_are_always_verified_and_never_cached() {
        let env = TestEnv::default();
        let now = env.now.load(std::sync::atomic::Ordering::Relaxed);
        let sig = grip_sig(GRIP_KEY, "pushpin", now + 60);
        assert_eq!(verify_cached(&sig, &shared(), &env), Ok(()));
        assert!(env.cache.lock().unwrap().is_empty());
        let forged = grip_sig("forged", "pushpin", now + 60);
        assert!(verify_cached(&forged, &shared(), &env).is_err());
    }

    #[test]
    fn grip_last_entries_name_a_channel_and_a_last_id() {
        let entries: Vec<_> = last_ids(
            " r#a; last-id=1, r#b;last-id=\"2\",r#c; other=3, ; last-id=5,r#d;x;last-id = 4 ",
        )
        .collect();
        assert_eq!(entries, [("r#a", "1"), ("r#b", "2"), ("r#d", "4")]);
        assert_eq!(last_ids("").count(), 0);
    }
}
