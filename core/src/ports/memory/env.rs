//! The clock and random source of native tests.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::ports::Environment;

/// A fixed clock and a counter-based (not secure) random source.
pub struct TestEnv {
    /// Seconds since the epoch.
    pub now: AtomicU64,
    /// Microseconds within the second: each [`Environment::now_micros`] reading advances
    /// them by 250, so a request takes a fixed time.
    pub micros: AtomicU64,
    counter: AtomicU64,
    /// The accepted `Fastly-Key`, if any.
    pub fastly_key: Option<String>,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self {
            now: AtomicU64::new(1_800_000_000),
            micros: AtomicU64::new(0),
            counter: AtomicU64::new(0),
            fastly_key: None,
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
}
