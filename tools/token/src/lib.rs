//! `pubsub-token`: mints the JWTs that Edge Pub/Sub clients present.
//!
//! A token's header names the signing key (`kid`) and its algorithm; its claims list the
//! topics the bearer may subscribe to (`x-fastly-read`) and publish to
//! (`x-fastly-write`), when it was issued (`iat`) and when it expires (`exp`). The key is
//! either
//!
//! - an HS256 key created by `POST /admin/keys`: its `value` string is the secret, and
//!   tokens are signed with the UTF-8 bytes of that string; or
//! - the private half of a key registered with `POST /admin/keys` as ES256 or EdDSA, as a
//!   PKCS#8 PEM file (`-----BEGIN PRIVATE KEY-----`).
//!
//! The binary (`src/main.rs`) is a thin shell around [`parse_args`], [`Options::load_key`]
//! and [`mint`]:
//!
//! ```text
//! pubsub-token --kid ID --secret VALUE [--read T1,T2] [--write T3] [--ttl 3600]
//! pubsub-token --kid ID --key-file private.pem [--alg ES256|EdDSA] [--read ..] [--write ..]
//! ```

use std::fmt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};

mod args;

pub use args::{parse_args, Command, USAGE};

/// Lifetime of a token when `--ttl` is not given, in seconds.
pub const DEFAULT_TTL_SECS: u64 = 3600;

/// Environment variable read for the secret when `--secret` is not given (keeps the
/// secret out of the process list and shell history).
pub const SECRET_ENV: &str = "PUBSUB_TOKEN_SECRET";

/// Why a token could not be made; the text is meant for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The command line is wrong.
    Usage(String),
    /// The key could not be read or used.
    Key(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(why) => write!(f, "{why} (see --help)"),
            Self::Key(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Error {}

/// Where the signing key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// An HS256 secret string.
    Secret(String),
    /// A PEM file with a private key, and the algorithm asked for (if any).
    File {
        /// The PEM file.
        path: PathBuf,
        /// `ES256` or `EdDSA`; `None` means "whatever the key is".
        alg: Option<Algorithm>,
    },
}

/// What to mint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The key id for the `kid` header.
    pub kid: String,
    /// The signing key.
    pub key: KeySource,
    /// Topics to subscribe to.
    pub read: Vec<String>,
    /// Topics to publish to.
    pub write: Vec<String>,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

/// A key ready to sign with.
#[derive(Clone)]
pub struct SigningKey {
    alg: Algorithm,
    key: EncodingKey,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// An HS256 key from the secret: a string signs with its UTF-8 bytes, a byte slice
    /// with those bytes.
    pub fn hs256(secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        let secret = secret.as_ref();
        if secret.is_empty() {
            return Err(Error::Key("the secret is empty".into()));
        }
        Ok(Self {
            alg: Algorithm::HS256,
            key: EncodingKey::from_secret(secret),
        })
    }

    /// A key from PKCS#8 PEM text. With `alg` `None`, the key's own type decides: a P-256
    /// key signs ES256, an Ed25519 key EdDSA.
    pub fn from_pem(pem: &[u8], alg: Option<Algorithm>) -> Result<Self, Error> {
        let as_ec = || EncodingKey::from_ec_pem(pem).map(|key| (Algorithm::ES256, key));
        let as_ed = || EncodingKey::from_ed_pem(pem).map(|key| (Algorithm::EdDSA, key));
        let loaded = match alg {
            Some(Algorithm::ES256) => as_ec(),
            Some(Algorithm::EdDSA) => as_ed(),
            Some(other) => {
                return Err(Error::Key(format!(
                    "a key file signs ES256 or EdDSA, not {other:?}"
                )))
            }
            None => as_ec().or_else(|_| as_ed()),
        };
        let (alg, key) = loaded.map_err(|e| {
            Error::Key(format!(
                "not a PKCS#8 PEM private key{}: {e}",
                alg.map(|a| format!(" for {a:?}")).unwrap_or_default()
            ))
        })?;
        Ok(Self { alg, key })
    }

    /// The algorithm tokens signed with this key use.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

impl Options {
    /// Reads the key (the file, for a key file).
    pub fn load_key(&self) -> Result<SigningKey, Error> {
        match &self.key {
            KeySource::Secret(secret) => SigningKey::hs256(secret),
            KeySource::File { path, alg } => {
                let pem = std::fs::read(path)
                    .map_err(|e| Error::Key(format!("cannot read {}: {e}", path.display())))?;
                SigningKey::from_pem(&pem, *alg)
            }
        }
    }
}

/// Signs a token for `kid` granting `read` and `write`, issued at `now` (seconds since
/// the epoch) and valid for `ttl_secs`.
pub fn mint(
    kid: &str,
    key: &SigningKey,
    read: &[String],
    write: &[String],
    ttl_secs: u64,
    now: u64,
) -> Result<String, Error> {
    let mut header = Header::new(key.alg);
    header.kid = Some(kid.to_owned());
    let claims = serde_json::json!({
        "x-fastly-read": read,
        "x-fastly-write": write,
        "iat": now,
        "exp": now.saturating_add(ttl_secs),
    });
    encode(&header, &claims, &key.key).map_err(|e| Error::Key(format!("cannot sign: {e}")))
}

/// The current time in seconds since the Unix epoch (0 if the clock is before it), for
/// [`mint`]'s `now`.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use p256::pkcs8::LineEnding;
    use pubsub_core::keys::{KeyMaterial, KeyRecord};
    use pubsub_core::ports::memory::MemoryKv;
    use pubsub_core::ports::{InsertOptions, KvStore};
    use pubsub_core::principal::{Access, LEEWAY_SECS};
    use pubsub_core::tokens;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn kv_with(kid: &str, material: KeyMaterial) -> Arc<MemoryKv> {
        let kv = Arc::new(MemoryKv::default());
        let record = KeyRecord {
            material,
            created: 1,
        };
        let value = serde_json::to_vec(&record).expect("json");
        kv.insert("keys", kid, &value, InsertOptions::default())
            .expect("seed");
        kv
    }

    fn owned(topics: &[&str]) -> Vec<String> {
        topics.iter().map(|t| (*t).to_owned()).collect()
    }

    #[test]
    fn an_hs256_token_carries_kid_topics_and_lifetime_and_verifies() {
        let key = SigningKey::hs256("the-value").expect("key");
        let token = mint("k1", &key, &owned(&["a"]), &owned(&["b"]), 60, NOW).expect("token");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(
            (header.alg, header.kid.as_deref()),
            (Algorithm::HS256, Some("k1"))
        );

        let kv = kv_with(
            "k1",
            KeyMaterial::Hs256 {
                secret: "the-value".into(),
            },
        );
        let principal = tokens::verify(&token, &*kv, NOW).expect("verifies");
        assert!(principal.allows(Access::Read, "a") && !principal.allows(Access::Write, "a"));
        assert!(principal.allows(Access::Write, "b"));
        assert_eq!(principal.exp, Some(NOW + 60));
        let later = NOW + 60 + LEEWAY_SECS + 1;
        let expired = tokens::verify(&token, &*kv, later).expect_err("expired");
        assert_eq!(expired.status(), 401);
    }

    #[test]
    fn key_files_sign_es256_and_eddsa_tokens_the_broker_verifies() {
        let ec = p256::SecretKey::from_slice(&[3; 32]).expect("scalar");
        let ec_private = ec.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        let ec_public =
            p256::pkcs8::EncodePublicKey::to_public_key_pem(&ec.public_key(), LineEnding::LF)
                .expect("pem");
        let ed = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
        let ed_private = ed.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        let ed_public = ed
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("pem");
        let keys = [
            (
                ec_private,
                Algorithm::ES256,
                KeyMaterial::Es256 { public: ec_public },
            ),
            (
                ed_private,
                Algorithm::EdDSA,
                KeyMaterial::Eddsa { public: ed_public },
            ),
        ];
        for (pem, alg, public) in keys {
            // Left to the key's type, or asked for: the same algorithm either way.
            for asked in [None, Some(alg)] {
                let key = SigningKey::from_pem(pem.as_bytes(), asked).expect("loads");
                assert_eq!(key.algorithm(), alg);
                let token = mint("pk", &key, &owned(&["t"]), &[], 60, NOW).expect("token");
                let kv = kv_with("pk", public.clone());
                let principal = tokens::verify(&token, &*kv, NOW).expect("verifies");
                assert!(principal.allows(Access::Read, "t"), "{alg:?} {asked:?}");
            }
        }
    }

    #[test]
    fn a_key_file_that_does_not_match_the_algorithm_is_refused() {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
        let ed_private = ed.to_pkcs8_pem(LineEnding::LF).expect("pem");
        let err = SigningKey::from_pem(ed_private.as_bytes(), Some(Algorithm::ES256))
            .expect_err("an Ed25519 key cannot sign ES256");
        assert!(err.to_string().contains("ES256"), "{err}");
        let err = SigningKey::from_pem(b"not a key", None).expect_err("garbage");
        assert!(matches!(err, Error::Key(_)));
        assert!(SigningKey::hs256("").is_err());
    }

    #[test]
    fn a_missing_key_file_is_named_in_the_error() {
        let options = Options {
            kid: "k".into(),
            key: KeySource::File {
                path: "/nonexistent/key.pem".into(),
                alg: None,
            },
            read: owned(&["a"]),
            write: Vec::new(),
            ttl_secs: 1,
        };
        let err = options.load_key().expect_err("no file");
        assert!(err.to_string().contains("/nonexistent/key.pem"), "{err}");
    }
}
