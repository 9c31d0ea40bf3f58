//! The fixed test keys of the `jwt_diff` target, one per algorithm the broker binds a key
//! to (HS256, ES256, EdDSA), as both verifiers see them: our key records in KV store
//! `keys` (the broker's own parsing, PEM included) and `jsonwebtoken`'s `DecodingKey`s
//! built from the same public values. Also the signing helpers the generator uses,
//! including the non-canonical forms of a signature (high-S, DER, S + L).

use std::sync::OnceLock;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey};
use p256::ecdsa::signature::Signer as _;
use sha2::Sha256;

/// The shared secret of the HS256 key.
pub const SECRET: &[u8] = b"differential-fuzz-secret";

/// A key a token header may carry, which we never use (RFC 8725 §3.10 says not to).
pub const ATTACKER_JWK: &str = r#"{"kty":"oct","k":"YXR0YWNrZXI"}"#;

/// Which fixed key (and key id) a token is meant for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kid {
    Hs,
    Es,
    Ed,
}

impl Kid {
    pub const ALL: [Kid; 3] = [Kid::Hs, Kid::Es, Kid::Ed];

    pub fn id(self) -> &'static str {
        match self {
            Kid::Hs => "hs",
            Kid::Es => "es",
            Kid::Ed => "ed",
        }
    }

    pub fn of(id: &str) -> Option<Kid> {
        Kid::ALL.into_iter().find(|k| k.id() == id)
    }

    pub fn alg(self) -> &'static str {
        match self {
            Kid::Hs => "HS256",
            Kid::Es => "ES256",
            Kid::Ed => "EdDSA",
        }
    }

    pub fn algorithm(self) -> Algorithm {
        match self {
            Kid::Hs => Algorithm::HS256,
            Kid::Es => Algorithm::ES256,
            Kid::Ed => Algorithm::EdDSA,
        }
    }
}

struct Keys {
    es: p256::ecdsa::SigningKey,
    ed: ed25519_dalek::SigningKey,
    es_pem: String,
    ed_pem: String,
    decoding: [DecodingKey; 3],
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let es = p256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a scalar");
        let ed = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let point = es.verifying_key().to_encoded_point(false);
        let (x, y) = (point.x().expect("x"), point.y().expect("y"));
        let ed_public = ed.verifying_key().to_bytes();
        let es_der = [
            &hex("3059301306072a8648ce3d020106082a8648ce3d030107034200"),
            point.as_bytes(),
        ]
        .concat();
        let ed_der = [&hex("302a300506032b6570032100")[..], &ed_public].concat();
        let decoding = [
            DecodingKey::from_secret(SECRET),
            DecodingKey::from_ec_components(&URL_SAFE_NO_PAD.encode(x), &URL_SAFE_NO_PAD.encode(y))
                .expect("EC components"),
            DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(ed_public)).expect("Ed key"),
        ];
        Keys {
            es_pem: pem(&es_der),
            ed_pem: pem(&ed_der),
            es,
            ed,
            decoding,
        }
    })
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn pem(der: &[u8]) -> String {
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        STANDARD.encode(der)
    )
}

/// The JSON record KV store `keys` holds for `kid`.
pub fn record(kid: Kid) -> String {
    let k = keys();
    let secret = String::from_utf8_lossy(SECRET);
    match kid {
        Kid::Hs => serde_json::json!({"kind": "hs256", "secret": secret}),
        Kid::Es => serde_json::json!({"kind": "es256", "public": k.es_pem}),
        Kid::Ed => serde_json::json!({"kind": "eddsa", "public": k.ed_pem}),
    }
    .to_string()
}

/// `jsonwebtoken`'s key for `kid`.
pub fn decoding(kid: Kid) -> &'static DecodingKey {
    &keys().decoding[kid as usize]
}

/// The bytes an attacker might HMAC with: the secret, or the public key's PEM text.
pub fn public_bytes(kid: Kid) -> &'static [u8] {
    let k = keys();
    match kid {
        Kid::Hs => SECRET,
        Kid::Es => k.es_pem.as_bytes(),
        Kid::Ed => k.ed_pem.as_bytes(),
    }
}

pub fn hs256(secret: &[u8], input: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// `input` signed by `kid`'s key with its own algorithm.
pub fn sign(kid: Kid, input: &[u8]) -> Vec<u8> {
    match kid {
        Kid::Hs => hs256(SECRET, input),
        Kid::Es => {
            let sig: p256::ecdsa::Signature = keys().es.sign(input);
            sig.to_bytes().to_vec()
        }
        Kid::Ed => {
            use ed25519_dalek::Signer as _;
            keys().ed.sign(input).to_bytes().to_vec()
        }
    }
}

/// The malleated twin of a signature: ECDSA `(r, n - s)`, Ed25519 `S + L` (not reduced).
pub fn high_s(kid: Kid, sig: Vec<u8>) -> Vec<u8> {
    match kid {
        Kid::Hs => sig,
        Kid::Es => match p256::ecdsa::Signature::from_slice(&sig) {
            Ok(s) => {
                let (r, s) = s.split_scalars();
                let neg = -*s.as_ref();
                [r.to_bytes().to_vec(), neg.to_bytes().to_vec()].concat()
            }
            Err(_) => sig,
        },
        Kid::Ed => {
            // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
            const L: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
                0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            let mut out = sig;
            let mut carry = 0u16;
            for (b, l) in out.iter_mut().skip(32).zip(L) {
                let sum = u16::from(*b) + u16::from(l) + carry;
                *b = sum as u8;
                carry = sum >> 8;
            }
            out
        }
    }
}

/// An ECDSA `r || s` signature in ASN.1 DER instead (RFC 7518 §3.4 forbids it).
pub fn der(kid: Kid, sig: Vec<u8>) -> Vec<u8> {
    if kid != Kid::Es || sig.len() != 64 {
        return sig;
    }
    let int = |n: &[u8]| {
        let n = &n[n.iter().take_while(|&&b| b == 0).count().min(31)..];
        let pad = n[0] >= 0x80;
        let mut v = vec![2, (n.len() + usize::from(pad)) as u8];
        if pad {
            v.push(0);
        }
        v.extend_from_slice(n);
        v
    };
    let body = [int(&sig[..32]), int(&sig[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}
