//! The reconnect soak (`--churn`): `--churn-conns` subscribers (plain SSE, durable SSE,
//! history SSE, MQTT QoS 0; see [`crate::churn_plan`]) that disconnect and reconnect at
//! random throughout `--minutes`, while messages are published through the app at
//! `--rate` per second (round robin over the topics; the durable ones with
//! `retain=true`), then a quiet tail in which every subscriber holds one last connection.
//! [`crate::churn_check`] says what each kind got against what it is promised.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pubsub_devstack::{Stack, StackOptions};

use crate::churn_check::Record;
use crate::churn_plan::{self, Kind, Published, Shared, Subscriber, Timing};
use crate::node::{Nodes, Sub};
use crate::procs::Sampler;
use crate::publish::Publisher;
use crate::stats::now_us;
use crate::Args;

/// A connection lives 10–60 s, then waits 0.05–2 s before it reconnects.
const LIFE_MS: std::ops::Range<u64> = 10_000..60_000;
const GAP_MS: std::ops::Range<u64> = 50..2_000;
/// After the churn: every subscriber connected, publishing goes on this long, then this
/// long for the last deliveries.
const SETTLE: Duration = Duration::from_secs(15);
const TAIL: Duration = Duration::from_secs(5);

/// The stack of the reconnect soak: the soak's, plus history on the history topics.
pub(crate) fn start_stack(message_rate: u32) -> io::Result<Stack> {
    let rules: Vec<String> = (0..churn_plan::TOPICS)
        .map(|i| format!("{}{i} 100000 2h", Kind::History.topic_prefix()))
        .collect();
    Stack::start(StackOptions {
        quiet: true,
        message_rate: Some(message_rate),
        config: vec![("history".into(), rules.join(";"))],
        ..StackOptions::default()
    })
}

pub(crate) fn run(stack: &Stack, js_dir: &Path, args: &Args) -> io::Result<bool> {
    let pids = stack.viceroy_pid().zip(stack.pushpin_pid());
    let (viceroy, pushpin) = pids.ok_or_else(|| io::Error::other("the stack is not running"))?;
    let sampler = Sampler::start(viceroy, pushpin)?;
    let subs = churn_plan::subscribers(args.churn_conns);
    let topics = churn_plan::publish_topics();
    let names: Vec<&str> = topics.iter().map(|(_, t)| t.as_str()).collect();
    let token = pubsub_devstack::dev_token(&names, &names);
    let start = Instant::now();
    let churn_end = start + Duration::from_secs(args.minutes * 60);
    let timing = Timing {
        churn_end,
        end: churn_end + SETTLE + TAIL,
        life: LIFE_MS,
        gap: GAP_MS,
    };
    eprintln!(
        "pubsub-soak: churn: {} subscribers for {} min, {} messages/s",
        subs.len(),
        args.minutes,
        args.rate
    );
    let shared = Arc::new(Shared::default());
    let threads = start_sse(&subs, stack.app_port(), &token, &timing, &shared)?;
    let mut nodes = start_mqtt(js_dir, stack.app_port(), &subs, &token, &timing, args)?;
    nodes.wait_ready(Duration::from_secs(60))?;
    let publisher = Publisher::new(stack.app_url(), stack.publish_url(), token);
    let (published, publish_errors) = publish(&publisher, &topics, args.rate, churn_end + SETTLE);
    for t in threads {
        let _ = t.join();
    }
    let (procs, peak_rss_sum_kb) = sampler.snapshot();
    let record = Record::gather(&shared, &nodes, &subs, published, publish_errors);
    drop(nodes);
    let ok = crate::churn_report::report(&record, &subs, &topics, args)?;
    crate::procs::procs(&procs);
    println!(
        "| all of them (peak of the sum) | {:.1} | | |",
        peak_rss_sum_kb as f64 / 1024.0
    );
    Ok(ok)
}

fn start_sse(
    subs: &[Subscriber],
    app_port: u16,
    token: &str,
    timing: &Timing,
    shared: &Arc<Shared>,
) -> io::Result<Vec<std::thread::JoinHandle<()>>> {
    let mut threads = Vec::new();
    for (n, sub) in subs.iter().filter(|s| s.kind != Kind::Mqtt).enumerate() {
        let (sub, token, timing, shared) = (
            sub.clone(),
            token.to_string(),
            timing.clone(),
            Arc::clone(shared),
        );
        let t = std::thread::Builder::new()
            .name(format!("churn {}", sub.index))
            .stack_size(192 * 1024)
            .spawn(move || crate::churn_sse::run(&sub, app_port, &token, &timing, &shared))?;
        threads.push(t);
        if n % 50 == 49 {
            std::thread::sleep(Duration::from_millis(200)); // Viceroy's backlog is 128
        }
    }
    Ok(threads)
}

fn start_mqtt(
    js_dir: &Path,
    app_port: u16,
    subs: &[Subscriber],
    token: &str,
    timing: &Timing,
    args: &Args,
) -> io::Result<Nodes> {
    let mqtt: Vec<Sub> = subs
        .iter()
        .filter(|s| s.kind == Kind::Mqtt)
        .map(|s| Sub {
            index: s.index,
            topic: s.topic.clone(),
            token: token.to_string(),
        })
        .collect();
    let epoch_ms = |at: Instant| {
        let left = at.saturating_duration_since(Instant::now()).as_millis() as i64;
        now_us() / 1000 + left
    };
    let churn = serde_json::json!({
        "lifeMs": [timing.life.start, timing.life.end],
        "gapMs": [timing.gap.start, timing.gap.end],
        "churnEndMs": epoch_ms(timing.churn_end),
        "endMs": epoch_ms(timing.end),
    });
    let limit = Duration::from_secs(args.max_minutes * 60);
    Nodes::start(js_dir, app_port, &mqtt, None, limit, Some(&churn))
}

/// Publishes at `rate` per second until `until`, round robin over `topics`, recording
/// when each was sent and answered.
fn publish(
    publisher: &Publisher,
    topics: &[(Kind, String)],
    rate: f64,
    until: Instant,
) -> (Vec<Published>, Vec<String>) {
    let start = Instant::now();
    let mut published = Vec::new();
    let mut errors = Vec::new();
    for seq in 0.. {
        let due = start + Duration::from_secs_f64(seq as f64 / rate);
        if due >= until {
            break;
        }
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let topic = (seq % topics.len() as u64) as usize;
        let (kind, name) = &topics[topic];
        let sent_us = now_us();
        match publisher.via_app_with(name, seq, *kind == Kind::Durable) {
            Ok(()) => published.push(Published {
                seq,
                topic,
                sent_us,
                acked_us: now_us(),
            }),
            Err(e) => errors.push(format!("message {seq}: {e}")),
        }
    }
    (published, errors)
}
