//! Fan-out latency: publish→deliver to groups of 1, 100 and 1,000 SSE subscribers and
//! 100 MQTT subscribers (each group on its own topic), through the app
//! (`POST /events`) against a raw publish to Pushpin's endpoint, alternating, in the same
//! run. One message at a time: the next goes once the group has it (or after 5 s).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::time::Duration;

use pubsub_devstack::Stack;

use crate::node::Sub;
use crate::publish::Publisher;
use crate::ramp;
use crate::sse::Pool;
use crate::stats::{completeness, sorted_latencies, Completeness, Delivery};
use crate::Args;

/// A group of subscribers on one topic.
struct Group {
    label: String,
    topic: String,
    first: u32,
    size: u32,
    mqtt: bool,
}

/// One row: a group and a publish path.
pub(crate) struct FanoutRow {
    pub(crate) group: String,
    pub(crate) path: &'static str,
    pub(crate) completeness: Completeness,
    pub(crate) lat: Vec<i64>,
    /// Per message, the latency of its last delivery (µs), sorted.
    pub(crate) last: Vec<i64>,
}

pub(crate) const PATHS: [&str; 2] = ["app", "raw"];

fn groups(sizes: &[u32], mqtt: u32) -> Vec<Group> {
    let mut out = Vec::new();
    let mut first = 0;
    let kinds = sizes.iter().map(|&n| (n, false)).chain([(mqtt, true)]);
    for (size, is_mqtt) in kinds.filter(|(n, _)| *n > 0) {
        let kind = if is_mqtt { "MQTT" } else { "SSE" };
        out.push(Group {
            label: format!("{size} {kind}"),
            topic: format!("fan-{}-{size}", kind.to_lowercase()),
            first,
            size,
            mqtt: is_mqtt,
        });
        first += size;
    }
    out
}

pub(crate) fn run(stack: &Stack, js_dir: &Path, args: &Args) -> io::Result<Vec<FanoutRow>> {
    let groups = groups(&args.fanout_sse, args.fanout_mqtt);
    let topics: Vec<&str> = groups.iter().map(|g| g.topic.as_str()).collect();
    let token = pubsub_devstack::dev_token(&topics, &topics);
    let mut pool = Pool::new(args.threads)?;
    let mut mqtt_subs = Vec::new();
    for g in &groups {
        let members = (g.first..g.first + g.size).map(|i| (i, g.topic.clone()));
        if g.mqtt {
            mqtt_subs.extend(members.map(|(index, topic)| Sub {
                index,
                topic,
                token: token.clone(),
            }));
        } else {
            let subs: Vec<_> = members.collect();
            eprintln!(
                "pubsub-soak: fan-out: opening {} SSE subscribers",
                subs.len()
            );
            ramp::open_sse(&mut pool, stack.app_port(), &subs, &token)?;
        }
    }
    let limit = Duration::from_secs(args.max_minutes * 60);
    let node = ramp::open_mqtt(js_dir, stack.app_port(), &mqtt_subs, None, limit)?;
    std::thread::sleep(Duration::from_secs(2));
    pool.take();
    let publisher = Publisher::new(stack.app_url(), stack.publish_url(), token);
    let count = || pool.count() + node.count();
    let mut sent: BTreeMap<u64, (usize, usize)> = BTreeMap::new();
    let mut seq = 0;
    for (gi, g) in groups.iter().enumerate() {
        eprintln!("pubsub-soak: fan-out to {}", g.label);
        for k in 0..args.fanout_messages {
            for p in 0..2 {
                let path = (k as usize + p) % 2; // alternate which path goes first
                let before = count();
                if path == 0 {
                    publisher.via_app(&g.topic, seq)?;
                } else {
                    publisher.raw(&g.topic, seq)?;
                }
                sent.insert(seq, (gi, path));
                seq += 1;
                ramp::wait_for(count, before + u64::from(g.size), Duration::from_secs(5));
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut deliveries = pool.take();
    deliveries.extend(node.take());
    Ok(rows(&groups, &sent, &deliveries))
}

fn rows(
    groups: &[Group],
    sent: &BTreeMap<u64, (usize, usize)>,
    deliveries: &[Delivery],
) -> Vec<FanoutRow> {
    let mut out = Vec::new();
    for (gi, g) in groups.iter().enumerate() {
        for (path, name) in PATHS.iter().enumerate() {
            let mine = |seq: &u64| sent.get(seq) == Some(&(gi, path));
            let expected: BTreeMap<u64, Vec<u32>> = sent
                .keys()
                .filter(|s| mine(s))
                .map(|&s| (s, (g.first..g.first + g.size).collect()))
                .collect();
            let ds: Vec<Delivery> = deliveries
                .iter()
                .filter(|d| mine(&d.seq))
                .copied()
                .collect();
            let mut last_of: BTreeMap<u64, i64> = BTreeMap::new();
            for d in &ds {
                let e = last_of.entry(d.seq).or_insert(d.lat_us);
                *e = (*e).max(d.lat_us);
            }
            let mut last: Vec<i64> = last_of.into_values().collect();
            last.sort_unstable();
            out.push(FanoutRow {
                group: g.label.clone(),
                path: name,
                completeness: completeness(&expected, &ds),
                lat: sorted_latencies(ds.iter()),
                last,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_contiguous_and_skip_empty_ones() {
        let g = groups(&[1, 100, 0], 100);
        let got: Vec<_> = g
            .iter()
            .map(|g| (g.label.as_str(), g.first, g.size))
            .collect();
        assert_eq!(
            got,
            [("1 SSE", 0, 1), ("100 SSE", 1, 100), ("100 MQTT", 101, 100)]
        );
        assert_eq!(g[2].topic, "fan-mqtt-100");
    }
}
