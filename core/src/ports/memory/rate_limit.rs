//! Fastly KV's write rate limit, simulated for native tests: production refuses a second
//! write to one key within a second; Viceroy (the local server) does not.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::ports::{Environment, InsertOptions, KvEntry, KvError, KvItem, KvPage, KvStore};

/// A KV store that refuses an insert ([`KvError::RateLimited`]) to a key that had a
/// successful insert during the same second of `clock`. Reads, lists and deletes pass
/// through; a refused or failed insert does not count.
pub struct RateLimitedKv {
    inner: Arc<dyn KvStore>,
    clock: Arc<dyn Environment>,
    /// The second of the last successful insert of each (store, key).
    last_write: Mutex<BTreeMap<(String, String), u64>>,
}

impl RateLimitedKv {
    /// `inner` with at most one successful insert per key per second of `clock`.
    pub fn new(inner: Arc<dyn KvStore>, clock: Arc<dyn Environment>) -> Self {
        Self {
            inner,
            clock,
            last_write: Mutex::default(),
        }
    }
}

impl KvStore for RateLimitedKv {
    fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
        self.inner.lookup(store, key)
    }

    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: InsertOptions,
    ) -> Result<(), KvError> {
        // Held across the insert, so two writers in one second cannot both pass.
        let mut last_write = self.last_write.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let slot = (store.to_owned(), key.to_owned());
        if last_write.get(&slot).is_some_and(|&at| now <= at) {
            return Err(KvError::RateLimited);
        }
        self.inner.insert(store, key, value, options)?;
        last_write.insert(slot, now);
        Ok(())
    }

    fn lookup_with_metadata(&self, store: &str, key: &str) -> Result<Option<KvEntry>, KvError> {
        self.inner.lookup_with_metadata(store, key)
    }

    fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.inner.delete(store, key)
    }

    fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
        self.inner.list(store)
    }

    fn list_page(
        &self,
        store: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<KvPage, KvError> {
        self.inner.list_page(store, prefix, cursor, limit)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::ports::memory::{MemoryKv, TestEnv};

    #[test]
    fn one_write_per_key_per_second_and_a_refused_write_does_not_count() {
        let clock = Arc::new(TestEnv::default());
        let kv = RateLimitedKv::new(Arc::new(MemoryKv::default()), clock.clone());
        let put = |key: &str, options| kv.insert("s", key, b"v", options);
        assert_eq!(put("a", InsertOptions::default()), Ok(()));
        assert_eq!(
            put("a", InsertOptions::default()),
            Err(KvError::RateLimited)
        );
        assert_eq!(put("b", InsertOptions::default()), Ok(()), "per key");
        clock.now.fetch_add(1, Ordering::Relaxed);
        let stale = InsertOptions {
            if_generation: Some(999),
            ..InsertOptions::default()
        };
        assert_eq!(put("a", stale), Err(KvError::GenerationMismatch));
        assert_eq!(put("a", InsertOptions::default()), Ok(()), "a second later");
        assert_eq!(kv.delete("s", "a"), Ok(()));
        assert_eq!(kv.lookup("s", "a"), Ok(None));
    }

    #[test]
    fn a_history_topic_sustains_250_messages_per_second_where_its_retained_slot_takes_one() {
        use crate::history;
        use crate::ports::memory::InMemory;
        use crate::publish::{publish, Publication, PublishError};
        use crate::topic::TopicName;
        use crate::Config;

        let ports = InMemory::new().with_kv_write_limit();
        let mut config = Config::default();
        config.history = pubsub_config::HistoryRules::parse("# 100000 1h").expect("rules");
        let topic = [TopicName::parse("ai/answer").expect("topic")];
        let publication = |payload: &'static [u8], retain| Publication {
            topics: &topic,
            payload,
            retain,
            ttl_secs: None,
            mqtt: None,
            sender: None,
        };
        let (mut live, mut retained, mut refused) = (0, 0, 0);
        for _second in 0..4 {
            for _ in 0..250 {
                publish(&ports.platform, &config, &publication(b"token", false))
                    .expect("a distinct key per message: never refused for rate");
                live += 1;
            }
            for _ in 0..5 {
                match publish(&ports.platform, &config, &publication(b"last", true)) {
                    Ok(_) => retained += 1,
                    Err(PublishError::RateLimited(_)) => refused += 1,
                    Err(e) => panic!("unexpected {e:?}"),
                }
            }
            ports.env.now.fetch_add(1, Ordering::Relaxed);
        }
        assert_eq!((live, retained, refused), (1000, 4, 16));
        let held = history::held_ids(&*ports.platform.kv, "ai/answer").expect("listed");
        assert_eq!(
            held.len(),
            live + retained,
            "a refused retained publish keeps no record"
        );
    }
}
