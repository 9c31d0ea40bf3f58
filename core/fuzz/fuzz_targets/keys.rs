//! Fuzz target for signing keys: `KeyRecord::parse` (a stored value), the PEM and DER
//! reader behind `verifying_key`/`check`, `KeyMaterial::from_public_pem` and
//! `KeyMaterial::from_public_jwk` must never panic. A parsed record serialises back to a
//! value that parses to the same record, and a JWK that converts becomes a PEM the reader
//! accepts (only the point or key itself may still be refused).
//!
//! The first byte picks what the rest is: 0 a stored value, 1 a PEM, 2 DER bytes wrapped
//! in PEM armour, 3 a JWK as JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::keys::{pem, KeyMaterial, KeyRecord, PublicKind};

fn usable(material: KeyMaterial) -> Result<(), String> {
    let record = KeyRecord {
        material,
        created: 0,
    };
    let checked = record.check();
    assert_eq!(checked, record.verifying_key().map(|_| ()));
    if let Err(why) = &checked {
        assert!(!why.is_empty());
    }
    checked
}

fn stored(value: &[u8]) {
    let Ok(record) = KeyRecord::parse(value) else {
        return;
    };
    let json = serde_json::to_vec(&record).expect("a record serialises");
    assert_eq!(KeyRecord::parse(&json).as_ref(), Ok(&record), "round trip");
    let _ = (record.algorithm(), record.kind());
    let _ = usable(record.material);
}

fn public_pem(text: &str) {
    for kind in [PublicKind::Es256, PublicKind::Eddsa] {
        match KeyMaterial::from_public_pem(kind, text) {
            Ok(material) => {
                let _ = usable(material);
            }
            Err(err) => assert_eq!(err.status(), 400),
        }
    }
}

fn jwk(value: &serde_json::Value) {
    for kind in [None, Some(PublicKind::Es256), Some(PublicKind::Eddsa)] {
        match KeyMaterial::from_public_jwk(value, kind) {
            Ok(material) => {
                if let Err(why) = usable(material) {
                    assert!(
                        why.contains("not a point") || why.contains("not a valid Ed25519"),
                        "a converted JWK has a malformed PEM: {why}"
                    );
                }
            }
            Err(err) => assert_eq!(err.status(), 400),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 4 {
        0 => stored(rest),
        1 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                public_pem(text);
            }
        }
        2 => public_pem(&pem("PUBLIC KEY", rest)),
        _ => {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(rest) {
                jwk(&value);
            }
        }
    }
});
