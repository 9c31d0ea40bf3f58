//! Deliveries, what was expected of them, and latency percentiles.

use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

/// One message seen by one subscriber, `lat_us` after it was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    pub(crate) sub: u32,
    pub(crate) seq: u64,
    pub(crate) lat_us: i64,
}

impl Delivery {
    pub(crate) fn new(sub: u32, seq: u64, lat_us: i64) -> Self {
        Self { sub, seq, lat_us }
    }
}

/// Microseconds since the Unix epoch (the clock the MQTT.js side also uses).
pub(crate) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The payload of every message: `soak <seq> <send time, µs since the epoch>`.
pub(crate) fn payload(seq: u64, sent_us: i64) -> String {
    format!("soak {seq} {sent_us}")
}

/// Parses [`payload`]'s text.
pub(crate) fn parse_payload(text: &str) -> Option<(u64, i64)> {
    let mut words = text.split(' ');
    if words.next()? != "soak" {
        return None;
    }
    let seq = words.next()?.parse().ok()?;
    let sent = words.next()?.parse().ok()?;
    Some((seq, sent))
}

/// The `p`-th percentile (0..=100, nearest rank) of sorted `values`, in ms.
pub(crate) fn percentile_ms(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

/// The latencies of `deliveries`, sorted.
pub(crate) fn sorted_latencies<'a>(deliveries: impl Iterator<Item = &'a Delivery>) -> Vec<i64> {
    let mut v: Vec<i64> = deliveries.map(|d| d.lat_us).collect();
    v.sort_unstable();
    v
}

/// How the deliveries compare with what was expected.
#[derive(Debug, Default)]
pub(crate) struct Completeness {
    pub(crate) expected: usize,
    /// Distinct (subscriber, message) pairs that were expected and seen.
    pub(crate) delivered: usize,
    pub(crate) duplicates: usize,
    pub(crate) unexpected: usize,
    /// The first unexpected deliveries (subscriber, message).
    pub(crate) unexpected_samples: Vec<(u32, u64)>,
    /// Per subscriber, the messages it missed.
    pub(crate) missed: BTreeMap<u32, Vec<u64>>,
}

/// Compares `deliveries` with `expected`: per message, the subscribers that should get it
/// (sorted ascending, as a binary search finds them: millions of deliveries at 10,000
/// subscribers).
pub(crate) fn completeness(
    expected: &BTreeMap<u64, Vec<u32>>,
    deliveries: &[Delivery],
) -> Completeness {
    let mut seen = HashSet::with_capacity(deliveries.len());
    let mut c = Completeness::default();
    for d in deliveries {
        let wanted = expected
            .get(&d.seq)
            .is_some_and(|subs| subs.binary_search(&d.sub).is_ok());
        if !wanted {
            c.unexpected += 1;
            if c.unexpected_samples.len() < 10 {
                c.unexpected_samples.push((d.sub, d.seq));
            }
        } else if !seen.insert((d.sub, d.seq)) {
            c.duplicates += 1;
        }
    }
    for (&seq, subs) in expected {
        for &sub in subs {
            c.expected += 1;
            if seen.contains(&(sub, seq)) {
                c.delivered += 1;
            } else {
                c.missed.entry(sub).or_default().push(seq);
            }
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_round_trips() {
        assert_eq!(
            parse_payload(&payload(42, 1_700_000)),
            Some((42, 1_700_000))
        );
        assert_eq!(parse_payload("hello 1 2"), None);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<i64> = (1..=100).map(|x| x * 1000).collect();
        assert_eq!(percentile_ms(&v, 50.0), 50.0);
        assert_eq!(percentile_ms(&v, 99.0), 99.0);
        assert_eq!(percentile_ms(&v[..1], 99.0), 1.0);
    }

    #[test]
    fn completeness_names_what_was_missed() {
        let expected = BTreeMap::from([(1, vec![0, 1]), (2, vec![1])]);
        let got = [
            Delivery::new(0, 1, 5),
            Delivery::new(0, 1, 6),
            Delivery::new(1, 2, 5),
            Delivery::new(0, 2, 5),
        ];
        let c = completeness(&expected, &got);
        assert_eq!((c.expected, c.delivered), (3, 2));
        assert_eq!((c.duplicates, c.unexpected), (1, 1));
        assert_eq!(c.missed, BTreeMap::from([(1, vec![1])]));
    }
}
