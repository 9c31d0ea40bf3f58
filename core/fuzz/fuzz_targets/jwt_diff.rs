//! Differential fuzz target: our JWT verifier (`tokens::verify_with`, over `jwt.rs` and
//! `keys/`) against `jsonwebtoken` (rust_crypto) on the same tokens, keys and rules.
//!
//! Each input is a structured mutation ([`tokens::build`]): header members (`alg`
//! confusion, `kid`, `typ`, `crit`, `jwk`/`jku`), claims (`exp`/`nbf` at and around the
//! leeway, floats, null, strings, duplicates), the signing key (its own, another key's,
//! HMAC over a public key's PEM) and corruptions (padding, non-canonical base64,
//! whitespace, high-S, DER, truncation). Inputs starting with 0xFF are a raw token instead.
//! Both verifiers get the three fixed keys by `kid` and the broker's rules: the key's one
//! algorithm, 60 s of leeway on `exp` and `nbf`, `exp` required unless the input asks for
//! `allow-tokens-without-exp`, no audience. They must agree on accept or reject, except
//! where [`deliberate`] names the rule by which we differ on purpose.

#![no_main]

#[path = "jwt_diff/keys.rs"]
mod keys;
#[path = "jwt_diff/tokens.rs"]
mod tokens;

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Validation;
use keys::Kid;
use libfuzzer_sys::fuzz_target;
use pubsub_core::claims::fastly::Claims;
use pubsub_core::ports::memory::MemoryKv;
use pubsub_core::ports::KvStore as _;
use pubsub_core::{jwt, Config};
use serde::de::IgnoredAny;
use serde::Deserialize;

fn kv() -> &'static MemoryKv {
    static KV: OnceLock<MemoryKv> = OnceLock::new();
    KV.get_or_init(|| {
        let kv = MemoryKv::default();
        for kid in Kid::ALL {
            kv.insert(
                "keys",
                kid.id(),
                keys::record(kid).as_bytes(),
                Default::default(),
            )
            .expect("memory KV");
        }
        kv
    })
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ours(token: &str, now: u64, allow_no_exp: bool) -> bool {
    let mut config = Config::default();
    config.allow_tokens_without_exp = allow_no_exp;
    pubsub_core::tokens::verify_with(token, kv(), now, &config).is_ok()
}

/// `jsonwebtoken` with the broker's rules; it reads the clock itself.
fn theirs(token: &str, allow_no_exp: bool) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    // We look the key up by `kid`, which must name a stored key.
    let Some(kid) = header.kid.as_deref().and_then(Kid::of) else {
        return false;
    };
    let mut validation = Validation::new(kid.algorithm());
    validation.leeway = pubsub_core::principal::LEEWAY_SECS;
    validation.validate_nbf = true;
    // The broker has no audience of its own, so it ignores `aud`.
    validation.validate_aud = false;
    validation.required_spec_claims = if allow_no_exp {
        HashSet::new()
    } else {
        HashSet::from(["exp".to_owned()])
    };
    jsonwebtoken::decode::<Claims>(token, keys::decoding(kid), &validation).is_ok()
}

/// The claims `jsonwebtoken` reads for validation besides ours: duplicates of these it
/// refuses (serde's duplicate-field check), we never read them.
#[derive(Deserialize)]
#[allow(dead_code)]
struct TheirOnlyClaims {
    aud: Option<IgnoredAny>,
    iss: Option<IgnoredAny>,
}

/// Why we may answer differently from `jsonwebtoken` on `token`, if we may; `Some(true)`
/// when our answer must then be a refusal.
fn deliberate(token: &str) -> Option<(&'static str, bool)> {
    jwt::parse(token).ok()?;
    let mut parts = token.splitn(3, '.');
    let header = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&header).ok()?;
    if header.contains_key("crit") {
        // RFC 7515 §4.1.11: a JWS whose `crit` lists an extension the recipient does not
        // understand is invalid; we understand none, `jsonwebtoken` ignores `crit`.
        return Some(("crit", true));
    }
    if jsonwebtoken::decode_header(token).is_err() {
        // RFC 7515 §4: header parameters a recipient does not use are ignored. We read
        // only `alg` and `kid`; `jsonwebtoken` types every registered member (`typ`,
        // `jwk`, `x5c`, …) and wants unknown members to be strings.
        return Some(("typed header", false));
    }
    let payload = URL_SAFE_NO_PAD.decode(parts.next()?).ok()?;
    if serde_json::from_slice::<TheirOnlyClaims>(&payload).is_err() {
        // RFC 7519 §4: duplicate claim names may be rejected or the last one used; we
        // never read `aud`/`iss`, so their duplicates cannot change our answer.
        return Some(("duplicate aud/iss", false));
    }
    if let Ok(claims) = serde_json::from_slice::<serde_json::Map<_, _>>(&payload) {
        // serde reads a `null` claim as an absent one (so `nbf: null` sets no bound and
        // `exp: null` is "no exp"); `jsonwebtoken`'s NumericDate visitor refuses null.
        let null = |n: &&str| claims.get(*n).is_some_and(serde_json::Value::is_null);
        if ["exp", "nbf"].iter().any(null) {
            return Some(("null time", false));
        }
    }
    None
}

fuzz_target!(|data: &[u8]| {
    let mut choices = tokens::Choices(data);
    let mode = choices.byte();
    let allow_no_exp = mode & 1 == 1;
    let before = now();
    let token = if mode == 0xFF {
        String::from_utf8_lossy(choices.0).into_owned()
    } else {
        tokens::build(&mut choices, before).1
    };
    let ours = ours(&token, before, allow_no_exp);
    let theirs = theirs(&token, allow_no_exp);
    if before != now() {
        return; // the second turned between the two answers
    }
    if let Some((why, must_refuse)) = deliberate(&token) {
        assert!(!(must_refuse && ours), "accepted despite {why}: {token}");
        return;
    }
    assert_eq!(
        ours, theirs,
        "ours {ours}, jsonwebtoken {theirs} (allow {allow_no_exp}): {token}"
    );
});
