//! Signing keys as stored in KV store `keys`: one item per key id.
//!
//! The value is a JSON [`KeyRecord`]. The algorithm a token may use is bound to its key
//! here, when the key is stored, and never taken from the token. A value that is not a
//! JSON object (its first non-blank byte is not `{`) is read as a bare HS256 secret (its
//! UTF-8 text), the layout of keys created by Fastly's original app, so existing keys keep
//! working.
//!
//! A stored value that is neither fails closed: [`KeyRecord::parse`] returns the reason
//! it is unusable, and no token verifies with it. That covers a JSON object that is not a
//! well-formed record (an unknown `kind` such as `"ES256"`, a JWK object where the PEM
//! string belongs, a missing field), an empty secret (JSON or bare), and a bare secret
//! that is not UTF-8. Reading such an object as a bare secret instead would turn the JSON
//! text into an HS256 key that anyone who has seen the record can sign with.
//!
//! A verification-only key supplied as PEM or as a public JWK becomes [`KeyMaterial`]
//! through [`KeyMaterial::from_public_pem`] and [`KeyMaterial::from_public_jwk`].

use serde::{Deserialize, Serialize};

use crate::jwt::{Alg, VerifyingKey};
use crate::ports::KvStore;
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
    /// Parses a stored value: a JSON object must be a well-formed record, anything else is
    /// a legacy bare HS256 secret. `Err` says why the value cannot be used as a key (for
    /// `GET /admin/keys`); the caller refuses every token signed for it.
    pub fn parse(value: &[u8]) -> Result<Self, String> {
        let record = if value.trim_ascii_start().first() == Some(&b'{') {
            serde_json::from_slice::<Self>(value)
                .map_err(|e| format!("the stored JSON is not a key record: {e}"))?
        } else {
            let secret = std::str::from_utf8(value)
                .map_err(|_| "the stored bare secret is not UTF-8 text".to_owned())?;
            Self {
                material: KeyMaterial::Hs256 {
                    secret: secret.to_owned(),
                },
                created: 0,
            }
        };
        if let KeyMaterial::Hs256 { secret } = &record.material {
            if secret.is_empty() {
                return Err("the HS256 secret is empty".into());
            }
        }
        Ok(record)
    }

    /// The one algorithm tokens signed with this key must use.
    pub fn algorithm(&self) -> Alg {
        match self.material {
            KeyMaterial::Hs256 { .. } => Alg::Hs256,
            KeyMaterial::Es256 { .. } => Alg::Es256,
            KeyMaterial::Eddsa { .. } => Alg::EdDsa,
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

    /// The key that verifies the tokens it signs. A public key is read from its PEM
    /// (the crate-private `spki` module) and must be a valid point or key. `Err` says why the key cannot be used.
    pub fn verifying_key(&self) -> Result<VerifyingKey, String> {
        let public = |pem: &str, want: spki::Algorithm| match spki::public_key(pem)? {
            (found, key) if found == want => Ok(key),
            (found, _) => Err(format!("a {found:?} key stored as {want:?}")),
        };
        match &self.material {
            KeyMaterial::Hs256 { secret } if secret.is_empty() => {
                Err("an HS256 secret must not be empty".into())
            }
            KeyMaterial::Hs256 { secret } => Ok(VerifyingKey::Hs256(secret.as_bytes().to_vec())),
            KeyMaterial::Es256 { public: pem } => {
                VerifyingKey::es256(&public(pem, spki::Algorithm::P256)?)
            }
            KeyMaterial::Eddsa { public: pem } => {
                VerifyingKey::eddsa(&public(pem, spki::Algorithm::Ed25519)?)
            }
        }
        .map_err(|why| format!("the {} key cannot verify tokens: {why}", self.kind()))
    }

    /// Checks, before the key is stored, that it can verify tokens: the PEM parses, an
    /// EC key is a point on P-256, an Ed25519 key is a valid 32-byte public key, an HS256
    /// secret is not empty. `Err` says what is wrong, for a 400 answer.
    pub fn check(&self) -> Result<(), String> {
        self.verifying_key().map(|_| ())
    }
}

/// The key `kid` names in `kv`, ready to verify tokens: 401 when the id is malformed or
/// unknown (`UnknownKey`) or the stored value is unusable (`signing key "<id>" is
/// unusable`), 503 when the store cannot be read.
pub fn verifying_key_for(kv: &dyn KvStore, kid: &str) -> Result<VerifyingKey, Error> {
    if validate_id(kid).is_err() {
        return Err(Error::UnknownKey(kid.to_owned()));
    }
    let item = match kv.lookup(STORE, kid) {
        Ok(Some(item)) => item,
        Ok(None) => return Err(Error::UnknownKey(kid.to_owned())),
        Err(e) => return Err(Error::StoreUnavailable(format!("key lookup failed: {e}"))),
    };
    let unusable = || Error::InvalidToken(format!("signing key {kid:?} is unusable"));
    let record = KeyRecord::parse(&item.value).map_err(|_| unusable())?;
    // A stored key that cannot verify (a point off the curve) is broken, not the token.
    record.verifying_key().map_err(|_| unusable())
}

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
        assert_eq!(KeyRecord::parse(&json), Ok(r));
    }

    #[test]
    fn a_bare_value_is_a_legacy_hs256_secret() {
        let r = KeyRecord::parse(b"plain-secret").expect("a legacy secret");
        assert_eq!(r.algorithm(), Alg::Hs256);
        assert_eq!(r.created, 0);
        assert_eq!(
            r.material,
            KeyMaterial::Hs256 {
                secret: "plain-secret".into()
            }
        );
    }

    #[test]
    fn a_malformed_record_or_an_empty_secret_is_unusable() {
        let cases: [(&str, &[u8], &str); 8] = [
            (
                "uppercase kind",
                br#"{"kind":"ES256","public":"-----BEGIN PUBLIC KEY-----"}"#,
                "not a key record",
            ),
            (
                "a JWK where the PEM belongs",
                br#"{"kind":"es256","public":{"kty":"EC","crv":"P-256","x":"a","y":"b"}}"#,
                "not a key record",
            ),
            ("no kind", br#"{"secret":"s3cret"}"#, "not a key record"),
            ("not JSON at all", b"{kind: hs256", "not a key record"),
            (
                "leading blanks before the object",
                b" \n{\"kind\":\"HS256\",\"secret\":\"x\"}",
                "not a key record",
            ),
            (
                "empty JSON secret",
                br#"{"kind":"hs256","secret":""}"#,
                "empty",
            ),
            ("empty bare secret", b"", "empty"),
            ("bare secret not UTF-8", b"\xff\xfe", "UTF-8"),
        ];
        for (name, value, why) in cases {
            let err = KeyRecord::parse(value).expect_err(name);
            assert!(err.contains(why), "{name}: {err}");
        }
    }

    #[test]
    fn a_record_with_a_broken_pem_has_no_verifying_key() {
        let r = KeyRecord::parse(br#"{"kind":"es256","public":"not a PEM"}"#)
            .expect("well-formed JSON");
        assert!(r.verifying_key().is_err());
        assert!(r.check().is_err());
    }

    #[test]
    fn key_ids_are_checked() {
        assert!(validate_id("abc-DEF_123").is_ok());
        for bad in ["", "a/b", "a b", "é", &"x".repeat(65)] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }
}
