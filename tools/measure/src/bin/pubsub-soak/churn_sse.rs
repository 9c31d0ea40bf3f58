//! One SSE subscriber of the reconnect soak on its own thread: connect, read events for a
//! random lifetime, close, wait a random gap, connect again, until the churn ends; then
//! one last connection held until the run ends. A history or durable stream reconnects
//! with `Last-Event-ID` set to the last `id:` it saw (as an `EventSource` does).

use std::io::{self, Read};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::churn_plan::{Kind, Rng, Session, Shared, Subscriber, Timing};
use crate::sse::{self, Body};
use crate::stats::{now_us, parse_payload, Delivery};

/// What one connection of a subscriber saw.
struct Seen {
    up_us: Option<i64>,
    /// The server ended the stream before its time.
    by_server: bool,
    last_id: Option<String>,
    deliveries: Vec<Delivery>,
}

/// Runs subscriber `sub` until `timing.end`.
pub(crate) fn run(
    sub: &Subscriber,
    app_port: u16,
    token: &str,
    timing: &Timing,
    shared: &Arc<Shared>,
) {
    let mut rng = Rng::new(u64::from(sub.index) + 1);
    let mut last_id: Option<String> = None;
    loop {
        let now = Instant::now();
        if now >= timing.end {
            return;
        }
        let final_one = now >= timing.churn_end;
        let until = if final_one {
            timing.end
        } else {
            (now + rng.duration(timing.life.clone())).min(timing.end)
        };
        let connect_us = now_us();
        match session(sub, app_port, token, last_id.as_deref(), until) {
            Ok(seen) => {
                if seen.last_id.is_some() {
                    last_id = seen.last_id;
                }
                let session = Session {
                    sub: sub.index,
                    connect_us,
                    up_us: seen.up_us,
                    down_us: now_us(),
                    by_server: seen.by_server.then(|| "server".to_string()),
                };
                lock(&shared.sessions).push(session);
                lock(&shared.deliveries).extend(seen.deliveries);
            }
            Err(e) => {
                let mut errors = shared.errors.lock().unwrap_or_else(PoisonError::into_inner);
                errors.push(format!("subscriber {}: {e}", sub.index));
                drop(errors);
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
        if !final_one {
            std::thread::sleep(rng.duration(timing.gap.clone()));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One connection, held until `until`.
fn session(
    sub: &Subscriber,
    app_port: u16,
    token: &str,
    last_id: Option<&str>,
    until: Instant,
) -> io::Result<Seen> {
    let durable = if sub.kind == Kind::Durable {
        "&durable=true"
    } else {
        ""
    };
    let target = format!("/events?topic={}{durable}&auth={token}", sub.topic);
    let resumes = matches!(sub.kind, Kind::Durable | Kind::History);
    let extra = match last_id.filter(|_| resumes) {
        Some(id) => format!("Last-Event-ID: {id}\r\n"),
        None => String::new(),
    };
    let opened = sse::open(app_port, &target, &extra, Duration::from_secs(20))?;
    let mut stream = opened.stream;
    stream.set_nonblocking(false)?;
    let mut body = Body::new(opened.chunked);
    let mut events = Events::default();
    let mut seen = Seen {
        up_us: None,
        by_server: false,
        last_id: None,
        deliveries: Vec::new(),
    };
    events.feed(sub.index, &body.feed(&opened.rest), &mut seen);
    let mut buf = [0u8; 8192];
    loop {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(seen);
        }
        stream.set_read_timeout(Some(left.min(Duration::from_millis(500))))?;
        match stream.read(&mut buf) {
            Ok(0) => {
                seen.by_server = true; // the loop reconnects
                return Ok(seen);
            }
            Ok(n) => events.feed(sub.index, &body.feed(&buf[..n]), &mut seen),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The event being read: its `id:` and `event:` so far.
#[derive(Default)]
struct Events {
    id: Option<String>,
    name: Option<String>,
}

impl Events {
    fn feed(&mut self, sub: u32, lines: &[String], seen: &mut Seen) {
        for line in lines {
            if line.is_empty() {
                if self.name.as_deref() == Some("stream-open") && seen.up_us.is_none() {
                    seen.up_us = Some(now_us());
                }
                if let Some(id) = self.id.take() {
                    seen.last_id = Some(id);
                }
                self.name = None;
            } else if let Some(id) = line.strip_prefix("id: ") {
                self.id = Some(id.to_string());
            } else if let Some(name) = line.strip_prefix("event: ") {
                self.name = Some(name.to_string());
            } else if let Some((seq, sent)) = line.strip_prefix("data: ").and_then(parse_payload) {
                seen.deliveries
                    .push(Delivery::new(sub, seq, now_us() - sent));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_open_marks_up_and_ids_are_kept() {
        let mut seen = Seen {
            up_us: None,
            by_server: false,
            last_id: None,
            deliveries: Vec::new(),
        };
        let mut events = Events::default();
        let lines: Vec<String> = [
            "event: stream-open",
            "id: h:1",
            "data: ",
            "",
            "id: h:2",
            "event: message",
            "data: soak 7 100",
            "",
        ]
        .map(String::from)
        .to_vec();
        events.feed(3, &lines, &mut seen);
        assert!(seen.up_us.is_some());
        assert_eq!(seen.last_id.as_deref(), Some("h:2"));
        assert_eq!(seen.deliveries.len(), 1);
        assert_eq!((seen.deliveries[0].sub, seen.deliveries[0].seq), (3, 7));
    }
}
