//! What the reconnect soak's subscribers got against what each kind is promised:
//!
//! - **history**: every message of its topic published after its first `stream-open`,
//!   each once, whatever the disconnects (it resumes with `Last-Event-ID`);
//! - **durable**: after every reconnect, the latest value: the connection gets the topic's
//!   retained message that was current when it started connecting, or a newer one;
//! - **plain SSE and MQTT QoS 0**: every message published while connected (sent after
//!   the connection was subscribed and answered at least [`MARGIN_US`] before it closed);
//!   messages published while a subscriber was away are not delivered (no resume), and
//!   are counted as the gap (for history too: there the gap's messages come in the replay).
//!
//! Deliveries are attributed to a connection by their arrival time (send time plus
//! latency).

use std::collections::{BTreeMap, HashMap};

use crate::churn_lost::{lost_detail, replaced};
use crate::churn_plan::{take, Kind, Published, Session, Shared, Subscriber};
use crate::node::Nodes;
use crate::stats::Delivery;

/// A message answered less than this before a connection closed may legitimately miss it.
const MARGIN_US: i64 = 1_000_000;

/// Everything the run left behind.
pub(crate) struct Record {
    pub(crate) sessions: Vec<Session>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) published: Vec<Published>,
    pub(crate) errors: Vec<String>,
    /// MQTT.js's `note` lines (an error event of a client, e.g. a refused connection).
    pub(crate) notes: Vec<String>,
}

impl Record {
    pub(crate) fn gather(
        shared: &Shared,
        nodes: &Nodes,
        subs: &[Subscriber],
        published: Vec<Published>,
        mut errors: Vec<String>,
    ) -> Self {
        let mut sessions = take(&shared.sessions);
        let mut deliveries = take(&shared.deliveries);
        errors.extend(take(&shared.errors));
        deliveries.extend(nodes.take());
        let mut notes = Vec::new();
        for line in nodes.lines() {
            if let Some(s) = parse_session(&line) {
                sessions.push(s);
            } else if line.starts_with("error") {
                errors.push(format!("MQTT.js: {line}"));
            } else if line.starts_with("note") {
                notes.push(line);
            }
        }
        sessions.retain(|s| (s.sub as usize) < subs.len());
        Self {
            sessions,
            deliveries,
            published,
            errors,
            notes,
        }
    }
}

/// `session m<index> <connect µs> <SUBACK µs | -> <close µs> <how>` (tests/js/soak.mjs).
fn parse_session(line: &str) -> Option<Session> {
    let mut w = line.strip_prefix("session m")?.split(' ');
    let sub = w.next()?.parse().ok()?;
    let connect_us = w.next()?.parse().ok()?;
    let up = w.next()?;
    let down_us = w.next()?.parse().ok()?;
    let how = w.next().unwrap_or("timer");
    Some(Session {
        sub,
        connect_us,
        up_us: up.parse().ok(),
        down_us,
        by_server: (how != "timer").then(|| how.to_string()),
    })
}

/// One kind's figures.
#[derive(Default, Debug, PartialEq, Eq)]
pub(crate) struct Tally {
    pub(crate) subscribers: usize,
    pub(crate) sessions: usize,
    /// Connections the server ended first, by how.
    pub(crate) by_server: BTreeMap<String, usize>,
    pub(crate) expected: usize,
    pub(crate) delivered: usize,
    pub(crate) duplicates: usize,
    pub(crate) unexpected: usize,
    /// Plain, history, MQTT: messages of its topic published while a subscriber was away
    /// (after its first connection).
    pub(crate) gap: usize,
    /// Durable: reconnects checked for the latest value, and those that got it.
    pub(crate) latest_checked: usize,
    pub(crate) latest_ok: usize,
    pub(crate) lat: Vec<i64>,
    /// Plain, durable, MQTT: messages still on their way when a connection closed.
    pub(crate) in_flight: usize,
    /// Durable: messages not delivered, but a newer one of the topic was, in the same
    /// connection (the latest value is promised, each retained message until replaced).
    pub(crate) replaced: usize,
    /// Per expected message that did not arrive: where it stood in its connection.
    pub(crate) lost_detail: Vec<String>,
}

impl Tally {
    pub(crate) fn lost(&self) -> usize {
        self.expected - self.delivered
    }
}

/// The tallies of one subscriber kind.
pub(crate) fn tally(
    kind: Kind,
    rec: &Record,
    subs: &[Subscriber],
    topics: &[(Kind, String)],
) -> Tally {
    let sent: HashMap<u64, &Published> = rec.published.iter().map(|p| (p.seq, p)).collect();
    let slowest = slowest_of(&rec.deliveries);
    let mut t = Tally::default();
    for sub in subs.iter().filter(|s| s.kind == kind) {
        let topic = topics.iter().position(|(_, n)| *n == sub.topic);
        let mine: Vec<&Published> = rec
            .published
            .iter()
            .filter(|p| Some(p.topic) == topic)
            .collect();
        let mut sessions: Vec<&Session> =
            rec.sessions.iter().filter(|s| s.sub == sub.index).collect();
        sessions.sort_by_key(|s| s.connect_us);
        let got: Vec<&Delivery> = rec
            .deliveries
            .iter()
            .filter(|d| d.sub == sub.index)
            .collect();
        t.subscribers += 1;
        t.sessions += sessions.len();
        for how in sessions.iter().filter_map(|s| s.by_server.clone()) {
            *t.by_server.entry(how).or_default() += 1;
        }
        let mut count: HashMap<u64, usize> = HashMap::new();
        for d in &got {
            match sent.get(&d.seq) {
                Some(p) if Some(p.topic) == topic => *count.entry(d.seq).or_default() += 1,
                _ => t.unexpected += 1,
            }
        }
        t.duplicates += count.values().map(|n| n - 1).sum::<usize>();
        let expected = expected_of(kind, &mine, &sessions, &slowest, &mut t);
        t.expected += expected.len();
        t.delivered += expected.iter().filter(|s| count.contains_key(s)).count();
        for seq in expected.iter().filter(|s| !count.contains_key(s)) {
            if kind == Kind::Durable && replaced(*seq, &sessions, &got, &sent) {
                t.replaced += 1;
                t.expected -= 1;
            } else {
                t.lost_detail
                    .push(lost_detail(sub.index, *seq, &sessions, &sent, rec));
            }
        }
        if kind == Kind::Durable {
            latest_value(&mine, &sessions, &got, &sent, &mut t);
        }
        t.lat.extend(got.iter().map(|d| d.lat_us));
    }
    t.lat.sort_unstable();
    t
}

/// Per message, its slowest delivery (µs).
fn slowest_of(deliveries: &[Delivery]) -> HashMap<u64, i64> {
    let mut slowest: HashMap<u64, i64> = HashMap::new();
    for d in deliveries {
        let e = slowest.entry(d.seq).or_insert(d.lat_us);
        *e = (*e).max(d.lat_us);
    }
    slowest
}

/// The messages a subscriber must have got; counts the gap on the way.
/// A message still on its way to anyone when a connection closed (answered less than its
/// slowest delivery before the close) is counted as in flight, not expected.
fn expected_of(
    kind: Kind,
    mine: &[&Published],
    sessions: &[&Session],
    slowest: &HashMap<u64, i64>,
    t: &mut Tally,
) -> Vec<u64> {
    let first_up = sessions.iter().find_map(|s| s.up_us);
    let mut out = Vec::new();
    for p in mine
        .iter()
        .filter(|p| first_up.is_some_and(|up| p.sent_us >= up))
    {
        let margin = MARGIN_US.max(slowest.get(&p.seq).map_or(0, |l| l + 100_000));
        let within = |m: i64| {
            sessions
                .iter()
                .any(|s| s.up_us.is_some_and(|up| up <= p.sent_us) && p.acked_us + m <= s.down_us)
        };
        let covered = within(margin);
        if !covered && within(MARGIN_US) && kind != Kind::History {
            t.in_flight += 1;
        }
        let away = !sessions
            .iter()
            .any(|s| s.connect_us <= p.acked_us && p.sent_us <= s.down_us);
        if covered || kind == Kind::History {
            out.push(p.seq);
        }
        if away && kind != Kind::Durable {
            t.gap += 1;
        }
    }
    out
}

/// Durable: by the end of each connection that was subscribed, the subscriber has the
/// retained message that was current when it started connecting, or a newer one (in this
/// connection, or in an earlier one when its `Last-Event-ID` already named it).
fn latest_value(
    mine: &[&Published],
    sessions: &[&Session],
    got: &[&Delivery],
    sent: &HashMap<u64, &Published>,
    t: &mut Tally,
) {
    for s in sessions.iter().filter(|s| s.up_us.is_some()) {
        let Some(current) = mine.iter().rev().find(|p| p.acked_us < s.connect_us) else {
            continue;
        };
        t.latest_checked += 1;
        let arrived_by_then = |d: &&&Delivery| {
            sent.get(&d.seq)
                .is_some_and(|p| p.sent_us + d.lat_us <= s.down_us)
        };
        if got
            .iter()
            .filter(arrived_by_then)
            .any(|d| d.seq >= current.seq)
        {
            t.latest_ok += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_session_lines_parse() {
        let s = parse_session("session m12 100 150 900").unwrap();
        assert_eq!(
            (s.sub, s.connect_us, s.up_us, s.down_us),
            (12, 100, Some(150), 900)
        );
        assert_eq!(parse_session("session m3 100 - 200").unwrap().up_us, None);
        assert!(parse_session("d m3 1 2").is_none());
    }

    #[test]
    fn plain_expects_what_was_published_while_connected() {
        let p = |seq, sent_us| Published {
            seq,
            topic: 0,
            sent_us,
            acked_us: sent_us + 10,
        };
        let msgs = [p(0, 50), p(1, 2_000_000), p(2, 5_000_000), p(3, 9_000_000)];
        let mine: Vec<&Published> = msgs.iter().collect();
        let s = Session {
            sub: 0,
            connect_us: 0,
            up_us: Some(100),
            down_us: 4_000_000,
            by_server: None,
        };
        let s2 = Session {
            sub: 0,
            connect_us: 8_000_000,
            up_us: Some(8_100_000),
            down_us: 12_000_000,
            by_server: None,
        };
        let mut t = Tally::default();
        let want = expected_of(Kind::Plain, &mine, &[&s, &s2], &HashMap::new(), &mut t);
        // 0: before the subscription; 1 and 3: covered; 2: while away.
        assert_eq!(want, [1, 3]);
        assert_eq!(t.gap, 1);
        let want = expected_of(
            Kind::History,
            &mine,
            &[&s, &s2],
            &HashMap::new(),
            &mut Tally::default(),
        );
        assert_eq!(want, [1, 2, 3]);
    }
}
