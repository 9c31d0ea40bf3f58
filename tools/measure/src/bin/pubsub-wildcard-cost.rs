//! What wildcard subscriptions cost a publish, measured on the local stack.
//!
//! Three stacks run side by side, with Config Store `wildcard-max-levels` = 0 (no
//! wildcard fan-out: the baseline), 6 (the default) and 8 (the most). For each topic depth
//! 1–8 the runner publishes 100-byte messages over HTTP to each stack in turn (rounds
//! alternate which stack goes first) and reports, per publish: Viceroy's CPU time (from
//! `/proc`, see `pubsub_measure::cpu`), the request's wall time, and the items and bytes the app sends to the publish
//! API (computed with the app's own code, `pubsub_core::publish::live_requests`). Then, on the default
//! stack, the same publish at depth 3 with 0, 10 and 1,000 wildcard subscriptions open
//! (SSE streams, each on its own filter), to show that the app's cost does not depend on
//! them.
//!
//! Usage: `cargo run --release -p pubsub-measure --bin pubsub-wildcard-cost [-- --quick]`
//! after building the release wasm (`scripts/wildcard-cost.sh` does both). Loopback only;
//! bounded by its counts.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use pubsub_core::audience::registry::Listening;
use pubsub_core::publish::{live_requests, Publication};
use pubsub_core::Config;
use pubsub_devstack::{dev_token, Stack, StackOptions};
use pubsub_measure::cpu::{clk_tck, CpuMeter};

const LEVELS: [usize; 3] = [0, 6, 8];
const PAYLOAD: &[u8] = &[b'x'; 100];

fn main() -> io::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, per_round): (u32, u32) = if quick { (2, 20) } else { (5, 40) };
    let stacks: Vec<Stack> = LEVELS
        .iter()
        .map(|d| start(&[("wildcard-max-levels", &d.to_string())]))
        .collect::<io::Result<_>>()?;
    let token = dev_token(&["#"], &["#"]);
    let clk = clk_tck();
    println!("| depth | items (D=0 / 6 / 8) | bytes (D=0 / 6 / 8) | CPU µs (D=0 / 6 / 8) | wall ms (D=0 / 6 / 8) |");
    println!("|---|---|---|---|---|");
    for depth in 1..=8 {
        let topic = topic(depth);
        let mut cpu = [0.0f64; 3];
        let mut wall = [0.0f64; 3];
        for round in 0..rounds {
            for k in 0..3usize {
                let i = (k + round as usize) % 3;
                let (c, w) = publish_batch(&stacks[i], &topic, &token, per_round, clk)?;
                cpu[i] += c / f64::from(rounds);
                wall[i] += w / f64::from(rounds);
            }
        }
        let sizes: Vec<(usize, usize)> = LEVELS.iter().map(|d| sent(&topic, *d)).collect();
        println!(
            "| {depth} | {} / {} / {} | {} / {} / {} | {:.0} / {:.0} / {:.0} | {:.2} / {:.2} / {:.2} |",
            sizes[0].0, sizes[1].0, sizes[2].0, sizes[0].1, sizes[1].1, sizes[2].1,
            cpu[0], cpu[1], cpu[2], wall[0], wall[1], wall[2]
        );
    }
    println!();
    println!("| open wildcard subscriptions (D=6, depth 3) | CPU µs | wall ms |");
    println!("|---|---|---|");
    let mut streams = Vec::new();
    for target in [0usize, 10, 1000] {
        while streams.len() < target {
            let filter = format!("other/{}/+", streams.len());
            streams.push(open_stream(&stacks[1], &filter, &token)?);
        }
        let (c, w) = publish_batch(&stacks[1], &topic(3), &token, per_round * rounds, clk)?;
        println!("| {target} | {c:.0} | {w:.2} |");
    }
    Ok(())
}

fn start(config: &[(&str, &str)]) -> io::Result<Stack> {
    Stack::start(StackOptions {
        quiet: true,
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..StackOptions::default()
    })
}

fn topic(depth: usize) -> String {
    (1..=depth)
        .map(|i| format!("level{i}"))
        .collect::<Vec<_>>()
        .join("/")
}

/// The items and bytes one publish of [`PAYLOAD`] to `topic` sends with
/// `wildcard-max-levels` = `levels`.
fn sent(topic: &str, levels: usize) -> (usize, usize) {
    let Ok(name) = pubsub_core::topic::TopicName::parse(topic) else {
        return (0, 0);
    };
    let topics = [name];
    let publication = Publication {
        topics: &topics,
        payload: PAYLOAD,
        retain: false,
        ttl_secs: None,
        mqtt: None,
        sender: None,
    };
    let mut config = Config::default();
    config.wildcard_max_levels = levels;
    let bytes = live_requests(&publication, &config, &Listening::Everything)
        .map(|requests| requests.iter().map(Vec::len).sum())
        .unwrap_or_default();
    let items = 3 + 2 * pubsub_core::topic::wildcard::count(topic.split('/').count(), levels);
    (items, bytes)
}

/// Publishes `n` messages; Viceroy CPU µs and wall ms per publish.
fn publish_batch(
    stack: &Stack,
    topic: &str,
    token: &str,
    n: u32,
    clk: f64,
) -> io::Result<(f64, f64)> {
    let pid = stack
        .viceroy_pid()
        .ok_or_else(|| io::Error::other("no viceroy pid"))?;
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let url = format!("{}/events?topic={}", stack.app_url(), topic);
    let meter = CpuMeter::start(pid)?;
    let started = Instant::now();
    for _ in 0..n {
        let res = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .send_bytes(PAYLOAD)
            .map_err(|e| io::Error::other(format!("publish to {topic}: {e}")))?;
        let mut sink = Vec::new();
        res.into_reader().read_to_end(&mut sink)?;
    }
    let wall = started.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let (cpu_s, _) = meter.elapsed(clk)?;
    Ok((cpu_s * 1e6 / f64::from(n), wall))
}

/// An SSE stream on `filter`, left open (its events are not read).
fn open_stream(stack: &Stack, filter: &str, token: &str) -> io::Result<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", stack.app_port()))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let filter = filter.replace('+', "%2B");
    write!(
        s,
        "GET /events?topic={filter}&auth={token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)?;
    if &head[9..12] != b"200" {
        return Err(io::Error::other(format!(
            "subscribe {filter}: {}",
            String::from_utf8_lossy(&head)
        )));
    }
    Ok(s)
}
