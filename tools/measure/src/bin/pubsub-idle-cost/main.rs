//! `pubsub-idle-cost`: measures how often Pushpin calls the app (each call a billed
//! Compute request behind Fastly Fanout) for connections that do nothing.
//!
//! Starts a stack with the counting relay (`StackOptions::count_app_requests`), opens
//! `--connections` idle connections of each kind — plain SSE (`GET /events?topic=..`),
//! durable SSE (`&durable=true`), MQTT 5 and MQTT 3.1.1 with MQTT.js's defaults
//! (`tests/js/idle.mjs`; keepalive 60 s) — each on its own topic with a token valid for a
//! day, waits `--settle-secs`, then counts the app requests during `--minutes` of
//! idleness. Prints a table (connection kind, connections, app requests, invocations per
//! connection-hour = requests / connections / idle hours, request types, what the clients
//! saw) and writes `idle-cost.csv` and `requests.csv` (every request recorded, set-up
//! included) into `--out` (default `<target dir>/idle-cost`). Loopback only; stops
//! everything it started. Run it with `scripts/idle-cost.sh`.

mod mqtt;
mod output;
mod report;
mod sse;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mqtt::{ClientSpec, NodeClients};
use pubsub_devstack::{mint_token, Stack, StackOptions, DEV_KEY_ID, DEV_KEY_SECRET};
use report::{Conn, Kind, Observed};
use sse::SseSubscriber;

const USAGE: &str = "usage: pubsub-idle-cost [--minutes M (3)] [--connections N per kind (2)] \
                     [--settle-secs S (5)] [--out DIR (<target dir>/idle-cost)]";

/// Tokens live a day, so that their expiry is not what is measured.
const TOKEN_TTL_SECS: u64 = 24 * 60 * 60;

struct Args {
    minutes: f64,
    connections: usize,
    settle: Duration,
    out: PathBuf,
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub-idle-cost: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> io::Result<Args> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| pubsub_devstack::workspace_dir().join("target"));
    let mut args = Args {
        minutes: 3.0,
        connections: 2,
        settle: Duration::from_secs(5),
        out: target.join("idle-cost"),
    };
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}\n{USAGE}"));
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| bad(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--minutes" => args.minutes = value()?.parse().map_err(|_| bad("bad --minutes"))?,
            "--connections" => {
                args.connections = value()?.parse().map_err(|_| bad("bad --connections"))?;
            }
            "--settle-secs" => {
                let secs: u64 = value()?.parse().map_err(|_| bad("bad --settle-secs"))?;
                args.settle = Duration::from_secs(secs);
            }
            "--out" => args.out = PathBuf::from(value()?),
            "-h" | "--help" => return Err(bad("")),
            other => return Err(bad(&format!("unknown argument {other}"))),
        }
    }
    let minutes_ok = args.minutes > 0.0 && args.minutes <= 24.0 * 60.0;
    if !minutes_ok || !(1..=999).contains(&args.connections) {
        return Err(bad(
            "--minutes must be in (0, 1440] and --connections in 1..=999",
        ));
    }
    Ok(args)
}

fn run(args: &Args) -> io::Result<()> {
    let js_dir = pubsub_devstack::workspace_dir().join("tests").join("js");
    if !js_dir
        .join("node_modules")
        .join("mqtt")
        .join("package.json")
        .is_file()
    {
        return Err(io::Error::other(format!(
            "MQTT.js is not installed in {}: run scripts/setup.sh",
            js_dir.display()
        )));
    }
    eprintln!("pubsub-idle-cost: starting Pushpin and Viceroy with the counting relay");
    let mut stack = Stack::start(StackOptions {
        quiet: true,
        count_app_requests: true,
        ..StackOptions::default()
    })?;
    let log = stack
        .app_requests()
        .ok_or_else(|| io::Error::other("no request log"))?;
    let mut conns = plan(args.connections);
    let token = |topic: &str| {
        mint_token(
            DEV_KEY_ID,
            DEV_KEY_SECRET.as_bytes(),
            &[topic],
            &[topic],
            TOKEN_TTL_SECS,
        )
    };
    let streams = open_sse(&stack, &conns, token)?;
    let idle = Duration::from_secs_f64(args.minutes * 60.0);
    let mut node = open_mqtt(&js_dir, &stack, &conns, token, idle)?;
    eprintln!(
        "pubsub-idle-cost: {} connections open ({} app requests so far); settling for {:?}",
        conns.len(),
        log.len(),
        args.settle
    );
    std::thread::sleep(args.settle);
    let window = idle_window(&mut stack, &mut node, &log, idle)?;
    for (conn, stream) in conns.iter_mut().zip(&streams) {
        conn.closed_at = stream.as_ref().and_then(SseSubscriber::closed_at);
    }
    let requests = log.snapshot();
    let node_lines = node.lines();
    drop((streams, node));
    stack.stop();
    report(args, &conns, &requests, &node_lines, window)
}

/// `per_kind` connections of each kind, on topics `idle-<kind>-<nnn>`.
fn plan(per_kind: usize) -> Vec<Conn> {
    Kind::ALL
        .iter()
        .flat_map(|&kind| {
            (0..per_kind).map(move |i| Conn {
                kind,
                id: format!("idle-{}-{i:03}", kind.slug()),
                closed_at: None,
            })
        })
        .collect()
}

/// Opens the SSE subscribers (one slot per connection; `None` for MQTT ones).
fn open_sse(
    stack: &Stack,
    conns: &[Conn],
    token: impl Fn(&str) -> String,
) -> io::Result<Vec<Option<SseSubscriber>>> {
    conns
        .iter()
        .map(|c| {
            let durable = match c.kind {
                Kind::Sse => "",
                Kind::Durable => "&durable=true",
                Kind::Mqtt5 | Kind::Mqtt311 => return Ok(None),
            };
            let target = format!("/events?topic={}&auth={}{durable}", c.id, token(&c.id));
            SseSubscriber::open(stack.app_port(), &target, Duration::from_secs(15))
                .map(Some)
                .map_err(|e| io::Error::other(format!("SSE subscriber {}: {e}", c.id)))
        })
        .collect()
}

/// Starts the MQTT.js clients and waits until all are connected and subscribed.
fn open_mqtt(
    js_dir: &std::path::Path,
    stack: &Stack,
    conns: &[Conn],
    token: impl Fn(&str) -> String,
    idle: Duration,
) -> io::Result<NodeClients> {
    let specs: Vec<ClientSpec> = conns
        .iter()
        .filter_map(|c| {
            let version = match c.kind {
                Kind::Mqtt5 => 5,
                Kind::Mqtt311 => 4,
                Kind::Sse | Kind::Durable => return None,
            };
            Some(ClientSpec {
                id: c.id.clone(),
                protocol_version: version,
                token: token(&c.id),
            })
        })
        .collect();
    let limit = idle + Duration::from_secs(300);
    let mut node = NodeClients::start(js_dir, stack.app_port(), &specs, limit)?;
    node.wait_ready(Duration::from_secs(60))?;
    Ok(node)
}

/// Sleeps through the idle window, checking every second that the stack and the node
/// clients still run; returns the window's start and end.
fn idle_window(
    stack: &mut Stack,
    node: &mut NodeClients,
    log: &pubsub_devstack::RequestLog,
    idle: Duration,
) -> io::Result<(Instant, Instant)> {
    let start = Instant::now();
    let before = log.len();
    eprintln!("pubsub-idle-cost: idle window of {idle:?} starts");
    let mut next_note = start + Duration::from_secs(30);
    while start.elapsed() < idle {
        std::thread::sleep(Duration::from_millis(200).min(idle.saturating_sub(start.elapsed())));
        stack.check_running()?;
        if !node.running() {
            return Err(io::Error::other(
                "the MQTT.js clients (node) exited during the window",
            ));
        }
        if Instant::now() >= next_note {
            next_note += Duration::from_secs(30);
            eprintln!(
                "pubsub-idle-cost: {:.0} s idle, {} app requests in the window so far",
                start.elapsed().as_secs_f64(),
                log.len() - before
            );
        }
    }
    Ok((start, Instant::now()))
}

fn report(
    args: &Args,
    conns: &[Conn],
    requests: &[pubsub_devstack::AppRequest],
    node_lines: &[(Instant, String)],
    window: (Instant, Instant),
) -> io::Result<()> {
    let owner = report::attribute(conns, requests);
    let obs = Observed {
        conns,
        requests,
        window,
        node_lines,
    };
    let rows = report::rows(&obs, &owner);
    let idle_secs = window.1.duration_since(window.0).as_secs_f64();
    output::print_table(&rows, idle_secs);
    std::fs::create_dir_all(&args.out)?;
    let summary = args.out.join("idle-cost.csv");
    output::write_summary(&summary, &rows, idle_secs)?;
    let all = args.out.join("requests.csv");
    output::write_requests(&all, requests, &owner, conns, window)?;
    println!(
        "\nCSV: {} (every recorded request: {})",
        summary.display(),
        all.display()
    );
    Ok(())
}
