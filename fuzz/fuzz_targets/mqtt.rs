//! Fuzz target for the MQTT connection through the whole pipeline (`edge_pubsub::app` on
//! the in-memory ports, Grip-Sig signed as Fanout signs): fuzzed `Meta-*` headers plus
//! packet streams, over two requests of one connection, must never panic and never be
//! answered 500.
//!
//! This drives the protocol core, its session decoding and diffing, the driver's effects
//! (publishes, retained reads, subscriptions) and every layer in front, with no new API.
//! The input chooses: the `Meta-*` headers of the first request (a schema name or one of
//! its own; `$TOKEN` in a value is replaced by the token), which token the bearer holds
//! (valid, expiring within the leeway, signed with the wrong secret, garbage), whether
//! an OPEN event and a well-formed CONNECT (3.1.1 or 5) come first, the packet bytes of
//! each request (one BINARY event per chunk, or all in one), a CLOSE, and how far the
//! clock moves before the second request, which carries the first answer's `Set-Meta-*`.

#![no_main]

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

use libfuzzer_sys::{arbitrary, fuzz_target};
use pubsub_codec::mqtt::{Connect, Packet, ProtocolVersion};
use pubsub_codec::wsevents;
use pubsub_core::mqtt_session::Field;
use pubsub_core::ports::memory::InMemory;
use pubsub_core::test_util::{grip_sig, mint_with};
use tower_service::Service;

const KID: &str = "k1";
const SECRET: &str = "fuzz-secret";
const GRIP_KEY: &str = "fuzz-grip-key";
const NOW: u64 = 1_800_000_000;

#[derive(arbitrary::Arbitrary, Debug)]
struct Input {
    flags: u8,
    token: u8,
    clock: u8,
    meta: Vec<(u8, String)>,
    first: Vec<Vec<u8>>,
    second: Vec<Vec<u8>>,
}

struct Fixed {
    tokens: [String; 4],
    grip: String,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let claims = |exp: u64| {
            serde_json::json!({
                "x-fastly-read": ["t", "a/+", "#", "$SYS/x"],
                "x-fastly-write": ["t", "a/b", "w/#"],
                "exp": exp,
            })
        };
        Fixed {
            tokens: [
                mint_with("HS256", KID, SECRET, &claims(NOW + 3600)),
                mint_with("HS256", KID, SECRET, &claims(NOW - 30)),
                mint_with("HS256", KID, "wrong", &claims(NOW + 3600)),
                "not.a.token".to_owned(),
            ],
            grip: grip_sig(GRIP_KEY, "pushpin", NOW + 3600),
        }
    })
}

fn connect(version: ProtocolVersion, token: &str) -> Vec<u8> {
    let mut connect = Connect::new(version, "fuzz");
    connect.keep_alive = 60;
    connect.password = Some(token.as_bytes().to_vec());
    let mut out = Vec::new();
    let _ = Packet::Connect(Box::new(connect)).encode(version, &mut out);
    out
}

fn body(flags: u8, prefix: Option<Vec<u8>>, chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    if flags & 1 != 0 {
        wsevents::write_open(&mut out);
    }
    if let Some(packet) = prefix {
        wsevents::write_binary(&mut out, &packet);
    }
    if flags & 16 != 0 {
        wsevents::write_binary(&mut out, &chunks.concat());
    } else {
        chunks
            .iter()
            .for_each(|c| wsevents::write_binary(&mut out, c));
    }
    if flags & 32 != 0 {
        wsevents::write_close(&mut out, 1000);
    }
    out
}

fn request(meta: &BTreeMap<String, String>, body: Vec<u8>) -> Option<http::Request<Vec<u8>>> {
    let mut req = http::Request::post("/mqtt")
        .header("content-type", "application/websocket-events")
        .header("connection-id", "fuzz-conn")
        .header("sec-websocket-protocol", "mqtt")
        .header("grip-sig", &fixed().grip)
        .body(body)
        .ok()?;
    for (name, value) in meta {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::try_from(name.as_str()),
            http::HeaderValue::try_from(value.as_str()),
        ) {
            req.headers_mut().append(n, v);
        }
    }
    Some(req)
}

fn send(ports: &InMemory, req: http::Request<Vec<u8>>, meta: &mut BTreeMap<String, String>) {
    let Ok(res) = edge_pubsub::app(ports.platform.clone())
        .call(req)
        .into_inner();
    assert_ne!(
        res.status().as_u16(),
        500,
        "{}",
        String::from_utf8_lossy(res.body())
    );
    for (name, value) in res.headers() {
        let Some(field) = name.as_str().strip_prefix("set-meta-") else {
            continue;
        };
        let value = value.to_str().unwrap_or_default().to_owned();
        if value.is_empty() {
            meta.remove(&format!("meta-{field}"));
        } else {
            meta.insert(format!("meta-{field}"), value);
        }
    }
}

/// A well-formed CONNECT with the valid token must open the connection: otherwise every
/// input would stop at the door (a wrong Grip-Sig issuer, say) and prove nothing.
fn self_test() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let ports = ports();
        let body = body(
            1,
            Some(connect(ProtocolVersion::V5, &fixed().tokens[0])),
            &[],
        );
        let req = request(&BTreeMap::new(), body).expect("a request");
        let Ok(res) = edge_pubsub::app(ports.platform.clone())
            .call(req)
            .into_inner();
        assert_eq!(
            res.status().as_u16(),
            200,
            "{}",
            String::from_utf8_lossy(res.body())
        );
        assert!(
            res.headers().contains_key(Field::Version.set_meta()),
            "{res:?}"
        );
    });
}

fn ports() -> InMemory {
    let ports = InMemory::with_secrets(&[("grip-sig-key", GRIP_KEY)]).with_hs256_key(KID, SECRET);
    ports.env.now.store(NOW, Ordering::Relaxed);
    ports
}

fuzz_target!(|input: Input| {
    self_test();
    let fixed = fixed();
    let token = &fixed.tokens[usize::from(input.token % 4)];
    let mut meta = BTreeMap::new();
    for (pick, value) in input.meta.iter().take(16) {
        let name = match Field::ALL.get(usize::from(*pick)) {
            Some(field) => field.meta().to_owned(),
            None => format!("meta-{}", value.split('=').next().unwrap_or_default()),
        };
        meta.insert(name, value.replace("$TOKEN", token));
    }
    let ports = ports();
    let version = if input.flags & 4 != 0 {
        ProtocolVersion::V5
    } else {
        ProtocolVersion::V311
    };
    let prefix = (input.flags & 2 != 0).then(|| connect(version, token));
    let flags = input.flags;
    if let Some(req) = request(&meta, body(flags, prefix, &input.first)) {
        send(&ports, req, &mut meta);
    }
    if input.second.is_empty() {
        return;
    }
    ports
        .env
        .now
        .store(NOW + u64::from(input.clock) * 2, Ordering::Relaxed);
    if let Some(req) = request(&meta, body(flags & !1, None, &input.second)) {
        send(&ports, req, &mut meta);
    }
});
