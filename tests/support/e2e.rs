//! Shared pieces of the end-to-end tests: one real stack (Pushpin + Viceroy running the
//! release wasm) per test binary, dev tokens, and small blocking HTTP and SSE clients.
#![allow(unreachable_pub, dead_code, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver};
use std::sync::OnceLock;
use std::time::Duration;

use pubsub_devstack::{dev_token, Stack, StackOptions};

/// The stack shared by the tests of one binary; its processes stop when the binary exits.
pub fn stack() -> &'static Stack {
    &shared(&[]).1
}

/// The shared stack, started with the Config Store entries `config` if this call starts
/// it. A binary whose tests need settings calls this first in every test, always with the
/// same entries: a stack already started with others is a panic, not a silent mix-up.
pub fn stack_with(config: &[(&str, &str)]) -> &'static Stack {
    let (started_with, stack) = shared(config);
    let wanted: Vec<(String, String)> = owned(config);
    assert_eq!(
        started_with, &wanted,
        "the shared stack runs with other settings"
    );
    stack
}

fn owned(config: &[(&str, &str)]) -> Vec<(String, String)> {
    config
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn shared(config: &[(&str, &str)]) -> &'static (Vec<(String, String)>, Stack) {
    static STACK: OnceLock<(Vec<(String, String)>, Stack)> = OnceLock::new();
    STACK.get_or_init(|| {
        let stack = Stack::start(StackOptions {
            // PUBSUB_STACK_LOGS=1 copies Viceroy's and Pushpin's output to stderr.
            quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
            config: owned(config),
            ..StackOptions::default()
        })
        .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"));
        (owned(config), stack)
    })
}

/// A dev token (signed with the seeded `dev` key) valid for an hour.
pub fn token(read: &[&str], write: &[&str]) -> String {
    dev_token(read, write)
}

/// A topic name no other test uses.
pub fn unique(name: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(5))
        .timeout_read(Duration::from_secs(20))
        .build()
}

/// Percent-encodes a query value.
pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A response: status, selected headers, body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The reply of a finished `ureq` request, whatever its status.
pub fn reply(result: Result<ureq::Response, ureq::Error>) -> Reply {
    let res = match result {
        Ok(res) | Err(ureq::Error::Status(_, res)) => res,
        Err(e) => panic!("request failed: {e}"),
    };
    let status = res.status();
    let headers = res
        .headers_names()
        .into_iter()
        .filter_map(|n| res.header(&n).map(|v| (n.clone(), v.to_owned())))
        .collect();
    let mut body = Vec::new();
    res.into_reader()
        .take(1 << 20)
        .read_to_end(&mut body)
        .expect("read body");
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends `method path` to the app with `headers` and `body`.
pub fn send(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    send_to(&stack().app_url(), method, path, headers, body)
}

/// Sends `method path` to the app at `app_url` with `headers` and `body`.
pub fn send_to(
    app_url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut req = agent().request(method, &format!("{app_url}{path}"));
    for (n, v) in headers {
        req = req.set(n, v);
    }
    reply(req.send_bytes(body))
}

/// Publishes `body` to `topic` over HTTP with a token in the `Authorization` header.
pub fn publish(topic: &str, body: &[u8], token: &str) -> Reply {
    send(
        "POST",
        &format!("/events?topic={}", enc(topic)),
        &[("Authorization", &format!("Bearer {token}"))],
        body,
    )
}

/// One server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// An open SSE stream; events are parsed on a thread and read with a timeout.
pub struct Sse {
    pub status: u16,
    pub content_type: String,
    events: Receiver<Event>,
}

impl Sse {
    /// Opens `GET path` on the app.
    pub fn open(path: &str, headers: &[(&str, &str)]) -> Sse {
        Self::open_at(&stack().app_url(), path, headers)
    }

    /// Opens `GET path` on the app at `app_url`.
    pub fn open_at(app_url: &str, path: &str, headers: &[(&str, &str)]) -> Sse {
        let res = Self::request(app_url, path, headers)
            .unwrap_or_else(|e| panic!("subscribe failed: {e}"));
        Self::read(res)
    }

    /// Opens `GET path` on the app at `app_url`; `Err` when no HTTP answer came, or an
    /// answer that is not an event stream (e.g. a proxy's error page), with its text.
    pub fn try_open_at(app_url: &str, path: &str, headers: &[(&str, &str)]) -> Result<Sse, String> {
        let res = Self::request(app_url, path, headers)?;
        let (status, content_type) = (res.status(), res.content_type().to_owned());
        if status != 200 && content_type != "text/event-stream" {
            let text = res.into_string().unwrap_or_default();
            return Err(format!("HTTP {status} {content_type}: {}", text.trim()));
        }
        Ok(Self::read(res))
    }

    fn request(
        app_url: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<ureq::Response, String> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .build();
        let mut req = agent.get(&format!("{app_url}{path}"));
        for (n, v) in headers {
            req = req.set(n, v);
        }
        match req.call() {
            Ok(res) | Err(ureq::Error::Status(_, res)) => Ok(res),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Reads the events of `res` on a thread.
    fn read(res: ureq::Response) -> Sse {
        let status = res.status();
        let content_type = res.content_type().to_owned();
        let (tx, events) = mpsc::channel();
        let reader = BufReader::new(res.into_reader());
        std::thread::spawn(move || {
            let mut ev = Event::default();
            let mut data: Vec<String> = Vec::new();
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if line.is_empty() {
                    ev.data = data.join("\n");
                    data.clear();
                    if tx.send(std::mem::take(&mut ev)).is_err() {
                        break;
                    }
                    continue;
                }
                let (field, value) = line.split_once(':').unwrap_or((&line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => ev.event = value.to_owned(),
                    "data" => data.push(value.to_owned()),
                    "id" => ev.id = Some(value.to_owned()),
                    _ => {}
                }
            }
        });
        Sse {
            status,
            content_type,
            events,
        }
    }

    /// Opens a subscription and waits for its `stream-open` event.
    pub fn subscribe(path: &str) -> Sse {
        Self::subscribe_at(&stack().app_url(), path, &[])
    }

    /// Opens a subscription on the app at `app_url` and waits for its `stream-open` event.
    pub fn subscribe_at(app_url: &str, path: &str, headers: &[(&str, &str)]) -> Sse {
        let sse = Sse::open_at(app_url, path, headers);
        assert_eq!(sse.status, 200, "subscribe {path}");
        let first = sse.next().expect("stream-open");
        assert_eq!(first.event, "stream-open");
        sse
    }

    /// The next event other than `keep-alive`, waiting at most 10 s.
    pub fn next(&self) -> Option<Event> {
        self.next_within(Duration::from_secs(10))
    }

    pub fn next_within(&self, wait: Duration) -> Option<Event> {
        loop {
            let ev = self.events.recv_timeout(wait).ok()?;
            if ev.event != "keep-alive" {
                return Some(ev);
            }
        }
    }

    /// Whether the stream ends within `wait`, after at most `keep-alive` events (any other
    /// event is a failure).
    pub fn ends_within(&self, wait: Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.events.recv_timeout(left) {
                Ok(ev) if ev.event == "keep-alive" => continue,
                Ok(ev) => panic!("expected the end of the stream, got {ev:?}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => return true,
                Err(mpsc::RecvTimeoutError::Timeout) => return false,
            }
        }
    }
}
