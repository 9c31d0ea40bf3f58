//! The admin API: signing keys in KV store `keys`.
//!
//! Runs after `RequireFeature(admin)` (404 when switched off) and
//! `AdminAuth` (401 without admin credentials); each
//! handler also refuses a request that lacks the [`AdminAuthorized`] marker, so a route
//! wired without the layer fails closed.
//!
//! | Request | Answer |
//! |---|---|
//! | `POST /admin/keys`, empty body (or `{"kind":"hs256"}`) | 200 `{"id":..,"value":..}`: a new HS256 key, as Fastly's original app answered |
//! | `POST /admin/keys`, `{"kind":"es256"\|"eddsa","public":"<PEM>"}` | 200 `{"id":..,"kind":..}`: a verification-only key |
//! | `POST /admin/keys`, a public JWK (`kty` `EC`/`P-256` or `OKP`/`Ed25519`) | same |
//! | `GET /admin/keys` | 200 `{"keys":[{"id":..,"kind":..,"created":..}]}`, oldest first; never secrets. A stored value that is not a usable key is listed as `{"id":..,"kind":"invalid","created":0,"reason":..}` |
//! | `DELETE /admin/keys/{id}` | 204 once the key is deleted and every open connection it authorised was told to end (a publish to its key channel, see `grip::revocation_requests`); 400 for a malformed id; 404 for an unknown one; 502 when the key is deleted but that publish failed (the text says what still ends those connections) |
//!
//! A new HS256 key's secret is 32 bytes from the platform's secure random source, encoded
//! base64url without padding; that string is the `value`, and tokens are signed with its
//! UTF-8 bytes (as with the original app). Key ids are 12 base64url characters (72 random
//! bits), written with an insert-if-absent and redrawn on a collision. A registered public
//! key is checked before it is stored ([`KeyRecord::check`]), and a JWK is stored as the
//! equivalent PEM, so every asymmetric key has one stored form. Revocation deletes the
//! item, so a token naming the key is refused (401) from the next request on.
//!
//! Every answer carries `Cache-Control: no-store`: a new secret must not sit in a cache.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use pubsub_core::extensions::AdminAuthorized;
use pubsub_core::extensions::{required, PathParams};
use pubsub_core::keys::{self, KeyMaterial, KeyRecord, PublicKind};
use pubsub_core::ports::{InsertOptions, KvError, Platform};
use pubsub_core::{grip, Config, Error, Request, Response, Result};

/// Random bytes of a new HS256 secret (256 bits).
pub const SECRET_BYTES: usize = 32;
/// Random bytes of a new key id (12 base64url characters).
const ID_BYTES: usize = 9;
/// Ids drawn before giving up on finding a free one.
const ID_ATTEMPTS: usize = 5;
/// Largest request body accepted by `POST /admin/keys`.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// `POST /admin/keys`: creates an HS256 key or registers a public key.
pub fn create(platform: &Platform, req: Request) -> Result {
    require_admin(&req)?;
    let body = req.body();
    if body.len() > MAX_BODY_BYTES {
        return Err(Error::PayloadTooLarge(MAX_BODY_BYTES));
    }
    let now = platform.env.now();
    match parse_create(body)? {
        NewKey::Hs256 => {
            let mut secret = [0u8; SECRET_BYTES];
            platform.env.random(&mut secret).map_err(Error::Internal)?;
            let value = URL_SAFE_NO_PAD.encode(secret);
            let record = KeyRecord {
                material: KeyMaterial::Hs256 {
                    secret: value.clone(),
                },
                created: now,
            };
            let id = store_new(platform, &record)?;
            json(StatusCode::OK, &Created { id, value })
        }
        NewKey::Public(material) => {
            let record = KeyRecord {
                material,
                created: now,
            };
            record
                .check()
                .map_err(|why| Error::BadRequest(format!("public key rejected: {why}")))?;
            let id = store_new(platform, &record)?;
            let kind = record.kind();
            json(StatusCode::OK, &Registered { id, kind })
        }
    }
}

/// `GET /admin/keys`: every key's id, kind and creation time, oldest first.
pub fn list(platform: &Platform, req: Request) -> Result {
    require_admin(&req)?;
    let mut listed = Vec::new();
    for id in platform.kv.list(keys::STORE).map_err(store_error)? {
        // A key deleted since the listing is simply left out.
        if let Some(item) = platform.kv.lookup(keys::STORE, &id).map_err(store_error)? {
            listed.push(Listed::of(id, &item.value));
        }
    }
    listed.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    json(StatusCode::OK, &KeyList { keys: listed })
}

/// `DELETE /admin/keys/{id}`: revokes a key.
pub fn revoke(platform: &Platform, req: Request) -> Result {
    require_admin(&req)?;
    let id = required::<PathParams>(&req)?
        .get("id")
        .ok_or_else(|| Error::Internal("the route of revoke captures no {id}".into()))?;
    keys::validate_id(id)?;
    if platform
        .kv
        .lookup(keys::STORE, id)
        .map_err(store_error)?
        .is_none()
    {
        return Err(Error::NoSuchResource(format!("key {id:?}")));
    }
    platform.kv.delete(keys::STORE, id).map_err(store_error)?;
    // Every connection the key authorised listens on its key channel: end them now.
    let config = required::<Config>(&req)?;
    grip::revocation_requests(id)
        .into_iter()
        .try_for_each(|body| platform.publisher.publish(config, body))
        .map_err(|why| {
            Error::PublishFailed(format!(
                "key {id:?} is deleted and refuses every new request, but ending its open \
                 connections failed ({why}): they end when their tokens expire, or, for MQTT, \
                 at their next SUBSCRIBE or PUBLISH"
            ))
        })?;
    let mut res = Response::new(Vec::new());
    *res.status_mut() = StatusCode::NO_CONTENT;
    no_store(&mut res);
    Ok(res)
}

fn require_admin(req: &Request) -> Result<(), Error> {
    req.extensions()
        .get::<AdminAuthorized>()
        .map(|_| ())
        .ok_or(Error::AdminUnauthorized)
}

/// What a `POST /admin/keys` body asks for.
#[derive(Debug, PartialEq, Eq)]
enum NewKey {
    /// A new shared secret, generated here.
    Hs256,
    /// A verification-only key supplied by the caller (not yet checked).
    Public(KeyMaterial),
}

fn bad(why: impl Into<String>) -> Error {
    Error::BadRequest(why.into())
}

/// Reads a `POST /admin/keys` body: empty, `{"kind":..,"public":..}` or a JWK.
fn parse_create(body: &[u8]) -> Result<NewKey, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(NewKey::Hs256);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body must be empty or a JSON object: {e}")))?;
    let Value::Object(fields) = &value else {
        return Err(bad("the body must be empty or a JSON object"));
    };
    if fields.contains_key("kty") {
        return KeyMaterial::from_public_jwk(&value, None).map(NewKey::Public);
    }
    let kind = match fields.get("kind") {
        Some(Value::String(kind)) => kind.to_ascii_lowercase(),
        Some(_) => return Err(bad("`kind` must be a string")),
        None => {
            return Err(bad(
                "give `kind` (hs256, es256 or eddsa) with `public`, or a public JWK",
            ))
        }
    };
    let public = fields.get("public");
    if kind == "hs256" {
        return match public {
            None => Ok(NewKey::Hs256),
            Some(_) => Err(bad(
                "an HS256 secret is generated by the service: send no `public`",
            )),
        };
    }
    let Some(kind) = PublicKind::from_name(&kind) else {
        return Err(bad(format!(
            "unknown key kind {kind:?}: expected hs256, es256 or eddsa"
        )));
    };
    match public {
        None => Err(bad(format!("a {} key needs `public`", kind.name()))),
        Some(Value::String(pem)) => KeyMaterial::from_public_pem(kind, pem).map(NewKey::Public),
        Some(jwk @ Value::Object(_)) => {
            KeyMaterial::from_public_jwk(jwk, Some(kind)).map(NewKey::Public)
        }
        Some(_) => Err(bad("`public` must be a PEM string or a JWK object")),
    }
}

/// Stores `record` under a fresh random id and returns the id.
fn store_new(platform: &Platform, record: &KeyRecord) -> Result<String, Error> {
    let value = serde_json::to_vec(record)
        .map_err(|e| Error::Internal(format!("cannot serialise a key record: {e}")))?;
    for _ in 0..ID_ATTEMPTS {
        let mut raw = [0u8; ID_BYTES];
        platform.env.random(&mut raw).map_err(Error::Internal)?;
        let id = URL_SAFE_NO_PAD.encode(raw);
        let only_new = InsertOptions {
            if_absent: true,
            ..InsertOptions::default()
        };
        match platform.kv.insert(keys::STORE, &id, &value, only_new) {
            Ok(()) => return Ok(id),
            Err(KvError::GenerationMismatch) => continue,
            Err(e) => return Err(store_error(e)),
        }
    }
    Err(Error::Internal(format!(
        "no free key id after {ID_ATTEMPTS} random draws"
    )))
}

fn store_error(e: KvError) -> Error {
    Error::StoreUnavailable(format!("KV store `{}`: {e}", keys::STORE))
}

#[derive(Serialize)]
struct Created {
    id: String,
    value: String,
}

#[derive(Serialize)]
struct Registered {
    id: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct KeyList {
    keys: Vec<Listed>,
}

#[derive(Serialize)]
struct Listed {
    id: String,
    kind: &'static str,
    created: u64,
    /// Why the stored value cannot verify tokens; only for `kind` [`INVALID_KIND`].
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The `kind` listed for a stored value that is not a usable key: every token naming it
/// is refused, so an admin should replace or revoke it.
pub const INVALID_KIND: &str = "invalid";

impl Listed {
    /// The listing of the value stored under `id`. The same checks as registration
    /// ([`KeyRecord::check`]) run here, so a key that verifies nothing is never listed
    /// as if it worked.
    fn of(id: String, value: &[u8]) -> Self {
        match KeyRecord::parse(value).and_then(|r| r.check().map(|()| r)) {
            Ok(record) => Self {
                id,
                kind: record.kind(),
                created: record.created,
                reason: None,
            },
            Err(reason) => Self {
                id,
                kind: INVALID_KIND,
                created: 0,
                reason: Some(reason),
            },
        }
    }
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn json(status: StatusCode, body: &impl Serialize) -> Result {
    let bytes = serde_json::to_vec(body)
        .map_err(|e| Error::Internal(format!("cannot serialise the answer: {e}")))?;
    let mut res = Response::new(bytes);
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    no_store(&mut res);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
    use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    use p256::pkcs8::LineEnding;
    use pubsub_core::ports::memory::MemoryKv;
    use pubsub_core::principal::Principal;
    use pubsub_core::tokens;

    use super::*;
    use crate::test_helpers::{get, platform, post};

    /// Marks `req` as admitted by `AdminAuth`.
    fn admitted(mut req: Request) -> Request {
        req.extensions_mut().insert(AdminAuthorized::AdminToken);
        req
    }

    fn delete(id: &str) -> Request {
        let mut req = admitted(get(&format!("/admin/keys/{id}")));
        *req.method_mut() = http::Method::DELETE;
        req.extensions_mut()
            .insert(PathParams(vec![("id".into(), id.into())]));
        req
    }

    fn body_json(res: &Response) -> Value {
        serde_json::from_slice(res.body()).expect("a JSON body")
    }

    fn create_ok(platform: &Platform, body: &[u8]) -> Value {
        let res = create(platform, admitted(post("/admin/keys", body))).expect("created");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        assert_eq!(res.headers()[CACHE_CONTROL], "no-store");
        body_json(&res)
    }

    fn create_err(platform: &Platform, body: &[u8]) -> Error {
        create(platform, admitted(post("/admin/keys", body))).expect_err("refused")
    }

    fn sign(alg: Algorithm, kid: &str, key: &EncodingKey) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        let claims = serde_json::json!({
            "x-fastly-read": ["a"], "x-fastly-write": ["a"], "exp": pubsub_core::test_util::NOW + 600,
        });
        encode(&header, &claims, key).expect("signed")
    }

    fn verify(platform: &Platform, token: &str) -> Result<Principal, Error> {
        tokens::verify(token, &*platform.kv, platform.env.now())
    }

    /// An ES256 key pair from a fixed scalar: (private PKCS#8 PEM, public SPKI PEM, JWK).
    fn es256_pair(seed: u8) -> (String, String, Value) {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).expect("scalar in range");
        let private = secret.to_pkcs8_pem(LineEnding::LF).expect("pkcs8");
        let public = secret.public_key();
        let point = public.to_encoded_point(false);
        let coordinate =
            |c: Option<&p256::FieldBytes>| URL_SAFE_NO_PAD.encode(c.expect("uncompressed point"));
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256",
            "x": coordinate(point.x()), "y": coordinate(point.y()),
        });
        let public_pem =
            p256::pkcs8::EncodePublicKey::to_public_key_pem(&public, LineEnding::LF).expect("spki");
        (private.to_string(), public_pem, jwk)
    }

    /// An Ed25519 key pair from a fixed seed: (private PKCS#8 PEM, public SPKI PEM, JWK).
    fn ed25519_pair(seed: u8) -> (String, String, Value) {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
        let private = signing.to_pkcs8_pem(LineEnding::LF).expect("pkcs8");
        let verifying = signing.verifying_key();
        let public = verifying.to_public_key_pem(LineEnding::LF).expect("spki");
        let jwk = serde_json::json!({
            "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(verifying.to_bytes()),
        });
        (private.to_string(), public, jwk)
    }

    #[test]
    fn an_empty_post_creates_an_hs256_key_whose_value_signs_tokens() {
        let (platform, _) = platform();
        let answer = create_ok(&platform, b"");
        let fields = answer.as_object().expect("an object");
        assert_eq!(fields.len(), 2, "exactly id and value: {answer}");
        let id = answer["id"].as_str().expect("id");
        let value = answer["value"].as_str().expect("value");
        assert!(keys::validate_id(id).is_ok() && id.len() == 12, "{id}");
        assert_eq!(URL_SAFE_NO_PAD.decode(value).map(|s| s.len()), Ok(32));

        let stored = platform
            .kv
            .lookup(keys::STORE, id)
            .expect("kv")
            .expect("stored");
        let record = KeyRecord::parse(&stored.value).expect("a usable record");
        assert_eq!(record.kind(), "hs256");
        assert_eq!(record.created, platform.env.now());

        let token = sign(
            Algorithm::HS256,
            id,
            &EncodingKey::from_secret(value.as_bytes()),
        );
        let principal = verify(&platform, &token).expect("a token signed with the value");
        assert_eq!(principal.read, ["a"]);
    }

    #[test]
    fn kind_hs256_and_a_blank_body_also_create_a_secret() {
        let (platform, _) = platform();
        for body in [
            &b"{\"kind\":\"hs256\"}"[..],
            b" \n",
            b"{\"kind\":\"HS256\"}",
        ] {
            let answer = create_ok(&platform, body);
            assert!(answer["value"].is_string(), "{answer}");
        }
    }

    #[test]
    fn a_taken_id_is_redrawn() {
        let (platform, _) = platform();
        // TestEnv's random source counts up: the secret takes bytes 0..32, the id 32..41.
        let first_id = URL_SAFE_NO_PAD.encode((32u8..41).collect::<Vec<_>>());
        platform
            .kv
            .insert(keys::STORE, &first_id, b"taken", InsertOptions::default())
            .expect("seed");
        let answer = create_ok(&platform, b"");
        assert_ne!(answer["id"], first_id.as_str());
        let kept = platform.kv.lookup(keys::STORE, &first_id).expect("kv");
        assert_eq!(kept.map(|i| i.value), Some(b"taken".to_vec()));
    }

    #[test]
    fn public_keys_verify_tokens_signed_with_their_private_keys() {
        let (es_private, es_pem, es_jwk) = es256_pair(7);
        let (ed_private, ed_pem, ed_jwk) = ed25519_pair(9);
        let es_key = EncodingKey::from_ec_pem(es_private.as_bytes()).expect("ec key");
        let ed_key = EncodingKey::from_ed_pem(ed_private.as_bytes()).expect("ed key");
        let (other_es, ..) = es256_pair(8);
        let (other_ed, ..) = ed25519_pair(10);
        let other_es = EncodingKey::from_ec_pem(other_es.as_bytes()).expect("ec key");
        let other_ed = EncodingKey::from_ed_pem(other_ed.as_bytes()).expect("ed key");
        let mut es_jwk_with_alg = es_jwk.clone();
        es_jwk_with_alg["alg"] = "ES256".into();
        es_jwk_with_alg["use"] = "sig".into();
        let cases = [
            (
                "ES256 PEM",
                serde_json::json!({"kind":"es256","public":es_pem}),
                "es256",
                Algorithm::ES256,
                &es_key,
                &other_es,
            ),
            (
                "ES256 JWK",
                es_jwk.clone(),
                "es256",
                Algorithm::ES256,
                &es_key,
                &other_es,
            ),
            (
                "ES256 JWK with alg and use",
                es_jwk_with_alg,
                "es256",
                Algorithm::ES256,
                &es_key,
                &other_es,
            ),
            (
                "ES256 JWK as public",
                serde_json::json!({"kind":"es256","public":es_jwk}),
                "es256",
                Algorithm::ES256,
                &es_key,
                &other_es,
            ),
            (
                "EdDSA PEM",
                serde_json::json!({"kind":"eddsa","public":ed_pem}),
                "eddsa",
                Algorithm::EdDSA,
                &ed_key,
                &other_ed,
            ),
            (
                "EdDSA JWK",
                ed_jwk,
                "eddsa",
                Algorithm::EdDSA,
                &ed_key,
                &other_ed,
            ),
        ];
        for (name, body, kind, alg, private, other) in cases {
            let (platform, _) = platform();
            let answer = create_ok(&platform, body.to_string().as_bytes());
            assert_eq!(answer["kind"], kind, "{name}");
            assert!(
                answer.get("value").is_none(),
                "{name}: no secret for a public key"
            );
            let id = answer["id"].as_str().expect("id");
            assert!(verify(&platform, &sign(alg, id, private)).is_ok(), "{name}");
            let forged = verify(&platform, &sign(alg, id, other)).expect_err(name);
            assert_eq!(forged.status(), 401, "{name}: {forged}");
        }
    }

    /// RFC 8725 section 2.1: the algorithm comes from the stored key, never the token,
    /// so an HMAC token "signed" with the public key itself cannot pass as ES256.
    #[test]
    fn the_algorithm_is_bound_to_the_key_not_taken_from_the_token() {
        let (platform, _) = platform();
        let (_, es_pem, _) = es256_pair(7);
        let (ed_private, ..) = ed25519_pair(9);
        let body = serde_json::json!({"kind":"es256","public":es_pem}).to_string();
        let id = create_ok(&platform, body.as_bytes())["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let cases = [
            (
                "HS256 keyed with the public PEM",
                sign(
                    Algorithm::HS256,
                    &id,
                    &EncodingKey::from_secret(es_pem.as_bytes()),
                ),
            ),
            (
                "EdDSA",
                sign(
                    Algorithm::EdDSA,
                    &id,
                    &EncodingKey::from_ed_pem(ed_private.as_bytes()).expect("ed key"),
                ),
            ),
        ];
        for (name, token) in cases {
            let err = verify(&platform, &token).expect_err(name);
            assert_eq!(err.status(), 401, "{name}");
            assert!(
                err.to_string().contains("only verifies ES256"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn unusable_registrations_are_400_with_a_reason() {
        let (es_private, es_pem, es_jwk) = es256_pair(7);
        let (_, ed_pem, _) = ed25519_pair(9);
        let with = |mut jwk: Value, field: &str, value: Value| {
            jwk[field] = value;
            jwk.to_string()
        };
        let off_curve = URL_SAFE_NO_PAD.encode([1u8; 32]);
        // A well-formed SubjectPublicKeyInfo whose Ed25519 key is one byte short: the
        // JWT library would panic slicing it, so it must be refused before use.
        let mut short_ed = vec![
            0x30, 0x29, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x20, 0x00,
        ];
        short_ed.extend([7u8; 31]);
        let short_ed = keys::pem("PUBLIC KEY", &short_ed);
        // Each refusal of `KeyMaterial::from_public_pem` / `from_public_jwk` is tested in
        // pubsub-core; here, that the body reaches them and their 400 comes back.
        let cases: Vec<(&str, String, &str)> = vec![
            ("not JSON", "{".into(), "JSON"),
            ("an array", "[]".into(), "JSON object"),
            ("no kind", "{}".into(), "kind"),
            (
                "unknown kind",
                r#"{"kind":"rs256","public":"x"}"#.into(),
                "unknown key kind",
            ),
            (
                "es256 without public",
                r#"{"kind":"es256"}"#.into(),
                "needs `public`",
            ),
            (
                "hs256 with a secret",
                r#"{"kind":"hs256","public":"s"}"#.into(),
                "generated",
            ),
            (
                "garbage PEM",
                r#"{"kind":"es256","public":"hello"}"#.into(),
                "public key rejected",
            ),
            (
                "a private key PEM",
                serde_json::json!({"kind":"es256","public":es_private}).to_string(),
                "private key",
            ),
            (
                "an Ed25519 PEM as es256",
                serde_json::json!({"kind":"es256","public":ed_pem}).to_string(),
                "public key rejected",
            ),
            (
                "a P-256 PEM as eddsa",
                serde_json::json!({"kind":"eddsa","public":es_pem}).to_string(),
                "public key rejected",
            ),
            (
                "a 31-byte Ed25519 PEM",
                serde_json::json!({"kind":"eddsa","public":short_ed}).to_string(),
                "31 bytes",
            ),
            (
                "a JWK with d",
                with(es_jwk.clone(), "d", "AAAA".into()),
                "private key",
            ),
            (
                "kind mismatch",
                serde_json::json!({"kind":"eddsa","public":es_jwk}).to_string(),
                "`kind` is eddsa",
            ),
            (
                "a point off the curve",
                serde_json::json!({"kty":"EC","crv":"P-256","x":off_curve,"y":off_curve})
                    .to_string(),
                "public key rejected",
            ),
        ];
        for (name, body, reason) in cases {
            let (platform, _) = platform();
            let err = create_err(&platform, body.as_bytes());
            assert_eq!(err.status(), 400, "{name}: {err}");
            assert!(err.to_string().contains(reason), "{name}: {err}");
            assert_eq!(
                platform.kv.list(keys::STORE).map(|k| k.len()),
                Ok(0),
                "{name}"
            );
        }
    }

    #[test]
    fn listing_shows_ids_kinds_and_creation_times_but_never_secrets() {
        let (platform, _) = platform();
        platform
            .kv
            .insert(
                keys::STORE,
                "legacy",
                b"bare-secret",
                InsertOptions::default(),
            )
            .expect("seed");
        let hs = create_ok(&platform, b"");
        let (_, es_pem, _) = es256_pair(7);
        let es = create_ok(
            &platform,
            serde_json::json!({"kind":"es256","public":es_pem})
                .to_string()
                .as_bytes(),
        );
        let res = list(&platform, admitted(get("/admin/keys"))).expect("listed");
        assert_eq!(res.headers()[CONTENT_TYPE], "application/json");
        let text = String::from_utf8_lossy(res.body()).into_owned();
        for secret in ["bare-secret", hs["value"].as_str().expect("value"), "BEGIN"] {
            assert!(!text.contains(secret), "{text}");
        }
        let now = platform.env.now();
        let hs_id = hs["id"].as_str().expect("id");
        let es_id = es["id"].as_str().expect("id");
        let (first_new, second_new) = if hs_id < es_id {
            (hs_id, es_id)
        } else {
            (es_id, hs_id)
        };
        let kind_of = |id: &str| if id == hs_id { "hs256" } else { "es256" };
        let want = serde_json::json!({"keys": [
            {"id": "legacy", "kind": "hs256", "created": 0},
            {"id": first_new, "kind": kind_of(first_new), "created": now},
            {"id": second_new, "kind": kind_of(second_new), "created": now},
        ]});
        assert_eq!(body_json(&res), want);
        assert!(
            text.starts_with(r#"{"keys":[{"id":"legacy","kind":"hs256","created":0}"#),
            "{text}"
        );
    }

    #[test]
    fn listing_shows_an_unusable_record_as_invalid_with_its_reason() {
        let (platform, _) = platform();
        let (_, es_pem, es_jwk) = es256_pair(7);
        let seeds: [(&str, String, &str); 5] = [
            (
                "upper",
                serde_json::json!({"kind":"ES256","public":es_pem,"created":5}).to_string(),
                "unknown variant",
            ),
            (
                "jwk",
                serde_json::json!({"kind":"es256","public":es_jwk}).to_string(),
                "expected a string",
            ),
            (
                "emptyjson",
                r#"{"kind":"hs256","secret":""}"#.into(),
                "empty",
            ),
            ("emptybare", String::new(), "empty"),
            (
                "badpem",
                r#"{"kind":"es256","public":"not a PEM"}"#.into(),
                "PEM",
            ),
        ];
        for (id, value, _) in &seeds {
            platform
                .kv
                .insert(keys::STORE, id, value.as_bytes(), InsertOptions::default())
                .expect("seed");
        }
        let res = list(&platform, admitted(get("/admin/keys"))).expect("listed");
        let listed = body_json(&res);
        let entries = listed["keys"].as_array().expect("keys");
        assert_eq!(entries.len(), seeds.len(), "{listed}");
        for (id, _, why) in seeds {
            let entry = entries
                .iter()
                .find(|e| e["id"] == id)
                .unwrap_or_else(|| panic!("{id} is listed: {listed}"));
            assert_eq!(entry["kind"], INVALID_KIND, "{id}: {entry}");
            let reason = entry["reason"].as_str().expect("a reason");
            assert!(reason.contains(why), "{id}: {reason}");
        }
    }

    #[test]
    fn a_revoked_key_no_longer_verifies_its_tokens() {
        let (platform, _) = platform();
        let answer = create_ok(&platform, b"");
        let id = answer["id"].as_str().expect("id");
        let secret = answer["value"].as_str().expect("value");
        let token = sign(
            Algorithm::HS256,
            id,
            &EncodingKey::from_secret(secret.as_bytes()),
        );
        assert!(verify(&platform, &token).is_ok());

        let res = revoke(&platform, delete(id)).expect("revoked");
        assert_eq!(res.status(), 204);
        assert!(res.body().is_empty());
        let err = verify(&platform, &token).expect_err("revoked key");
        assert_eq!(err, Error::UnknownKey(id.to_owned()));
        assert_eq!(err.status(), 401);

        let again = revoke(&platform, delete(id)).expect_err("already gone");
        assert_eq!(again.status(), 404);
    }

    #[test]
    fn revoking_ends_the_keys_connections_and_says_when_it_could_not() {
        let (platform, publisher) = platform();
        let id = create_ok(&platform, b"")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        revoke(&platform, delete(&id)).expect("revoked");
        let items = publisher.items();
        let channels: Vec<&str> = items[0]["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter_map(|i| i["channel"].as_str())
            .collect();
        assert_eq!(
            channels,
            [format!("k#{id}"), format!("k#{id}"), format!("k4#{id}")]
        );

        let other = create_ok(&platform, b"")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        *publisher.fail.lock().expect("lock") = Some("connection refused".into());
        let err = revoke(&platform, delete(&other)).expect_err("publish down");
        assert_eq!(err.status(), 502);
        assert!(err.to_string().contains("is deleted"), "{err}");
        let lookup = platform.kv.lookup(keys::STORE, &other).expect("kv");
        assert!(lookup.is_none(), "the key is deleted all the same");
    }

    #[test]
    fn revoking_checks_the_id() {
        let (platform, _) = platform();
        let cases = [
            ("nope", 404),
            ("a%20b", 400),
            ("a.b", 400),
            (&*"x".repeat(65), 400),
        ];
        for (id, status) in cases {
            let err = revoke(&platform, delete(id)).expect_err(id);
            assert_eq!(err.status(), status, "{id}");
        }
    }

    #[test]
    fn without_the_admin_marker_every_handler_refuses() {
        let (platform, _) = platform();
        let mut del = delete("k");
        del.extensions_mut().remove::<AdminAuthorized>();
        let results = [
            create(&platform, post("/admin/keys", b"")),
            list(&platform, get("/admin/keys")),
            revoke(&platform, del),
        ];
        for result in results {
            assert_eq!(result.expect_err("no marker"), Error::AdminUnauthorized);
        }
        assert_eq!(platform.kv.list(keys::STORE).map(|k| k.len()), Ok(0));
    }

    #[test]
    fn an_oversized_body_is_413_and_a_store_failure_503() {
        let (platform, _) = platform();
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(create_err(&platform, &big).status(), 413);

        let kv = Arc::new(MemoryKv::default());
        kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
        let down = Platform { kv, ..platform };
        assert_eq!(create_err(&down, b"").status(), 503);
        let listed = list(&down, admitted(get("/admin/keys"))).expect_err("store down");
        assert_eq!(listed.status(), 503);
    }
}
