//! What history costs, measured on the local stack, side by side in one run.
//!
//! Two stacks run at once: one without history (the baseline) and one with Config Store
//! `history` = `# 20000 1h`. Then:
//!
//! 1. **Publish.** Rounds alternate which stack goes first; each round publishes 100-byte
//!    messages over HTTP (one keep-alive connection) to one topic of each stack. Reports
//!    Viceroy's CPU time per publish (from `/proc`, see `pubsub_measure::cpu`), the wall
//!    time per publish, and the messages per second one sequential publisher sustains on
//!    one topic, with the ratio history / plain.
//! 2. **Resume.** For 100, 1,000 and 10,000 missed messages: a stream subscribes (its
//!    `stream-open` id names the moment), leaves, the messages are published, and the
//!    stream reconnects with that `Last-Event-ID`. Reports the time from the reconnect
//!    to the last replayed message, and the app requests the replay took (Pushpin's
//!    requests to the app, counted by devstack's relay: the subscribe, its next pages,
//!    the settle request).
//!
//! Usage: `cargo run --release -p pubsub-measure --bin pubsub-history-cost [-- --quick] [--rule "# 1000 1h"]`
//! after building the release wasm. Loopback only; bounded by its counts.

use std::io::{self, BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use pubsub_devstack::{dev_token, Stack, StackOptions};
use pubsub_measure::cpu::{clk_tck, CpuMeter};

const PAYLOAD: &[u8] = &[b'x'; 100];

fn main() -> io::Result<()> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, per_round): (u32, u32) = if quick { (2, 50) } else { (5, 200) };
    let plain = start(&[])?;
    // `--rule "<history value>"` measures another rule (default `# 20000 1h`).
    let args: Vec<String> = std::env::args().collect();
    let rule = args
        .iter()
        .position(|a| a == "--rule")
        .and_then(|i| args.get(i + 1))
        .map_or("# 20000 1h", String::as_str);
    let history = start(&[("history", rule)])?;
    let stacks = [&plain, &history];
    let token = dev_token(&["#"], &["#"]);
    let clk = clk_tck();
    let mut cpu = [0.0f64; 2];
    let mut wall = [0.0f64; 2];
    for round in 0..rounds {
        for k in 0..2usize {
            let i = (k + round as usize) % 2;
            let (c, w) = publish_batch(stacks[i], "bench/topic", &token, per_round, clk)?;
            cpu[i] += c / f64::from(rounds);
            wall[i] += w / f64::from(rounds);
        }
    }
    println!("| publish of 100 B to one topic | without history | with history | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| Viceroy CPU per publish (µs) | {:.0} | {:.0} | {:.2} |",
        cpu[0],
        cpu[1],
        cpu[1] / cpu[0]
    );
    println!(
        "| wall per publish (ms) | {:.2} | {:.2} | {:.2} |",
        wall[0],
        wall[1],
        wall[1] / wall[0]
    );
    println!(
        "| one sequential publisher (msg/s) | {:.0} | {:.0} | {:.2} |",
        1000.0 / wall[0],
        1000.0 / wall[1],
        wall[0] / wall[1]
    );
    println!();
    println!("| missed messages | reconnect to last replayed (ms) | app requests of the replay |");
    println!("|---|---|---|");
    let counts: &[usize] = if quick {
        &[100, 1000]
    } else {
        &[100, 1000, 10_000]
    };
    for &n in counts {
        let (ms, requests) = resume(&history, &token, n)?;
        println!("| {n} | {ms:.0} | {requests} |");
    }
    Ok(())
}

fn start(config: &[(&str, &str)]) -> io::Result<Stack> {
    Stack::start(StackOptions {
        quiet: true,
        count_app_requests: true,
        config: config
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..StackOptions::default()
    })
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(20))
        .build()
}

/// Publishes `n` messages to `topic`; Viceroy CPU µs and wall ms per publish.
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
    let agent = agent();
    let meter = CpuMeter::start(pid)?;
    let started = Instant::now();
    publish_n(&agent, stack, topic, token, n as usize, |_| {
        PAYLOAD.to_vec()
    })?;
    let wall = started.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let (cpu_s, _) = meter.elapsed(clk)?;
    Ok((cpu_s * 1e6 / f64::from(n), wall))
}

fn publish_n(
    agent: &ureq::Agent,
    stack: &Stack,
    topic: &str,
    token: &str,
    n: usize,
    body: impl Fn(usize) -> Vec<u8>,
) -> io::Result<()> {
    let url = format!("{}/events?topic={}", stack.app_url(), topic);
    for i in 0..n {
        let res = agent
            .post(&url)
            .set("Authorization", &format!("Bearer {token}"))
            .send_bytes(&body(i))
            .map_err(|e| io::Error::other(format!("publish to {topic}: {e}")))?;
        let mut sink = Vec::new();
        res.into_reader().read_to_end(&mut sink)?;
    }
    Ok(())
}

/// One SSE event's `id:` and `data:`.
struct Event {
    id: Option<String>,
    data: String,
}

/// Reads events from `reader` until `stop` says so or the stream ends.
fn read_events(reader: impl Read, mut stop: impl FnMut(&Event) -> bool) -> io::Result<()> {
    let mut lines = BufReader::new(reader).lines();
    let mut event = Event {
        id: None,
        data: String::new(),
    };
    while let Some(line) = lines.next().transpose()? {
        if line.is_empty() {
            if stop(&event) {
                return Ok(());
            }
            event = Event {
                id: None,
                data: String::new(),
            };
        } else if let Some(id) = line.strip_prefix("id: ") {
            event.id = Some(id.to_owned());
        } else if let Some(data) = line.strip_prefix("data: ") {
            event.data = data.to_owned();
        }
    }
    Err(io::Error::other("the stream ended early"))
}

/// Subscribes, leaves, has `n` messages published, resumes: the time from the resume to
/// the last replayed message, and the app requests made meanwhile (and 4 s after, for
/// the settle request).
fn resume(stack: &Stack, token: &str, n: usize) -> io::Result<(f64, usize)> {
    let topic = format!("resume/{n}");
    let url = format!("{}/events?topic={topic}&auth={token}", stack.app_url());
    let agent = agent();
    let first = agent
        .get(&url)
        .call()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut open_id = None;
    read_events(first.into_reader(), |e| {
        open_id = e.id.clone();
        true
    })?;
    let open_id = open_id.ok_or_else(|| io::Error::other("stream-open without an id"))?;
    publish_n(&agent, stack, &topic, token, n, |i| {
        i.to_string().into_bytes()
    })?;
    let log = stack
        .app_requests()
        .ok_or_else(|| io::Error::other("no request log"))?;
    let before = log.len();
    let started = Instant::now();
    let res = agent
        .get(&url)
        .set("Last-Event-ID", &open_id)
        .call()
        .map_err(|e| io::Error::other(e.to_string()))?;
    let last = (n - 1).to_string();
    let mut seen = 0usize;
    // Kept open until the end, so that Fanout's settle request happens.
    let mut stream = res.into_reader();
    read_events(&mut stream, |e| {
        seen += usize::from(e.id.is_some() && !e.data.is_empty());
        e.data == last
    })?;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    if seen != n {
        return Err(io::Error::other(format!("{seen} of {n} messages replayed")));
    }
    std::thread::sleep(Duration::from_secs(4));
    let requests = log.len() - before;
    drop(stream);
    Ok((elapsed, requests))
}
