//! Our JWT verifier (`pubsub_core::tokens`) against `jsonwebtoken` on the minimised inputs
//! of the differential fuzz target (`core/fuzz` `jwt_diff`), deterministic and fast: for
//! each token the answer each verifier must give, under the same key (found by `kid`) and
//! the broker's rules (the key's one algorithm, 60 s of leeway, `exp` required, no
//! audience). Where the two differ the row names the rule by which ours is right; every
//! other row is a class of input on which they must keep agreeing.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use pubsub_core::claims::fastly::Claims;
use pubsub_core::ports::memory::MemoryKv;
use pubsub_core::ports::KvStore as _;

const SECRET: &str = "differential-secret";
const ES_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgQpQDNwd3aF8Oh22e
WP300Atcoh2Lx+XRknpIy3cE4lehRANCAAQrq3YW3h1nrjmicleUi88vPoYDTWoq
9Yr0bjwKerKpwsx4+fZtwmm5DWoMz2dVa0JGR0QqTRzvEjX6luJHxSow
-----END PRIVATE KEY-----
";
const ES_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEK6t2Ft4dZ645onJXlIvPLz6GA01q
KvWK9G48CnqyqcLMePn2bcJpuQ1qDM9nVWtCRkdEKk0c7xI1+pbiR8UqMA==
-----END PUBLIC KEY-----
";
const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEILTQTFwh7sgWNJ6lVIXYibR89OxBl9aJC+i3hbrq5QaQ
-----END PRIVATE KEY-----
";
const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA6OCzczEca+DtytoISaGGyCovjvGd95k8wor35YAfPgQ=
-----END PUBLIC KEY-----
";
/// The order of P-256, big-endian.
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc, 0xe6,
    0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// The key ids of the three stored keys and their algorithms.
const KEYS: [(&str, Algorithm); 3] = [
    ("hs", Algorithm::HS256),
    ("es", Algorithm::ES256),
    ("ed", Algorithm::EdDSA),
];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn kv() -> MemoryKv {
    let kv = MemoryKv::default();
    let records = [
        ("hs", serde_json::json!({"kind": "hs256", "secret": SECRET})),
        (
            "es",
            serde_json::json!({"kind": "es256", "public": ES_PUBLIC}),
        ),
        (
            "ed",
            serde_json::json!({"kind": "eddsa", "public": ED_PUBLIC}),
        ),
    ];
    for (kid, record) in records {
        let value = record.to_string();
        kv.insert("keys", kid, value.as_bytes(), Default::default())
            .expect("memory KV");
    }
    kv
}

fn ours(kv: &MemoryKv, token: &str, now: u64) -> bool {
    pubsub_core::tokens::verify(token, kv, now).is_ok()
}

/// `jsonwebtoken` configured with the broker's rules (it reads the clock itself).
fn theirs(token: &str) -> bool {
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return false;
    };
    let Some(&(_, alg)) = KEYS
        .iter()
        .find(|(id, _)| header.kid.as_deref() == Some(*id))
    else {
        return false;
    };
    let key = match alg {
        Algorithm::HS256 => DecodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::ES256 => DecodingKey::from_ec_pem(ES_PUBLIC.as_bytes()).expect("EC key"),
        _ => DecodingKey::from_ed_pem(ED_PUBLIC.as_bytes()).expect("Ed key"),
    };
    let mut validation = Validation::new(alg);
    validation.leeway = pubsub_core::principal::LEEWAY_SECS;
    validation.validate_nbf = true;
    validation.validate_aud = false;
    validation.required_spec_claims = HashSet::from(["exp".to_owned()]);
    jsonwebtoken::decode::<Claims>(token, &key, &validation).is_ok()
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// `header.payload` as given (JSON text, unchanged) and its raw signature under `alg`.
fn signed(alg: Algorithm, header: &str, payload: &str) -> (String, Vec<u8>) {
    let input = format!("{}.{}", b64(header), b64(payload));
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::ES256 => EncodingKey::from_ec_pem(ES_PRIVATE.as_bytes()).expect("EC key"),
        _ => EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).expect("Ed key"),
    };
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, alg).expect("signed");
    (input, URL_SAFE_NO_PAD.decode(sig).expect("base64url"))
}

fn token(alg: Algorithm, header: &str, payload: &str) -> String {
    let (input, sig) = signed(alg, header, payload);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// `n - s` of an ECDSA `r || s`: the other valid signature of the same message.
fn high_s(mut sig: Vec<u8>) -> Vec<u8> {
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(sig[32 + i]) - borrow;
        borrow = i16::from(d < 0);
        sig[32 + i] = d.rem_euclid(256) as u8;
    }
    sig
}

/// An ECDSA `r || s` as ASN.1 DER (a `SEQUENCE` of two `INTEGER`s).
fn der(sig: &[u8]) -> Vec<u8> {
    let int = |n: &[u8]| {
        let n = &n[n.iter().take_while(|&&b| b == 0).count()..];
        let pad = n[0] >= 0x80;
        let mut v = vec![2, (n.len() + usize::from(pad)) as u8];
        v.extend(pad.then_some(0));
        v.extend_from_slice(n);
        v
    };
    let body = [int(&sig[..32]), int(&sig[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

/// A row: what the token is, the token, and (ours, jsonwebtoken's) answers.
type Row = (&'static str, String, (bool, bool));

fn rows(now: u64) -> Vec<Row> {
    let hs = r#"{"alg":"HS256","kid":"hs"}"#;
    let es = r#"{"alg":"ES256","kid":"es"}"#;
    let exp = format!(r#"{{"exp":{}}}"#, now + 3600);
    let with = |member: &str| format!(r#"{{"exp":{},{member}}}"#, now + 3600);
    let es_sig = signed(Algorithm::ES256, es, &exp);
    let es_with = |sig: Vec<u8>| format!("{}.{}", es_sig.0, URL_SAFE_NO_PAD.encode(sig));
    let hs_token = token(Algorithm::HS256, hs, &exp);
    let pem_mac = {
        let header = r#"{"alg":"HS256","kid":"es"}"#;
        let input = format!("{}.{}", b64(header), b64(&exp));
        let key = EncodingKey::from_secret(ES_PUBLIC.as_bytes());
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, Algorithm::HS256);
        format!("{input}.{}", sig.expect("signed"))
    };
    let both = (true, true);
    let neither = (false, false);
    vec![
        ("HS256", hs_token.clone(), both),
        ("ES256", token(Algorithm::ES256, es, &exp), both),
        (
            "EdDSA",
            token(Algorithm::EdDSA, r#"{"alg":"EdDSA","kid":"ed"}"#, &exp),
            both,
        ),
        (
            "alg none",
            format!("{}.{}.", b64(r#"{"alg":"none","kid":"hs"}"#), b64(&exp)),
            neither,
        ),
        ("HS256 keyed with the ES256 key's PEM", pem_mac, neither),
        (
            "HS256 token under the EdDSA key id",
            token(Algorithm::HS256, r#"{"alg":"HS256","kid":"ed"}"#, &exp),
            neither,
        ),
        (
            "no kid",
            token(Algorithm::HS256, r#"{"alg":"HS256"}"#, &exp),
            neither,
        ),
        // RFC 7515 §4.1.11: we understand no extension, so any `crit` is refused;
        // jsonwebtoken ignores `crit` (the finding fixed in core/src/jwt.rs).
        (
            "crit",
            token(
                Algorithm::HS256,
                r#"{"alg":"HS256","kid":"hs","crit":["exp"]}"#,
                &exp,
            ),
            (false, true),
        ),
        // (jsonwebtoken refuses this one too, but only because `b64` is not a string.)
        (
            "crit with b64 false",
            token(
                Algorithm::HS256,
                r#"{"alg":"HS256","kid":"hs","crit":["b64"],"b64":false}"#,
                &exp,
            ),
            neither,
        ),
        // RFC 7515 §4: header members the recipient does not use are ignored; jsonwebtoken
        // types them and refuses the header.
        (
            "a malformed jwk",
            token(
                Algorithm::HS256,
                r#"{"alg":"HS256","kid":"hs","jwk":{"kty":"oct"}}"#,
                &exp,
            ),
            (true, false),
        ),
        (
            "a numeric typ",
            token(
                Algorithm::HS256,
                r#"{"alg":"HS256","kid":"hs","typ":7}"#,
                &exp,
            ),
            (true, false),
        ),
        (
            "an attacker's jku",
            token(
                Algorithm::HS256,
                r#"{"alg":"HS256","kid":"hs","jku":"https://attacker.example/k"}"#,
                &exp,
            ),
            both,
        ),
        // serde reads `null` as absent: no bound; jsonwebtoken refuses a null NumericDate.
        (
            "nbf null",
            token(Algorithm::HS256, hs, &with(r#""nbf":null"#)),
            (true, false),
        ),
        (
            "exp null",
            token(Algorithm::HS256, hs, r#"{"exp":null}"#),
            neither,
        ),
        // RFC 7519 §4: duplicate claims may be refused or the last taken; we never read
        // `aud`, jsonwebtoken refuses its duplicate.
        (
            "duplicate aud",
            token(Algorithm::HS256, hs, &with(r#""aud":"a","aud":"b""#)),
            (true, false),
        ),
        (
            "duplicate exp",
            token(Algorithm::HS256, hs, &with(r#""exp":1"#)),
            neither,
        ),
        (
            "exp as a float",
            token(
                Algorithm::HS256,
                hs,
                &format!(r#"{{"exp":{}.0}}"#, now + 3600),
            ),
            neither,
        ),
        (
            "exp as a string",
            token(
                Algorithm::HS256,
                hs,
                &format!(r#"{{"exp":"{}"}}"#, now + 3600),
            ),
            neither,
        ),
        (
            "exp at the leeway",
            token(Algorithm::HS256, hs, &format!(r#"{{"exp":{}}}"#, now - 60)),
            both,
        ),
        (
            "exp past the leeway",
            token(Algorithm::HS256, hs, &format!(r#"{{"exp":{}}}"#, now - 61)),
            neither,
        ),
        (
            "nbf at the leeway",
            token(
                Algorithm::HS256,
                hs,
                &with(&format!(r#""nbf":{}"#, now + 60)),
            ),
            both,
        ),
        (
            "nbf past the leeway",
            token(
                Algorithm::HS256,
                hs,
                &with(&format!(r#""nbf":{}"#, now + 61)),
            ),
            neither,
        ),
        // RFC 7518 §3.4 does not ask for low S, and both use the p256 crate's verifier.
        ("ES256 high-S", es_with(high_s(es_sig.1.clone())), both),
        ("ES256 DER-encoded", es_with(der(&es_sig.1)), neither),
        ("ES256 63 bytes", es_with(es_sig.1[..63].to_vec()), neither),
        ("signature padded", format!("{}=", hs_token), neither),
        (
            "signature in standard base64",
            format!("{}.{}", es_sig.0, STANDARD.encode(&es_sig.1)),
            neither,
        ),
        ("trailing whitespace", format!("{hs_token} "), neither),
        (
            "a newline inside",
            hs_token.replacen('.', ".\n", 1),
            neither,
        ),
        ("four parts", format!("{hs_token}.x"), neither),
    ]
}

#[test]
fn our_verifier_and_jsonwebtoken_agree_except_where_a_rule_says_otherwise() {
    let kv = kv();
    let mut tries = 0;
    let failures = loop {
        let now = now();
        let answers: Vec<_> = rows(now)
            .into_iter()
            .map(|(name, token, want)| (name, (ours(&kv, &token, now), theirs(&token)), want))
            .collect();
        tries += 1;
        // The leeway rows sit on a second; redo them if the clock turned meanwhile.
        if now == self::now() || tries == 3 {
            break answers
                .into_iter()
                .filter(|(_, got, want)| got != want)
                .map(|(name, got, want)| format!("{name}: (ours, theirs) {got:?}, want {want:?}"))
                .collect::<Vec<_>>();
        }
    };
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The Ed25519 signature with `S + L` (the same scalar, not reduced) is refused by both:
/// RFC 8032 §5.1.7 requires `S < L`.
#[test]
fn an_unreduced_ed25519_scalar_is_refused_by_both() {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let now = now();
    let (input, mut sig) = signed(
        Algorithm::EdDSA,
        r#"{"alg":"EdDSA","kid":"ed"}"#,
        &format!(r#"{{"exp":{}}}"#, now + 3600),
    );
    let mut carry = 0u16;
    for (b, l) in sig[32..].iter_mut().zip(L) {
        let sum = u16::from(*b) + u16::from(l) + carry;
        *b = sum as u8;
        carry = sum >> 8;
    }
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!((ours(&kv(), &token, now), theirs(&token)), (false, false));
}
