//! Ports: the platform effects the core needs, as small traits.
//!
//! The Fastly implementations live in the Compute adapter (`src/fastly_platform.rs` at the
//! workspace root, compiled only for wasm32); `memory` (feature `test-util`) holds in-memory implementations
//! for native tests. A [`Platform`] bundles one of each so the pipeline can be built from a
//! single value.

use std::fmt;
use std::sync::Arc;

use pubsub_config::{Config, Window};

/// An item read from a KV store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvItem {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// The item's generation, for compare-and-swap writes.
    pub generation: u64,
}

/// An item read with its KV metadata ([`KvStore::lookup_with_metadata`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KvEntry {
    /// The item.
    pub item: KvItem,
    /// Its KV metadata, if it has any.
    pub metadata: Option<Vec<u8>>,
}

/// Why a KV operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvError {
    /// A conditional insert found another generation (someone wrote first).
    GenerationMismatch,
    /// The store refused a write for rate: Fastly KV takes at most one write per second
    /// per key. Retrying at once fails again, so callers give up instead of looping.
    RateLimited,
    /// The store is missing or the platform failed; the text says which.
    Unavailable(String),
}

impl fmt::Display for KvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::GenerationMismatch => f.write_str("generation mismatch"),
            Self::RateLimited => f.write_str("too many writes to one key (one per second)"),
            Self::Unavailable(why) => f.write_str(why),
        }
    }
}

/// One page of a KV listing: keys in ascending order, and where the next page starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvPage {
    /// The keys of this page, ascending.
    pub keys: Vec<String>,
    /// The cursor of the next page; `None`: this was the last one.
    pub next: Option<String>,
}

/// Options of a KV insert.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InsertOptions {
    /// Write only if the item's current generation is this one.
    pub if_generation: Option<u64>,
    /// Write only if the key does not exist yet.
    pub if_absent: bool,
    /// Time to live of the item, in seconds.
    pub ttl_secs: Option<u32>,
}

/// A KV store namespace (`keys`, `messages`).
pub trait KvStore: Send + Sync {
    /// Reads `key` from `store`.
    fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError>;
    /// Writes `value` under `key`.
    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: InsertOptions,
    ) -> Result<(), KvError>;
    /// Reads each of `keys` from `store`, answering in the same order. The platform may
    /// run the reads concurrently (Fastly: asynchronous lookups, then their waits); the
    /// default reads one after another.
    fn lookup_many(&self, store: &str, keys: &[String]) -> Result<Vec<Option<KvItem>>, KvError> {
        keys.iter().map(|key| self.lookup(store, key)).collect()
    }
    /// Reads `key` from `store` with the item's KV metadata (`None` when it has none).
    /// The default reads the item only; ports whose store keeps metadata override it.
    fn lookup_with_metadata(&self, store: &str, key: &str) -> Result<Option<KvEntry>, KvError> {
        Ok(self.lookup(store, key)?.map(|item| KvEntry {
            item,
            metadata: None,
        }))
    }
    /// Deletes `key`; deleting a missing key is not an error.
    fn delete(&self, store: &str, key: &str) -> Result<(), KvError>;
    /// Lists every key in `store`.
    fn list(&self, store: &str) -> Result<Vec<String>, KvError>;
    /// Lists the keys of `store` that start with `prefix`, in key order, at most `limit`
    /// of them (one page of a Fastly KV listing).
    fn list_prefix(&self, store: &str, prefix: &str, limit: u32) -> Result<Vec<String>, KvError> {
        let mut keys: Vec<String> = self
            .list(store)?
            .into_iter()
            .filter(|k| k.starts_with(prefix))
            .collect();
        keys.sort_unstable();
        keys.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(keys)
    }
    /// One page of the keys of `store` that start with `prefix`, ascending: at most
    /// `limit` keys, starting after `cursor` (the `next` of the page before; `None` for
    /// the first page). A cursor is opaque to callers: on Fastly it is the platform's.
    /// The default reads [`KvStore::list`]; its cursor is the last key of a page.
    fn list_page(
        &self,
        store: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<KvPage, KvError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX).max(1);
        let mut keys: Vec<String> = self
            .list(store)?
            .into_iter()
            .filter(|k| k.starts_with(prefix) && cursor.is_none_or(|c| k.as_str() > c))
            .collect();
        keys.sort_unstable();
        let more = keys.len() > limit;
        keys.truncate(limit);
        let next = more.then(|| keys.last().cloned()).flatten();
        Ok(KvPage { keys, next })
    }
}

/// Read access to the Config Store `config`.
pub trait ConfigSource: Send + Sync {
    /// The value under `key`, if the store and the key exist.
    fn get(&self, key: &str) -> Option<String>;
}

/// Read access to the Secret Store `secrets`.
pub trait Secrets: Send + Sync {
    /// The secret under `name`, if present.
    fn get(&self, name: &str) -> Option<Vec<u8>>;
}

/// Sends a GRIP publish request (`{"items":[...]}`) to the publish API.
pub trait Publisher: Send + Sync {
    /// Publishes; `Err` carries a one-line reason.
    fn publish(&self, config: &Config, body: Vec<u8>) -> Result<(), String>;
}

/// Counts callers and keeps the ones over a limit out for a while: Fastly's Edge Rate
/// Limiting (a rate counter and a penalty box) in production.
///
/// Counts are approximate on the platform (they may run about 10 % low) and kept per POP.
/// A failure (`Err`, a one-line reason) is the caller's to handle; the rate limit layers
/// let the request through.
pub trait RateLimiter: Send + Sync {
    /// Whether `entry` is in the penalty box.
    fn penalised(&self, entry: &str) -> Result<bool, String>;
    /// Counts one request of `entry` and tells whether its rate, averaged over `window`,
    /// is now above `per_second`; if it is, `entry` goes into the penalty box for
    /// `penalty_minutes`.
    fn check_rate(
        &self,
        entry: &str,
        window: Window,
        per_second: u32,
        penalty_minutes: u32,
    ) -> Result<bool, String>;
}

/// Writes lines to a real-time log endpoint (printed to stdout by Viceroy).
pub trait LogSink: Send + Sync {
    /// Writes `line` (one line, no newline) to `endpoint`; a failure is dropped, since a
    /// log line must never fail a request.
    fn write(&self, endpoint: &str, line: &str);
}

/// Facts about the running service and its environment.
pub trait Environment: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
    /// Microseconds since the Unix epoch (request logs: their time and duration).
    fn now_micros(&self) -> u64;
    /// Fills `buf` from a cryptographically secure source.
    fn random(&self, buf: &mut [u8]) -> Result<(), String>;
    /// The Fastly service id (`FASTLY_SERVICE_ID`), if known.
    fn service_id(&self) -> Option<String>;
    /// Whether `Fastly-Key` is a valid API token for this service.
    fn fastly_key_is_valid(&self, key: &str) -> bool;
    /// Whether `key` is in this POP's cache (Fastly's cache API), put there by [`cache`]
    /// and not yet expired. The default cache keeps nothing.
    ///
    /// [`cache`]: Environment::cache
    fn cached(&self, key: &str) -> bool {
        let _ = key;
        false
    }
    /// Puts `key` into this POP's cache for `ttl_secs` seconds; a failure is ignored
    /// (the next request redoes what the entry spares it). The default does nothing.
    fn cache(&self, key: &str, ttl_secs: u32) {
        let _ = (key, ttl_secs);
    }
    /// The value stored under `key` in this POP's cache by [`cache_put`], if it is there
    /// and not expired. The default cache keeps nothing.
    ///
    /// [`cache_put`]: Environment::cache_put
    fn cache_get(&self, key: &str) -> Option<Vec<u8>> {
        let _ = key;
        None
    }
    /// Stores `value` under `key` in this POP's cache for `ttl_secs` seconds, replacing
    /// what was there; a failure is ignored. The default does nothing.
    fn cache_put(&self, key: &str, value: &[u8], ttl_secs: u32) {
        let _ = (key, value, ttl_secs);
    }
}

/// One implementation of every port.
#[derive(Clone)]
pub struct Platform {
    /// KV stores.
    pub kv: Arc<dyn KvStore>,
    /// Config Store `config`.
    pub config: Arc<dyn ConfigSource>,
    /// Secret Store `secrets`.
    pub secrets: Arc<dyn Secrets>,
    /// The publish API.
    pub publisher: Arc<dyn Publisher>,
    /// Clock, randomness and service facts.
    pub env: Arc<dyn Environment>,
    /// Edge Rate Limiting.
    pub rate: Arc<dyn RateLimiter>,
    /// Real-time log endpoints.
    pub log: Arc<dyn LogSink>,
}

#[cfg(any(test, feature = "test-util"))]
pub mod memory;
