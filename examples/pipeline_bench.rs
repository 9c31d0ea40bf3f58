//! Per-request cost of the pipeline, natively, on in-memory ports:
//! `cargo run --release --example pipeline_bench`.
//!
//! Every Compute request builds the pipeline and serves one request through it (even when
//! an instance serves several in turn), so each iteration does exactly that. The figure is the app's own work (routing,
//! config, Grip-Sig and token verification, rendering), not the platform's I/O. Each case
//! runs with the default settings, then with every rate limit class on (limits no request
//! reaches; the in-memory counter stands in for Edge Rate Limiting), then with the request
//! log on (every request, to an in-memory log).

use std::time::Instant;

use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_core::ports::memory::{InMemory, MemoryMap};
use pubsub_core::ports::{Environment, Platform};
use tower_service::Service;

fn main() {
    let ports = InMemory::with_secrets(&[("grip-sig-key", "grip"), ("grant-key", "bench-grant")])
        .with_hs256_key("k", "bench-secret");
    let (platform, env, config) = (ports.platform, ports.env, ports.config);
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
    let best = measure(&platform, &config, &cases);
    for (c, (name, _)) in cases.iter().enumerate() {
        let figures: Vec<String> = (0..SETTINGS.len())
            .map(|s| format!("{:>6.1}", best[s * cases.len() + c]))
            .collect();
        println!("{name:<50} {} µs/request", figures.join(" "));
    }
    let names: Vec<&str> = SETTINGS.iter().map(|(n, _)| *n).collect();
    println!(
        "(columns: {}; fastest of {ROUNDS} rounds of {PER_ROUND})",
        names.join(", ")
    );
}

type MakeRequest<'a> = Box<dyn Fn() -> http::Request<Vec<u8>> + 'a>;

/// The settings each case runs with: name and Config Store entries.
const SETTINGS: [(&str, &[(&str, &str)]); 3] = [
    ("default settings", &[]),
    ("rate-limits on", &[("rate-limits", LIMITS)]),
    ("request-log on", &[("request-log", "bench")]),
];

/// The fastest round's µs per request of each (setting, case), setting-major. Rounds
/// interleave the settings, so that a busy moment of the machine hits all alike.
fn measure(platform: &Platform, config: &MemoryMap, cases: &[(&str, MakeRequest<'_>)]) -> Vec<f64> {
    let mut best = vec![f64::MAX; SETTINGS.len() * cases.len()];
    for _round in 0..ROUNDS {
        for (s, (_, entries)) in SETTINGS.iter().enumerate() {
            configure(config, entries);
            for (c, (name, make)) in cases.iter().enumerate() {
                let start = Instant::now();
                for _ in 0..PER_ROUND {
                    let Ok(res) = edge_pubsub::app(platform.clone()).call(make()).into_inner();
                    assert!(res.status().as_u16() < 300, "{name}: {}", res.status());
                }
                let micros = start.elapsed().as_secs_f64() * 1e6 / f64::from(PER_ROUND);
                let slot = &mut best[s * cases.len() + c];
                *slot = slot.min(micros);
            }
        }
    }
    best
}

const ROUNDS: usize = 40;
const PER_ROUND: u32 = 500;

fn configure(config: &MemoryMap, entries: &[(&str, &str)]) {
    if let Ok(mut map) = config.0.lock() {
        map.clear();
        map.extend(
            entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
    }
}

/// Every class limited, far above what the bench sends.
const LIMITS: &str = "publish 1000000/s; subscribe 1000000/s; admin 1000000/s; \
                      mqtt-publish 1000000/s";
