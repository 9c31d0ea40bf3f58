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

use serde::Deserialize;

use crate::jwt::{self, VerifyingKey};

use crate::tokens::LEEWAY_SECS;

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
    // Some proxies sign with standard base64 (`+`, `/`); JWT wants base64url.
    let sig: std::borrow::Cow<'_, str> = if sig.contains(['+', '/', '=']) {
        sig.replace('+', "-")
            .replace('/', "_")
            .replace('=', "")
            .into()
    } else {
        sig.into()
    };
    let (verifying_key, issuer) = match key {
        GripKey::Fastly { service_id } => (
            crate::keys::spki::public_key(FASTLY_PUBLIC_KEY)
                .and_then(|(_, point)| VerifyingKey::es256(&point))
                .map_err(|e| format!("Fanout key unusable: {e}"))?,
            format!("fastly:{service_id}"),
        ),
        GripKey::Shared { key, .. } if key.is_empty() => {
            return Err("the shared Grip-Sig key is empty".into())
        }
        GripKey::Shared { key, issuer } => (VerifyingKey::Hs256(key.clone()), issuer.clone()),
    };
    let claims: GripClaims = jwt::parse(&sig)
        .and_then(|token| token.claims(&verifying_key))
        .map_err(|e| format!("signature does not verify ({e})"))?;
    if claims.iss.as_deref() != Some(issuer.as_str()) {
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
    Ok(())
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
    use super::*;
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
