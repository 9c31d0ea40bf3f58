//! Edge Rate Limiting in memory, for native tests: a rate counter with one-second buckets
//! and a penalty box, both on the test clock.
//!
//! The counter is exact where the platform's is approximate: an entry is over its limit
//! once it has more than `per_second × window` requests within the last `window` seconds
//! of the clock (the second of the request included). A penalty lasts exactly its minutes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pubsub_config::Window;

use crate::ports::{Environment, RateLimiter};

/// See the module documentation.
pub struct MemoryRateLimiter {
    clock: Arc<dyn Environment>,
    state: Mutex<State>,
    /// When set, every call fails, as a platform error would.
    pub fail: AtomicBool,
}

#[derive(Default)]
struct State {
    /// Requests per entry and second.
    counts: BTreeMap<String, BTreeMap<u64, u64>>,
    /// The second each penalised entry is let out.
    penalties: BTreeMap<String, u64>,
}

impl MemoryRateLimiter {
    /// A limiter on `clock`.
    pub fn new(clock: Arc<dyn Environment>) -> Self {
        Self {
            clock,
            state: Mutex::default(),
            fail: AtomicBool::new(false),
        }
    }

    /// Every entry counted so far.
    pub fn entries(&self) -> Vec<String> {
        self.state().counts.keys().cloned().collect()
    }

    /// Every entry in the penalty box now.
    pub fn penalised_entries(&self) -> Vec<String> {
        let now = self.clock.now();
        let state = self.state();
        let out = state.penalties.iter().filter(|(_, until)| **until > now);
        out.map(|(entry, _)| entry.clone()).collect()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn check(&self) -> Result<(), String> {
        match self.fail.load(Ordering::Relaxed) {
            true => Err("test rate limiter failure".into()),
            false => Ok(()),
        }
    }
}

impl RateLimiter for MemoryRateLimiter {
    fn penalised(&self, entry: &str) -> Result<bool, String> {
        self.check()?;
        let now = self.clock.now();
        Ok(self.state().penalties.get(entry).is_some_and(|u| *u > now))
    }

    fn check_rate(
        &self,
        entry: &str,
        window: Window,
        per_second: u32,
        penalty_minutes: u32,
    ) -> Result<bool, String> {
        self.check()?;
        let now = self.clock.now();
        let secs = u64::from(window.secs());
        let mut state = self.state();
        let seconds = state.counts.entry(entry.to_owned()).or_default();
        *seconds.entry(now).or_default() += 1;
        seconds.retain(|second, _| second + 60 > now);
        let recent: u64 = seconds
            .range((now + 1).saturating_sub(secs)..)
            .map(|(_, n)| n)
            .sum();
        let over = recent > u64::from(per_second) * secs;
        if over {
            let until = now + u64::from(penalty_minutes) * 60;
            state.penalties.insert(entry.to_owned(), until);
        }
        Ok(over)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::TestEnv;

    #[test]
    fn an_entry_over_its_rate_is_penalised_until_the_penalty_ends() {
        let env = Arc::new(TestEnv::default());
        let limiter = MemoryRateLimiter::new(env.clone());
        // 2/s over 1 s: the third request of a second is over.
        let check = || limiter.check_rate("a", Window::OneSecond, 2, 1);
        assert_eq!((check(), check()), (Ok(false), Ok(false)));
        assert_eq!(limiter.penalised("a"), Ok(false));
        assert_eq!(check(), Ok(true));
        assert_eq!(limiter.penalised("a"), Ok(true));
        assert_eq!(limiter.penalised("b"), Ok(false));
        env.now.fetch_add(59, Ordering::Relaxed);
        assert_eq!(limiter.penalised("a"), Ok(true));
        env.now.fetch_add(1, Ordering::Relaxed);
        assert_eq!(limiter.penalised("a"), Ok(false));
        assert_eq!(limiter.penalised_entries(), Vec::<String>::new());
    }

    #[test]
    fn the_rate_is_averaged_over_the_window_and_resets_after_it() {
        let env = Arc::new(TestEnv::default());
        let limiter = MemoryRateLimiter::new(env.clone());
        // 1/s over 10 s: ten requests in one second pass, the eleventh is over.
        for _ in 0..10 {
            assert_eq!(limiter.check_rate("a", Window::TenSeconds, 1, 1), Ok(false));
        }
        env.now.fetch_add(9, Ordering::Relaxed);
        assert_eq!(limiter.check_rate("a", Window::TenSeconds, 1, 1), Ok(true));
        // Ten seconds after the burst it has left the window.
        env.now.fetch_add(61, Ordering::Relaxed);
        assert_eq!(limiter.check_rate("a", Window::TenSeconds, 1, 1), Ok(false));
        limiter.fail.store(true, Ordering::Relaxed);
        assert!(limiter.penalised("a").is_err());
    }
}
