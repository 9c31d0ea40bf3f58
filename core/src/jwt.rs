//! JSON Web Tokens in compact JWS form (RFC 7519, RFC 7515), verified with the three
//! algorithms the broker binds keys to: HS256 (RFC 7518 §3.2), ES256 (§3.4: the signature
//! is `r || s`, 64 bytes) and EdDSA with Ed25519 (RFC 8037).
//!
//! The broker only verifies, so this is all it needs of a JWT library: the header's `alg`
//! and `kid`, the signature check, and the claims as JSON. Algorithms are never taken
//! from the token: [`Token::claims`] refuses a token whose `alg` is not the key's
//! (`none` included). Claims such as `exp` are the caller's to check against its clock.
//! A header with `crit` is refused too: it lists extensions the token needs its verifier to
//! understand (RFC 7515 §4.1.11), and this verifier understands none. Other header members
//! are ignored (RFC 7515 §4), `jwk`, `jku` and `x5c` included: the key is never the token's.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::Sha256;

/// A signature algorithm a key verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// HMAC-SHA256 with a shared secret.
    Hs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// Ed25519.
    EdDsa,
}

impl Alg {
    /// The JWS name of the algorithm (`HS256`, `ES256`, `EdDSA`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Hs256 => "HS256",
            Self::Es256 => "ES256",
            Self::EdDsa => "EdDSA",
        }
    }
}

/// A key that verifies signatures of one algorithm.
#[derive(Clone, Debug)]
pub enum VerifyingKey {
    /// An HS256 shared secret.
    Hs256(Vec<u8>),
    /// A P-256 public key.
    Es256(p256::ecdsa::VerifyingKey),
    /// An Ed25519 public key.
    EdDsa(ed25519_dalek::VerifyingKey),
}

impl VerifyingKey {
    /// The P-256 key of an SEC1-encoded point; `Err` when it is not a point on the curve.
    pub fn es256(point: &[u8]) -> Result<Self, String> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
            .map(Self::Es256)
            .map_err(|_| "not a point on P-256".to_owned())
    }

    /// The Ed25519 key of 32 bytes; `Err` when it is not a valid public key.
    pub fn eddsa(key: &[u8]) -> Result<Self, String> {
        let bytes: &[u8; 32] = key
            .try_into()
            .map_err(|_| format!("the Ed25519 key has {} bytes, not 32", key.len()))?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Self::EdDsa)
            .map_err(|_| "not a valid Ed25519 public key".to_owned())
    }

    /// The algorithm the key verifies.
    pub fn alg(&self) -> Alg {
        match self {
            Self::Hs256(_) => Alg::Hs256,
            Self::Es256(_) => Alg::Es256,
            Self::EdDsa(_) => Alg::EdDsa,
        }
    }

    /// Whether `signature` signs `input` under this key.
    fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Hs256(secret) => Hmac::<Sha256>::new_from_slice(secret)
                .map(|mut mac| {
                    mac.update(input);
                    mac.verify_slice(signature).is_ok()
                })
                .unwrap_or(false),
            Self::Es256(key) => {
                use p256::ecdsa::signature::Verifier as _;
                p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(input, &sig).is_ok())
            }
            Self::EdDsa(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verify_strict(input, &sig).is_ok()),
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
    /// Any JSON: a `typ` that is not a string is no `typ` to this verifier, as before
    /// it was read at all.
    #[serde(default)]
    typ: Option<Value>,
    #[serde(default)]
    crit: Present,
}

/// Whether a header member is there at all, whatever its value (`null` included).
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| Self(true))
    }
}

/// The refusal of a token whose header has `crit`.
const CRIT: &str = "the header's `crit` names extensions this verifier does not understand";

/// A token split into its parts, its header read, nothing verified yet.
#[derive(Debug)]
pub struct Token<'a> {
    /// The header's `alg`, as the token names it.
    pub alg: String,
    /// The header's `kid`, if any.
    pub kid: Option<String>,
    /// The header's `typ`, if any (Mercure 1.0 tokens are `at+jwt`).
    pub typ: Option<String>,
    /// Whether the header has `crit` (such a token never verifies).
    crit: bool,
    /// `<header>.<payload>`: what the signature signs.
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Splits `token` into header, payload and signature and reads the header; `Err` says
/// what is malformed.
pub fn parse(token: &str) -> Result<Token<'_>, String> {
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or("not a JWT (expected header.payload.signature)")?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or("not a JWT (expected header.payload.signature)")?;
    if payload.contains('.') {
        return Err("not a JWT (more than three parts)".into());
    }
    let header: Header = decode_json(header, "header")?;
    Ok(Token {
        alg: header.alg,
        kid: header.kid,
        typ: header.typ.and_then(|v| v.as_str().map(str::to_owned)),
        crit: header.crit.0,
        signing_input,
        payload,
        signature,
    })
}

impl Token<'_> {
    /// The claims, once the signature verifies under `key` and the token's `alg` is the
    /// key's; `Err` says why not.
    pub fn claims<T: DeserializeOwned>(&self, key: &VerifyingKey) -> Result<T, String> {
        let alg = key.alg().name();
        if self.alg != alg {
            return Err(format!(
                "the key only verifies {alg} tokens, not {:?}",
                self.alg
            ));
        }
        if self.crit {
            return Err(CRIT.into());
        }
        let signature = URL_SAFE_NO_PAD
            .decode(self.signature)
            .map_err(|_| "the signature is not base64url".to_owned())?;
        if !key.verifies(self.signing_input.as_bytes(), &signature) {
            return Err("the signature does not verify".into());
        }
        decode_json(self.payload, "payload")
    }

    /// The payload's `sub` as the token states it, nothing verified: only for naming the
    /// caller before the token is checked (a rate limit's penalty box), never for a
    /// decision about access. `None` when absent or unreadable.
    pub fn unverified_subject(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Subject {
            sub: Option<String>,
        }
        decode_json::<Subject>(self.payload, "payload").ok()?.sub
    }

    /// The claims of a token whose exact bytes verified under a key of `alg` before (the
    /// caller vouches for that, e.g. by remembering their hash); only the `alg` is checked
    /// again.
    pub fn claims_verified_before<T: DeserializeOwned>(&self, alg: Alg) -> Result<T, String> {
        if self.alg != alg.name() {
            return Err(format!("not an {} token: {:?}", alg.name(), self.alg));
        }
        if self.crit {
            return Err(CRIT.into());
        }
        decode_json(self.payload, "payload")
    }
}

/// The most members [`wrong_member`] looks at: naming the culprit costs a decode per
/// member, and a header is read before any signature is checked.
const MEMBERS_TO_NAME: usize = 16;

fn decode_json<T: DeserializeOwned>(part: &str, what: &str) -> Result<T, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| format!("the {what} is not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        if !e.is_data() {
            return format!("the {what} is not valid JSON: {e}");
        }
        // Valid JSON of the wrong shape, e.g. `"exp":"1700000000"`: say which member.
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(members)) => match wrong_member::<T>(&members) {
                Some(name) => format!("the {what}'s `{name}` has the wrong type: {e}"),
                None => format!("the {what} has a member of the wrong type: {e}"),
            },
            _ => format!("the {what} is not a JSON object"),
        }
    })
}

/// The one member of `members` without which they decode as `T`: the member of the wrong
/// type. `None` when no single member is to blame (or there are too many to try).
fn wrong_member<T: DeserializeOwned>(members: &Map<String, Value>) -> Option<&str> {
    if members.len() > MEMBERS_TO_NAME {
        return None;
    }
    members.keys().map(String::as_str).find(|name| {
        let mut rest = members.clone();
        rest.remove(*name);
        serde_json::from_value::<T>(Value::Object(rest)).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header as JwtHeader};
    use serde_json::{json, Value};

    fn signed(alg: Algorithm, key: &EncodingKey, claims: &Value) -> String {
        let mut header = JwtHeader::new(alg);
        header.kid = Some("k1".into());
        encode(&header, claims, key).expect("signed")
    }

    /// An ES256 key pair from a fixed scalar: the PKCS#8 PEM and the SEC1 point.
    fn es256() -> (EncodingKey, Vec<u8>) {
        use p256::pkcs8::EncodePrivateKey as _;
        let secret = p256::SecretKey::from_slice(&[7; 32]).expect("scalar");
        let pem = secret.to_pkcs8_pem(Default::default()).expect("pem");
        let point = secret.public_key().to_sec1_bytes().to_vec();
        (
            EncodingKey::from_ec_pem(pem.as_bytes()).expect("key"),
            point,
        )
    }

    fn eddsa() -> (EncodingKey, Vec<u8>) {
        use ed25519_dalek::pkcs8::EncodePrivateKey as _;
        let signing = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let pem = signing.to_pkcs8_pem(Default::default()).expect("pem");
        let key = signing.verifying_key().to_bytes().to_vec();
        (EncodingKey::from_ed_pem(pem.as_bytes()).expect("key"), key)
    }

    #[test]
    fn tokens_of_each_algorithm_verify_under_their_key_only() {
        let claims = json!({"x-fastly-read": ["a"], "exp": 10});
        let (es_private, es_point) = es256();
        let (ed_private, ed_key) = eddsa();
        let hs = VerifyingKey::Hs256(b"secret".to_vec());
        let es = VerifyingKey::es256(&es_point).expect("point");
        let ed = VerifyingKey::eddsa(&ed_key).expect("key");
        let tokens = [
            (
                signed(
                    Algorithm::HS256,
                    &EncodingKey::from_secret(b"secret"),
                    &claims,
                ),
                &hs,
            ),
            (signed(Algorithm::ES256, &es_private, &claims), &es),
            (signed(Algorithm::EdDSA, &ed_private, &claims), &ed),
        ];
        for (token, key) in &tokens {
            let parsed = parse(token).expect("parsed");
            assert_eq!(parsed.kid.as_deref(), Some("k1"));
            assert_eq!(parsed.claims::<Value>(key).expect("verifies"), claims);
            for (_, other) in tokens.iter().filter(|(t, _)| t != token) {
                assert!(
                    parsed.claims::<Value>(other).is_err(),
                    "{} under {:?}",
                    parsed.alg,
                    other.alg()
                );
            }
        }
        let wrong_secret = VerifyingKey::Hs256(b"other".to_vec());
        let err = parse(&tokens[0].0)
            .expect("parsed")
            .claims::<Value>(&wrong_secret);
        assert_eq!(err, Err("the signature does not verify".to_owned()));
    }

    #[test]
    fn malformed_and_unsigned_tokens_are_refused_with_a_reason() {
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let key = VerifyingKey::Hs256(b"secret".to_vec());
        let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64("{}"));
        let err = parse(&none)
            .expect("parsed")
            .claims::<Value>(&key)
            .expect_err("none");
        assert!(err.contains("only verifies HS256"), "{err}");
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.e30.x",
            &format!("{}.e30.x", b64("{")),
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(VerifyingKey::es256(&[4; 65]).is_err());
        assert!(VerifyingKey::eddsa(&[1; 31]).is_err());
    }

    #[test]
    fn a_member_of_the_wrong_type_is_named_not_called_invalid_json() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Claims {
            #[serde(rename = "x-fastly-read", default)]
            read: Vec<String>,
            exp: Option<u64>,
        }
        let key = VerifyingKey::Hs256(b"secret".to_vec());
        let token = |header: Value, claims: Value| signed_with_header(header, &claims, b"secret");
        let hs256 = json!({"alg": "HS256", "kid": "k1"});
        let cases = [
            (
                json!({"x-fastly-read": "a", "exp": 1}),
                "the payload's `x-fastly-read` has the wrong type: invalid type: string",
            ),
            (
                json!({"x-fastly-read": ["a", 7]}),
                "the payload's `x-fastly-read` has the wrong type",
            ),
            (
                json!({"exp": "1700000000"}),
                "the payload's `exp` has the wrong type: invalid type: string",
            ),
            (
                json!({"exp": "1", "x-fastly-read": "a"}),
                "the payload has a member of the wrong type",
            ),
            (json!(["a"]), "the payload is not a JSON object"),
        ];
        for (claims, want) in cases {
            let err = parse(&token(hs256.clone(), claims.clone()))
                .expect("parsed")
                .claims::<Claims>(&key)
                .expect_err("wrong type");
            assert!(err.starts_with(want), "{claims}: {err}");
        }
        let err = parse(&token(json!({"alg": "HS256", "kid": 7}), json!({}))).expect_err("kid");
        assert!(
            err.starts_with("the header's `kid` has the wrong type"),
            "{err}"
        );
        let not_json = format!("{}.e30.x", URL_SAFE_NO_PAD.encode("{"));
        assert!(parse(&not_json)
            .expect_err("syntax")
            .contains("is not valid JSON"));
    }

    /// RFC 7515 §4.1.11: `crit` names extensions the verifier must understand, and this
    /// one understands none. Found by the differential fuzz target (`core/fuzz` `jwt_diff`):
    /// the verifier used to ignore `crit`, as `jsonwebtoken` does.
    #[test]
    fn a_header_with_crit_never_verifies_whatever_it_lists() {
        let key = VerifyingKey::Hs256(b"secret".to_vec());
        let claims = json!({"exp": 10});
        for crit in [
            json!(["exp"]),
            json!([]),
            json!(null),
            json!(["b64"]),
            json!("x"),
        ] {
            let header = json!({"alg": "HS256", "kid": "k1", "crit": crit, "b64": false});
            let token = signed_with_header(header, &claims, b"secret");
            let parsed = parse(&token).expect("a header with crit still parses");
            assert_eq!(parsed.claims::<Value>(&key), Err(CRIT.to_owned()), "{crit}");
            assert_eq!(
                parsed.claims_verified_before::<Value>(Alg::Hs256),
                Err(CRIT.to_owned())
            );
        }
        let duplicate = format!(
            "{}.e30.x",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","crit":[],"crit":[]}"#)
        );
        assert!(parse(&duplicate).is_err());
    }

    /// RFC 8725 §3.10: a key the token carries is never the key it is checked with.
    #[test]
    fn keys_and_types_in_the_header_are_ignored() {
        let key = VerifyingKey::Hs256(b"secret".to_vec());
        let claims = json!({"exp": 10});
        let attacker = json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode("attacker")});
        for (name, value) in [
            ("jwk", attacker.clone()),
            ("jku", json!("https://attacker.example/jwks")),
            ("x5c", json!([1])),
            ("typ", json!(7)),
        ] {
            let header = json!({"alg": "HS256", "kid": "k1", name: value});
            let ours = signed_with_header(header.clone(), &claims, b"secret");
            let theirs = signed_with_header(header, &claims, b"attacker");
            assert_eq!(
                parse(&ours).expect("parsed").claims::<Value>(&key),
                Ok(claims.clone())
            );
            assert!(
                parse(&theirs)
                    .expect("parsed")
                    .claims::<Value>(&key)
                    .is_err(),
                "{name}"
            );
        }
    }

    /// A token with this exact header, HS256-signed with `secret`.
    fn signed_with_header(header: Value, claims: &Value, secret: &[u8]) -> String {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let input = format!("{}.{}", b64(&header), b64(claims));
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("key");
        mac.update(input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{input}.{sig}")
    }
}
