//! Thousands of SSE subscribers on a few threads: each stream is opened with a blocking
//! socket (request, then the response head and first event), then made non-blocking and
//! handed to one of the pool's `mio` workers, which decodes the chunked body and records
//! every `data: soak <seq> <sent µs>` line it sees as a [`Delivery`].

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};

pub(crate) use crate::body::Body;
use crate::stats::{now_us, parse_payload, Delivery};

/// An opened stream: the socket, whether the body is chunked, and body bytes read so far.
pub(crate) struct Opened {
    pub(crate) stream: TcpStream,
    pub(crate) chunked: bool,
    pub(crate) rest: Vec<u8>,
}

/// Sends `GET <target>` (with `extra` header lines, each ending in CRLF) and reads until
/// the response head and some body bytes arrived.
pub(crate) fn open(
    app_port: u16,
    target: &str,
    extra: &str,
    timeout: Duration,
) -> io::Result<Opened> {
    let mut stream = TcpStream::connect(("127.0.0.1", app_port))?;
    stream.set_read_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{app_port}\r\nAccept: text/event-stream\r\n{extra}\r\n"
    )?;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + timeout;
    let end = loop {
        let head_end = got.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end.filter(|end| got.len() > end + 4) {
            break end + 4;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 || Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "the stream ended before its first event: {}",
                String::from_utf8_lossy(&got)
            )));
        }
        got.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
    if !head.starts_with("http/1.1 200") {
        return Err(io::Error::other(format!("GET /events: {head}")));
    }
    stream.set_read_timeout(None)?;
    stream.set_nonblocking(true)?;
    Ok(Opened {
        stream,
        chunked: head.contains("transfer-encoding: chunked"),
        rest: got[end..].to_vec(),
    })
}

/// What the workers share with the pool.
#[derive(Default)]
struct Shared {
    deliveries: Mutex<Vec<Delivery>>,
    closed: Mutex<Vec<u32>>,
    count: AtomicU64,
    stop: AtomicBool,
}

struct Worker {
    tx: Sender<(u32, Opened)>,
    waker: Arc<Waker>,
    handle: Option<JoinHandle<()>>,
}

/// The SSE subscribers, spread over a few `mio` workers.
pub(crate) struct Pool {
    workers: Vec<Worker>,
    shared: Arc<Shared>,
    next: usize,
}

const WAKE: Token = Token(usize::MAX);

impl Pool {
    pub(crate) fn new(threads: usize) -> io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let workers = (0..threads.max(1))
            .map(|i| spawn_worker(i, &shared))
            .collect::<io::Result<_>>()?;
        Ok(Self {
            workers,
            shared,
            next: 0,
        })
    }

    /// Hands an opened stream of subscriber `sub` to the next worker.
    pub(crate) fn add(&mut self, sub: u32, opened: Opened) -> io::Result<()> {
        let worker = &self.workers[self.next % self.workers.len()];
        self.next += 1;
        worker
            .tx
            .send((sub, opened))
            .map_err(|_| io::Error::other("an SSE worker stopped"))?;
        worker.waker.wake()
    }

    /// Streams handed to the pool so far.
    pub(crate) fn len(&self) -> usize {
        self.next
    }

    /// Deliveries counted so far.
    pub(crate) fn count(&self) -> u64 {
        self.shared.count.load(Ordering::Relaxed)
    }

    /// Takes the deliveries recorded since the last call.
    pub(crate) fn take(&self) -> Vec<Delivery> {
        std::mem::take(&mut *lock(&self.shared.deliveries))
    }

    /// Subscribers whose stream the server ended.
    pub(crate) fn closed(&self) -> Vec<u32> {
        lock(&self.shared.closed).clone()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for w in &mut self.workers {
            let _ = w.waker.wake();
            if let Some(h) = w.handle.take() {
                let _ = h.join();
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn spawn_worker(i: usize, shared: &Arc<Shared>) -> io::Result<Worker> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let (tx, rx) = channel::<(u32, Opened)>();
    let shared = Arc::clone(shared);
    let handle = std::thread::Builder::new()
        .name(format!("sse worker {i}"))
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut poll = poll;
            let mut conns: HashMap<usize, (u32, mio::net::TcpStream, Body)> = HashMap::new();
            let mut events = Events::with_capacity(1024);
            while !shared.stop.load(Ordering::Relaxed) {
                if poll
                    .poll(&mut events, Some(Duration::from_millis(200)))
                    .is_err()
                {
                    continue;
                }
                for ev in &events {
                    if ev.token() == WAKE {
                        for (sub, opened) in rx.try_iter() {
                            accept(&poll, &mut conns, sub, opened, &shared);
                        }
                    } else {
                        read_ready(&mut conns, ev.token().0, &shared);
                    }
                }
            }
        })?;
    Ok(Worker {
        tx,
        waker,
        handle: Some(handle),
    })
}

type Conns = HashMap<usize, (u32, mio::net::TcpStream, Body)>;

fn accept(poll: &Poll, conns: &mut Conns, sub: u32, opened: Opened, shared: &Shared) {
    let mut stream = mio::net::TcpStream::from_std(opened.stream);
    let key = sub as usize;
    if poll
        .registry()
        .register(&mut stream, Token(key), Interest::READABLE)
        .is_err()
    {
        lock(&shared.closed).push(sub);
        return;
    }
    let mut body = Body::new(opened.chunked);
    body.feed(&opened.rest);
    conns.insert(key, (sub, stream, body));
    // Bytes that arrived between the open and the registration are read now.
    read_ready(conns, key, shared);
}

fn read_ready(conns: &mut Conns, key: usize, shared: &Shared) {
    let Some((sub, stream, body)) = conns.get_mut(&key) else {
        return;
    };
    let mut buf = [0u8; 16 * 1024];
    let mut found = Vec::new();
    let ended = loop {
        match stream.read(&mut buf) {
            Ok(0) => break true,
            Ok(n) => {
                let at = now_us();
                for line in body.feed(&buf[..n]) {
                    if let Some((seq, sent)) = line.strip_prefix("data: ").and_then(parse_payload) {
                        found.push(Delivery::new(*sub, seq, at - sent));
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break true,
        }
    };
    if !found.is_empty() {
        shared
            .count
            .fetch_add(found.len() as u64, Ordering::Relaxed);
        lock(&shared.deliveries).extend(found);
    }
    if ended {
        lock(&shared.closed).push(*sub);
        conns.remove(&key);
    }
}
