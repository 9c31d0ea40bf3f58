//! The counting relay: an optional TCP relay on loopback between Pushpin and Viceroy that
//! records every HTTP request Pushpin makes to the app (each one a billed Compute request
//! on Fastly), enabled by [`crate::StackOptions::count_app_requests`].
//!
//! ```text
//! client ──> Viceroy :app ──handoff──> Pushpin :proxy ──> relay :counter ──> Viceroy :app
//! ```
//!
//! Pushpin's routes file points at the relay instead of Viceroy. The relay opens one
//! Viceroy connection per Pushpin connection and copies bytes both ways unchanged, so
//! keep-alive, pipelining and held responses behave as without it; on the way to Viceroy
//! it reads the requests out of the stream (`counting/sniff.rs`) and appends them to a
//! [`RequestLog`]. Requests clients send to Viceroy directly (the first, unsigned pass of
//! a subscribe, publishes) do not pass the relay and are not counted.
//!
//! The same relay can stand between the app and Pushpin's publish endpoint
//! ([`crate::StackOptions::publish_relay`]): there it records the app's publish requests,
//! and it can be switched off ([`CountingRelay::set_open`]) to take the publish API down
//! while Pushpin keeps holding its connections.

mod sniff;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use sniff::Sniffer;
pub use sniff::{AppRequest, BODY_CAPTURE};

/// The requests a counting relay has seen so far; a cheap handle to shared storage.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    requests: Arc<Mutex<Vec<AppRequest>>>,
}

impl RequestLog {
    /// A copy of every request recorded so far, in the order their heads completed per
    /// connection (and roughly in time order overall).
    pub fn snapshot(&self) -> Vec<AppRequest> {
        self.lock().clone()
    }

    /// How many requests have been recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no request has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, requests: Vec<AppRequest>) {
        if !requests.is_empty() {
            self.lock().extend(requests);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<AppRequest>> {
        // A relay thread cannot panic while holding the lock; recover anyway.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running relay. [`CountingRelay::stop`] (or drop) stops accepting; relayed
/// connections end when either side closes them.
#[derive(Debug)]
pub(crate) struct CountingRelay {
    port: u16,
    log: RequestLog,
    stopping: Arc<AtomicBool>,
    switch: Switch,
    acceptor: Option<JoinHandle<()>>,
}

/// Whether the relay passes connections on, and the ones it is relaying (to cut them
/// when it is switched off).
#[derive(Debug, Clone, Default)]
struct Switch {
    closed: Arc<AtomicBool>,
    live: Arc<Mutex<HashMap<u64, TcpStream>>>,
}

impl Switch {
    fn live(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl CountingRelay {
    /// Listens on a free loopback port and relays to `127.0.0.1:<upstream>`.
    pub(crate) fn start(upstream: u16) -> io::Result<Self> {
        let listener = crate::net::bind_loopback()?;
        let port = listener.local_addr()?.port();
        let log = RequestLog::default();
        let stopping = Arc::new(AtomicBool::new(false));
        let switch = Switch::default();
        let (log2, stop2, switch2) = (log.clone(), Arc::clone(&stopping), switch.clone());
        let acceptor = std::thread::Builder::new()
            .name("counting relay".into())
            .spawn(move || accept_loop(&listener, upstream, &log2, &stop2, &switch2))?;
        Ok(Self {
            port,
            log,
            stopping,
            switch,
            acceptor: Some(acceptor),
        })
    }

    /// Switches the relay on (the default) or off. Switched off, it cuts every connection
    /// it is relaying and closes each new one at once, without an answer (to its client the
    /// upstream looks down); switched on again, it relays new connections as before.
    pub(crate) fn set_open(&self, open: bool) {
        self.switch.closed.store(!open, Ordering::SeqCst);
        if !open {
            for (_, conn) in self.switch.live().drain() {
                let _ = conn.shutdown(Shutdown::Both);
            }
        }
    }

    /// The port Pushpin should send the app's requests to.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The shared request log.
    pub(crate) fn log(&self) -> RequestLog {
        self.log.clone()
    }

    /// Stops accepting connections. Idempotent.
    pub(crate) fn stop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            // Wake the blocking accept.
            let _ = TcpStream::connect(("127.0.0.1", self.port));
            let _ = acceptor.join();
        }
    }
}

impl Drop for CountingRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(
    listener: &TcpListener,
    upstream: u16,
    log: &RequestLog,
    stopping: &AtomicBool,
    switch: &Switch,
) {
    let ids = AtomicU64::new(0);
    for client in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        let id = ids.fetch_add(1, Ordering::SeqCst);
        if let Ok(clone) = client.try_clone() {
            switch.live().insert(id, clone);
        }
        // Checked after the insert: a concurrent `set_open(false)` either sees the
        // connection in `live` or is seen here.
        if switch.closed.load(Ordering::SeqCst) {
            switch.live().remove(&id);
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let (log, switch) = (log.clone(), switch.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("relay {id}"))
            .spawn(move || {
                relay(client, upstream, id, &log);
                switch.live().remove(&id);
            });
        if let Err(e) = spawned {
            eprintln!("pubsub-devstack: counting relay cannot start a thread: {e}");
        }
    }
}

/// Relays one client connection until either side closes it.
fn relay(client: TcpStream, upstream: u16, id: u64, log: &RequestLog) {
    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (Ok(mut client_w), Ok(mut server_r)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    // Responses: copied as they are; when Viceroy closes, so does the client side.
    let back = std::thread::Builder::new()
        .name(format!("relay {id} back"))
        .spawn(move || {
            let _ = io::copy(&mut server_r, &mut client_w);
            let _ = client_w.shutdown(Shutdown::Both);
        });
    forward_requests(client, server, id, log);
    if let Ok(back) = back {
        let _ = back.join();
    }
}

/// Copies the client's bytes to Viceroy, recording the requests in them.
fn forward_requests(mut client: TcpStream, mut server: TcpStream, id: u64, log: &RequestLog) {
    let mut sniffer = Sniffer::new(id);
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        log.push(sniffer.feed(&buf[..n]));
        if server.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = server.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::time::Duration;

    /// An upstream that answers every request line with a fixed keep-alive response.
    fn upstream() -> u16 {
        let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let conn = conn.expect("accept");
                std::thread::spawn(move || {
                    let mut w = conn.try_clone().expect("clone");
                    for line in io::BufReader::new(conn).lines() {
                        let Ok(line) = line else { return };
                        if line.starts_with("GET ") {
                            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                            if w.write_all(ok).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        port
    }

    #[test]
    fn relays_keep_alive_requests_and_records_each() {
        let mut relay = CountingRelay::start(upstream()).expect("start");
        let mut c = TcpStream::connect(("127.0.0.1", relay.port())).expect("connect");
        c.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let response = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        for path in ["/a", "/b?x=1"] {
            write!(c, "GET {path} HTTP/1.1\r\nHost: h\r\n\r\n").expect("send");
            let mut got = vec![0u8; response.len()];
            c.read_exact(&mut got).expect("response");
            assert_eq!(got, response);
        }
        let targets: Vec<String> = relay
            .log()
            .snapshot()
            .into_iter()
            .map(|r| r.target)
            .collect();
        assert_eq!(targets, ["/a", "/b?x=1"]);
        assert_eq!(relay.log().len(), 2);
        relay.stop();
        relay.stop();
    }

    #[test]
    fn a_relay_switched_off_cuts_and_refuses_connections_until_switched_on() {
        let relay = CountingRelay::start(upstream()).expect("start");
        let response = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
        let connect = || {
            let c = TcpStream::connect(("127.0.0.1", relay.port())).expect("connect");
            c.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            c
        };
        let mut live = connect();
        live.write_all(b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
            .expect("send");
        let mut got = vec![0u8; response.len()];
        live.read_exact(&mut got).expect("response");
        relay.set_open(false);
        let mut rest = Vec::new();
        assert_eq!(live.read_to_end(&mut rest).expect("cut, not timed out"), 0);
        let mut refused = connect();
        let _ = refused.write_all(b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n");
        assert_eq!(refused.read_to_end(&mut rest).unwrap_or(0), 0, "no answer");
        relay.set_open(true);
        let mut again = connect();
        again
            .write_all(b"GET /c HTTP/1.1\r\nHost: h\r\n\r\n")
            .expect("send");
        again.read_exact(&mut got).expect("response");
        assert_eq!(got, response);
        let targets: Vec<String> = relay
            .log()
            .snapshot()
            .into_iter()
            .map(|r| r.target)
            .collect();
        assert_eq!(targets, ["/a", "/c"]);
    }
}
