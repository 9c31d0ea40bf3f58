//! [`MetadataKv`]: an in-memory KV store that also keeps KV metadata, as Fastly's does, for
//! native tests of records written by another app (Fastly's original Pub/Sub app keeps
//! its versions there).
//!
//! Items live in a [`MemoryKv`] (its generations and failure switch); metadata sits beside
//! them. Only [`MetadataKv::insert_with_metadata`] writes metadata: an ordinary insert
//! or a delete drops the key's metadata, as a Fastly insert without metadata does.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::MemoryKv;
use crate::ports::{InsertOptions, KvEntry, KvError, KvItem, KvStore};

/// A [`MemoryKv`] with per-item KV metadata.
#[derive(Default)]
pub struct MetadataKv {
    /// The items.
    pub inner: MemoryKv,
    metadata: Mutex<BTreeMap<(String, String), Vec<u8>>>,
}

impl MetadataKv {
    fn metadata(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Vec<u8>>> {
        self.metadata.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `value` under `key` with KV metadata `metadata`, as another app would.
    pub fn insert_with_metadata(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        metadata: &[u8],
    ) -> Result<(), KvError> {
        self.inner
            .insert(store, key, value, InsertOptions::default())?;
        self.metadata()
            .insert((store.into(), key.into()), metadata.to_vec());
        Ok(())
    }
}

impl KvStore for MetadataKv {
    fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
        self.inner.lookup(store, key)
    }

    fn lookup_with_metadata(&self, store: &str, key: &str) -> Result<Option<KvEntry>, KvError> {
        let Some(item) = self.inner.lookup(store, key)? else {
            return Ok(None);
        };
        let metadata = self.metadata().get(&(store.into(), key.into())).cloned();
        Ok(Some(KvEntry { item, metadata }))
    }

    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: InsertOptions,
    ) -> Result<(), KvError> {
        self.inner.insert(store, key, value, options)?;
        self.metadata().remove(&(store.into(), key.into()));
        Ok(())
    }

    fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        self.inner.delete(store, key)?;
        self.metadata().remove(&(store.into(), key.into()));
        Ok(())
    }

    fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
        self.inner.list(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_read_with_its_item_and_dropped_by_an_ordinary_write() {
        let kv = MetadataKv::default();
        kv.insert_with_metadata("s", "k", b"v", b"m").expect("seed");
        let entry = kv
            .lookup_with_metadata("s", "k")
            .expect("read")
            .expect("present");
        assert_eq!(
            (entry.item.value, entry.metadata),
            (b"v".to_vec(), Some(b"m".to_vec()))
        );
        kv.insert("s", "k", b"w", InsertOptions::default())
            .expect("write");
        let entry = kv
            .lookup_with_metadata("s", "k")
            .expect("read")
            .expect("present");
        assert_eq!(entry.metadata, None);
        kv.delete("s", "k").expect("delete");
        assert_eq!(kv.lookup_with_metadata("s", "k").expect("read"), None);
    }
}
