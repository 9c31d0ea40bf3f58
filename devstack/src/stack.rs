//! [`Stack`]: one running Pushpin + Viceroy pair serving the Edge Pub/Sub wasm app.
//!
//! Start-up, in order: pick free ports (or check the fixed ones), create a fresh run
//! directory under [`std::env::temp_dir`], write `pushpin.conf`, `routes` and
//! `fastly.toml` into it (see [`crate::conf`]), start Pushpin's runner and Viceroy side by
//! side (each under the stdin-pipe wrapper of [`crate::process`]), then wait until the
//! whole chain answers:
//!
//! 1. Pushpin accepts TCP on its proxy and publish ports;
//! 2. Viceroy accepts TCP on the app port (it compiles the wasm first, which is most of
//!    the start-up time);
//! 3. Pushpin -> Viceroy: `GET /` straight to Pushpin with `pushpin-route: self` reaches the
//!    app (with a `Grip-Sig`) and gets an answer that is not a gateway error;
//! 4. Viceroy -> Pushpin -> Viceroy: `GET /events?topic=devstack-ready` to Viceroy gets an
//!    answer that is not a gateway error (if the app hands it off, this covers the handoff);
//! 5. the same with a dev token, which the app answers with a stream hold, is not
//!    Pushpin's 500 "Accept service unavailable": its handler, which takes over held
//!    streams, is connected (it may not be yet when its ports are open, e.g. right after
//!    [`Stack::restart_pushpin`]).
//!
//! Only the status line of each probe is read, so a held stream does not block. The whole
//! wait is bounded (30 s, or `PUBSUB_STACK_TIMEOUT_SECS`); on failure the error names the
//! part that failed and carries the tail of its logs. Stopping (explicitly or on drop)
//! stops Viceroy, then Pushpin (SIGTERM to the runner, which stops its children), then
//! removes the run directory.
//!
//! `stack/programs.rs` finds the programs; `stack/launch.rs` chooses the ports, writes
//! the configuration files and spawns the services; `stack/ready.rs` waits for the five
//! stages above; `stack/logs.rs` reads the logs and notices a service that exited;
//! `stack/faults.rs` stops and starts Pushpin and Viceroy under a running stack (same
//! ports, files and logs) and switches the publish API off and on, for fault tests.

mod faults;
mod launch;
mod logs;
mod programs;
mod ready;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::conf;
use crate::counting::{CountingRelay, RequestLog};
use crate::process::{LogForwarder, Supervised};
use launch::{make_run_dir, Launch, Ports};
use programs::Programs;
use ready::ready_timeout;

/// How to start a [`Stack`]. `Default` gives free ports, no overrides, the release wasm
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
    /// Items the KV store `messages` starts with (instead of the manifest's contents);
    /// how the upgrade tests seed records another app wrote. Default: none, which keeps
    /// the manifest's contents.
    pub messages: Vec<KvSeed>,
}

/// One item of a KV store at start-up: its key, its value (UTF-8) and its KV metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvSeed {
    /// The item's key.
    pub key: String,
    /// The item's value.
    pub data: String,
    /// The item's KV metadata, if any.
    pub metadata: Option<String>,
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
            messages: Vec::new(),
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

/// A running Pushpin + Viceroy pair. Stopped by [`Stack::stop`] or on drop; its processes
/// also stop when the process that started them dies without dropping it.
#[derive(Debug)]
pub struct Stack {
    app_port: u16,
    proxy_port: u16,
    publish_port: u16,
    grip_key: String,
    run_dir: PathBuf,
    viceroy: Option<Supervised>,
    pushpin: Option<Supervised>,
    forwarders: Vec<LogForwarder>,
    counter: Option<CountingRelay>,
    publish_relay: Option<CountingRelay>,
    launch: Option<Launch>,
}

impl Stack {
    /// Starts Pushpin and Viceroy and waits until a request makes it through the whole
    /// chain. See the module documentation for the steps.
    pub fn start(opts: StackOptions) -> io::Result<Stack> {
        let workspace = crate::workspace_dir();
        let programs = Programs::find(&workspace, &opts.wasm)?;
        let ports = Ports::choose(&opts)?;
        // From here on, dropping `stack` cleans up whatever was started.
        let mut stack = Stack::new(ports, make_run_dir()?);
        if opts.count_app_requests {
            stack.counter = Some(CountingRelay::start(stack.app_port)?);
        }
        if opts.publish_relay {
            stack.publish_relay = Some(CountingRelay::start(stack.publish_port)?);
        }
        let configs = stack.write_configs(&workspace, &opts)?;
        let launch = Launch {
            programs,
            configs,
            workspace,
        };
        stack.spawn(launch, opts.quiet)?;
        stack.wait_ready(ready_timeout())?;
        Ok(stack)
    }

    /// Where clients connect: `http://127.0.0.1:<viceroy port>`.
    pub fn app_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.app_port)
    }

    /// Pushpin's publish endpoint: `http://127.0.0.1:<publish port>/publish/`.
    pub fn publish_url(&self) -> String {
        format!(
            "http://127.0.0.1:{}{}",
            self.publish_port,
            conf::PUBLISH_PATH
        )
    }

    /// The HS256 key Pushpin signs `Grip-Sig` with (issuer `pushpin`); the app has it as
    /// Secret Store `secrets` entry `grip-sig-key`.
    pub fn grip_key(&self) -> &str {
        &self.grip_key
    }

    /// The requests Pushpin has made to the app so far, when the stack was started with
    /// [`StackOptions::count_app_requests`]; `None` otherwise.
    pub fn app_requests(&self) -> Option<RequestLog> {
        self.counter.as_ref().map(CountingRelay::log)
    }

    /// Where the app's backend `api` points: the publish relay if there is one, else
    /// Pushpin's publish port.
    fn publish_api_port(&self) -> u16 {
        self.publish_relay
            .as_ref()
            .map_or(self.publish_port, CountingRelay::port)
    }

    /// Where Pushpin's route `self` points: the counting relay if there is one, else
    /// Viceroy.
    fn route_port(&self) -> u16 {
        self.counter
            .as_ref()
            .map_or(self.app_port, CountingRelay::port)
    }

    /// Viceroy's port.
    pub fn app_port(&self) -> u16 {
        self.app_port
    }

    /// Viceroy's own pid (not its wrapper's), while it runs: its `/proc/<pid>/stat`
    /// gives the CPU time the app's requests cost (`pubsub-bench`).
    pub fn viceroy_pid(&self) -> Option<u32> {
        self.viceroy.as_ref().map(Supervised::pid)
    }

    /// The pid of Pushpin's runner (the parent of condure, zurl, pushpin-proxy and
    /// pushpin-handler), while it runs (`pubsub-soak` reads their `/proc` entries).
    pub fn pushpin_pid(&self) -> Option<u32> {
        self.pushpin.as_ref().map(Supervised::pid)
    }

    /// Pushpin's client-facing HTTP port (normally reached only through Viceroy's
    /// handoff; a request sent here directly needs `pushpin-route: self`).
    pub fn proxy_port(&self) -> u16 {
        self.proxy_port
    }

    /// Pushpin's HTTP publish port.
    pub fn publish_port(&self) -> u16 {
        self.publish_port
    }

    /// The run directory: generated configs and the logs (`viceroy.log`, `pushpin.log`,
    /// `log/*.log`). Removed by [`Stack::stop`].
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// Stops Viceroy, then Pushpin (SIGTERM to its runner, which stops condure, zurl,
    /// pushpin-proxy and pushpin-handler), waits for them and removes the run directory.
    /// Idempotent; also runs on drop.
    pub fn stop(&mut self) {
        if let Some(mut viceroy) = self.viceroy.take() {
            viceroy.stop(Duration::from_secs(10));
        }
        if let Some(mut pushpin) = self.pushpin.take() {
            pushpin.stop(Duration::from_secs(15));
        }
        for mut relay in [self.counter.take(), self.publish_relay.take()]
            .into_iter()
            .flatten()
        {
            relay.stop();
        }
        for mut f in self.forwarders.drain(..) {
            f.stop();
        }
        if let Err(e) = std::fs::remove_dir_all(&self.run_dir) {
            if e.kind() != io::ErrorKind::NotFound {
                eprintln!(
                    "pubsub-devstack: cannot remove {}: {e}",
                    self.run_dir.display()
                );
            }
        }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_can_live_in_a_static() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Stack>();
    }

    #[test]
    fn default_options_point_at_the_release_wasm() {
        let opts = StackOptions::default();
        assert!(opts.wasm.is_absolute());
        assert!(opts
            .wasm
            .ends_with("wasm32-wasip1/release/edge-pubsub.wasm"));
        assert_eq!(
            (opts.app_port, opts.proxy_port, opts.publish_port),
            (None, None, None)
        );
    }

    #[test]
    fn missing_wasm_is_a_clear_error() {
        let err = Stack::start(StackOptions {
            wasm: PathBuf::from("/nonexistent/app.wasm"),
            ..StackOptions::default()
        })
        .expect_err("no wasm");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/nonexistent/app.wasm"));
    }
}
