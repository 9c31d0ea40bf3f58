//! Loopback networking helpers: free-port allocation and readiness probes.
//!
//! Free ports come from binding `127.0.0.1:0`; every port handed out is remembered for the
//! life of the process so that stacks started in parallel (threads of one test binary)
//! never receive the same port twice. Probes are plain `std::net` with short timeouts.

use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

/// Ports this process has handed out already.
static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());

/// Picks `n` distinct free loopback ports, never one handed out before by this process.
pub(crate) fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    let mut handed = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Keep every listener open until all ports are chosen so the kernel cannot repeat one.
    let mut listeners = Vec::new();
    let mut ports = Vec::new();
    let mut attempts = 0;
    while ports.len() < n {
        attempts += 1;
        if attempts > 1000 {
            return Err(io::Error::other("cannot find free loopback ports"));
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let port = listener.local_addr()?.port();
        listeners.push(listener);
        if handed.insert(port) {
            ports.push(port);
        }
    }
    Ok(ports)
}

/// A listener on a free loopback port that no other part of this process was handed (see
/// [`free_ports`]: a port picked there is free only until its service binds it, and a
/// plain `bind(0)` elsewhere could take it first).
pub(crate) fn bind_loopback() -> io::Result<TcpListener> {
    let mut handed = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Rejected listeners stay open until the end so the kernel cannot offer them again.
    let mut rejected = Vec::new();
    for _ in 0..1000 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        if handed.insert(listener.local_addr()?.port()) {
            return Ok(listener);
        }
        rejected.push(listener);
    }
    Err(io::Error::other("cannot find a free loopback port"))
}

/// Fails with a clear message when a fixed port is taken.
pub(crate) fn check_port_free(port: u16, what: &str) -> io::Result<()> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "{what} port {port} on 127.0.0.1 is not available ({e}); is another stack \
                     running?"
                ),
            )
        })
}

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub(crate) fn tcp_open(port: u16) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// The start of an HTTP answer: status code, and for 5xx answers the first bytes of the
/// body (to tell Viceroy's own handoff errors from the app's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// Status code.
    pub(crate) status: u16,
    /// Up to 1 KiB of the body of a 5xx answer with `Content-Length`; empty otherwise.
    pub(crate) error_body: String,
}

/// Sends a GET with extra header lines to `127.0.0.1:port` and reads the answer's head.
/// The body is read only for 5xx answers with a `Content-Length`, so a held stream does
/// not block.
pub(crate) fn http_get(
    port: u16,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> io::Result<Answer> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut request =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in extra_headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if stream.read(&mut byte)? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let status_line = head.lines().next().unwrap_or_default();
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no HTTP status line from port {port}: {status_line:?}"),
            )
        })?;
    let mut error_body = String::new();
    if status >= 500 {
        let length = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<u64>().ok())
                .flatten()
        });
        if let Some(length) = length {
            let mut body = Vec::new();
            // A short read (timeout, early close) still leaves what arrived.
            let _ = (&mut stream).take(length.min(1024)).read_to_end(&mut body);
            error_body = String::from_utf8_lossy(&body).trim().to_string();
        }
    }
    Ok(Answer { status, error_body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_distinct_across_calls() {
        let a = free_ports(3).expect("ports");
        let b = free_ports(3).expect("ports");
        let all: BTreeSet<u16> = a.iter().chain(&b).copied().collect();
        assert_eq!(all.len(), 6);
        assert!(check_port_free(a[0], "test").is_ok());
    }

    #[test]
    fn a_bound_listener_never_gets_a_port_handed_out() {
        let handed = free_ports(3).expect("ports");
        let listeners: Vec<TcpListener> = (0..20).map(|_| bind_loopback().expect("bind")).collect();
        let bound: BTreeSet<u16> = listeners
            .iter()
            .map(|l| l.local_addr().expect("addr").port())
            .collect();
        assert_eq!(bound.len(), 20);
        assert!(handed.iter().all(|p| !bound.contains(p)));
        assert!(free_ports(3)
            .expect("ports")
            .iter()
            .all(|p| !bound.contains(p)));
    }

    #[test]
    fn taken_port_is_reported() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let err = check_port_free(port, "app").expect_err("taken");
        assert!(err.to_string().contains(&format!("app port {port}")));
        assert!(tcp_open(port));
    }

    /// A server on a free port that accepts one connection, reads the request, writes
    /// `answer`, keeps the connection open for `linger` and returns the request.
    fn serve_once(answer: String, linger: Duration) -> (u16, std::thread::JoinHandle<String>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).expect("read");
            s.write_all(answer.as_bytes()).expect("write");
            std::thread::sleep(linger);
            String::from_utf8_lossy(&buf[..n]).into_owned()
        });
        (port, server)
    }

    #[test]
    fn http_get_reads_only_the_head_of_a_stream() {
        // A streaming answer that never ends.
        let (port, server) = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n".into(),
            Duration::from_millis(300),
        );
        let answer = http_get(port, "/x?y=1", &[("pushpin-route", "self")]).expect("answer");
        assert_eq!(answer.status, 200);
        let req = server.join().expect("join");
        assert!(req.starts_with("GET /x?y=1 HTTP/1.1\r\n"));
        assert!(req.contains("pushpin-route: self\r\n"));
    }

    #[test]
    fn http_get_reads_the_body_of_a_server_error() {
        let body = "Error: Could not connect to handoff target";
        let (port, server) = serve_once(
            format!(
                "HTTP/1.1 500 Internal Server Error\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            ),
            Duration::ZERO,
        );
        let answer = http_get(port, "/", &[]).expect("answer");
        server.join().expect("join");
        assert_eq!(answer.status, 500);
        assert_eq!(answer.error_body, body);
    }
}
