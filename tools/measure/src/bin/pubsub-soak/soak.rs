//! The soak: thousands of SSE and hundreds of MQTT subscribers on a handful of topics,
//! a thousand messages published through the app over HTTP and MQTT (mixed), every
//! delivery checked and timed, and the stack's memory and CPU.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use pubsub_devstack::Stack;

use crate::node::Sub;
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
    pub(crate) sse_lat: Vec<i64>,
    pub(crate) mqtt_lat: Vec<i64>,
    pub(crate) closed: Vec<u32>,
    pub(crate) node_notes: Vec<String>,
    pub(crate) procs: Vec<ProcFigures>,
    pub(crate) peak_rss_sum_kb: u64,
}

fn topic(i: u64, topics: usize) -> String {
    format!("soak-{}", i % topics as u64)
}

pub(crate) fn run(stack: &Stack, js_dir: &Path, args: &Args) -> io::Result<SoakOutcome> {
    let pids = stack.viceroy_pid().zip(stack.pushpin_pid());
    let (viceroy, pushpin) = pids.ok_or_else(|| io::Error::other("the stack is not running"))?;
    let sampler = Sampler::start(viceroy, pushpin)?;
    let Plan {
        token,
        sse_subs,
        mqtt_subs,
        expected,
    } = plan(args);
    let (s, m) = (args.sse, args.mqtt);
    let started = Instant::now();
    let mut pool = Pool::new(args.threads)?;
    eprintln!("pubsub-soak: opening {s} SSE subscribers");
    ramp::open_sse(&mut pool, stack.app_port(), &sse_subs, &token)?;
    eprintln!("pubsub-soak: opening {m} MQTT subscribers");
    let limit = Duration::from_secs(args.max_minutes * 60);
    let mut node = ramp::open_mqtt(js_dir, stack.app_port(), &mqtt_subs, Some(&token), limit)?;
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
    let (procs, peak_rss_sum_kb) = sampler.snapshot();
    let is_sse = |sub: u32| (sub as usize) < s;
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
        sse_lat: sorted_latencies(deliveries.iter().filter(|d| is_sse(d.sub))),
        mqtt_lat: sorted_latencies(deliveries.iter().filter(|d| !is_sse(d.sub))),
        closed: pool.closed(),
        node_notes: node.lines(),
        procs,
        peak_rss_sum_kb,
    })
}

/// Waits for the `total` deliveries (or 15 s without progress), then takes them all.
fn collect(pool: &Pool, node: &crate::node::Node, total: u64) -> Vec<Delivery> {
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

/// Publishes messages `0..messages` at `rate` per second: even ones with
/// `POST /events`, odd ones as MQTT PUBLISH (QoS 0 and 1 alternating).
fn publish_all(publisher: &Publisher, node: &mut crate::node::Node, args: &Args) -> Vec<String> {
    let start = Instant::now();
    let mut errors = Vec::new();
    for seq in 0..args.messages {
        let due = start + Duration::from_secs_f64(seq as f64 / args.rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let t = topic(seq, args.topics);
        let result = if seq % 2 == 0 {
            publisher.via_app(&t, seq)
        } else {
            node.publish(&t, seq, if seq % 4 == 1 { 0 } else { 1 })
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
    for name in ["pushpin-handler.log", "pushpin-proxy.log"] {
        let to = out.join(format!("soak-{name}"));
        if std::fs::copy(stack.run_dir().join("log").join(name), &to).is_ok() {
            eprintln!("pubsub-soak: kept {}", to.display());
        }
    }
}
