//! A KV store for native tests that records what callers do to it (each insert's key and
//! options, each listing page asked for) and can refuse the inserts of a key prefix.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::ports::{InsertOptions, KvError, KvItem, KvPage, KvStore};

/// Wraps `inner`: every call passes through, after being recorded; an insert whose key
/// starts with the prefix set by [`RecordingKv::refuse`] fails with its error instead
/// (and is still recorded).
pub struct RecordingKv {
    inner: Arc<dyn KvStore>,
    inserts: Mutex<Vec<(String, InsertOptions)>>,
    pages: Mutex<Vec<String>>,
    refused: Mutex<Option<(String, KvError)>>,
}

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RecordingKv {
    /// Records the calls to `inner`.
    pub fn new(inner: Arc<dyn KvStore>) -> Self {
        Self {
            inner,
            inserts: Mutex::default(),
            pages: Mutex::default(),
            refused: Mutex::default(),
        }
    }

    /// From now on, inserts of keys starting with `prefix` fail with `error`; `None`
    /// lets every insert through again.
    pub fn refuse(&self, refused: Option<(&str, KvError)>) {
        *locked(&self.refused) = refused.map(|(prefix, e)| (prefix.to_owned(), e));
    }

    /// The inserts asked for so far whose key starts with `prefix`, in order.
    pub fn inserts(&self, prefix: &str) -> Vec<(String, InsertOptions)> {
        locked(&self.inserts)
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The prefix of each listing page asked for so far, in order.
    pub fn pages(&self) -> Vec<String> {
        locked(&self.pages).clone()
    }
}

impl KvStore for RecordingKv {
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
        locked(&self.inserts).push((key.to_owned(), options));
        if let Some((prefix, error)) = &*locked(&self.refused) {
            if key.starts_with(prefix.as_str()) {
                return Err(error.clone());
            }
        }
        self.inner.insert(store, key, value, options)
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
        locked(&self.pages).push(prefix.to_owned());
        self.inner.list_page(store, prefix, cursor, limit)
    }
}
