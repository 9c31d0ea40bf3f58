//! Fuzz target for the admin create body end to end: `POST /admin/keys` through the whole
//! pipeline (`edge_pubsub::app` on the in-memory ports) with a valid `Fastly-Key` (the
//! Secret Store's `admin-token`) and a fuzzed body must never panic and never be
//! answered 500.
//!
//! The first byte picks the body's form: the bytes as they are, or a JSON object the
//! target writes around them (as a `kind`, a `public` PEM or a JWK's members), so both the
//! JSON layer and the key readers behind it are reached. A key that is created (200) must
//! then be listed by `GET /admin/keys` as usable (not `invalid`): what is stored is what
//! was checked.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::ports::memory::InMemory;
use serde_json::{json, Value};
use tower_service::Service;

const ADMIN_TOKEN: &str = "fuzz-admin-token";

fn send(ports: &InMemory, method: &str, body: Vec<u8>) -> http::Response<Vec<u8>> {
    let req = http::Request::builder()
        .method(method)
        .uri("/admin/keys")
        .header("fastly-key", ADMIN_TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .unwrap_or_default();
    let Ok(res) = edge_pubsub::app(ports.platform.clone())
        .call(req)
        .into_inner();
    res
}

/// The body the first byte asks for.
fn body(form: u8, rest: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(rest).into_owned();
    let (a, b) = text.split_once('\n').unwrap_or((&text, ""));
    let value = match form % 8 {
        0 => return rest.to_vec(),
        1 => json!({ "kind": a }),
        2 => json!({ "kind": "es256", "public": text }),
        3 => json!({ "kind": "eddsa", "public": text }),
        4 => json!({ "kty": "EC", "crv": "P-256", "x": a, "y": b }),
        5 => json!({ "kty": "OKP", "crv": a, "x": b }),
        6 => json!({ "kind": "hs256", "secret": text }),
        _ => serde_json::from_slice::<Value>(rest).unwrap_or(Value::Null),
    };
    value.to_string().into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&form, rest)) = data.split_first() else {
        return;
    };
    let ports = InMemory::with_secrets(&[("admin-token", ADMIN_TOKEN)]);
    let res = send(&ports, "POST", body(form, rest));
    let status = res.status().as_u16();
    assert_ne!(status, 500, "{}", String::from_utf8_lossy(res.body()));
    if status != 200 {
        return;
    }
    let list = send(&ports, "GET", Vec::new());
    let keys: Value = serde_json::from_slice(list.body()).expect("the listing is JSON");
    let listed = keys["keys"].as_array().map_or(0, Vec::len);
    assert_eq!(listed, 1, "{keys}");
    assert_ne!(
        keys["keys"][0]["kind"], "invalid",
        "stored an unusable key: {keys}"
    );
});
