//! Fastly KV's listing lag, simulated for native tests: a key written at one POP shows in
//! listings only some time later (lists are eventually consistent); Viceroy lists at once.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use super::TestEnv;
use crate::ports::{InsertOptions, KvError, KvItem, KvStore};

/// A KV store whose listings leave out the keys inserted less than `lag_ms` ago by the
/// test clock (`now` seconds and `micros`, read without advancing them). Lookups, inserts
/// and deletes pass through at once.
pub struct ListLagKv {
    inner: Arc<dyn KvStore>,
    clock: Arc<TestEnv>,
    /// How long a new key stays out of listings, in milliseconds.
    pub lag_ms: u64,
    /// The millisecond of the last insert of each (store, key).
    written: Mutex<BTreeMap<(String, String), u64>>,
}

impl ListLagKv {
    /// `inner` whose new keys are listed `lag_ms` after their insert, by `clock`.
    pub fn new(inner: Arc<dyn KvStore>, clock: Arc<TestEnv>, lag_ms: u64) -> Self {
        Self {
            inner,
            clock,
            lag_ms,
            written: Mutex::default(),
        }
    }

    fn now_ms(&self) -> u64 {
        let micros = self.clock.micros.load(Ordering::Relaxed) % 1_000_000;
        self.clock.now.load(Ordering::Relaxed) * 1000 + micros / 1000
    }
}

impl KvStore for ListLagKv {
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
        self.inner.insert(store, key, value, options)?;
        let mut written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        written.insert((store.to_owned(), key.to_owned()), self.now_ms());
        Ok(())
    }

    fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.inner.delete(store, key)
    }

    fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
        let listed_before = self.now_ms().saturating_sub(self.lag_ms);
        let written = self.written.lock().unwrap_or_else(|e| e.into_inner());
        let mut keys = self.inner.list(store)?;
        keys.retain(|k| {
            written
                .get(&(store.to_owned(), k.clone()))
                .is_none_or(|&at| at <= listed_before)
        });
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{self, HistoryId, IdSequence, NewMessage, Position};
    use crate::ports::memory::InMemory;
    use crate::publish::{publish, Publication};
    use crate::topic::TopicName;
    use crate::Config;
    use pubsub_config::{HistoryRule, HistoryRules};

    const RULE: HistoryRule = HistoryRule {
        max_count: 10_000,
        max_age_secs: 3600,
    };

    /// Sets the test clock to `ms` milliseconds after its start second.
    fn at(ports: &InMemory, start: u64, ms: u64) {
        ports.env.now.store(start + ms / 1000, Ordering::Relaxed);
        ports
            .env
            .micros
            .store((ms % 1000) * 1000, Ordering::Relaxed);
    }

    fn lagging(lag_ms: u64) -> (InMemory, u64) {
        let mut ports = InMemory::new();
        let kv = ListLagKv::new(ports.kv.clone(), ports.env.clone(), lag_ms);
        ports.platform.kv = Arc::new(kv);
        let start = ports.env.now.load(Ordering::Relaxed);
        (ports, start)
    }

    /// What a reader that polls after its last position collects, page by page.
    fn poll(ports: &InMemory, topic: &TopicName, position: &mut Position) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        loop {
            let page = history::read(&ports.platform, RULE, topic, *position, 7, usize::MAX)
                .expect("read");
            assert_eq!(page.gap, None, "a lagging list is never a gap");
            if let Some(last) = page.messages.last() {
                *position = Position::After(last.id);
            }
            got.extend(page.messages.into_iter().map(|m| m.payload));
            if page.next.is_none() {
                return got;
            }
        }
    }

    #[test]
    fn a_reader_sees_late_listed_messages_on_a_later_read_and_loses_none() {
        let (ports, start) = lagging(100);
        let mut config = Config::default();
        config.history = HistoryRules::parse("# 10000 1h").expect("rules");
        let topic = TopicName::parse("ai/answer").expect("topic");
        let (mut position, mut received, mut published) =
            (Position::Earliest, Vec::new(), Vec::new());
        let mut behind = 0;
        // One token every 5 ms (200/s) for a second; the reader polls every 20 ms.
        for tick in 0..200u64 {
            at(&ports, start, tick * 5);
            let payload = format!("token {tick}").into_bytes();
            let p = Publication {
                topics: std::slice::from_ref(&topic),
                payload: &payload,
                retain: false,
                ttl_secs: None,
                mqtt: None,
                sender: None,
            };
            publish(&ports.platform, &config, &p).expect("published");
            published.push(payload);
            if tick % 4 == 3 {
                received.extend(poll(&ports, &topic, &mut position));
                behind = behind.max(published.len() - received.len());
                assert_eq!(
                    received[..],
                    published[..received.len()],
                    "in order, no gap"
                );
            }
        }
        assert!(
            behind >= 15,
            "listing 100 ms behind: up to {behind} not yet seen"
        );
        at(&ports, start, 1000 + 100);
        received.extend(poll(&ports, &topic, &mut position));
        assert_eq!(received, published, "every message, once, in order");
    }

    #[test]
    fn a_record_listed_after_a_newer_one_is_missed_by_a_reader_already_past_it() {
        // Two publishers: A takes its id first but writes 30 ms later than B. A reader
        // whose position passed B before A was listed does not get A from history (it
        // got A live, if it was connected). What a resume may therefore miss is bounded
        // by the write delay plus the listing lag.
        let (ports, start) = lagging(50);
        let topic = TopicName::parse("t").expect("topic");
        let env = &*ports.platform.env;
        at(&ports, start, 0);
        let a = IdSequence::new().next(env).expect("id");
        at(&ports, start, 1);
        let b = IdSequence::new().next(env).expect("id");
        let write = |id: HistoryId, payload: &[u8]| {
            let message = NewMessage {
                id,
                payload,
                retain: false,
                ttl_secs: None,
                mqtt: None,
            };
            history::append(&*ports.platform.kv, RULE, "t", &message).expect("appended");
        };
        write(b, b"B");
        at(&ports, start, 31);
        write(a, b"A");
        at(&ports, start, 60);
        let mut position = Position::Earliest;
        assert_eq!(poll(&ports, &topic, &mut position), [b"B".to_vec()]);
        at(&ports, start, 500);
        assert_eq!(poll(&ports, &topic, &mut position), Vec::<Vec<u8>>::new());
        let all = history::read(&ports.platform, RULE, &topic, Position::Earliest, 10, 100);
        assert_eq!(all.expect("read").messages.len(), 2, "A is held, before B");
    }
}
