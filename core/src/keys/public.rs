//! Verification-only keys as a caller supplies them: a PEM public key or a public JWK
//! (RFC 7517/7518/8037), turned into the one stored form, a SubjectPublicKeyInfo PEM.
//!
//! Only the form is checked here (no private key, the expected fields and sizes, a
//! consistent kind and `alg`); whether the key can verify tokens is
//! [`KeyRecord::check`](super::KeyRecord::check). Every refusal is a
//! [`Error::BadRequest`] saying what is wrong.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

use super::KeyMaterial;
use crate::Error;

/// The kinds of verification-only key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicKind {
    /// ECDSA P-256 SHA-256.
    Es256,
    /// Ed25519.
    Eddsa,
}

impl PublicKind {
    /// The kind named `name` (`es256` or `eddsa`, lowercase).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "es256" => Some(Self::Es256),
            "eddsa" => Some(Self::Eddsa),
            _ => None,
        }
    }

    /// The kind's name, as in [`KeyRecord::kind`](super::KeyRecord::kind).
    pub fn name(self) -> &'static str {
        match self {
            Self::Es256 => "es256",
            Self::Eddsa => "eddsa",
        }
    }

    /// The JWS `alg` a key of this kind verifies.
    fn alg(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Eddsa => "EdDSA",
        }
    }

    fn material(self, public: String) -> KeyMaterial {
        match self {
            Self::Es256 => KeyMaterial::Es256 { public },
            Self::Eddsa => KeyMaterial::Eddsa { public },
        }
    }
}

/// DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256 point
/// (id-ecPublicKey, prime256v1, then the BIT STRING header and the 0x04 point tag).
const P256_SPKI_PREFIX: [u8; 27] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
];
/// DER prefix of a SubjectPublicKeyInfo holding an Ed25519 key (id-Ed25519, BIT STRING).
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

fn bad(why: impl Into<String>) -> Error {
    Error::BadRequest(why.into())
}

impl KeyMaterial {
    /// A `kind` key from its PEM public key, stored trimmed with one final newline. A
    /// private key is refused.
    pub fn from_public_pem(kind: PublicKind, pem: &str) -> Result<Self, Error> {
        if pem.contains("PRIVATE KEY") {
            return Err(bad(
                "that is a private key: register the public key only, and keep the private \
                 key with the token issuer",
            ));
        }
        Ok(kind.material(pem.trim().to_owned() + "\n"))
    }

    /// The key of a public JWK, stored as the equivalent PEM. `kind`, when the caller
    /// named one, must agree with the key, and so must the JWK's `alg` when present.
    pub fn from_public_jwk(jwk: &Value, kind: Option<PublicKind>) -> Result<Self, Error> {
        if jwk.get("d").is_some() {
            return Err(bad(
                "that JWK holds a private key (`d`): register the public key only",
            ));
        }
        let (derived, der) = spki(jwk)?;
        if let Some(alg) = jwk.get("alg") {
            if alg.as_str() != Some(derived.alg()) {
                return Err(bad(format!(
                    "JWK `alg` is {alg}, but a {} key verifies {}",
                    derived.name(),
                    derived.alg()
                )));
            }
        }
        if let Some(kind) = kind {
            if kind != derived {
                return Err(bad(format!(
                    "`kind` is {} but the JWK is a {} key",
                    kind.name(),
                    derived.name()
                )));
            }
        }
        Ok(derived.material(pem("PUBLIC KEY", &der)))
    }
}

/// The kind of a public JWK and its SubjectPublicKeyInfo DER.
fn spki(jwk: &Value) -> Result<(PublicKind, Vec<u8>), Error> {
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    let coordinate = |name: &str| -> Result<Vec<u8>, Error> {
        let text = field(name).ok_or_else(|| bad(format!("the JWK has no `{name}`")))?;
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|e| bad(format!("JWK `{name}` is not base64url: {e}")))?;
        if bytes.len() == 32 {
            Ok(bytes)
        } else {
            Err(bad(format!(
                "JWK `{name}` has {} bytes, expected 32",
                bytes.len()
            )))
        }
    };
    match (field("kty"), field("crv")) {
        (Some("EC"), Some("P-256")) => {
            let mut der = P256_SPKI_PREFIX.to_vec();
            der.extend(coordinate("x")?);
            der.extend(coordinate("y")?);
            Ok((PublicKind::Es256, der))
        }
        (Some("OKP"), Some("Ed25519")) => {
            let mut der = ED25519_SPKI_PREFIX.to_vec();
            der.extend(coordinate("x")?);
            Ok((PublicKind::Eddsa, der))
        }
        (kty, crv) => Err(bad(format!(
            "unsupported JWK (kty {kty:?}, crv {crv:?}): expected EC P-256 or OKP Ed25519"
        ))),
    }
}

/// PEM armour around `der`, 64 characters a line.
pub fn pem(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::keys::KeyRecord;

    /// A P-256 public key made by `openssl genpkey`, and its coordinates.
    const ES256_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgO0yBiyaz1EQsi/lsWzPYWnc+qxK
IId0F6F3Z1Jp0sXp6LXVSPbeMCeHNoyPOyaV7nwu8w8LHKufq/HMLxpONA==
-----END PUBLIC KEY-----
";
    const ES256_X: &str = "gO0yBiyaz1EQsi_lsWzPYWnc-qxKIId0F6F3Z1Jp0sU";
    const ES256_Y: &str = "6ei11Uj23jAnhzaMjzsmle58LvMPCxyrn6vxzC8aTjQ";

    /// The Ed25519 public key of RFC 8410 section 10.1, and its `x`.
    const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";
    const ED25519_X: &str = "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE";

    fn es_jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": ES256_X, "y": ES256_Y})
    }

    fn ed_jwk() -> Value {
        json!({"kty": "OKP", "crv": "Ed25519", "x": ED25519_X})
    }

    fn usable(material: KeyMaterial) -> KeyMaterial {
        let record = KeyRecord {
            material: material.clone(),
            created: 0,
        };
        assert_eq!(record.check(), Ok(()), "{material:?}");
        material
    }

    #[test]
    fn kinds_have_one_name_each() {
        for kind in [PublicKind::Es256, PublicKind::Eddsa] {
            assert_eq!(PublicKind::from_name(kind.name()), Some(kind));
        }
        for other in ["hs256", "ES256", "rs256", ""] {
            assert_eq!(PublicKind::from_name(other), None, "{other}");
        }
    }

    #[test]
    fn a_public_pem_is_stored_trimmed_with_one_newline() {
        let padded = format!("\n  {}\n\n", ES256_PEM.trim());
        assert_eq!(
            KeyMaterial::from_public_pem(PublicKind::Es256, &padded),
            Ok(KeyMaterial::Es256 {
                public: ES256_PEM.into()
            })
        );
        assert_eq!(
            KeyMaterial::from_public_pem(PublicKind::Eddsa, ED25519_PEM),
            Ok(KeyMaterial::Eddsa {
                public: ED25519_PEM.into()
            })
        );
    }

    #[test]
    fn a_private_pem_is_refused() {
        // The Ed25519 private key of RFC 8410 section 10.3.
        let private = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
        for kind in [PublicKind::Es256, PublicKind::Eddsa] {
            let err = KeyMaterial::from_public_pem(kind, private).expect_err("private");
            assert_eq!(err.status(), 400);
            assert!(err.to_string().contains("private key"), "{err}");
        }
    }

    #[test]
    fn a_jwk_becomes_the_same_pem_as_openssl_writes() {
        let mut with_alg = es_jwk();
        with_alg["alg"] = "ES256".into();
        with_alg["use"] = "sig".into();
        let mut padded = ed_jwk();
        padded["x"] = format!("{ED25519_X}=").into();
        let es = KeyMaterial::Es256 {
            public: ES256_PEM.into(),
        };
        let ed = KeyMaterial::Eddsa {
            public: ED25519_PEM.into(),
        };
        let cases = [
            (es_jwk(), None, &es),
            (es_jwk(), Some(PublicKind::Es256), &es),
            (with_alg, None, &es),
            (ed_jwk(), None, &ed),
            (ed_jwk(), Some(PublicKind::Eddsa), &ed),
            (padded, None, &ed),
        ];
        for (jwk, kind, want) in cases {
            let got = KeyMaterial::from_public_jwk(&jwk, kind).expect("converted");
            assert_eq!(&usable(got), want, "{jwk}");
        }
    }

    #[test]
    fn malformed_jwks_are_400_with_a_reason() {
        let with = |mut jwk: Value, field: &str, value: Value| {
            jwk[field] = value;
            jwk
        };
        let mut no_y = es_jwk();
        no_y.as_object_mut().map(|o| o.remove("y"));
        let cases = [
            (
                "a JWK with d",
                with(es_jwk(), "d", "AAAA".into()),
                None,
                "private key",
            ),
            (
                "a short x",
                with(ed_jwk(), "x", "AAAA".into()),
                None,
                "expected 32",
            ),
            (
                "x not base64url",
                with(ed_jwk(), "x", "***".into()),
                None,
                "base64url",
            ),
            ("no y", no_y, None, "no `y`"),
            (
                "P-384",
                with(es_jwk(), "crv", "P-384".into()),
                None,
                "unsupported JWK",
            ),
            (
                "RSA",
                json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
                None,
                "unsupported JWK",
            ),
            (
                "alg mismatch",
                with(es_jwk(), "alg", "HS256".into()),
                None,
                "`alg`",
            ),
            (
                "kind mismatch",
                es_jwk(),
                Some(PublicKind::Eddsa),
                "`kind` is eddsa",
            ),
        ];
        for (name, jwk, kind, reason) in cases {
            let err = KeyMaterial::from_public_jwk(&jwk, kind).expect_err(name);
            assert_eq!(err.status(), 400, "{name}: {err}");
            assert!(err.to_string().contains(reason), "{name}: {err}");
        }
    }

    #[test]
    fn pem_armour_wraps_at_64_characters() {
        let text = pem("PUBLIC KEY", &[0xab; 60]);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "-----BEGIN PUBLIC KEY-----");
        assert_eq!(lines[1].len(), 64);
        assert_eq!(lines[2].len(), 16);
        assert_eq!(lines[3], "-----END PUBLIC KEY-----");
        assert!(text.ends_with('\n'));
    }
}
