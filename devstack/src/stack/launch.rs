//! Starting a stack: choosing ports, writing the configuration files into a fresh run
//! directory and spawning Pushpin and Viceroy (found by `programs.rs`).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::programs::Programs;
use super::{Stack, StackOptions};
use crate::conf::{self, FastlySettings, PushpinSettings};
use crate::net;
use crate::process::{LogForwarder, Supervised};

/// Distinguishes run directories of stacks started by one process.
static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A stack's ports: Viceroy's, and Pushpin's proxy and publish ports.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ports {
    pub(super) app: u16,
    pub(super) proxy: u16,
    pub(super) publish: u16,
}

impl Ports {
    /// The fixed ports of `opts`, checked to be free, and free ports for the others.
    pub(super) fn choose(opts: &StackOptions) -> io::Result<Self> {
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
        Ok(Self {
            app: pick(opts.app_port)?,
            proxy: pick(opts.proxy_port)?,
            publish: pick(opts.publish_port)?,
        })
    }
}

/// The generated configuration files that Pushpin and Viceroy are started with.
#[derive(Debug)]
pub(super) struct Configs {
    fastly_toml: PathBuf,
    pushpin_conf: PathBuf,
}

/// What a stack needs to start (and start again) Pushpin and Viceroy.
#[derive(Debug)]
pub(super) struct Launch {
    pub(super) programs: Programs,
    pub(super) configs: Configs,
    pub(super) workspace: PathBuf,
}

impl Stack {
    /// A stack on `ports` with nothing running yet; dropping it removes `run_dir`.
    pub(super) fn new(ports: Ports, run_dir: PathBuf) -> Self {
        Stack {
            app_port: ports.app,
            proxy_port: ports.proxy,
            publish_port: ports.publish,
            grip_key: String::new(),
            run_dir,
            viceroy: None,
            pushpin: None,
            forwarders: Vec::new(),
            counter: None,
            publish_relay: None,
            launch: None,
        }
    }

    /// Writes `fastly.toml`, `routes` and `pushpin.conf` into the run directory (and
    /// creates Pushpin's runtime and log directories), and records the Grip key.
    pub(super) fn write_configs(
        &mut self,
        workspace: &Path,
        opts: &StackOptions,
    ) -> io::Result<Configs> {
        let fastly_toml = self.write_fastly_toml(workspace, opts)?;
        let pushpin_conf = self.write_pushpin_files(opts.message_rate)?;
        Ok(Configs {
            fastly_toml,
            pushpin_conf,
        })
    }

    fn write_fastly_toml(&mut self, workspace: &Path, opts: &StackOptions) -> io::Result<PathBuf> {
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
                base_dir: workspace,
                publish_port: self.publish_api_port(),
                app_port: self.app_port,
                config: &opts.config,
                secrets: &opts.secrets,
                missing_kv_stores: &opts.missing_kv_stores,
                messages: &opts.messages,
            },
        )?;
        self.grip_key = derived.grip_key;
        let fastly_toml = self.run_dir.join("fastly.toml");
        std::fs::write(&fastly_toml, derived.toml)?;
        Ok(fastly_toml)
    }

    /// Writes `routes` and `pushpin.conf`; returns the latter's path.
    fn write_pushpin_files(&self, message_rate: Option<u32>) -> io::Result<PathBuf> {
        let pushpin_run = self.run_dir.join("pushpin");
        let log_dir = self.run_dir.join("log");
        std::fs::create_dir(&pushpin_run)?;
        std::fs::create_dir(&log_dir)?;
        let routes_file = self.run_dir.join("routes");
        std::fs::write(&routes_file, conf::routes(self.route_port()))?;
        let pushpin_conf = self.run_dir.join("pushpin.conf");
        std::fs::write(
            &pushpin_conf,
            conf::pushpin_conf(&PushpinSettings {
                rundir: &pushpin_run,
                logdir: &log_dir,
                routes_file: &routes_file,
                proxy_port: self.proxy_port,
                publish_port: self.publish_port,
                sig_iss: conf::SIG_ISS,
                sig_key: &self.grip_key,
                message_rate,
            })?,
        )?;
        Ok(pushpin_conf)
    }

    /// Starts Pushpin's runner and then Viceroy, each under the stdin-pipe wrapper, with
    /// their output in `pushpin.log` / `viceroy.log` (also copied to stderr unless
    /// `quiet`).
    pub(super) fn spawn(&mut self, launch: Launch, quiet: bool) -> io::Result<()> {
        if !quiet {
            for (log, prefix) in [("pushpin.log", "pushpin"), ("viceroy.log", "viceroy")] {
                let log = self.run_dir.join(log);
                std::fs::write(&log, "")?;
                self.forwarders.push(LogForwarder::start(&log, prefix));
            }
        }
        self.launch = Some(launch);
        self.spawn_pushpin()?;
        self.spawn_viceroy()
    }

    /// Starts Pushpin's runner (which removes the run directory once it is stopped for
    /// good, see `process.rs`).
    pub(super) fn spawn_pushpin(&mut self) -> io::Result<()> {
        let launch = self.launched()?;
        let pushpin = Supervised::spawn(
            "pushpin",
            &launch.programs.pushpin,
            &[
                "--config".into(),
                launch.configs.pushpin_conf.clone().into(),
            ],
            &self.run_dir,
            &self.run_dir.join("pushpin.log"),
            Some(&self.run_dir),
        )?;
        self.pushpin = Some(pushpin);
        Ok(())
    }

    /// Starts Viceroy serving the app.
    pub(super) fn spawn_viceroy(&mut self) -> io::Result<()> {
        let launch = self.launched()?;
        let args: Vec<OsString> = vec![
            "serve".into(),
            "-C".into(),
            launch.configs.fastly_toml.clone().into(),
            "--addr".into(),
            format!("127.0.0.1:{}", self.app_port).into(),
            "--local-pushpin-proxy-port".into(),
            self.proxy_port.to_string().into(),
            launch.programs.wasm.clone().into(),
        ];
        let viceroy = Supervised::spawn(
            "viceroy",
            &launch.programs.viceroy,
            &args,
            &launch.workspace,
            &self.run_dir.join("viceroy.log"),
            None,
        )?;
        self.viceroy = Some(viceroy);
        Ok(())
    }

    fn launched(&self) -> io::Result<&Launch> {
        self.launch
            .as_ref()
            .ok_or_else(|| io::Error::other("the stack was never started"))
    }
}

/// A fresh, empty run directory short enough for Pushpin's ipc socket paths.
pub(super) fn make_run_dir() -> io::Result<PathBuf> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dirs_are_fresh_and_short() {
        let a = make_run_dir().expect("dir");
        let b = make_run_dir().expect("dir");
        assert_ne!(a, b);
        assert!(a.join("pushpin").as_os_str().len() <= conf::MAX_RUN_DIR_LEN);
        let _ = std::fs::remove_dir_all(a);
        let _ = std::fs::remove_dir_all(b);
    }
}
