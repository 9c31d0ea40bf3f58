//! Reads HTTP/1.1 requests out of the byte stream a relay passes on, without changing it:
//! each complete request (head and body, framed by `Content-Length` or chunked
//! `Transfer-Encoding`) becomes one [`AppRequest`].

use std::time::Instant;

/// One request Pushpin made to the app, as seen by the counting relay.
#[derive(Debug, Clone)]
pub struct AppRequest {
    /// When its head was complete.
    pub at: Instant,
    /// The relay's number for the TCP connection it came on (Pushpin may reuse one
    /// connection for many requests).
    pub tcp_connection: u64,
    /// Request method, e.g. `GET` or `POST`.
    pub method: String,
    /// Request target (path and query), e.g. `/events?topic=a&auth=..`.
    pub target: String,
    /// The WebSocket-over-HTTP `Connection-Id` header, if any.
    pub connection_id: Option<String>,
    /// The `Grip-Last` header (set when Pushpin follows a `Grip-Link`), if any.
    pub grip_last: Option<String>,
    /// The `Grip-Sig` header Pushpin signed the request with, if any.
    pub grip_sig: Option<String>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Size of the body in bytes.
    pub body_len: u64,
    /// The body's first [`BODY_CAPTURE`] bytes.
    pub body: Vec<u8>,
}

/// How much of each body is kept.
pub const BODY_CAPTURE: usize = 4096;

/// Longest request head accepted; a longer one stops the sniffing (not the relaying).
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Head,
    Body(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkCrlf,
    Trailer,
    /// Unparseable input: the rest of the connection is passed on uncounted.
    Lost,
}

/// Parser state for one relayed connection.
#[derive(Debug)]
pub(crate) struct Sniffer {
    tcp_connection: u64,
    buf: Vec<u8>,
    state: State,
    current: Option<AppRequest>,
}

impl Sniffer {
    pub(crate) fn new(tcp_connection: u64) -> Self {
        Self {
            tcp_connection,
            buf: Vec::new(),
            state: State::Head,
            current: None,
        }
    }

    /// Consumes the next bytes sent by the client; returns the requests they completed.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Vec<AppRequest> {
        if self.state == State::Lost {
            return Vec::new();
        }
        self.buf.extend_from_slice(data);
        let mut done = Vec::new();
        while self.step(&mut done) {}
        done
    }

    /// Advances by one parsing step; false when more input is needed.
    fn step(&mut self, done: &mut Vec<AppRequest>) -> bool {
        match self.state {
            State::Head => self.head(done),
            State::Body(left) | State::ChunkData(left) => {
                let n = usize::try_from(left)
                    .unwrap_or(usize::MAX)
                    .min(self.buf.len());
                if n == 0 && left > 0 {
                    return false;
                }
                let bytes: Vec<u8> = self.buf.drain(..n).collect();
                if let Some(req) = self.current.as_mut() {
                    req.body_len += n as u64;
                    let room = BODY_CAPTURE.saturating_sub(req.body.len());
                    req.body.extend_from_slice(&bytes[..room.min(n)]);
                }
                let left = left - n as u64;
                self.state = match (self.state, left) {
                    (State::Body(_), 0) => return self.finish(done),
                    (State::Body(_), _) => State::Body(left),
                    (_, 0) => State::ChunkCrlf,
                    _ => State::ChunkData(left),
                };
                true
            }
            State::ChunkCrlf if self.buf.len() >= 2 => {
                self.buf.drain(..2);
                self.state = State::ChunkSize;
                true
            }
            State::ChunkSize => match self.line() {
                None => false,
                Some(line) => {
                    let hex = line.split(';').next().unwrap_or("").trim();
                    self.state = match u64::from_str_radix(hex, 16) {
                        Ok(0) => State::Trailer,
                        Ok(size) => State::ChunkData(size),
                        Err(_) => State::Lost,
                    };
                    self.state != State::Lost
                }
            },
            State::Trailer => match self.line() {
                None => false,
                Some(line) if line.is_empty() => self.finish(done),
                Some(_) => true,
            },
            State::ChunkCrlf | State::Lost => false,
        }
    }

    /// Takes one CRLF-terminated line off the buffer.
    fn line(&mut self) -> Option<String> {
        let end = find(&self.buf, b"\r\n")?;
        let line = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 2);
        Some(line)
    }

    fn head(&mut self, done: &mut Vec<AppRequest>) -> bool {
        let Some(end) = find(&self.buf, b"\r\n\r\n") else {
            if self.buf.len() > MAX_HEAD {
                self.state = State::Lost;
            }
            return false;
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let mut words = lines.next().unwrap_or("").split(' ');
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        let mut req = AppRequest {
            at: Instant::now(),
            tcp_connection: self.tcp_connection,
            method: method.to_string(),
            target: target.to_string(),
            connection_id: None,
            grip_last: None,
            grip_sig: None,
            content_type: None,
            body_len: 0,
            body: Vec::new(),
        };
        let (mut length, mut chunked) = (0u64, false);
        for (name, value) in lines.filter_map(|l| l.split_once(':')) {
            let value = value.trim().to_string();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "connection-id" => req.connection_id = Some(value),
                "grip-last" => req.grip_last = Some(value),
                "grip-sig" => req.grip_sig = Some(value),
                "content-type" => req.content_type = Some(value),
                _ => {}
            }
        }
        self.current = Some(req);
        match (chunked, length) {
            (true, _) => self.state = State::ChunkSize,
            (false, 0) => return self.finish(done),
            (false, n) => self.state = State::Body(n),
        }
        true
    }

    /// The current request is complete: hand it out and wait for the next head.
    fn finish(&mut self, done: &mut Vec<AppRequest>) -> bool {
        done.extend(self.current.take());
        self.state = State::Head;
        true
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&[u8]]) -> Vec<AppRequest> {
        let mut s = Sniffer::new(7);
        chunks.iter().flat_map(|c| s.feed(c)).collect()
    }

    #[test]
    fn keep_alive_requests_with_and_without_bodies_are_each_counted() {
        let wire = b"GET /events?topic=a HTTP/1.1\r\nHost: x\r\nGrip-Last: ch; last-id=3\r\n\r\n\
            POST /mqtt HTTP/1.1\r\nConnection-Id: c1\r\nContent-Type: application/websocket-events\r\n\
            Content-Length: 7\r\n\r\nOPEN\r\n\r\n\
            POST /mqtt HTTP/1.1\r\nconnection-id: c2\r\ncontent-length: 0\r\n\r\n";
        // Byte by byte: framing must not depend on how reads split the stream.
        let chunks: Vec<&[u8]> = wire.chunks(1).collect();
        let reqs = feed_all(&chunks);
        assert_eq!(reqs.len(), 3);
        assert_eq!(
            (reqs[0].method.as_str(), reqs[0].target.as_str()),
            ("GET", "/events?topic=a")
        );
        assert_eq!(reqs[0].grip_last.as_deref(), Some("ch; last-id=3"));
        assert_eq!(reqs[1].connection_id.as_deref(), Some("c1"));
        assert_eq!(reqs[1].body, b"OPEN\r\n\r\n"[..7].to_vec());
        assert_eq!(reqs[2].connection_id.as_deref(), Some("c2"));
        assert!(reqs.iter().all(|r| r.tcp_connection == 7));
    }

    #[test]
    fn chunked_bodies_are_framed_and_captured() {
        let wire = b"POST /mqtt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\
            4\r\nTEXT\r\n3;x=y\r\n 1\r\r\n0\r\nX-T: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n";
        let reqs = feed_all(&[&wire[..30], &wire[30..]]);
        assert_eq!(reqs.len(), 2);
        assert_eq!(reqs[0].body, b"TEXT 1\r");
        assert_eq!(reqs[0].body_len, 7);
        assert_eq!(reqs[1].target, "/");
    }

    #[test]
    fn garbage_stops_counting_without_panicking() {
        let reqs = feed_all(&[b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]);
        assert!(reqs.is_empty());
        assert!(feed_all(&[&vec![b'a'; MAX_HEAD + 10]]).is_empty());
    }
}
