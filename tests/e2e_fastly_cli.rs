//! `fastly compute serve` (the Fastly CLI from the npm registry, `tools/fastly-cli/`)
//! serves this project: the CLI runs the prebuilt wasm under the local Viceroy and starts
//! Debian's Pushpin 1.36 through `scripts/pushpin-for-fastly-cli.sh` (the
//! `[local_server.pushpin]` section of fastly.toml). One SSE subscriber receives one HTTP
//! publish, then the CLI is stopped with SIGTERM and every process it started must be
//! gone.
//!
//! Ports: the CLI takes the Viceroy address and both Pushpin ports as flags, but route
//! `self` (where Pushpin sends handed-off requests) and backend `api` (the publish
//! endpoint) come from the manifest, so the test runs the CLI in a fresh project
//! directory whose `fastly.toml` is the repository's with those four ports set to free
//! ones and its relative paths made absolute. The wrapper turns Pushpin's other ZeroMQ
//! ports (publish port + 1..3 in the CLI's config) into ipc sockets, so nothing else is
//! bound.
//!
//! Requirements: `scripts/setup.sh` (the CLI under `tools/fastly-cli/node_modules`,
//! Viceroy, Pushpin) and the release wasm. `PUBSUB_FASTLY_CLI` / `PUBSUB_VICEROY_BIN`
//! point at other binaries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pubsub_devstack::{default_wasm, dev_token, workspace_dir};

/// How long the CLI may take to answer (it starts Pushpin, then Viceroy compiles the wasm).
const READY_TIMEOUT: Duration = Duration::from_secs(90);

fn find_cli() -> PathBuf {
    if let Some(path) = std::env::var_os("PUBSUB_FASTLY_CLI") {
        return PathBuf::from(path);
    }
    // The native binary, not the Node wrapper in node_modules/.bin: stopping the wrapper
    // would not stop the CLI's children.
    let scope = workspace_dir().join("tools/fastly-cli/node_modules/@fastly");
    std::fs::read_dir(&scope)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("fastly"))
        .find(|bin| bin.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the Fastly CLI is not installed under {}: run scripts/setup.sh (or set \
                 PUBSUB_FASTLY_CLI)",
                scope.display()
            )
        })
}

fn find_viceroy() -> PathBuf {
    if let Some(path) = std::env::var_os("PUBSUB_VICEROY_BIN") {
        return PathBuf::from(path);
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter()
        .map(|d| d.join("viceroy"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("viceroy not found: run scripts/setup.sh"))
}

fn free_ports<const N: usize>() -> [u16; N] {
    // Hold every listener until all ports are chosen, so no port is picked twice.
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("bind"))
        .collect();
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener.local_addr().expect("addr").port();
    }
    ports
}

/// The repository's manifest text with the local ports and paths of one run.
fn manifest_for(app: u16, proxy: u16, publish: u16) -> String {
    let workspace = workspace_dir();
    let source = std::fs::read_to_string(workspace.join("fastly.toml")).expect("fastly.toml");
    let abs = |rel: &str| workspace.join(rel).display().to_string();
    // Textual edits keep the manifest's layout (the wrapper reads `grip-sig-key` and
    // `grip-sig-iss` from it); the parse below proves each one landed.
    let edits = [
        (
            "url = \"http://127.0.0.1:7676\"".to_owned(),
            format!("url = \"http://127.0.0.1:{app}\""),
        ),
        (
            "url = \"http://127.0.0.1:5561\"".to_owned(),
            format!("url = \"http://127.0.0.1:{publish}\""),
        ),
        (
            "proxy_port = 7677".to_owned(),
            format!("proxy_port = {proxy}"),
        ),
        (
            "publish_port = 5561".to_owned(),
            format!("publish_port = {publish}"),
        ),
        (
            "\"scripts/pushpin-for-fastly-cli.sh\"".to_owned(),
            format!("{:?}", abs("scripts/pushpin-for-fastly-cli.sh")),
        ),
        (
            "\"config/dev-keys.json\"".to_owned(),
            format!("{:?}", abs("config/dev-keys.json")),
        ),
    ];
    let mut text = source;
    for (from, to) in &edits {
        assert_eq!(
            text.matches(from.as_str()).count(),
            1,
            "fastly.toml should hold {from} once"
        );
        text = text.replace(from.as_str(), to);
    }
    let doc: toml::Table = text.parse().expect("the edited manifest is TOML");
    let local = &doc["local_server"];
    let get = |path: &[&str]| {
        path.iter()
            .try_fold(local, |v, k| v.get(*k))
            .unwrap_or_else(|| panic!("local_server.{} missing", path.join(".")))
            .clone()
    };
    assert_eq!(
        get(&["backends", "self", "url"]).as_str(),
        Some(&*format!("http://127.0.0.1:{app}"))
    );
    assert_eq!(
        get(&["backends", "api", "url"]).as_str(),
        Some(&*format!("http://127.0.0.1:{publish}"))
    );
    assert_eq!(get(&["pushpin", "enable"]).as_bool(), Some(true));
    assert_eq!(
        get(&["pushpin", "proxy_port"]).as_integer(),
        Some(i64::from(proxy))
    );
    assert_eq!(
        get(&["pushpin", "publish_port"]).as_integer(),
        Some(i64::from(publish))
    );
    assert_eq!(
        get(&["config_stores", "config", "contents", "publish-path"]).as_str(),
        Some("/publish/")
    );
    text
}

/// The running CLI. Dropping it SIGKILLs its whole process group as a last resort.
struct Cli {
    child: Child,
    output: mpsc::Receiver<String>,
    seen: Vec<String>,
    dir: PathBuf,
}

impl Cli {
    fn start(dir: &Path, app: u16) -> Cli {
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(find_cli())
            .args(["compute", "serve", "--non-interactive", "--viceroy-path"])
            .arg(find_viceroy())
            .arg("--file")
            .arg(default_wasm())
            .arg("--addr")
            .arg(format!("127.0.0.1:{app}"))
            .arg("--dir")
            .arg(dir)
            .current_dir(dir)
            // Keep the CLI's own config (it writes one on first run) out of $HOME.
            .env("XDG_CONFIG_HOME", dir.join("cli-config"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a failed test can still stop every child.
            .process_group(0)
            .spawn()
            .expect("start the Fastly CLI");
        let (tx, output) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Cli {
            child,
            output,
            seen: Vec::new(),
            dir: dir.to_owned(),
        }
    }

    fn log(&mut self) -> String {
        self.seen.extend(self.output.try_iter());
        self.seen.join("\n")
    }

    fn signal(&self, signal: &str, target: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", target])
            .stderr(Stdio::null())
            .status();
    }

    /// SIGTERM (the CLI then stops Pushpin and Viceroy) and waits for the exit.
    fn stop(&mut self, grace: Duration) -> bool {
        self.signal("-TERM", &self.child.id().to_string());
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.signal("-TERM", &self.child.id().to_string());
            std::thread::sleep(Duration::from_secs(2));
        }
        self.signal("-KILL", &format!("-{}", self.child.id()));
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every process whose parent chain reaches `root`: (pid, command name).
fn descendants(root: u32) -> BTreeMap<u32, String> {
    let mut parent = BTreeMap::new();
    let mut name = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split at the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c).to_owned();
        if let Some(ppid) = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent.insert(pid, ppid);
            name.insert(pid, comm);
        }
    }
    let mut found = BTreeMap::new();
    let mut frontier = BTreeSet::from([root]);
    while !frontier.is_empty() {
        let next: BTreeSet<u32> = parent
            .iter()
            .filter(|(pid, ppid)| frontier.contains(ppid) && !found.contains_key(*pid))
            .map(|(pid, _)| *pid)
            .collect();
        for pid in &next {
            found.insert(*pid, name.get(pid).cloned().unwrap_or_default());
        }
        frontier = next;
    }
    found
}

/// Whether `pid` still runs `comm` (a reused pid runs something else).
fn alive(pid: u32, comm: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.contains(&format!("({comm})")) && !stat.contains(") Z "))
        .unwrap_or(false)
}

/// The status code of `GET path`, or `None` while nothing answers.
fn status_of(app: u16, path: &str) -> Option<u16> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(3))
        .build();
    match agent.get(&format!("http://127.0.0.1:{app}{path}")).call() {
        Ok(res) => Some(res.status()),
        Err(ureq::Error::Status(code, _)) => Some(code),
        Err(_) => None,
    }
}

#[test]
fn fastly_compute_serve_delivers_a_publish_to_an_sse_subscriber() {
    let started = Instant::now();
    let wasm = default_wasm();
    assert!(
        wasm.is_file(),
        "{} missing: cargo build --bin edge-pubsub --release --target wasm32-wasip1",
        wasm.display()
    );
    let [app, proxy, publish] = free_ports::<3>();
    let dir = std::env::temp_dir().join(format!("pubsub-fastly-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("project dir");
    std::fs::write(dir.join("fastly.toml"), manifest_for(app, proxy, publish)).expect("manifest");

    let mut cli = Cli::start(&dir, app);

    // Ready: Viceroy answers, and a subscribe makes the round trip through Pushpin (a
    // missing token is refused by the app, which only happens after the handoff).
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(Some(status)) = cli.child.try_wait() {
            panic!("the CLI exited early ({status}):\n{}", cli.log());
        }
        if status_of(app, "/events?topic=ready").is_some_and(|s| !(502..=504).contains(&s)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready in {READY_TIMEOUT:?}:\n{}",
            cli.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let ready_after = started.elapsed();
    let children = descendants(cli.child.id());
    let names: BTreeSet<&str> = children.values().map(String::as_str).collect();
    for expected in [
        "viceroy",
        "pushpin",
        "condure",
        "zurl",
        "pushpin-proxy",
        "pushpin-handler",
    ] {
        assert!(
            names.contains(expected),
            "{expected} not running under the CLI: {names:?}"
        );
    }

    let topic = format!("cli-{}", std::process::id());
    let token = dev_token(&[&topic], &[&topic]);
    let agent = ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .build();
    let stream = agent
        .get(&format!(
            "http://127.0.0.1:{app}/events?topic={topic}&auth={token}"
        ))
        .call()
        .unwrap_or_else(|e| panic!("subscribe: {e}\n{}", cli.log()));
    assert_eq!(stream.status(), 200);
    let (tx, events) = mpsc::channel();
    let reader = BufReader::new(stream.into_reader());
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in reader.lines().map_while(Result::ok) {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_owned();
            } else if let Some(data) = line.strip_prefix("data: ") {
                if tx.send((event.clone(), data.to_owned())).is_err() {
                    break;
                }
            } else if line == "data:" && tx.send((event.clone(), String::new())).is_err() {
                break;
            }
        }
    });
    let first = events
        .recv_timeout(Duration::from_secs(10))
        .expect("stream-open");
    assert_eq!(first.0, "stream-open");

    let published = agent
        .post(&format!("http://127.0.0.1:{app}/events?topic={topic}"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_bytes(b"hello from fastly compute serve");
    let published = match published {
        Ok(res) | Err(ureq::Error::Status(_, res)) => res,
        Err(e) => panic!("publish: {e}"),
    };
    assert_eq!(
        published.status(),
        200,
        "publish answered {}",
        published.status()
    );
    let message = loop {
        let ev = events
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no message arrived:\n{}", cli.log()));
        if ev.0 != "keep-alive" {
            break ev;
        }
    };
    assert_eq!(
        message,
        (
            "message".to_owned(),
            "hello from fastly compute serve".to_owned()
        )
    );

    // Stop: the CLI must take Viceroy and Pushpin (runner and services) with it.
    let stop_started = Instant::now();
    assert!(
        cli.stop(Duration::from_secs(20)),
        "the CLI did not exit on SIGTERM"
    );
    let still_running = || -> Vec<String> {
        children
            .iter()
            .filter(|(pid, comm)| alive(**pid, comm))
            .map(|(pid, comm)| format!("{comm} ({pid})"))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut left = still_running();
    while !left.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        left = still_running();
    }
    assert!(
        left.is_empty(),
        "still running after the CLI stopped: {left:?}"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", app)).is_err(),
        "port {app} still open"
    );
    eprintln!(
        "fastly compute serve: ready after {ready_after:?}, stopped in {:?}, total {:?}",
        stop_started.elapsed(),
        started.elapsed()
    );
}

/// The parts of the config Fastly CLI 16.1 writes for Pushpin that the wrapper changes
/// (captured from a real run; comments and unchanged keys trimmed).
const CLI_PUSHPIN_CONF: &str = "\
[global]
include={libdir}/internal.conf
rundir=RUNDIR
ipc_prefix=

[runner]
services=connmgr,proxy,handler
http_port=27677
logdir=RUNDIR/logs

[proxy]
routesfile=RUNDIR/routes
accept_pushpin_route=true
sig_iss=viceroy
sig_key=viceroy_dev_signing_key_dont_use_in_production
updates_check=report

[handler]
push_in_spec=tcp://127.0.0.1:25562
push_in_sub_specs=tcp://127.0.0.1:25563
push_in_http_addr=0.0.0.0
push_in_http_port=25561
stats_spec=ipc://{rundir}/{ipc_prefix}stats
command_spec=tcp://127.0.0.1:25564
";

/// Values of `key` in `section` of an INI text, in order.
fn ini_values(conf: &str, section: &str, key: &str) -> Vec<String> {
    let mut current = String::new();
    let mut found = Vec::new();
    for line in conf.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.to_owned();
        } else if current == section {
            if let Some((k, v)) = line.split_once('=') {
                if k == key {
                    found.push(v.to_owned());
                }
            }
        }
    }
    found
}

#[test]
fn the_pushpin_wrapper_adapts_the_cli_config_for_pushpin_1_36() {
    let dir = std::env::temp_dir().join(format!("pubsub-pp-wrapper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let rundir = dir.join("run");
    let cli_conf = dir.join("cli.conf");
    std::fs::write(
        &cli_conf,
        CLI_PUSHPIN_CONF.replace("RUNDIR", &rundir.display().to_string()),
    )
    .expect("conf");
    // The wrapper reads the Grip-Sig settings from ./fastly.toml, as under the CLI.
    std::fs::copy(workspace_dir().join("fastly.toml"), dir.join("fastly.toml")).expect("copy");
    let output = Command::new(workspace_dir().join("scripts/pushpin-for-fastly-cli.sh"))
        .arg(format!("--config={}", cli_conf.display()))
        .arg("--verbose")
        .current_dir(&dir)
        .env("PUBSUB_PUSHPIN_BIN", "echo")
        .env_remove("PUBSUB_GRIP_SIG_KEY")
        .env_remove("PUBSUB_GRIP_SIG_ISS")
        .output()
        .expect("run the wrapper");
    assert!(output.status.success(), "{output:?}");
    let adapted = rundir.join("pushpin-1.36.conf");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("--config={} --verbose", adapted.display()),
        "the wrapper execs pushpin with the adapted config and the CLI's other arguments"
    );
    let conf = std::fs::read_to_string(&adapted).expect("adapted config");
    let _ = std::fs::remove_dir_all(&dir);
    let one = |section: &str, key: &str| {
        let values = ini_values(&conf, section, key);
        assert_eq!(values.len(), 1, "[{section}] {key}: {values:?}\n{conf}");
        values[0].clone()
    };
    let ipc = |name: &str| format!("ipc://{{rundir}}/{{ipc_prefix}}{name}");
    let expected = [
        (
            "runner",
            "services",
            "condure,zurl,pushpin-proxy,pushpin-handler".to_owned(),
        ),
        ("runner", "http_port", "127.0.0.1:27677".to_owned()),
        ("proxy", "zurl_out_specs", ipc("zurl-in")),
        ("proxy", "zurl_out_stream_specs", ipc("zurl-in-stream")),
        ("proxy", "zurl_in_specs", ipc("zurl-out")),
        ("proxy", "updates_check", "off".to_owned()),
        ("proxy", "sig_iss", "pushpin".to_owned()),
        (
            "proxy",
            "sig_key",
            "local-grip-signing-key-change-me".to_owned(),
        ),
        ("proxy", "accept_pushpin_route", "true".to_owned()),
        ("handler", "push_in_spec", ipc("push-in")),
        ("handler", "push_in_sub_specs", ipc("push-in-sub")),
        ("handler", "command_spec", ipc("handler-command")),
        ("handler", "push_in_http_addr", "127.0.0.1".to_owned()),
        ("handler", "push_in_http_port", "25561".to_owned()),
    ];
    for (section, key, value) in expected {
        assert_eq!(one(section, key), value, "[{section}] {key}");
    }
    assert!(
        !conf.contains("tcp://"),
        "no ZeroMQ TCP port is left:\n{conf}"
    );
}

#[test]
fn fastly_compute_pack_makes_a_package_that_validates_offline() {
    let wasm = default_wasm();
    assert!(wasm.is_file(), "{} missing", wasm.display());
    let dir = std::env::temp_dir().join(format!("pubsub-fastly-pack-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(workspace_dir().join("fastly.toml"), dir.join("fastly.toml")).expect("copy");
    let cli = |args: &[&str]| {
        let output = Command::new(find_cli())
            .args(args)
            .arg("--non-interactive")
            .current_dir(&dir)
            .env("XDG_CONFIG_HOME", dir.join("cli-config"))
            .stdin(Stdio::null())
            .output()
            .expect("run the Fastly CLI");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "fastly {args:?} failed:\n{text}");
        text
    };
    let wasm_arg = wasm.display().to_string();
    cli(&["compute", "pack", "--wasm-binary", &wasm_arg]);
    let package = dir.join("pkg/edge-pubsub.tar.gz");
    assert!(package.is_file(), "no {}", package.display());
    let listing = Command::new("tar")
        .arg("tzf")
        .arg(&package)
        .output()
        .expect("tar");
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    for member in ["edge-pubsub/bin/main.wasm", "edge-pubsub/fastly.toml"] {
        assert!(
            listing.lines().any(|l| l == member),
            "{member} not in:\n{listing}"
        );
    }
    let package_arg = package.display().to_string();
    let validated = cli(&["compute", "validate", "--package", &package_arg]);
    assert!(validated.contains("Validated package"), "{validated}");
    let _ = std::fs::remove_dir_all(&dir);
}
