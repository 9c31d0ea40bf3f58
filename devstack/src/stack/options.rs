//! [`StackOptions`]: how to start a [`super::Stack`].

use std::path::{Path, PathBuf};

use crate::conf;

/// How to start a [`super::Stack`]. `Default` gives free ports, no overrides, the release wasm
/// and forwarded logs.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Viceroy's port (what clients talk to); `None` picks a free port.
    pub app_port: Option<u16>,
    /// Pushpin's client-facing HTTP port (Viceroy hands off to it); `None` picks a free
    /// port.
    pub proxy_port: Option<u16>,
    /// Pushpin's HTTP publish port (`push_in_http_port`); `None` picks a free port.
    pub publish_port: Option<u16>,
    /// Config Store `config` entries to add or override (applied last).
    pub config: Vec<(String, String)>,
    /// Secret Store `secrets` entries to add or override (applied last). Overriding
    /// `grip-sig-key` also changes the key Pushpin signs with.
    pub secrets: Vec<(String, String)>,
    /// The app to serve; relative paths are relative to the workspace root. Default:
    /// `<target dir>/wasm32-wasip1/release/edge-pubsub.wasm` (`CARGO_TARGET_DIR` is
    /// honoured).
    pub wasm: PathBuf,
    /// When false, Viceroy's and Pushpin's runner output is copied to stderr with a
    /// `[viceroy]` / `[pushpin]` prefix. Logs are always written to the run directory.
    pub quiet: bool,
    /// When true, Pushpin reaches the app through a counting relay that records every
    /// request it makes ([`Stack::app_requests`]; see `counting.rs`). Default false.
    pub count_app_requests: bool,
    /// Pushpin's `[handler] message_rate` (messages per second it delivers to clients;
    /// Pushpin's and this stack's default: 2,500) and, scaled with it, `message_hwm`
    /// (10 × the rate, at least 25,000). `None` keeps the defaults; the soak runner
    /// (`pubsub-soak`) raises it so that fanning out to thousands of subscribers is not
    /// throttled.
    pub message_rate: Option<u32>,
    /// When true, the app's publish backend (`api`) reaches Pushpin's publish port
    /// through a relay that records each publish request ([`Stack::publish_requests`])
    /// and can be switched off ([`Stack::set_publish_api`]) to take the publish API down
    /// while Pushpin keeps running. Default false.
    pub publish_relay: bool,
    /// KV stores (`keys`, `messages`) left out of the run's `fastly.toml`: Viceroy then
    /// fails the app's calls to open them (`KV Store "<name>" not found`), which is how
    /// the fault tests make the store fail. Default: none.
    pub missing_kv_stores: Vec<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            app_port: None,
            proxy_port: None,
            publish_port: None,
            config: Vec::new(),
            secrets: Vec::new(),
            wasm: default_wasm(),
            quiet: false,
            count_app_requests: false,
            message_rate: None,
            publish_relay: false,
            missing_kv_stores: Vec::new(),
        }
    }
}

/// The default wasm path: `<target dir>/wasm32-wasip1/release/edge-pubsub.wasm`.
pub fn default_wasm() -> PathBuf {
    let workspace = crate::workspace_dir();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| conf::absolute(&workspace, Path::new(&dir)))
        .unwrap_or_else(|| workspace.join("target"));
    target
        .join("wasm32-wasip1")
        .join("release")
        .join("edge-pubsub.wasm")
}
