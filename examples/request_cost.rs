//! Instructions per request of the native pipeline, for callgrind:
//! `request_cost <case> <repeats>` serves `repeats` fresh requests of one case, each through
//! a freshly built pipeline as on Compute, on in-memory ports. `scripts/request-cost.sh`
//! runs every case twice under `valgrind --tool=callgrind` (1 and 11 repeats) and prints the
//! difference over 10: the instructions of one request, without the process's start-up.
//!
//! The MQTT cases first open a connection (CONNECT) outside the counted difference and then
//! send the packet with the connection metadata that CONNECT returned, as Fanout would.
//! `subscribe-link` requests the `Grip-Link` that a signed subscribe's answer named, signed
//! by Fanout, as Fanout does when the link is due.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use pubsub_codec::mqtt::{Connect, Packet, ProtocolVersion};
use pubsub_codec::wsevents;
use pubsub_core::ports::memory::InMemory;
use pubsub_core::ports::{Environment, KvStore as _, Platform};
use tower_service::Service;

/// Every case this program knows, in the order the script prints them.
const CASES: [&str; 14] = [
    "not-found",
    "subscribe-handoff",
    "subscribe-signed",
    "subscribe-signed-es256",
    "subscribe-link",
    "publish-1k",
    "publish-1k-retained",
    "publish-1k-history",
    "mqtt-connect",
    "mqtt-subscribe-1",
    "mqtt-subscribe-10",
    "mqtt-publish-qos0",
    "mqtt-publish-qos1",
    "mqtt-pingreq",
];

/// A P-256 key pair made for this benchmark (`openssl genpkey`): the public half is
/// registered as ES256 key `e`, the private half signs `subscribe-signed-es256`'s token.
const ES256_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENS6EgBtegRjEVNZuOua26H9Ne4a+
jqOziCsq/XoqB5PYNOSRagzpPXl1By2+TACRZo8neSOz2Px4gzn7FfkmRg==
-----END PUBLIC KEY-----
";
const ES256_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgWxpgR/Kn2OgQ9BwZ
G5WPyj1ZD7/AaI6Az9nSEM8qh9ShRANCAAQ1LoSAG16BGMRU1m465rbof017hr6O
o7OIKyr9eioHk9g05JFqDOk9eXUHLb5MAJFmjyd5I7PY/HiDOfsV+SZG
-----END PRIVATE KEY-----
";

struct Bench {
    platform: Platform,
    /// HS256, reads and writes `t`.
    token: String,
    /// ES256 (key `e`), reads and writes `t`.
    token_es256: String,
    /// HS256, reads `t` and `t/#` (the ten filters of `mqtt-subscribe-10`).
    token_wide: String,
    grip: String,
    /// The path and query of the `Grip-Link` a signed subscribe named.
    link: String,
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
    let mut bench = Bench::new();
    if case == "publish-1k-history" {
        // Only this case runs with history (for topic `t`), so the others' counts do not
        // include parsing a `history` value.
        let config = pubsub_core::ports::memory::MemoryMap::of(&[("history", "# 1000 1h")]);
        bench.platform.config = std::sync::Arc::new(config);
    }
    let meta = if case.starts_with("mqtt-") && case != "mqtt-connect" {
        bench.connected(bench.mqtt_token(&case))
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
        let record = serde_json::json!({"kind": "es256", "public": ES256_PUBLIC, "created": 0});
        ports
            .kv
            .insert(
                "keys",
                "e",
                record.to_string().as_bytes(),
                Default::default(),
            )
            .expect("es256 key");
        let now = ports.env.now();
        let hs256 = EncodingKey::from_secret(b"bench-secret");
        let es256 = EncodingKey::from_ec_pem(ES256_PRIVATE.as_bytes()).expect("es256 pem");
        let rw =
            serde_json::json!({"x-fastly-read":["t"],"x-fastly-write":["t"],"exp": now + 3600});
        let wide = serde_json::json!({"x-fastly-read":["t","t/#"],"exp": now + 3600});
        let grip = encode(
            &Header::default(),
            &serde_json::json!({"iss":"pushpin","exp": now + 60}),
            &EncodingKey::from_secret(b"grip"),
        )
        .expect("jwt");
        let mut bench = Self {
            platform: ports.platform,
            token: sign("k", Algorithm::HS256, &rw, &hs256),
            token_es256: sign("e", Algorithm::ES256, &rw, &es256),
            token_wide: sign("k", Algorithm::HS256, &wide, &hs256),
            grip,
            link: String::new(),
        };
        let hold = bench.send(bench.request("subscribe-signed", &[]));
        bench.link = hold
            .headers()
            .get("grip-link")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once('<')?.1.split_once('>'))
            .map(|(url, _)| url.to_owned())
            .expect("a signed subscribe names a Grip-Link");
        bench
    }

    /// The token a case's MQTT connection presents in its CONNECT.
    fn mqtt_token(&self, case: &str) -> &str {
        if case == "mqtt-subscribe-10" {
            &self.token_wide
        } else {
            &self.token
        }
    }

    fn send(&self, req: http::Request<Vec<u8>>) -> http::Response<Vec<u8>> {
        let Ok(res) = edge_pubsub::app(self.platform.clone())
            .call(req)
            .into_inner();
        res
    }

    /// The `Meta-*` headers of a connection that has sent its CONNECT.
    fn connected(&self, token: &str) -> Vec<(String, String)> {
        let res = self.send(self.mqtt("mqtt-connect", token, &[]));
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
            "subscribe-signed" | "subscribe-signed-es256" | "subscribe-link" => {
                let mut req = match case {
                    "subscribe-signed" => get(&format!("/events?topic=t&auth={token}")),
                    "subscribe-link" => get(&self.link),
                    _ => get(&format!("/events?topic=t&auth={}", self.token_es256)),
                };
                self.sign(&mut req);
                req
            }
            "publish-1k" | "publish-1k-retained" | "publish-1k-history" => {
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
            _ => self.mqtt(case, self.mqtt_token(case), meta),
        }
    }

    fn mqtt(&self, case: &str, token: &str, meta: &[(String, String)]) -> http::Request<Vec<u8>> {
        let mut body = Vec::new();
        let packet: Vec<u8> = match case {
            "mqtt-connect" => {
                wsevents::write_open(&mut body);
                let mut connect = Connect::new(ProtocolVersion::V5, "bench");
                connect.keep_alive = 60;
                connect.password = Some(token.as_bytes().to_vec());
                let mut out = Vec::new();
                Packet::Connect(Box::new(connect))
                    .encode(ProtocolVersion::V5, &mut out)
                    .expect("connect");
                out
            }
            // SUBSCRIBE id 1, no properties, filter "t", QoS 0.
            "mqtt-subscribe-1" => vec![0x82, 7, 0, 1, 0, 0, 1, b't', 0],
            // SUBSCRIBE id 1, no properties, filters "t/0" to "t/9", QoS 0.
            "mqtt-subscribe-10" => {
                let mut p = vec![0x82, 63, 0, 1, 0];
                for i in 0..10 {
                    p.extend_from_slice(&[0, 3, b't', b'/', b'0' + i, 0]);
                }
                p
            }
            // PUBLISH QoS 0 on "t", no properties, 16 bytes of payload.
            "mqtt-publish-qos0" => {
                let mut p = vec![0x30, 20, 0, 1, b't', 0];
                p.extend_from_slice(&[b'x'; 16]);
                p
            }
            // PUBLISH QoS 1 on "t", packet id 1, no properties, 16 bytes of payload.
            "mqtt-publish-qos1" => {
                let mut p = vec![0x32, 22, 0, 1, b't', 0, 1, 0];
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

fn sign(kid: &str, alg: Algorithm, claims: &serde_json::Value, key: &EncodingKey) -> String {
    let header = Header {
        kid: Some(kid.into()),
        ..Header::new(alg)
    };
    encode(&header, claims, key).expect("jwt")
}

fn get(uri: &str) -> http::Request<Vec<u8>> {
    http::Request::get(uri).body(Vec::new()).expect("req")
}
