//! `pubsub-soak`: a soak and fan-out runner on the real local stack (`scripts/soak.sh`).
//!
//! - **Soak**: opens `--sse` SSE subscribers (a few `mio` threads hold them all) and
//!   `--mqtt` MQTT 5 subscribers (MQTT.js, `tests/js/soak.mjs`) gradually, spread over
//!   `--topics` topics, publishes `--messages` messages at `--rate` per second through
//!   the app (even ones `POST /events`, odd ones MQTT PUBLISH, QoS 0 and 1), each
//!   carrying its sequence number and send time; checks that every subscriber got every
//!   message of its topic exactly once, and reports p50/p99 publish→deliver latency and
//!   the peak RSS and CPU seconds of Viceroy and Pushpin's processes.
//! - **Fan-out** (`--fanout` for only this part): publish→deliver latency to 1, 100 and
//!   1,000 SSE subscribers and 100 MQTT subscribers, through the app against a raw
//!   publish to Pushpin's endpoint, alternating in one run (a fresh stack).
//!
//! - **Reconnect soak** (`--churn`, only this part): `--churn-conns` subscribers (plain,
//!   durable and history SSE, MQTT) disconnecting and reconnecting at random for
//!   `--minutes` while messages are published at `--rate` per second; checks that the
//!   streams that can resume lost nothing (`churn.rs`, `churn_check.rs`).
//!
//! Pushpin's `message_rate` is raised to `--message-rate` (default 200,000/s; Pushpin's
//! 2,500 counts every delivery to a subscriber and would throttle the fan-out). Writes
//! `soak.csv` and `fanout.csv` into `--out` (default `<target dir>/soak`). Loopback only;
//! stops everything it started; `--max-minutes` bounds the whole run.

mod body;
mod churn;
mod churn_check;
mod churn_lost;
mod churn_plan;
mod churn_report;
mod churn_sse;
mod fanout;
mod invocations;
mod node;
mod procs;
mod publish;
mod ramp;
mod report;
mod soak;
mod sse;
mod stats;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use pubsub_devstack::{Stack, StackOptions};

const USAGE: &str =
    "usage: pubsub-soak [--soak | --fanout | --churn] [--sse N (2000)] [--mqtt N (200)] \
    [--topics N (5)] [--messages N (1000)] [--rate R/s (10)] [--fanout-sse 1,100,1000] \
    [--fanout-mqtt N (100)] [--fanout-messages N (30)] [--threads N (4)] \
    [--message-rate R (200000)] [--max-minutes M (20)] [--churn-conns N (1000)] \
    [--minutes M (30, the churn)] [--out DIR]";

pub(crate) struct Args {
    soak: bool,
    fanout: bool,
    churn: bool,
    pub(crate) churn_conns: usize,
    pub(crate) minutes: u64,
    pub(crate) sse: usize,
    pub(crate) mqtt: usize,
    pub(crate) topics: usize,
    pub(crate) messages: u64,
    pub(crate) rate: f64,
    pub(crate) fanout_sse: Vec<u32>,
    pub(crate) fanout_mqtt: u32,
    pub(crate) fanout_messages: u32,
    pub(crate) threads: usize,
    message_rate: u32,
    pub(crate) max_minutes: u64,
    pub(crate) out: PathBuf,
}

fn main() -> ExitCode {
    match parse_args().and_then(|args| run(&args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("pubsub-soak: {e}");
            ExitCode::from(2)
        }
    }
}

fn defaults() -> Args {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| pubsub_devstack::workspace_dir().join("target"));
    Args {
        soak: true,
        fanout: true,
        churn: false,
        churn_conns: 1000,
        minutes: 30,
        sse: 2000,
        mqtt: 200,
        topics: 5,
        messages: 1000,
        rate: 10.0,
        fanout_sse: vec![1, 100, 1000],
        fanout_mqtt: 100,
        fanout_messages: 30,
        threads: 4,
        message_rate: 200_000,
        max_minutes: 20,
        out: target.join("soak"),
    }
}

fn parse_args() -> io::Result<Args> {
    let mut a = defaults();
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidInput, format!("{what}\n{USAGE}"));
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| bad(&format!("{flag} needs a value")))
        };
        let num = |v: String| v.parse::<u64>().map_err(|_| bad(&format!("bad value {v}")));
        match flag.as_str() {
            "--soak" => a.fanout = false,
            "--fanout" => a.soak = false,
            "--churn" => (a.churn, a.soak, a.fanout) = (true, false, false),
            "--churn-conns" => a.churn_conns = num(value()?)?.max(4) as usize,
            "--minutes" => a.minutes = num(value()?)?.max(1),
            "--sse" => a.sse = num(value()?)? as usize,
            "--mqtt" => a.mqtt = num(value()?)? as usize,
            "--topics" => a.topics = num(value()?)?.max(1) as usize,
            "--messages" => a.messages = num(value()?)?,
            "--rate" => a.rate = num(value()?)?.max(1) as f64,
            "--fanout-sse" => {
                a.fanout_sse = value()?
                    .split(',')
                    .map(|v| v.trim().parse().map_err(|_| bad("bad --fanout-sse")))
                    .collect::<io::Result<_>>()?;
            }
            "--fanout-mqtt" => a.fanout_mqtt = num(value()?)? as u32,
            "--fanout-messages" => a.fanout_messages = num(value()?)?.max(1) as u32,
            "--threads" => a.threads = num(value()?)?.clamp(1, 64) as usize,
            "--message-rate" => a.message_rate = num(value()?)?.max(1) as u32,
            "--max-minutes" => a.max_minutes = num(value()?)?.max(1),
            "--out" => a.out = PathBuf::from(value()?),
            _ => return Err(bad(&format!("unknown argument {flag}"))),
        }
    }
    if a.churn {
        a.max_minutes = a.max_minutes.max(a.minutes + 5);
    }
    Ok(a)
}

/// Runs the parts asked for; `Ok(false)` when a delivery was missing.
fn run(args: &Args) -> io::Result<bool> {
    let js_dir = pubsub_devstack::workspace_dir().join("tests").join("js");
    if !js_dir.join("node_modules/mqtt/package.json").is_file() {
        return Err(io::Error::other(
            "MQTT.js is not installed: run scripts/setup.sh",
        ));
    }
    // The hard bound: the stack's processes and node stop when this process exits.
    let limit = Duration::from_secs(args.max_minutes * 60);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("pubsub-soak: the run exceeded --max-minutes; stopping");
        std::process::exit(3);
    });
    let mut all_delivered = true;
    if args.churn {
        eprintln!("pubsub-soak: starting Pushpin and Viceroy (history on the churn-h topics)");
        let stack = churn::start_stack(args.message_rate)?;
        all_delivered &= churn::run(&stack, &js_dir, args)?;
    }
    if args.soak {
        let stack = start_stack(args, true)?;
        let outcome = soak::run(&stack, &js_dir, args)?;
        drop(stack);
        let c = &outcome.completeness;
        all_delivered &= c.delivered == c.expected && outcome.publish_errors.is_empty();
        report::write(&args.out, "soak.csv", &report::soak(&outcome))?;
    }
    if args.fanout {
        let stack = start_stack(args, false)?;
        let rows = fanout::run(&stack, &js_dir, args)?;
        drop(stack);
        all_delivered &= rows
            .iter()
            .all(|r| r.completeness.delivered == r.completeness.expected);
        let csv = report::fanout(&rows, args.fanout_messages);
        report::write(&args.out, "fanout.csv", &csv)?;
    }
    Ok(all_delivered)
}

/// A fresh stack; `count` puts the counting relay between Pushpin and the app.
fn start_stack(args: &Args, count: bool) -> io::Result<Stack> {
    eprintln!(
        "pubsub-soak: starting Pushpin (message_rate={}) and Viceroy",
        args.message_rate
    );
    Stack::start(StackOptions {
        quiet: true,
        message_rate: Some(args.message_rate),
        count_app_requests: count,
        ..StackOptions::default()
    })
}
