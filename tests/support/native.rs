//! The app on in-memory ports, for pipeline tests that run without the real stack.
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::sync::Arc;

use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_core::ports::memory::{
    InMemory, MemoryKv, MemoryMap, MemoryRateLimiter, RecordingLog, RecordingPublisher, TestEnv,
};
use pubsub_core::ports::Platform;
use pubsub_core::{Request, Response};
use tower_service::Service;

pub const KID: &str = "k1";
pub const SECRET: &str = "pipeline-secret";
pub const GRIP_KEY: &str = "grip-key";
/// Secret Store `grant-key`: signs the grants in the links of SSE streams.
pub const GRANT_KEY: &str = "pipeline-grant-key";

pub struct Native {
    pub platform: Platform,
    pub kv: Arc<MemoryKv>,
    pub publisher: Arc<RecordingPublisher>,
    pub config: Arc<MemoryMap>,
    pub env: Arc<TestEnv>,
    pub rate: Arc<MemoryRateLimiter>,
    pub log: Arc<RecordingLog>,
}

impl Native {
    pub fn new() -> Self {
        let ports = InMemory::with_secrets(&[
            ("grip-sig-key", GRIP_KEY),
            (pubsub_core::grant::SECRET, GRANT_KEY),
        ])
        .with_hs256_key(KID, SECRET);
        Self {
            platform: ports.platform,
            kv: ports.kv,
            publisher: ports.publisher,
            config: ports.config,
            env: ports.env,
            rate: ports.rate,
            log: ports.log,
        }
    }

    /// Sets Config Store `key` to `value`.
    pub fn set(&self, key: &str, value: &str) {
        let mut map = self.config.0.lock().unwrap_or_else(|e| e.into_inner());
        map.insert(key.into(), value.into());
    }

    pub fn now(&self) -> u64 {
        self.platform.env.now()
    }

    pub fn send(&self, req: Request) -> Response {
        let Ok(res) = edge_pubsub::app(self.platform.clone())
            .call(req)
            .into_inner();
        res
    }

    pub fn token(&self, read: &[&str], write: &[&str]) -> String {
        self.token_with(&serde_json::json!({
            "x-fastly-read": read, "x-fastly-write": write, "exp": self.now() + 3600,
        }))
    }

    /// A token of key [`KID`] with exactly `claims` (nothing added).
    pub fn token_with(&self, claims: &serde_json::Value) -> String {
        let header = Header {
            kid: Some(KID.into()),
            ..Header::default()
        };
        encode(
            &header,
            claims,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("jwt")
    }

    pub fn grip_sig(&self, key: &str) -> String {
        self.grip_sig_with(
            key,
            &serde_json::json!({ "iss": "pushpin", "exp": self.now() + 60 }),
        )
    }

    /// A `Grip-Sig` signed with `key` carrying exactly `claims`.
    pub fn grip_sig_with(&self, key: &str, claims: &serde_json::Value) -> String {
        encode(
            &Header::default(),
            claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .expect("jwt")
    }
}

pub fn request(method: &str, uri: &str) -> http::request::Builder {
    http::Request::builder().method(method).uri(uri)
}

pub fn body(res: &Response) -> String {
    String::from_utf8_lossy(res.body()).into_owned()
}
