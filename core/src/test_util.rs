//! Fixtures for native tests: a fixed clock, a dev signing key, token and `Grip-Sig`
//! minting, and a [`Platform`] of in-memory ports (feature `test-util`).
#![allow(missing_docs, clippy::unwrap_used)]

use std::sync::Arc;

use jsonwebtoken::{encode, EncodingKey, Header};

use crate::keys::{KeyMaterial, KeyRecord};
use crate::ports::memory::*;
use crate::ports::{InsertOptions, KvStore, Platform};

pub const NOW: u64 = 1_800_000_000;
pub const DEV_KID: &str = "k1";
pub const DEV_SECRET: &str = "test-secret";
pub const GRIP_KEY: &str = "grip-test-key";

pub fn kv_with_dev_key() -> MemoryKv {
    let kv = MemoryKv::default();
    let record = KeyRecord {
        material: KeyMaterial::Hs256 {
            secret: DEV_SECRET.into(),
        },
        created: 1,
    };
    kv.insert(
        "keys",
        DEV_KID,
        &serde_json::to_vec(&record).unwrap(),
        InsertOptions::default(),
    )
    .unwrap();
    kv
}

pub fn mint_with(alg: &str, kid: &str, secret: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(alg.parse().unwrap());
    header.kid = Some(kid.into());
    encode(
        &header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

/// A dev-key token with `claims`, plus `exp` an hour after [`NOW`] unless `claims` has
/// one (tokens without `exp` are refused by default; [`mint_with`] adds nothing).
pub fn mint(claims: &serde_json::Value) -> String {
    let mut claims = claims.clone();
    if let Some(fields) = claims.as_object_mut() {
        fields.entry("exp").or_insert(serde_json::json!(NOW + 3600));
    }
    mint_with("HS256", DEV_KID, DEV_SECRET, &claims)
}

pub fn unsigned_token(header: &serde_json::Value) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.",
        b64.encode(header.to_string()),
        b64.encode("{\"x-fastly-read\":[\"a\"]}")
    )
}

pub fn grip_sig(key: &str, iss: &str, exp: u64) -> String {
    encode(
        &Header::default(),
        &serde_json::json!({ "iss": iss, "exp": exp }),
        &EncodingKey::from_secret(key.as_bytes()),
    )
    .unwrap()
}

/// A platform with the dev key, the grip key secret and a fixed clock.
pub fn platform() -> (Platform, Arc<MemoryKv>, Arc<RecordingPublisher>) {
    let ports =
        InMemory::with_secrets(&[("grip-sig-key", GRIP_KEY)]).with_hs256_key(DEV_KID, DEV_SECRET);
    (ports.platform, ports.kv, ports.publisher)
}
