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

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::conf::{self, FastlySettings, PushpinSettings};
use crate::net;
use crate::process::{tail, LogForwarder, Supervised};

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
}

/// Distinguishes run directories of stacks started by one process.
static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

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
        let wasm = conf::absolute(&workspace, &opts.wasm);
        if !wasm.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "wasm app {} not found; build it with `cargo build --bin edge-pubsub \
                     --release --target wasm32-wasip1`",
                    wasm.display()
                ),
            ));
        }
        let viceroy_bin = find_program("viceroy", "PUBSUB_VICEROY_BIN")?;
        let pushpin_bin = find_program("pushpin", "PUBSUB_PUSHPIN_BIN")?;

        let wanted = [opts.app_port, opts.proxy_port, opts.publish_port];
        for (port, what) in wanted
            .iter()
            .zip(["app", "Pushpin proxy", "Pushpin publish"])
        {
            if let Some(port) = port {
                net::check_port_free(*port, what)?;
            }
        }
        let mut free = net::free_ports(wanted.iter().filter(|p| p.is_none()).count())?.into_iter();
        let mut pick = |fixed: Option<u16>| {
            fixed
                .or_else(|| free.next())
                .ok_or_else(|| io::Error::other("free port allocation came up short"))
        };
        let app_port = pick(opts.app_port)?;
        let proxy_port = pick(opts.proxy_port)?;
        let publish_port = pick(opts.publish_port)?;

        let run_dir = make_run_dir()?;
        // From here on, dropping `stack` cleans up whatever was started.
        let mut stack = Stack {
            app_port,
            proxy_port,
            publish_port,
            grip_key: String::new(),
            run_dir,
            viceroy: None,
            pushpin: None,
            forwarders: Vec::new(),
        };
        let run_dir = stack.run_dir.clone();
        let pushpin_run = run_dir.join("pushpin");
        let log_dir = run_dir.join("log");
        std::fs::create_dir(&pushpin_run)?;
        std::fs::create_dir(&log_dir)?;

        let manifest_path = workspace.join("fastly.toml");
        let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read {}: {e}", manifest_path.display()),
            )
        })?;
        let derived = conf::derive_fastly_toml(
            &manifest,
            &FastlySettings {
                base_dir: &workspace,
                publish_port,
                app_port,
                config: &opts.config,
                secrets: &opts.secrets,
            },
        )?;
        stack.grip_key = derived.grip_key;
        let fastly_toml = run_dir.join("fastly.toml");
        std::fs::write(&fastly_toml, derived.toml)?;
        let routes_file = run_dir.join("routes");
        std::fs::write(&routes_file, conf::routes(app_port))?;
        let pushpin_conf = run_dir.join("pushpin.conf");
        std::fs::write(
            &pushpin_conf,
            conf::pushpin_conf(&PushpinSettings {
                rundir: &pushpin_run,
                logdir: &log_dir,
                routes_file: &routes_file,
                proxy_port,
                publish_port,
                sig_iss: conf::SIG_ISS,
                sig_key: &stack.grip_key,
            })?,
        )?;

        let pushpin_log = run_dir.join("pushpin.log");
        let viceroy_log = run_dir.join("viceroy.log");
        if !opts.quiet {
            std::fs::write(&pushpin_log, "")?;
            std::fs::write(&viceroy_log, "")?;
            stack
                .forwarders
                .push(LogForwarder::start(&pushpin_log, "pushpin"));
            stack
                .forwarders
                .push(LogForwarder::start(&viceroy_log, "viceroy"));
        }
        stack.pushpin = Some(Supervised::spawn(
            "pushpin",
            &pushpin_bin,
            &["--config".into(), pushpin_conf.into()],
            &run_dir,
            &pushpin_log,
            Some(&run_dir),
        )?);
        let viceroy_args: Vec<OsString> = vec![
            "serve".into(),
            "-C".into(),
            fastly_toml.into(),
            "--addr".into(),
            format!("127.0.0.1:{app_port}").into(),
            "--local-pushpin-proxy-port".into(),
            proxy_port.to_string().into(),
            wasm.into(),
        ];
        stack.viceroy = Some(Supervised::spawn(
            "viceroy",
            &viceroy_bin,
            &viceroy_args,
            &workspace,
            &viceroy_log,
            None,
        )?);
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

    /// Viceroy's port.
    pub fn app_port(&self) -> u16 {
        self.app_port
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

    fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut stage = Stage::PushpinPorts;
        let mut last_answer = String::new();
        loop {
            self.check_running()
                .map_err(|e| io::Error::other(format!("stack failed to start: {e}")))?;
            let advanced = match stage {
                Stage::PushpinPorts => {
                    net::tcp_open(self.proxy_port) && net::tcp_open(self.publish_port)
                }
                Stage::ViceroyPort => net::tcp_open(self.app_port),
                Stage::PushpinToApp => self.probe(
                    self.proxy_port,
                    "/",
                    &[("pushpin-route", "self")],
                    &mut last_answer,
                ),
                Stage::Chain => self.probe(
                    self.app_port,
                    "/events?topic=devstack-ready",
                    &[],
                    &mut last_answer,
                ),
            };
            if advanced {
                last_answer.clear();
                stage = match stage {
                    Stage::PushpinPorts => Stage::ViceroyPort,
                    Stage::ViceroyPort => Stage::PushpinToApp,
                    Stage::PushpinToApp => Stage::Chain,
                    Stage::Chain => return Ok(()),
                };
                continue;
            }
            if Instant::now() >= deadline {
                let (what, logs): (String, Vec<&str>) = match stage {
                    Stage::PushpinPorts => (
                        format!(
                            "Pushpin to listen on 127.0.0.1:{} (proxy) and 127.0.0.1:{} \
                             (publish)",
                            self.proxy_port, self.publish_port
                        ),
                        PUSHPIN_LOGS.to_vec(),
                    ),
                    Stage::ViceroyPort => (
                        format!("Viceroy to listen on 127.0.0.1:{}", self.app_port),
                        vec!["viceroy.log"],
                    ),
                    Stage::PushpinToApp => (
                        format!(
                            "Pushpin (127.0.0.1:{}) to reach the app through route `self` \
                             (127.0.0.1:{})",
                            self.proxy_port, self.app_port
                        ),
                        vec!["log/pushpin-proxy.log", "log/zurl.log", "viceroy.log"],
                    ),
                    Stage::Chain => (
                        format!(
                            "a request through Viceroy (127.0.0.1:{}) with Fanout handoff to \
                             Pushpin (127.0.0.1:{})",
                            self.app_port, self.proxy_port
                        ),
                        vec!["viceroy.log", "log/pushpin-proxy.log"],
                    ),
                };
                let answer = if last_answer.is_empty() {
                    String::new()
                } else {
                    format!(" (last answer: {last_answer})")
                };
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "stack did not become ready within {timeout:?}: timed out waiting for \
                         {what}{answer}; run dir {}\n{}",
                        self.run_dir.display(),
                        self.log_tails(&logs, 30)
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One readiness probe: any answer counts except a gateway error (502-504) and
    /// Viceroy's own 500 for a failed Fanout handoff ("Could not connect to handoff
    /// target"), which means Pushpin is not reachable yet.
    fn probe(&self, port: u16, path: &str, headers: &[(&str, &str)], last: &mut String) -> bool {
        match net::http_get(port, path, headers) {
            Ok(answer) if is_ready_answer(&answer) => true,
            Ok(answer) => {
                *last = format!("HTTP {} {}", answer.status, answer.error_body);
                false
            }
            Err(e) => {
                *last = e.to_string();
                false
            }
        }
    }
}

/// Whether a probe's answer shows that the chain works (see [`Stack::probe`]).
fn is_ready_answer(answer: &net::Answer) -> bool {
    let gateway_error = (502..=504).contains(&answer.status);
    let handoff_error =
        answer.status == 500 && answer.error_body.to_ascii_lowercase().contains("handoff");
    !gateway_error && !handoff_error
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop();
    }
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    PushpinPorts,
    ViceroyPort,
    PushpinToApp,
    Chain,
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

fn ready_timeout() -> Duration {
    std::env::var("PUBSUB_STACK_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30))
}

/// A fresh, empty run directory short enough for Pushpin's ipc socket paths.
fn make_run_dir() -> io::Result<PathBuf> {
    let name = format!(
        "pubsub-devstack-{}-{}",
        std::process::id(),
        RUN_COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut base = std::env::temp_dir();
    // `<run dir>/pushpin` holds the sockets; keep it within the limit.
    if base.join(&name).join("pushpin").as_os_str().len() > conf::MAX_RUN_DIR_LEN {
        base = PathBuf::from("/tmp");
    }
    let dir = base.join(name);
    if dir.exists() {
        // Left over from an earlier process that had the same pid.
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Finds an executable: `$<env_var>`, then `PATH`, then Cargo's bin directory (where
/// `cargo install viceroy` puts it).
fn find_program(name: &str, env_var: &str) -> io::Result<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(path) = std::env::var_os(env_var) {
        return Ok(PathBuf::from(path));
    }
    let is_exec = |p: &Path| {
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    };
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(cargo_home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo").join("bin"));
    }
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "`{name}` not found on PATH or in ~/.cargo/bin; run scripts/setup.sh (or \
                     set {env_var})"
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_ignores_app_answers_but_not_gateway_or_handoff_errors() {
        let answer = |status, body: &str| net::Answer {
            status,
            error_body: body.to_string(),
        };
        assert!(is_ready_answer(&answer(200, "")));
        assert!(is_ready_answer(&answer(401, "")));
        assert!(is_ready_answer(&answer(404, "")));
        assert!(is_ready_answer(&answer(500, "app bug")));
        assert!(!is_ready_answer(&answer(
            502,
            "Error while proxying to origin."
        )));
        assert!(!is_ready_answer(&answer(503, "")));
        assert!(!is_ready_answer(&answer(
            500,
            "Error: Could not connect to handoff target: Connection refused (os error 111)."
        )));
    }

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

    #[test]
    fn run_dirs_are_fresh_and_short() {
        let a = make_run_dir().expect("dir");
        let b = make_run_dir().expect("dir");
        assert_ne!(a, b);
        assert!(a.join("pushpin").as_os_str().len() <= conf::MAX_RUN_DIR_LEN);
        let _ = std::fs::remove_dir_all(a);
        let _ = std::fs::remove_dir_all(b);
    }

    #[test]
    fn programs_are_found_on_path() {
        assert!(find_program("sh", "PUBSUB_TEST_UNSET_VARIABLE").is_ok());
        let err =
            find_program("no-such-program-xyz", "PUBSUB_TEST_UNSET_VARIABLE").expect_err("missing");
        assert!(err.to_string().contains("scripts/setup.sh"));
    }
}
