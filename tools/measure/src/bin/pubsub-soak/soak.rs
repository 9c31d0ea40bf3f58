//! The soak: thousands of SSE and MQTT subscribers on a number of topics, a thousand
//! messages published through the app over HTTP and MQTT and raw to Pushpin (mixed),
//! every delivery checked and timed per subscriber protocol and publish path, the app
//! invocations per publish, and the memory, CPU and descriptors of every process.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use pubsub_devstack::Stack;

use crate::invocations::{self, Invocations};
use crate::node::{Nodes, Sub};
use crate::procs::{ProcFigures, Sampler};
use crate::publish::Publisher;
use crate::ramp;
use crate::sse::Pool;
use crate::stats::{completeness, sorted_latencies, Completeness, Delivery};
use crate::Args;

/// What the soak measured.
pub(crate) struct SoakOutcome {
    pub(crate) sse: usize,
    pub(crate) mqtt: usize,
    pub(crate) messages: u64,
    pub(crate) open_secs: f64,
    pub(crate) publish_secs: f64,
    pub(crate) publish_errors: Vec<String>,
    pub(crate) completeness: Completeness,
    /// Per subscriber protocol and publish path, the sorted latencies (µs).
    pub(crate) lat: Vec<(String, Vec<i64>)>,
    /// Pushpin's requests to the app while publishing, and how many messages were
    /// published on each path (app over HTTP, app over MQTT, raw).
    pub(crate) invocations: Invocations,
    pub(crate) per_path: [u64; 3],
    pub(crate) closed: Vec<u32>,
    pub(crate) node_notes: Vec<String>,
    pub(crate) procs: Vec<ProcFigures>,
    pub(crate) peak_rss_sum_kb: u64,
}

fn topic(i: u64, topics: usize) -> String {
    format!("soak-{}", i % topics as u64)
}

/// The publish paths, in the order of [`path_of`]'s numbers.
pub(crate) const PATHS: [&str; 3] = ["app, HTTP POST", "app, MQTT PUBLISH", "raw Pushpin"];

/// Message `seq`'s publish path: 0 `POST /events`, 1 MQTT PUBLISH (QoS 0 when `seq % 4`
/// is 1, QoS 1 when 3), 2 raw to Pushpin's publish endpoint.
fn path_of(seq: u64) -> usize {
    match seq % 4 {
        0 => 0,
        2 => 2,
        _ => 1,
    }
}

pub(crate) fn run(stack: &Stack, js_dir: &Path, args: &Args) -> io::Result<SoakOutcome> {
    let pids = stack.viceroy_pid().zip(stack.pushpin_pid());
    let (viceroy, pushpin) = pids.ok_or_else(|| io::Error::other("the stack is not running"))?;
    let sampler = Sampler::start(viceroy, pushpin)?;
    let relay = stack
        .app_requests()
        .ok_or_else(|| io::Error::other("the stack counts no app requests"))?;
    let Plan {
        token,
        sse_subs,
        mqtt_subs,
        expected,
    } = plan(args);
    let (s, m) = (args.sse, args.mqtt);
    let started = Instant::now();
    let (pool, mut node) = open_all(stack, js_dir, args, &sampler, &sse_subs, &mqtt_subs, &token)?;
    let open_secs = started.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(2));
    pool.take(); // nothing yet: only keep-alives
    let publisher = Publisher::new(stack.app_url(), stack.publish_url(), token.clone());
    let total: u64 = expected.values().map(|v| v.len() as u64).sum();
    eprintln!(
        "pubsub-soak: all open after {open_secs:.1} s; publishing {} messages at {}/s \
         ({total} deliveries expected)",
        args.messages, args.rate
    );
    let t0 = Instant::now();
    let publish_errors = publish_all(&publisher, &mut node, args);
    let publish_secs = t0.elapsed().as_secs_f64();
    let deliveries = collect(&pool, &node, total);
    let (requests, t1) = (relay.snapshot(), Instant::now());
    let invocations = invocations::count(&requests, t0, t1);
    let csv = invocations::csv(&requests, t0, t1);
    crate::report::write(&args.out, "soak-requests.csv", &csv)?;
    let (procs, peak_rss_sum_kb) = sampler.snapshot();
    let completeness = completeness(&expected, &deliveries);
    if completeness.delivered < completeness.expected {
        keep_logs(stack, &args.out);
    }
    Ok(SoakOutcome {
        sse: s,
        mqtt: m,
        messages: args.messages,
        open_secs,
        publish_secs,
        publish_errors,
        completeness,
        lat: latencies(&deliveries, s),
        invocations,
        per_path: per_path(args.messages),
        closed: pool.closed(),
        node_notes: node.lines(),
        procs,
        peak_rss_sum_kb,
    })
}

/// Opens the SSE subscribers, then the MQTT ones (and the MQTT publisher). When an SSE
/// stream cannot be opened (the limit probe), prints how many were and the processes'
/// figures (which one ran out of descriptors), and keeps the logs.
fn open_all(
    stack: &Stack,
    js_dir: &Path,
    args: &Args,
    sampler: &Sampler,
    sse_subs: &[(u32, String)],
    mqtt_subs: &[Sub],
    token: &str,
) -> io::Result<(Pool, Nodes)> {
    let mut pool = Pool::new(args.threads)?;
    let (s, m) = (sse_subs.len(), mqtt_subs.len());
    eprintln!("pubsub-soak: opening {s} SSE subscribers");
    if let Err(e) = ramp::open_sse(&mut pool, stack.app_port(), sse_subs, token) {
        println!("\nopened {} of {s} SSE streams, then: {e}", pool.len());
        crate::procs::procs(&sampler.snapshot().0);
        keep_logs(stack, &args.out);
        return Err(e);
    }
    eprintln!("pubsub-soak: opening {m} MQTT subscribers");
    let limit = Duration::from_secs(args.max_minutes * 60);
    let node = ramp::open_mqtt(js_dir, stack.app_port(), mqtt_subs, Some(token), limit)?;
    Ok((pool, node))
}

/// Sorted latencies per subscriber protocol (SSE: subscribers below `sse`) and path.
fn latencies(deliveries: &[Delivery], sse: usize) -> Vec<(String, Vec<i64>)> {
    let mut out = Vec::new();
    for (kind, is_sse) in [("SSE", true), ("MQTT", false)] {
        for (p, name) in PATHS.iter().enumerate() {
            let mine = deliveries
                .iter()
                .filter(|d| ((d.sub as usize) < sse) == is_sse && path_of(d.seq) == p);
            out.push((format!("{kind}, {name}"), sorted_latencies(mine)));
        }
    }
    out
}

fn per_path(messages: u64) -> [u64; 3] {
    let mut n = [0; 3];
    for seq in 0..messages {
        n[path_of(seq)] += 1;
    }
    n
}

/// Waits for the `total` deliveries (or 15 s without progress), then takes them all.
fn collect(pool: &Pool, node: &Nodes, total: u64) -> Vec<Delivery> {
    let complete = ramp::wait_for(
        || pool.count() + node.count(),
        total,
        Duration::from_secs(15),
    );
    if !complete {
        eprintln!("pubsub-soak: deliveries stopped short of the expected {total}");
    }
    std::thread::sleep(Duration::from_millis(500)); // late duplicates, if any
    let mut deliveries = pool.take();
    deliveries.extend(node.take());
    deliveries
}

/// Who subscribes to what, the token, and who should get which message.
struct Plan {
    token: String,
    sse_subs: Vec<(u32, String)>,
    mqtt_subs: Vec<Sub>,
    expected: BTreeMap<u64, Vec<u32>>,
}

/// Subscriber `i` (SSE ones first) listens to topic `i % topics`; message `seq` goes to
/// topic `seq % topics`.
fn plan(args: &Args) -> Plan {
    let topics: Vec<String> = (0..args.topics as u64)
        .map(|i| topic(i, args.topics))
        .collect();
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    let token = pubsub_devstack::dev_token(&names, &names);
    let (s, m) = (args.sse as u32, args.mqtt as u32);
    let sse_subs = (0..s)
        .map(|i| (i, topic(u64::from(i), args.topics)))
        .collect();
    let mqtt_subs = (s..s + m)
        .map(|i| Sub {
            index: i,
            topic: topic(u64::from(i), args.topics),
            token: token.clone(),
        })
        .collect();
    let n = args.topics as u64;
    let expected = (0..args.messages)
        .map(|seq| {
            (
                seq,
                (0..s + m)
                    .filter(|&i| u64::from(i) % n == seq % n)
                    .collect(),
            )
        })
        .collect();
    Plan {
        token,
        sse_subs,
        mqtt_subs,
        expected,
    }
}

/// Publishes messages `0..messages` at `rate` per second on the path [`path_of`] gives.
fn publish_all(publisher: &Publisher, node: &mut Nodes, args: &Args) -> Vec<String> {
    let start = Instant::now();
    let mut errors = Vec::new();
    for seq in 0..args.messages {
        let due = start + Duration::from_secs_f64(seq as f64 / args.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let t = topic(seq, args.topics);
        let result = match path_of(seq) {
            0 => publisher.via_app(&t, seq),
            2 => publisher.raw(&t, seq),
            _ => node.publish(&t, seq, if seq % 4 == 1 { 0 } else { 1 }),
        };
        if let Err(e) = result {
            errors.push(format!("message {seq}: {e}"));
        }
    }
    errors
}

/// Copies Pushpin's handler and proxy logs (they name each subscription's channels) to
/// `out`, for a run that missed deliveries.
fn keep_logs(stack: &Stack, out: &Path) {
    let _ = std::fs::create_dir_all(out);
    for name in [
        "log/pushpin-handler.log",
        "log/pushpin-proxy.log",
        "log/condure.log",
        "viceroy.log",
    ] {
        let file = name.trim_start_matches("log/");
        let to = out.join(format!("soak-{file}"));
        if std::fs::copy(stack.run_dir().join(name), &to).is_ok() {
            eprintln!("pubsub-soak: kept {}", to.display());
        }
    }
}
