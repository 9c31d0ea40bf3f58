//! Fuzz target for JWTs: `jwt::parse` and `Token::claims` under fixed HS256, ES256 and
//! EdDSA keys must never panic, and a token that verifies must name its key's algorithm.
//!
//! The first byte picks what the rest is: odd, a token as received; even, a header `alg`
//! and `kid` and a payload (split at the first two NUL bytes) that this target signs with
//! the HS256 key, so the claims of a token that verifies are read: they must be what the
//! payload holds.

#![no_main]

use std::sync::OnceLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use pubsub_core::jwt::{self, VerifyingKey};
use pubsub_core::keys::KeyRecord;
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &[u8] = b"fuzz-secret";

/// A P-256 public key made by `openssl genpkey` (from core/src/keys/public.rs tests).
const ES256_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgO0yBiyaz1EQsi/lsWzPYWnc+qxK\n\
IId0F6F3Z1Jp0sXp6LXVSPbeMCeHNoyPOyaV7nwu8w8LHKufq/HMLxpONA==\n\
-----END PUBLIC KEY-----\n";
/// The Ed25519 public key of RFC 8410 section 10.1.
const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
-----END PUBLIC KEY-----\n";

fn keys() -> &'static [VerifyingKey; 3] {
    static KEYS: OnceLock<[VerifyingKey; 3]> = OnceLock::new();
    KEYS.get_or_init(|| {
        let key = |record: Value| {
            KeyRecord::parse(record.to_string().as_bytes())
                .and_then(|r| r.verifying_key())
                .expect("a fixed key")
        };
        [
            VerifyingKey::Hs256(SECRET.to_vec()),
            key(json!({"kind": "es256", "public": ES256_PEM})),
            key(json!({"kind": "eddsa", "public": ED25519_PEM})),
        ]
    })
}

fn check(token: &str) -> Option<Value> {
    let parsed = jwt::parse(token).ok()?;
    let mut claims = None;
    for key in keys() {
        match parsed.claims::<Value>(key) {
            Ok(value) => {
                assert_eq!(parsed.alg, key.alg().name(), "verified under another alg");
                claims = Some(value);
            }
            Err(why) => assert!(!why.is_empty()),
        }
    }
    claims
}

fn signed(alg: &str, kid: &str, payload: &[u8]) -> String {
    let header = json!({"alg": alg, "kid": kid}).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key length");
    mac.update(input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{signature}")
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        if let Ok(token) = std::str::from_utf8(rest) {
            let _ = check(token);
        }
        return;
    }
    let mut parts = rest.splitn(3, |&b| b == 0);
    let (Some(alg), Some(kid), Some(payload)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(alg), Ok(kid)) = (std::str::from_utf8(alg), std::str::from_utf8(kid)) else {
        return;
    };
    let token = signed(alg, kid, payload);
    let parsed = jwt::parse(&token).expect("a token this target built parses");
    assert_eq!(
        (parsed.alg.as_str(), parsed.kid.as_deref()),
        (alg, Some(kid))
    );
    let claims = check(&token);
    let expected = serde_json::from_slice::<Value>(payload).ok();
    if alg == "HS256" {
        assert_eq!(claims, expected, "the claims are not the payload");
    } else {
        assert_eq!(claims, None, "a {alg:?} token verified");
    }
});
