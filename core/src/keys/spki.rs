//! Reading a PEM `PUBLIC KEY` (a DER SubjectPublicKeyInfo, RFC 5280 §4.1.2.7) down to the
//! raw public key that verifies signatures: an SEC1 point for P-256 (RFC 5480), the
//! 32 bytes of an Ed25519 key (RFC 8410).
//!
//! Only the structure those two kinds use is read: a SEQUENCE of the algorithm
//! identifier (an OID, then an optional parameter) and a BIT STRING with no unused bits.
//! Every length is checked against the bytes that are there; anything else is refused
//! with a reason.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// id-ecPublicKey (1.2.840.10045.2.1), DER-encoded OID contents.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// prime256v1 / P-256 (1.2.840.10045.3.1.7).
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// id-Ed25519 (1.3.101.112).
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const BIT_STRING: u8 = 0x03;

/// The kind of key a SubjectPublicKeyInfo holds, as far as this module knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// ECDSA on P-256: the key is an SEC1 point.
    P256,
    /// Ed25519: the key is 32 bytes.
    Ed25519,
}

/// The algorithm and raw public key of the PEM `PUBLIC KEY` in `pem`.
pub(crate) fn public_key(pem: &str) -> Result<(Algorithm, Vec<u8>), String> {
    let der = pem_body(pem)?;
    let (algorithm, key) = parse(&der)?;
    Ok((algorithm, key.to_vec()))
}

/// The DER bytes between `-----BEGIN PUBLIC KEY-----` and `-----END PUBLIC KEY-----`.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    const BEGIN: &str = "-----BEGIN PUBLIC KEY-----";
    const END: &str = "-----END PUBLIC KEY-----";
    let start = pem
        .find(BEGIN)
        .ok_or("not a PEM public key (no BEGIN PUBLIC KEY line)")?
        + BEGIN.len();
    let len = pem[start..]
        .find(END)
        .ok_or("not a PEM public key (no END PUBLIC KEY line)")?;
    let b64: String = pem[start..start + len]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(b64)
        .map_err(|e| format!("the PEM body is not base64: {e}"))
}

fn parse(der: &[u8]) -> Result<(Algorithm, &[u8]), String> {
    let (spki, rest) = tlv(der, SEQUENCE)?;
    if !rest.is_empty() {
        return Err("bytes after the SubjectPublicKeyInfo".into());
    }
    let (algorithm_id, rest) = tlv(spki, SEQUENCE)?;
    let (bits, rest) = tlv(rest, BIT_STRING)?;
    if !rest.is_empty() {
        return Err("bytes after the public key".into());
    }
    let (oid, params) = tlv(algorithm_id, OID)?;
    let algorithm = match oid {
        EC_PUBLIC_KEY => match tlv(params, OID)? {
            (P256, []) => Algorithm::P256,
            _ => return Err("an EC key on a curve other than P-256".into()),
        },
        ED25519 if params.is_empty() => Algorithm::Ed25519,
        _ => return Err("neither a P-256 nor an Ed25519 public key".into()),
    };
    match bits {
        [0, key @ ..] => Ok((algorithm, key)),
        _ => Err("the public key BIT STRING has unused bits".into()),
    }
}

/// The contents of the DER element at the start of `input`, which must have tag `tag`,
/// and the bytes after it.
fn tlv(input: &[u8], tag: u8) -> Result<(&[u8], &[u8]), String> {
    let [found, first, rest @ ..] = input else {
        return Err("truncated DER".into());
    };
    if *found != tag {
        return Err(format!("DER tag {found:#04x} where {tag:#04x} belongs"));
    }
    let (len, rest) = match *first {
        n @ 0..=0x7f => (usize::from(n), rest),
        0x81 => match rest {
            [n, rest @ ..] => (usize::from(*n), rest),
            [] => return Err("truncated DER".into()),
        },
        0x82 => match rest {
            [hi, lo, rest @ ..] => (usize::from(*hi) << 8 | usize::from(*lo), rest),
            _ => return Err("truncated DER".into()),
        },
        _ => return Err("DER length too long for a public key".into()),
    };
    if rest.len() < len {
        return Err("truncated DER".into());
    }
    Ok(rest.split_at(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 public key as `openssl ec -pubout` writes it.
    const P256_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9
q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==
-----END PUBLIC KEY-----
";
    /// The Ed25519 public key of RFC 8410 §10.1.
    const ED25519_PEM: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

    #[test]
    fn p256_and_ed25519_keys_are_read_to_their_raw_bytes() {
        let (alg, point) = public_key(P256_PEM).expect("p256");
        assert_eq!(alg, Algorithm::P256);
        assert_eq!((point.len(), point[0]), (65, 0x04));
        let (alg, key) = public_key(&ED25519_PEM.replace('\n', "\r\n")).expect("ed25519");
        assert_eq!(alg, Algorithm::Ed25519);
        assert_eq!(key[..4], [0x19, 0xbf, 0x44, 0x09]);
    }

    #[test]
    fn malformed_keys_are_refused_with_a_reason() {
        let der = pem_body(P256_PEM).expect("der");
        let mut other_curve = der.clone();
        other_curve[22] = 0x08;
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (der[..der.len() - 1].to_vec(), "truncated"),
            ([der.as_slice(), &[0]].concat(), "bytes after"),
            (other_curve, "other than P-256"),
            (vec![0x31, 0x00], "tag"),
        ];
        for (der, needle) in cases {
            let err = parse(&der).expect_err(needle);
            assert!(err.contains(needle), "{needle}: {err}");
        }
        for pem in [
            "",
            "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----",
        ] {
            assert!(public_key(pem).is_err(), "{pem:?}");
        }
    }
}
