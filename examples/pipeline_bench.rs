//! Per-request cost of the pipeline, natively, on in-memory ports:
//! `cargo run --release --example pipeline_bench`.
//!
//! Every Compute request is a fresh instance that builds the pipeline and serves one
//! request, so each iteration does exactly that. The figure is the app's own work (routing,
//! config, Grip-Sig and token verification, rendering), not the platform's I/O.

use std::time::Instant;

use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_core::ports::memory::InMemory;
use pubsub_core::ports::Environment;
use tower_service::Service;

fn main() {
    let ports =
        InMemory::with_secrets(&[("grip-sig-key", "grip")]).with_hs256_key("k", "bench-secret");
    let (platform, env) = (ports.platform, ports.env);
    let now = env.now();
    let header = Header {
        kid: Some("k".into()),
        ..Header::default()
    };
    let claims =
        serde_json::json!({"x-fastly-read":["t"],"x-fastly-write":["t"],"exp": now + 3600});
    let token = encode(&header, &claims, &EncodingKey::from_secret(b"bench-secret")).expect("jwt");
    let grip = encode(
        &Header::default(),
        &serde_json::json!({"iss":"pushpin","exp": now + 60}),
        &EncodingKey::from_secret(b"grip"),
    )
    .expect("jwt");

    type MakeRequest<'a> = Box<dyn Fn() -> http::Request<Vec<u8>> + 'a>;
    let cases: [(&str, MakeRequest<'_>); 3] = [
        (
            "subscribe, first pass (handoff)",
            Box::new(|| {
                http::Request::get("/events?topic=t")
                    .body(Vec::new())
                    .expect("req")
            }),
        ),
        (
            "subscribe, signed pass (Grip-Sig + token + hold)",
            Box::new(|| {
                http::Request::get(format!("/events?topic=t&auth={token}"))
                    .header("grip-sig", &grip)
                    .body(Vec::new())
                    .expect("req")
            }),
        ),
        (
            "publish 1 KB",
            Box::new(|| {
                http::Request::post("/events?topic=t")
                    .header("authorization", format!("Bearer {token}"))
                    .body(vec![b'x'; 1024])
                    .expect("req")
            }),
        ),
    ];
    let n = 20_000u32;
    for (name, make) in &cases {
        let start = Instant::now();
        for _ in 0..n {
            let Ok(res) = edge_pubsub::app(platform.clone()).call(make()).into_inner();
            assert!(res.status().as_u16() < 300, "{name}: {}", res.status());
        }
        let per = start.elapsed() / n;
        println!("{name:<50} {:>8.1} µs/request", per.as_secs_f64() * 1e6);
    }
}
