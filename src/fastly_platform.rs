//! The Fastly implementations of the ports, and conversions between `fastly` and `http`
//! types. Compiled only for wasm32: nothing else in the workspace imports `fastly`.
//!
//! Stores are opened lazily, on first use, so a request pays only for the stores it
//! touches. Edge Rate Limiting and the real-time log: `erl.rs`, `log.rs`.

mod erl;
mod log;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fastly::config_store::ConfigStore;
use fastly::kv_store::{InsertMode, KVStore, KVStoreError, LookupResponse};
use fastly::secret_store::SecretStore;

use pubsub_core::limits;
use pubsub_core::ports::{
    ConfigSource, Environment, InsertOptions, KvEntry, KvError, KvItem, KvPage, KvStore, Platform,
    Publisher, Secrets,
};
use pubsub_core::{Config, Request};

/// The backend that reaches the publish API.
const PUBLISH_BACKEND: &str = "api";

/// The ports for this request. `client` is only asked for `Fastly-Key` validity, and
/// only when `request` carries that header (the check costs a host call; most requests
/// don't present a key, and only `AdminAuth` ever asks).
pub fn platform(client: &fastly::handle::RequestHandle, request: &Request) -> Platform {
    let fastly_key_valid =
        request.headers().contains_key("fastly-key") && client.fastly_key_is_valid();
    Platform {
        kv: Arc::new(FastlyKv),
        config: Arc::new(FastlyConfig(std::sync::OnceLock::new())),
        secrets: Arc::new(FastlySecrets(std::sync::OnceLock::new())),
        publisher: Arc::new(FastlyPublisher),
        env: Arc::new(FastlyEnv { fastly_key_valid }),
        rate: Arc::new(erl::FastlyRateLimiter),
        log: Arc::new(log::FastlyLog),
    }
}

struct FastlyKv;

fn kv_error(e: KVStoreError) -> KvError {
    match e {
        KVStoreError::ItemPreconditionFailed => KvError::GenerationMismatch,
        // fastly 0.13.2 `kv_store/handle.rs`, `pending_insert_wait`: host status
        // `FastlyStatus::LIMITEXCEEDED` becomes `TooManyRequests` ("Too many KV Store
        // requests"); in production that is the one-write-per-second-per-key limit.
        KVStoreError::TooManyRequests => KvError::RateLimited,
        other => KvError::Unavailable(other.to_string()),
    }
}

fn open(store: &str) -> Result<KVStore, KvError> {
    KVStore::open(store)
        .map_err(kv_error)?
        .ok_or_else(|| KvError::Unavailable(format!("KV store {store:?} is not linked")))
}

/// The KV item under `key`, `None` when absent.
fn fetch(store: &str, key: &str) -> Result<Option<LookupResponse>, KvError> {
    match open(store)?.lookup(key) {
        Ok(found) => Ok(Some(found)),
        Err(KVStoreError::ItemNotFound) => Ok(None),
        Err(e) => Err(kv_error(e)),
    }
}

fn item_of(found: &mut LookupResponse) -> KvItem {
    KvItem {
        generation: found.current_generation(),
        value: found.take_body_bytes(),
    }
}

impl KvStore for FastlyKv {
    fn lookup(&self, store: &str, key: &str) -> Result<Option<KvItem>, KvError> {
        Ok(fetch(store, key)?.map(|mut found| item_of(&mut found)))
    }

    fn lookup_with_metadata(&self, store: &str, key: &str) -> Result<Option<KvEntry>, KvError> {
        Ok(fetch(store, key)?.map(|mut found| KvEntry {
            metadata: found.metadata().map(|m| m.to_vec()),
            item: item_of(&mut found),
        }))
    }

    fn lookup_many(&self, store: &str, keys: &[String]) -> Result<Vec<Option<KvItem>>, KvError> {
        let store = open(store)?;
        let pending = keys
            .iter()
            .map(|key| store.build_lookup().execute_async(key))
            .collect::<Result<Vec<_>, _>>()
            .map_err(kv_error)?;
        pending
            .into_iter()
            .map(|handle| match store.pending_lookup_wait(handle) {
                Ok(mut found) => Ok(Some(KvItem {
                    generation: found.current_generation(),
                    value: found.take_body_bytes(),
                })),
                Err(KVStoreError::ItemNotFound) => Ok(None),
                Err(e) => Err(kv_error(e)),
            })
            .collect()
    }

    fn insert(
        &self,
        store: &str,
        key: &str,
        value: &[u8],
        options: InsertOptions,
    ) -> Result<(), KvError> {
        let store = open(store)?;
        let mut insert = store.build_insert();
        if let Some(generation) = options.if_generation {
            insert = insert.if_generation_match(generation);
        }
        if options.if_absent {
            insert = insert.mode(InsertMode::Add);
        }
        if let Some(ttl) = options.ttl_secs {
            insert = insert.time_to_live(Duration::from_secs(u64::from(ttl)));
        }
        insert.execute(key, value.to_vec()).map_err(kv_error)
    }

    fn delete(&self, store: &str, key: &str) -> Result<(), KvError> {
        match open(store)?.delete(key) {
            Ok(()) | Err(KVStoreError::ItemNotFound) => Ok(()),
            Err(e) => Err(kv_error(e)),
        }
    }

    fn list(&self, store: &str) -> Result<Vec<String>, KvError> {
        let store = open(store)?;
        let mut keys = Vec::new();
        for page in store.build_list().iter() {
            keys.extend(page.map_err(kv_error)?.into_keys());
        }
        Ok(keys)
    }

    fn list_prefix(&self, store: &str, prefix: &str, limit: u32) -> Result<Vec<String>, KvError> {
        let page = open(store)?
            .build_list()
            .prefix(prefix)
            .limit(limit)
            .execute()
            .map_err(kv_error)?;
        Ok(page.into_keys())
    }

    fn list_page(
        &self,
        store: &str,
        prefix: &str,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<KvPage, KvError> {
        let store = open(store)?;
        let mut list = store.build_list().prefix(prefix).limit(limit);
        if let Some(cursor) = cursor {
            list = list.cursor(cursor);
        }
        let page = list.execute().map_err(kv_error)?;
        // The platform may end a listing with an empty cursor, or with an empty page.
        let next = page.next_cursor().filter(|c| !c.is_empty());
        let keys = page.into_keys();
        let next = next.filter(|_| !keys.is_empty());
        Ok(KvPage { keys, next })
    }
}

struct FastlyConfig(std::sync::OnceLock<Option<ConfigStore>>);

impl ConfigSource for FastlyConfig {
    fn get(&self, key: &str) -> Option<String> {
        // A missing store means defaults.
        self.0
            .get_or_init(|| ConfigStore::try_open("config").ok())
            .as_ref()?
            .try_get(key)
            .ok()
            .flatten()
    }
}

struct FastlySecrets(std::sync::OnceLock<Option<SecretStore>>);

impl Secrets for FastlySecrets {
    fn get(&self, name: &str) -> Option<Vec<u8>> {
        let secret = self
            .0
            .get_or_init(|| SecretStore::open("secrets").ok())
            .as_ref()?
            .try_get(name)
            .ok()
            .flatten()?;
        Some(secret.plaintext().to_vec())
    }
}

struct FastlyPublisher;

impl Publisher for FastlyPublisher {
    fn publish(&self, config: &Config, body: Vec<u8>) -> Result<(), String> {
        let path = match &config.publish_path {
            Some(path) => path.clone(),
            None => {
                let id = std::env::var("FASTLY_SERVICE_ID")
                    .map_err(|_| "FASTLY_SERVICE_ID is not set".to_owned())?;
                format!("/service/{id}/publish/")
            }
        };
        let token = FastlySecrets(std::sync::OnceLock::new())
            .get("publish-token")
            .ok_or("Secret Store `secrets` has no `publish-token`")?;
        let token = String::from_utf8(token).map_err(|_| "publish-token is not UTF-8")?;
        let (status, answer) = post(&format!("https://api.fastly.com{path}"), &token, body)?;
        if status.is_success() {
            Ok(())
        } else {
            let text = String::from_utf8_lossy(&answer.into_bytes()).into_owned();
            let text = limits::cut_at_char_boundary(&text, 200);
            Err(format!("publish API answered {status}: {}", text.trim()))
        }
    }
}

/// POSTs `body` as JSON with `token` to `url` through the publish backend; the answer's
/// status and (unread) body. Through the handle API, not `fastly::Request`: a publish is
/// never cached, and `Request::send` links (and runs) the HTTP cache's machinery, 100 KB
/// of the module.
fn post(
    url: &str,
    token: &str,
    body: Vec<u8>,
) -> Result<(http::StatusCode, fastly::handle::BodyHandle), String> {
    use fastly::handle::{BodyHandle, RequestHandle};
    use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};

    let url = fastly::http::Url::parse(url).map_err(|e| format!("publish URL {url:?}: {e}"))?;
    let bearer = HeaderValue::try_from(format!("Bearer {token}"))
        .map_err(|_| "publish-token is not a valid header value")?;
    let mut request = RequestHandle::new();
    request.set_method(&http::Method::POST);
    request.set_url(&url);
    request.insert_header(&AUTHORIZATION, &bearer);
    request.insert_header(&CONTENT_TYPE, &HeaderValue::from_static("application/json"));
    let (response, answer) = request
        .send(BodyHandle::from(body), PUBLISH_BACKEND)
        .map_err(|e| format!("publish API unreachable: {e} (backend {PUBLISH_BACKEND})"))?;
    Ok((response.get_status(), answer))
}

struct FastlyEnv {
    fastly_key_valid: bool,
}

impl Environment for FastlyEnv {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }

    fn now_micros(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    fn random(&self, buf: &mut [u8]) -> Result<(), String> {
        // WASI's random_get is the platform's secure source.
        getrandom::fill(buf).map_err(|e| format!("no secure randomness: {e}"))
    }

    fn service_id(&self) -> Option<String> {
        std::env::var("FASTLY_SERVICE_ID").ok()
    }

    fn fastly_key_is_valid(&self, _key: &str) -> bool {
        self.fastly_key_valid
    }

    fn cached(&self, key: &str) -> bool {
        let key = key.as_bytes().to_vec().into();
        matches!(fastly::cache::core::lookup(key).execute(), Ok(Some(_)))
    }

    fn cache(&self, key: &str, ttl_secs: u32) {
        let key = key.as_bytes().to_vec().into();
        let ttl = Duration::from_secs(u64::from(ttl_secs));
        // An empty entry: being there is the fact.
        if let Ok(body) = fastly::cache::core::insert(key, ttl)
            .known_length(0)
            .execute()
        {
            let _ = body.finish();
        }
    }

    fn cache_get(&self, key: &str) -> Option<Vec<u8>> {
        let key = key.as_bytes().to_vec().into();
        let found = fastly::cache::core::lookup(key).execute().ok()??;
        let mut body = found.to_stream().ok()?;
        let mut value = Vec::new();
        std::io::Read::read_to_end(&mut body, &mut value).ok()?;
        Some(value)
    }

    fn cache_put(&self, key: &str, value: &[u8], ttl_secs: u32) {
        let key = key.as_bytes().to_vec().into();
        let ttl = Duration::from_secs(u64::from(ttl_secs));
        let length = u64::try_from(value.len()).unwrap_or(u64::MAX);
        if let Ok(mut body) = fastly::cache::core::insert(key, ttl)
            .known_length(length)
            .execute()
        {
            if std::io::Write::write_all(&mut body, value).is_ok() {
                let _ = body.finish();
            }
        }
    }
}
