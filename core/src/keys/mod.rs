//! Signing keys as stored in KV store `keys`: one item per key id.
//!
//! The value is a JSON [`KeyRecord`]. The algorithm a token may use is bound to its key
//! here, when the key is stored, and never taken from the token. A value that is not such
//! JSON is read as a bare HS256 secret (the raw bytes), the layout of keys created by
//! Fastly's original app, so existing keys keep working.
//!
//! A verification-only key supplied as PEM or as a public JWK becomes [`KeyMaterial`]
//! through [`KeyMaterial::from_public_pem`] and [`KeyMaterial::from_public_jwk`].

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::{Deserialize, Serialize};

use crate::Error;

mod public;
pub(crate) mod spki;

pub use public::{pem, PublicKind};

/// The KV store that holds signing keys.
pub const STORE: &str = "keys";

/// Key material and the one algorithm it verifies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum KeyMaterial {
    /// HMAC-SHA256 with a shared secret (the UTF-8 bytes of `secret`).
    Hs256 {
        /// The shared secret.
        secret: String,
    },
    /// ECDSA P-256 SHA-256; verification only.
    Es256 {
        /// The public key, PEM (`-----BEGIN PUBLIC KEY-----`).
        public: String,
    },
    /// Ed25519; verification only.
    Eddsa {
        /// The public key, PEM.
        public: String,
    },
}

/// A stored key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key material.
    #[serde(flatten)]
    pub material: KeyMaterial,
    /// Creation time, seconds since the epoch (0 when unknown).
    #[serde(default)]
    pub created: u64,
}

impl KeyRecord {
    /// Parses a stored value; bytes that are not a record are a legacy HS256 secret.
    pub fn parse(value: &[u8]) -> Self {
        if value.first() == Some(&b'{') {
            if let Ok(record) = serde_json::from_slice(value) {
                return record;
            }
        }
        Self {
            material: KeyMaterial::Hs256 {
                secret: String::from_utf8_lossy(value).into_owned(),
            },
            created: 0,
        }
    }

    /// The one algorithm tokens signed with this key must use.
    pub fn algorithm(&self) -> Algorithm {
        match self.material {
            KeyMaterial::Hs256 { .. } => Algorithm::HS256,
            KeyMaterial::Es256 { .. } => Algorithm::ES256,
            KeyMaterial::Eddsa { .. } => Algorithm::EdDSA,
        }
    }

    /// A short name of the key's kind: `hs256`, `es256` or `eddsa`.
    pub fn kind(&self) -> &'static str {
        match self.material {
            KeyMaterial::Hs256 { .. } => "hs256",
            KeyMaterial::Es256 { .. } => "es256",
            KeyMaterial::Eddsa { .. } => "eddsa",
        }
    }

    /// The key in the form the JWT library verifies with. A public key is read from its
    /// PEM here ([`spki`]), so the JWT library needs no PEM or ASN.1 parser.
    pub fn decoding_key(&self) -> Result<DecodingKey, Error> {
        let public = |pem: &str, want: spki::Algorithm| {
            let broken = |why: String| Error::Internal(format!("stored key cannot be used: {why}"));
            match spki::public_key(pem).map_err(broken)? {
                (found, key) if found == want => Ok(key),
                (found, _) => Err(broken(format!("a {found:?} key stored as {want:?}"))),
            }
        };
        match &self.material {
            KeyMaterial::Hs256 { secret } => Ok(DecodingKey::from_secret(secret.as_bytes())),
            KeyMaterial::Es256 { public: pem } => Ok(DecodingKey::from_ec_der(&public(
                pem,
                spki::Algorithm::P256,
            )?)),
            KeyMaterial::Eddsa { public: pem } => {
                let key = public(pem, spki::Algorithm::Ed25519)?;
                // jsonwebtoken slices the first 32 bytes without checking: refuse a short
                // key here rather than panic while verifying.
                if key.len() != ED25519_KEY_LEN {
                    return Err(Error::Internal(format!(
                        "stored Ed25519 key has {} bytes, not {ED25519_KEY_LEN}",
                        key.len()
                    )));
                }
                Ok(DecodingKey::from_ed_der(&key))
            }
        }
    }

    /// Checks, before the key is stored, that it can verify tokens: the PEM parses, an
    /// EC key is a point on P-256, an Ed25519 key is a valid 32-byte public key, an HS256
    /// secret is not empty. `Err` says what is wrong, for a 400 answer.
    pub fn check(&self) -> Result<(), String> {
        if let KeyMaterial::Hs256 { secret } = &self.material {
            if secret.is_empty() {
                return Err("an HS256 secret must not be empty".into());
            }
        }
        let key = self.decoding_key().map_err(|e| match e {
            Error::Internal(why) => why,
            other => other.to_string(),
        })?;
        // Building a verifier is what parses the point; an empty signature then simply
        // fails to match, which is not an error.
        jsonwebtoken::crypto::verify("", b"", &key, self.algorithm())
            .map(|_| ())
            .map_err(|e| format!("the {} key cannot verify tokens: {e}", self.kind()))
    }
}

/// Length of an Ed25519 public key, in bytes.
const ED25519_KEY_LEN: usize = 32;

/// Checks that `kid` is a usable key id: 1 to 64 characters from `[A-Za-z0-9_-]`.
pub fn validate_id(kid: &str) -> Result<(), Error> {
    let ok = (1..=64).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "key id {kid:?} is malformed: expected 1 to 64 characters from A-Z a-z 0-9 - _"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_round_trips_through_json() {
        let r = KeyRecord {
            material: KeyMaterial::Hs256 {
                secret: "s3cret".into(),
            },
            created: 7,
        };
        let json = serde_json::to_vec(&r).expect("serializable");
        assert_eq!(
            std::str::from_utf8(&json).ok(),
            Some(r#"{"kind":"hs256","secret":"s3cret","created":7}"#)
        );
        assert_eq!(KeyRecord::parse(&json), r);
    }

    #[test]
    fn a_bare_value_is_a_legacy_hs256_secret() {
        let r = KeyRecord::parse(b"plain-secret");
        assert_eq!(r.algorithm(), Algorithm::HS256);
        assert_eq!(
            r.material,
            KeyMaterial::Hs256 {
                secret: "plain-secret".into()
            }
        );
    }

    #[test]
    fn key_ids_are_checked() {
        assert!(validate_id("abc-DEF_123").is_ok());
        for bad in ["", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
