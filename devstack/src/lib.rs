//! Local Edge Pub/Sub stack: Viceroy (Fastly's local Compute server) running the wasm app,
//! plus Pushpin (Fanout's open-source twin) holding the client connections.
//!
//! ```text
//! client ──> Viceroy :app ──handoff_fanout("self")──> Pushpin :proxy
//!                ^                                      │ route `self`, Grip-Sig (HS256)
//!                └──────────────────────────────────────┘
//! app ──POST /publish/ (backend `api`)──> Pushpin :publish ──> held connections
//! ```
//!
//! A test fixture, native only (never compiled to wasm). It is used by
//!
//! - the workspace's end-to-end tests under `tests/` (`scripts/test.sh`), which start
//!   stacks on free ports, among them the fault tests (`tests/e2e_faults.rs`), which stop
//!   and start Pushpin and Viceroy under live subscribers ([`Stack::restart_pushpin`],
//!   [`Stack::restart_viceroy`], or stop and start separately) and take the publish API
//!   down ([`StackOptions::publish_relay`], [`Stack::set_publish_api`]);
//! - the `pubsub-dev` binary (`scripts/run.sh`), which runs a stack in the foreground on
//!   fixed ports; and
//! - the measuring programs of `tools/measure` (`pubsub-bench`, `pubsub-soak`,
//!   `pubsub-idle-cost`, `pubsub-wildcard-cost`), which read what a stack costs through
//!   [`Stack::viceroy_pid`] and the counting relay of
//!   [`StackOptions::count_app_requests`].
//!
//! Modules:
//!
//! - `stack`: [`Stack`] and [`StackOptions`], start-up, readiness, restarts and faults;
//! - `conf`: the run directory's Pushpin, routes and `fastly.toml` files;
//! - `process`: child processes that never outlive this one;
//! - `net`: free loopback ports and readiness probes;
//! - `counting`: the relay that records the requests Pushpin makes to the app
//!   ([`RequestLog`]);
//! - `node`: a `tests/js` script driven from Rust ([`NodeScript`]);
//! - `token`: dev tokens ([`dev_token`], [`mint_token`]).
//!
//! A test binary typically shares one stack between its tests:
//!
//! ```no_run
//! use std::sync::OnceLock;
//! use pubsub_devstack::{dev_token, Stack, StackOptions};
//!
//! fn stack() -> &'static Stack {
//!     static STACK: OnceLock<Stack> = OnceLock::new();
//!     STACK.get_or_init(|| {
//!         Stack::start(StackOptions { quiet: true, ..StackOptions::default() })
//!             .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"))
//!     })
//! }
//!
//! let url = format!("{}/events?topic=demo&auth={}", stack().app_url(), dev_token(&["demo"], &[]));
//! # let _ = url;
//! ```
//!
//! A static is never dropped, but the stack's processes still stop when the test binary
//! exits: each runs under a wrapper that watches a pipe from this process (see
//! `process.rs`). Tests that need different settings (Config Store overrides, another
//! Grip key) start their own `Stack`, which stops when dropped. Build the wasm first:
//! `cargo build --bin edge-pubsub --release --target wasm32-wasip1` (`scripts/test.sh`
//! does). Requirements: `pushpin` 1.36 and `viceroy` 0.22.0 on `PATH` or in
//! `~/.cargo/bin` (`scripts/setup.sh` installs them), or `PUBSUB_PUSHPIN_BIN` /
//! `PUBSUB_VICEROY_BIN`. `PUBSUB_STACK_TIMEOUT_SECS` changes the 30 s start-up bound.

mod conf;
mod counting;
mod net;
mod node;
mod process;
mod stack;
mod token;

use std::path::{Path, PathBuf};

pub use counting::{AppRequest, RequestLog, BODY_CAPTURE};
pub use node::NodeScript;
pub use stack::{default_wasm, KvSeed, Stack, StackOptions};
pub use token::{dev_token, mint_token};

/// Key id of the dev signing key in KV store `keys` (`config/dev-keys.json`).
pub const DEV_KEY_ID: &str = "dev";

/// The dev signing key's HS256 secret: the HMAC key is `DEV_KEY_SECRET.as_bytes()`, and
/// `config/dev-keys.json` stores it as is in the record
/// `{"kind":"hs256","secret":..,"created":0}` under key [`DEV_KEY_ID`].
pub const DEV_KEY_SECRET: &str = "dev-signing-key-for-local-use-only";

/// The Cargo workspace root (parent of this crate), where `fastly.toml` lives.
pub fn workspace_dir() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Viceroy 0.22's JSON format for a KV store (`format = "json"`): one object whose
    /// values are either a string (the value) or an object with exactly one of `data`
    /// (string) / `file` (path), and optionally `metadata` (string).
    #[test]
    fn dev_keys_json_is_a_viceroy_kv_file_holding_the_dev_key() {
        let path = workspace_dir().join("config").join("dev-keys.json");
        let text = std::fs::read_to_string(&path).expect("read dev-keys.json");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        let entries = json.as_object().expect("top level is an object");
        for (key, value) in entries {
            let ok = value.is_string()
                || value.as_object().is_some_and(|o| {
                    let data = o.get("data").map(serde_json::Value::is_string);
                    let file = o.get("file").map(serde_json::Value::is_string);
                    let meta_ok = o.get("metadata").is_none_or(serde_json::Value::is_string);
                    meta_ok && matches!((data, file), (Some(true), None) | (None, Some(true)))
                });
            assert!(ok, "entry {key} is not in Viceroy's KV JSON format");
        }
        let record = entries[DEV_KEY_ID].as_str().expect("dev value is a string");
        let record: serde_json::Value = serde_json::from_str(record).expect("record is JSON");
        assert_eq!(record["kind"], "hs256");
        assert_eq!(record["secret"], DEV_KEY_SECRET);
    }

    #[test]
    fn workspace_dir_holds_the_manifest() {
        assert!(workspace_dir().join("fastly.toml").is_file());
    }
}
