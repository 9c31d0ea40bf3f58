//! Instructions per request of the native pipeline, for callgrind:
//! `request_cost <case> <repeats>` serves `repeats` fresh requests of one case, each through
//! a freshly built pipeline as on Compute, on in-memory ports. `scripts/request-cost.sh`
//! runs every case twice under `valgrind --tool=callgrind` (1 and 11 repeats) and prints the
//! difference over 10: the instructions of one request, without the process's start-up.
//!
//! The MQTT cases first open a connection (CONNECT) outside the counted difference and then
//! send the packet with the connection metadata that CONNECT returned, as Fanout would.

use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_codec::mqtt::{Connect, Packet, ProtocolVersion};
use pubsub_codec::wsevents;
use pubsub_core::ports::memory::InMemory;
use pubsub_core::ports::{Environment, Platform};
use tower_service::Service;

/// Every case this program knows, in the order the script prints them.
const CASES: [&str; 9] = [
    "not-found",
    "subscribe-handoff",
    "subscribe-signed",
    "publish-1k",
    "publish-1k-retained",
    "mqtt-connect",
    "mqtt-subscribe-1",
    "mqtt-publish-qos0",
    "mqtt-pingreq",
];

struct Bench {
    platform: Platform,
    token: String,
    grip: String,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_default();
    if case == "--list" {
        CASES.iter().for_each(|c| println!("{c}"));
        return;
    }
    let repeats: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    if !CASES.contains(&case.as_str()) {
        eprintln!(
            "usage: request_cost <case> <repeats>; cases: {}",
            CASES.join(", ")
        );
        std::process::exit(2);
    }
    let bench = Bench::new();
    let meta = if case.starts_with("mqtt-") && case != "mqtt-connect" {
        bench.connected()
    } else {
        Vec::new()
    };
    for _ in 0..repeats {
        let res = bench.send(bench.request(&case, &meta));
        assert!(
            res.status().as_u16() < 300 || case == "not-found",
            "{case}: {}",
            res.status()
        );
    }
}

impl Bench {
    fn new() -> Self {
        let ports =
            InMemory::with_secrets(&[("grip-sig-key", "grip"), ("grant-key", "bench-grant")])
                .with_hs256_key("k", "bench-secret");
        let now = ports.env.now();
        let header = Header {
            kid: Some("k".into()),
            ..Header::default()
        };
        let claims =
            serde_json::json!({"x-fastly-read":["t"],"x-fastly-write":["t"],"exp": now + 3600});
        let token =
            encode(&header, &claims, &EncodingKey::from_secret(b"bench-secret")).expect("jwt");
        let grip = encode(
            &Header::default(),
            &serde_json::json!({"iss":"pushpin","exp": now + 60}),
            &EncodingKey::from_secret(b"grip"),
        )
        .expect("jwt");
        Self {
            platform: ports.platform,
            token,
            grip,
        }
    }

    fn send(&self, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let Ok(res) = edge_pubsub::app(self.platform.clone())
            .call(req)
            .into_inner();
        res
    }

    /// The `Meta-*` headers of a connection that has sent its CONNECT.
    fn connected(&self) -> Vec<(String, String)> {
        let res = self.send(self.request("mqtt-connect", &[]));
        res.headers()
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().strip_prefix("set-meta-")?;
                Some((format!("meta-{name}"), value.to_str().ok()?.to_owned()))
            })
            .collect()
    }

    fn request(&self, case: &str, meta: &[(String, String)]) -> http::Request<Vec<u8>> {
        let token = &self.token;
        match case {
            "not-found" => get("/nope"),
            "subscribe-handoff" => get("/events?topic=t"),
            "subscribe-signed" => {
                let mut req = get(&format!("/events?topic=t&auth={token}"));
                self.sign(&mut req);
                req
            }
            "publish-1k" | "publish-1k-retained" => {
                let retain = if case.ends_with("retained") {
                    "&retain=true"
                } else {
                    ""
                };
                http::Request::post(format!("/events?topic=t{retain}"))
                    .header("authorization", format!("Bearer {token}"))
                    .body(vec![b'x'; 1024])
                    .expect("req")
            }
            _ => self.mqtt(case, meta),
        }
    }

    fn mqtt(&self, case: &str, meta: &[(String, String)]) -> http::Request<Vec<u8>> {
        let mut body = Vec::new();
        let packet: Vec<u8> = match case {
            "mqtt-connect" => {
                wsevents::write_open(&mut body);
                let mut connect = Connect::new(ProtocolVersion::V5, "bench");
                connect.keep_alive = 60;
                connect.password = Some(self.token.clone().into_bytes());
                let mut out = Vec::new();
                Packet::Connect(connect)
                    .encode(ProtocolVersion::V5, &mut out)
                    .expect("connect");
                out
            }
            // SUBSCRIBE id 1, no properties, filter "t", QoS 0.
            "mqtt-subscribe-1" => vec![0x82, 7, 0, 1, 0, 0, 1, b't', 0],
            // PUBLISH QoS 0 on "t", no properties, 16 bytes of payload.
            "mqtt-publish-qos0" => {
                let mut p = vec![0x30, 20, 0, 1, b't', 0];
                p.extend_from_slice(&[b'x'; 16]);
                p
            }
            _ => vec![0xC0, 0],
        };
        wsevents::write_binary(&mut body, &packet);
        let mut req = http::Request::post("/mqtt")
            .header("content-type", "application/websocket-events")
            .header("connection-id", "bench-conn")
            .header("sec-websocket-protocol", "mqtt")
            .body(body)
            .expect("req");
        for (name, value) in meta {
            if let (Ok(n), Ok(v)) = (
                http::HeaderName::try_from(name.as_str()),
                http::HeaderValue::try_from(value.as_str()),
            ) {
                req.headers_mut().insert(n, v);
            }
        }
        self.sign(&mut req);
        req
    }

    fn sign(&self, req: &mut http::Request<Vec<u8>>) {
        if let Ok(v) = http::HeaderValue::try_from(self.grip.as_str()) {
            req.headers_mut().insert("grip-sig", v);
        }
    }
}

fn get(uri: &str) -> http::Request<Vec<u8>> {
    http::Request::get(uri).body(Vec::new()).expect("req")
}
