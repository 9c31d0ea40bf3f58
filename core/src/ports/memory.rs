//! In-memory ports for native tests (feature `test-util`); never compiled into the wasm.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::*;

mod env;
mod erl;
mod list_lag;
mod log;
mod metadata;
mod rate_limit;
mod recording_kv;
pub use env::TestEnv;
pub use erl::MemoryRateLimiter;
pub use list_lag::ListLagKv;
pub use log::RecordingLog;
pub use metadata::MetadataKv;
pub use rate_limit::RateLimitedKv;
pub use recording_kv::RecordingKv;

/// A KV store in memory, with real generation semantics.
#[derive(Default)]
pub struct MemoryKv {
    items: Mutex<BTreeMap<(String, String), KvItem>>,
    next_generation: AtomicU64,
    /// When set, every operation fails as unavailable.
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryKv {
    fn check(&self) -> Result<(), KvError> {
        if self.fail.load(Ordering::Relaxed) {
            Err(KvError::Unavailable("test store failure".into()))
        } else {
            Ok(())
        }
    }

    fn items(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), KvItem>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl KvStore for MemoryKv {
    fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
        self.check()?;
        Ok(self.items().get(&(store.into(), key.into())).cloned())
    }

    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: InsertOptions,
    ) -> Result<(), KvError> {
        self.check()?;
        let mut items = self.items();
        let slot = (store.to_owned(), key.to_owned());
        let current = items.get(&slot).map(|i| i.generation);
        if options.if_absent && current.is_some() {
            return Err(KvError::GenerationMismatch);
        }
        if let Some(want) = options.if_generation {
            if current != Some(want) {
                return Err(KvError::GenerationMismatch);
            }
        }
        let generation = self.next_generation.fetch_add(1, Ordering::Relaxed) + 1;
        items.insert(
            slot,
            KvItem {
                value: value.to_vec(),
                generation,
            },
        );
        Ok(())
    }

    fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.check()?;
        self.items().remove(&(store.into(), key.into()));
        Ok(())
    }

    fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
        self.check()?;
        Ok(self
            .items()
            .keys()
            .filter(|(s, _)| s == store)
            .map(|(_, k)| k.clone())
            .collect())
    }
}

/// A Config Store or Secret Store in memory.
#[derive(Default)]
pub struct MemoryMap(pub Mutex<BTreeMap<String, String>>);

impl MemoryMap {
    /// A map holding `pairs`.
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self(Mutex::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        ))
    }

    fn read(&self, key: &str) -> Option<String> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
}

impl ConfigSource for MemoryMap {
    fn get(&self, key: &str) -> Option<String> {
        self.read(key)
    }
}

impl Secrets for MemoryMap {
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.read(name).map(String::into_bytes)
    }
}

/// A publisher that records what it was asked to publish.
#[derive(Default)]
pub struct RecordingPublisher {
    /// Every body published, in order.
    pub published: Mutex<Vec<Vec<u8>>>,
    /// When set, every publish fails with this reason.
    pub fail: Mutex<Option<String>>,
}

impl RecordingPublisher {
    /// The published bodies parsed as JSON, without the items of wildcard deliveries
    /// (filter channels, see [`Self::filter_items`]); a request that held only those is
    /// left out.
    pub fn items(&self) -> Vec<serde_json::Value> {
        self.parsed()
            .into_iter()
            .filter_map(|mut body| {
                let items = body["items"].as_array_mut()?;
                items.retain(|item| !is_filter_item(item));
                (!items.is_empty()).then_some(body)
            })
            .collect()
    }

    /// Every item published on a topic's live channel (a name without `#`), in order:
    /// one per message and topic, however the messages were batched into requests.
    pub fn live_items(&self) -> Vec<serde_json::Value> {
        self.parsed()
            .into_iter()
            .flat_map(|body| body["items"].as_array().cloned().unwrap_or_default())
            .filter(|item| item["channel"].as_str().is_some_and(|c| !c.contains('#')))
            .collect()
    }

    /// Every item published on a filter channel (`f#…`, `f4#…`), in order.
    pub fn filter_items(&self) -> Vec<serde_json::Value> {
        self.parsed()
            .into_iter()
            .flat_map(|body| body["items"].as_array().cloned().unwrap_or_default())
            .filter(is_filter_item)
            .collect()
    }

    fn parsed(&self) -> Vec<serde_json::Value> {
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap_or(serde_json::Value::Null))
            .collect()
    }
}

fn is_filter_item(item: &serde_json::Value) -> bool {
    item["channel"]
        .as_str()
        .is_some_and(|c| c.starts_with("f#") || c.starts_with("f4#"))
}

impl Publisher for RecordingPublisher {
    fn publish(&self, _config: &Config, body: Vec<u8>) -> Result<(), String> {
        if let Some(why) = self.fail.lock().unwrap_or_else(|e| e.into_inner()).clone() {
            return Err(why);
        }
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(body);
        Ok(())
    }
}

/// Every port in memory, with handles to inspect and steer each one.
#[derive(Clone)]
pub struct InMemory {
    /// The ports, for the pipeline.
    pub platform: Platform,
    /// KV stores (writes through this handle bypass [`InMemory::with_kv_write_limit`]).
    pub kv: Arc<MemoryKv>,
    /// Config Store `config`.
    pub config: Arc<MemoryMap>,
    /// Secret Store `secrets`.
    pub secrets: Arc<MemoryMap>,
    /// What was published.
    pub publisher: Arc<RecordingPublisher>,
    /// Clock and randomness.
    pub env: Arc<TestEnv>,
    /// Edge Rate Limiting.
    pub rate: Arc<MemoryRateLimiter>,
    /// The real-time log.
    pub log: Arc<RecordingLog>,
}

impl InMemory {
    /// Empty stores, no secrets, the test clock.
    pub fn new() -> Self {
        Self::with_secrets(&[])
    }

    /// Empty stores and the secrets `pairs`.
    pub fn with_secrets(pairs: &[(&str, &str)]) -> Self {
        let kv = Arc::new(MemoryKv::default());
        let config = Arc::new(MemoryMap::default());
        let secrets = Arc::new(MemoryMap::of(pairs));
        let publisher = Arc::new(RecordingPublisher::default());
        let env = Arc::new(TestEnv::default());
        let rate = Arc::new(MemoryRateLimiter::new(env.clone()));
        let log = Arc::new(RecordingLog::default());
        let platform = Platform {
            kv: kv.clone(),
            config: config.clone(),
            secrets: secrets.clone(),
            publisher: publisher.clone(),
            env: env.clone(),
            rate: rate.clone(),
            log: log.clone(),
        };
        Self {
            platform,
            kv,
            config,
            secrets,
            publisher,
            env,
            rate,
            log,
        }
    }

    /// Stores an HS256 signing key `kid` with `secret` in KV store `keys`.
    pub fn with_hs256_key(self, kid: &str, secret: &str) -> Self {
        let record = serde_json::json!({"kind": "hs256", "secret": secret, "created": 0});
        self.kv
            .insert(
                "keys",
                kid,
                record.to_string().as_bytes(),
                InsertOptions::default(),
            )
            .unwrap_or_else(|e| panic!("memory KV refused a key: {e}"));
        self
    }

    /// The platform's KV refuses a second write to one key within a second of the test
    /// clock, as Fastly KV does in production ([`RateLimitedKv`]).
    pub fn with_kv_write_limit(mut self) -> Self {
        let limited = RateLimitedKv::new(self.kv.clone(), self.env.clone());
        self.platform.kv = Arc::new(limited);
        self
    }
}

impl Default for InMemory {
    fn default() -> Self {
        Self::new()
    }
}
