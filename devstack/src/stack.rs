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
//!    answer that is not a gateway error (if the app hands it off, this covers the handoff).
//!
//! Only the status line of each probe is read, so a held stream does not block. The whole
//! wait is bounded (30 s, or `PUBSUB_STACK_TIMEOUT_SECS`); on failure the error names the
//! part that failed and carries the tail of its logs. Stopping (explicitly or on drop)
//! stops Viceroy, then Pushpin (SIGTERM to the runner, which stops its children), then
//! removes the run directory.
//!
//! `stack/options.rs` holds [`StackOptions`]; `stack/programs.rs` finds the programs;
//! `stack/launch.rs` chooses the ports, writes the configuration files and spawns the
//! services; `stack/ready.rs` waits for the four stages above;
//! `stack/faults.rs` stops and starts Pushpin and Viceroy under a running stack (same
//! ports, files and logs) and switches the publish API off and on, for fault tests.

mod faults;
mod launch;
mod options;
mod programs;
mod ready;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::conf;
use crate::counting::{CountingRelay, RequestLog};
use crate::process::{tail, LogForwarder, Supervised};
use launch::{make_run_dir, Launch, Ports};
pub use options::{default_wasm, StackOptions};
use programs::Programs;
use ready::ready_timeout;

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

/// Log files of Pushpin's services, relative to the run directory.
const PUSHPIN_LOGS: [&str; 5] = [
    "pushpin.log",
    "log/condure.log",
    "log/zurl.log",
    "log/pushpin-proxy.log",
    "log/pushpin-handler.log",
];

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

    /// The last lines of every log, for diagnosing a failed test.
    pub fn logs(&self) -> String {
        let mut names = vec!["viceroy.log"];
        names.extend(PUSHPIN_LOGS);
        self.log_tails(&names, 30)
    }

    /// `Ok` while both Viceroy and Pushpin run; otherwise an error naming the one that
    /// exited, with the tail of its log.
    pub fn check_running(&mut self) -> io::Result<()> {
        for (slot, logs) in [
            (&mut self.viceroy, &["viceroy.log"][..]),
            (&mut self.pushpin, &PUSHPIN_LOGS[..]),
        ] {
            if let Some(p) = slot.as_mut() {
                if let Some(status) = p.exit_status() {
                    let (name, pid) = (p.name().to_string(), p.pid());
                    return Err(io::Error::other(format!(
                        "{name} (pid {pid}) exited unexpectedly ({status})\n{}",
                        log_tails(&self.run_dir, logs, 30)
                    )));
                }
            }
        }
        Ok(())
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

    fn log_tails(&self, names: &[&str], lines: usize) -> String {
        log_tails(&self.run_dir, names, lines)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Tails of the named logs that exist (a service that never started has none).
fn log_tails(run_dir: &Path, names: &[&str], lines: usize) -> String {
    names
        .iter()
        .map(|name| run_dir.join(name))
        .filter(|path| path.exists())
        .map(|path| format!("--- {} ---\n{}", path.display(), tail(&path, lines)))
        .collect::<Vec<_>>()
        .join("\n")
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
