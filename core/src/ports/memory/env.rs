//! The clock, random source and POP cache of native tests.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::ports::Environment;

/// A fixed clock, a counter-based (not secure) random source, and a POP cache whose
/// entries expire by that clock.
pub struct TestEnv {
    /// Seconds since the epoch.
    pub now: AtomicU64,
    /// Microseconds within the second: each [`Environment::now_micros`] reading advances
    /// them by 250, so a request takes a fixed time.
    pub micros: AtomicU64,
    counter: AtomicU64,
    /// The accepted `Fastly-Key`, if any.
    pub fastly_key: Option<String>,
    /// The cache: key -> second it expires at.
    pub cache: Mutex<BTreeMap<String, u64>>,
    /// The cache's values: key -> (second it expires at, value).
    pub values: Mutex<BTreeMap<String, (u64, Vec<u8>)>>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self {
            now: AtomicU64::new(1_800_000_000),
            micros: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            fastly_key: None,
            cache: Mutex::new(BTreeMap::new()),
            values: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Environment for TestEnv {
    fn now(&self) -> u64 {
        self.now.load(Ordering::Relaxed)
    }

    fn now_micros(&self) -> u64 {
        let within = self.micros.fetch_add(250, Ordering::Relaxed) % 1_000_000;
        self.now() * 1_000_000 + within
    }

    fn random(&self, buf: &mut [u8]) -> Result<(), String> {
        for b in buf {
            *b = (self.counter.fetch_add(1, Ordering::Relaxed) % 251) as u8;
        }
        Ok(())
    }

    fn service_id(&self) -> Option<String> {
        Some("test-service".into())
    }

    fn fastly_key_is_valid(&self, key: &str) -> bool {
        self.fastly_key.as_deref() == Some(key)
    }

    fn cached(&self, key: &str) -> bool {
        let now = self.now();
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .is_some_and(|&expires| expires > now)
    }

    fn cache(&self, key: &str, ttl_secs: u32) {
        let expires = self.now() + u64::from(ttl_secs);
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), expires);
    }

    fn cache_get(&self, key: &str) -> Option<Vec<u8>> {
        let now = self.now();
        let values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        values
            .get(key)
            .filter(|(expires, _)| *expires > now)
            .map(|(_, value)| value.clone())
    }

    fn cache_put(&self, key: &str, value: &[u8], ttl_secs: u32) {
        let expires = self.now() + u64::from(ttl_secs);
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), (expires, value.to_vec()));
    }
}
