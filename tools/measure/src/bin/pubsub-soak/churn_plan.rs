//! The reconnect soak's plan and shared records: who subscribes to what, the churn's
//! timing, and what every connection and publish left behind.

use std::ops::Range;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::stats::Delivery;

/// The kinds of subscriber, each on its own topics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `GET /events?topic=..`: live messages only.
    Plain,
    /// `&durable=true` on a topic published with `retain=true`: the latest value.
    Durable,
    /// A topic with history: every message, resumed with `Last-Event-ID`.
    History,
    /// MQTT 5 over WebSocket, QoS 0 (MQTT.js), on the plain topics.
    Mqtt,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Plain, Kind::Durable, Kind::History, Kind::Mqtt];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Plain => "plain SSE",
            Kind::Durable => "durable SSE",
            Kind::History => "history SSE",
            Kind::Mqtt => "MQTT QoS 0",
        }
    }

    /// The prefix of this kind's topics (MQTT shares the plain ones).
    pub(crate) fn topic_prefix(self) -> &'static str {
        match self {
            Kind::Plain | Kind::Mqtt => "churn-p-",
            Kind::Durable => "churn-d-",
            Kind::History => "churn-h-",
        }
    }
}

/// Topics per kind.
pub(crate) const TOPICS: usize = 5;

/// One subscriber.
#[derive(Clone, Debug)]
pub(crate) struct Subscriber {
    pub(crate) index: u32,
    pub(crate) kind: Kind,
    pub(crate) topic: String,
}

/// The subscribers: 30 % plain SSE, 20 % durable, 25 % history, 25 % MQTT, in that order.
pub(crate) fn subscribers(total: usize) -> Vec<Subscriber> {
    let counts = [total * 30 / 100, total * 20 / 100, total * 25 / 100];
    let mqtt = total - counts.iter().sum::<usize>();
    let mut out = Vec::with_capacity(total);
    for (kind, n) in Kind::ALL.into_iter().zip(counts.into_iter().chain([mqtt])) {
        for i in 0..n {
            out.push(Subscriber {
                index: out.len() as u32,
                kind,
                topic: format!("{}{}", kind.topic_prefix(), i % TOPICS),
            });
        }
    }
    out
}

/// Every topic a message goes to, in publishing order (round robin).
pub(crate) fn publish_topics() -> Vec<(Kind, String)> {
    [Kind::Plain, Kind::Durable, Kind::History]
        .into_iter()
        .flat_map(|k| (0..TOPICS).map(move |i| (k, format!("{}{i}", k.topic_prefix()))))
        .collect()
}

/// The churn's clock: connections come and go until `churn_end`, then each holds one last
/// connection until `end`.
#[derive(Clone, Debug)]
pub(crate) struct Timing {
    pub(crate) churn_end: Instant,
    pub(crate) end: Instant,
    /// A connection's lifetime and the gap before it reconnects, in ms.
    pub(crate) life: Range<u64>,
    pub(crate) gap: Range<u64>,
}

/// One connection of one subscriber: when it started connecting, when it was subscribed
/// (`stream-open`, SUBACK; `None` if it never was) and when it was closed, in µs, and
/// how, when the server ended it first (`server`, or MQTT's `server-<reason code>`).
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) sub: u32,
    pub(crate) connect_us: i64,
    pub(crate) up_us: Option<i64>,
    pub(crate) down_us: i64,
    pub(crate) by_server: Option<String>,
}

/// One published message: its topic (an index of [`publish_topics`]), when it was sent
/// and when the app answered, in µs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Published {
    pub(crate) seq: u64,
    pub(crate) topic: usize,
    pub(crate) sent_us: i64,
    pub(crate) acked_us: i64,
}

/// What the SSE threads record.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) sessions: Mutex<Vec<Session>>,
    pub(crate) deliveries: Mutex<Vec<Delivery>>,
    pub(crate) errors: Mutex<Vec<String>>,
}

/// Takes what a shared record holds.
pub(crate) fn take<T>(m: &Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
}

/// A small deterministic generator (xorshift64*), seeded per subscriber.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A duration in `ms` (milliseconds), uniformly.
    pub(crate) fn duration(&mut self, ms: Range<u64>) -> Duration {
        let span = ms.end.saturating_sub(ms.start).max(1);
        Duration::from_millis(ms.start + self.next() % span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribers_split_into_the_four_kinds() {
        let subs = subscribers(1000);
        let count = |k| subs.iter().filter(|s| s.kind == k).count();
        assert_eq!(
            Kind::ALL.map(count),
            [300, 200, 250, 250],
            "plain, durable, history, MQTT"
        );
        assert!(subs.iter().enumerate().all(|(i, s)| s.index as usize == i));
        assert_eq!(subs[0].topic, "churn-p-0");
        assert_eq!(subs[300].topic, "churn-d-0");
        assert_eq!(publish_topics().len(), 3 * TOPICS);
    }

    #[test]
    fn durations_stay_in_range() {
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            let d = rng.duration(100..200).as_millis();
            assert!((100..200).contains(&d), "{d}");
        }
    }
}
