//! Pushpin's WebSocket-over-HTTP event format (`application/websocket-events`).
//!
//! Fanout/Pushpin turns a client's WebSocket into HTTP requests to the origin.
//! Each request and response body is a concatenation of events, encoded like
//! HTTP chunks:
//!
//! ```text
//! TYPE\r\n                              an event without content
//! TYPE <hex length>\r\n<content>\r\n    an event with content
//! ```
//!
//! The types are `OPEN` (handshake request / acceptance), `TEXT` and `BINARY`
//! (messages), `PING` and `PONG`, `CLOSE` (content: a 2-byte big-endian close
//! code, optionally followed by a reason) and `DISCONNECT` (the connection
//! ended uncleanly or is unknown). A type that normally has no content may
//! still be sent with some, which receivers ignore (`OPEN 0\r\n\r\n` is
//! legal). An empty body is a keep-alive.
//!
//! # The `grip` extension
//!
//! When the origin accepts the `OPEN` with the response header
//! `Sec-WebSocket-Extensions: grip`, the proxy treats the origin's messages
//! specially:
//!
//! * A TEXT message starting with `c:` is a *control message* for the proxy,
//!   not for the client: the rest is a JSON object such as
//!   `{"type":"subscribe","channel":"mychannel"}` (also `unsubscribe`,
//!   `detach`, `keep-alive`, ...). [`control_message`] writes one.
//! * Messages meant for the client carry the *message prefix*, `m:` by default
//!   ([`DEFAULT_MESSAGE_PREFIX`]), which the proxy strips before relaying. The
//!   origin can negotiate another prefix with the extension parameter
//!   `message-prefix`, commonly `grip; message-prefix=""` so that client
//!   messages need no prefix at all.
//!
//! Messages published to a channel are delivered by the proxy itself and do
//! not pass through this codec.

use std::fmt;

/// The content type of WebSocket-over-HTTP request and response bodies.
pub const CONTENT_TYPE: &str = "application/websocket-events";

/// Prefix marking a TEXT event from the origin as a GRIP control message.
pub const CONTROL_PREFIX: &str = "c:";

/// Message prefix of the `grip` extension when `message-prefix` is not given.
pub const DEFAULT_MESSAGE_PREFIX: &str = "m:";

const CRLF: &[u8] = b"\r\n";

/// One WebSocket event, borrowing its content from the body it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// Handshake request (from the proxy) or acceptance (from the origin).
    Open,
    /// A text message.
    Text(&'a [u8]),
    /// A binary message (MQTT over WebSocket travels in these).
    Binary(&'a [u8]),
    /// A ping, with its application data.
    Ping(&'a [u8]),
    /// A pong, with its application data.
    Pong(&'a [u8]),
    /// A close frame: the status code if one was given, and the reason.
    Close(Option<u16>, &'a [u8]),
    /// The connection closed uncleanly or does not exist.
    Disconnect,
}

impl Event<'_> {
    /// The event type as written on the wire, e.g. `"BINARY"`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Text(_) => "TEXT",
            Self::Binary(_) => "BINARY",
            Self::Ping(_) => "PING",
            Self::Pong(_) => "PONG",
            Self::Close(..) => "CLOSE",
            Self::Disconnect => "DISCONNECT",
        }
    }
}

/// What is wrong with an event body. Offsets are byte positions in the body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsEventError {
    /// An event line is not terminated by CRLF.
    MissingLineEnd {
        /// Where the event starts.
        offset: usize,
    },
    /// The event type is not one of the seven defined types.
    UnknownType {
        /// Where the event starts.
        offset: usize,
        /// The type as received (lossily decoded, shortened).
        name: String,
    },
    /// The content length is not a hexadecimal number that fits in `usize`.
    InvalidLength {
        /// Where the length starts.
        offset: usize,
        /// The length as received (lossily decoded, shortened).
        text: String,
    },
    /// The body ends before the declared content does.
    Truncated {
        /// Where the content starts.
        offset: usize,
        /// Declared content length.
        declared: usize,
        /// Bytes actually left.
        available: usize,
    },
    /// The content is not followed by CRLF.
    MissingContentEnd {
        /// Where the CRLF was expected.
        offset: usize,
    },
    /// CLOSE content of one byte: a close code needs two.
    InvalidCloseContent {
        /// Where the content starts.
        offset: usize,
    },
}

impl fmt::Display for WsEventError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingLineEnd { offset } => {
                write!(f, "event line at byte {offset} is not terminated by CRLF")
            }
            Self::UnknownType { offset, name } => {
                write!(f, "unknown event type {name:?} at byte {offset}")
            }
            Self::InvalidLength { offset, text } => {
                write!(f, "invalid hexadecimal content length {text:?} at byte {offset}")
            }
            Self::Truncated {
                offset,
                declared,
                available,
            } => write!(
                f,
                "event content at byte {offset} declares {declared} bytes but only {available} remain"
            ),
            Self::MissingContentEnd { offset } => {
                write!(f, "event content is not followed by CRLF at byte {offset}")
            }
            Self::InvalidCloseContent { offset } => {
                write!(f, "CLOSE content at byte {offset} is 1 byte; a close code needs 2")
            }
        }
    }
}

impl std::error::Error for WsEventError {}

/// Parses a whole body into its events.
pub fn parse(body: &[u8]) -> Result<Vec<Event<'_>>, WsEventError> {
    events(body).collect()
}

/// Iterates over the events of a body. After an error the iterator ends,
/// since the position of the next event is unknown.
pub fn events(body: &[u8]) -> Events<'_> {
    Events {
        body,
        pos: 0,
        failed: false,
    }
}

/// Iterator returned by [`events`].
#[derive(Debug, Clone)]
pub struct Events<'a> {
    body: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>, WsEventError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.body.len() {
            return None;
        }
        let result = self.next_event();
        self.failed = result.is_err();
        Some(result)
    }
}

impl<'a> Events<'a> {
    fn next_event(&mut self) -> Result<Event<'a>, WsEventError> {
        let body = self.body;
        let start = self.pos;
        let rest = &body[start..];
        let line_len = rest
            .windows(2)
            .position(|w| w == CRLF)
            .ok_or(WsEventError::MissingLineEnd { offset: start })?;
        let line = &rest[..line_len];
        let (name, size) = match line.iter().position(|&b| b == b' ') {
            Some(space) => (&line[..space], Some(&line[space + 1..])),
            None => (line, None),
        };
        let mut pos = start + line_len + CRLF.len();

        let content_start = pos;
        let content: &'a [u8] = match size {
            None => &[],
            Some(hex) => {
                let len = parse_hex(hex).ok_or_else(|| WsEventError::InvalidLength {
                    offset: start + name.len() + 1,
                    text: shorten(hex),
                })?;
                let available = body.len() - pos;
                if len > available {
                    return Err(WsEventError::Truncated {
                        offset: pos,
                        declared: len,
                        available,
                    });
                }
                let content = &body[pos..pos + len];
                pos += len;
                if !body[pos..].starts_with(CRLF) {
                    return Err(WsEventError::MissingContentEnd { offset: pos });
                }
                pos += CRLF.len();
                content
            }
        };

        let event = match name {
            b"OPEN" => Event::Open,
            b"TEXT" => Event::Text(content),
            b"BINARY" => Event::Binary(content),
            b"PING" => Event::Ping(content),
            b"PONG" => Event::Pong(content),
            b"CLOSE" => match content {
                [] => Event::Close(None, &[]),
                [_] => {
                    return Err(WsEventError::InvalidCloseContent {
                        offset: content_start,
                    })
                }
                [hi, lo, reason @ ..] => Event::Close(Some(u16::from_be_bytes([*hi, *lo])), reason),
            },
            b"DISCONNECT" => Event::Disconnect,
            _ => {
                return Err(WsEventError::UnknownType {
                    offset: start,
                    name: shorten(name),
                })
            }
        };
        self.pos = pos;
        Ok(event)
    }
}

/// Parses a non-empty run of hex digits (either case) without overflow.
fn parse_hex(text: &[u8]) -> Option<usize> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0usize, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(digit as usize)
    })
}

/// Keeps error messages small when a peer sends garbage.
fn shorten(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(32)]).into_owned()
}

/// Appends `NAME <HEX>\r\n<parts...>\r\n`.
fn write_with_content(out: &mut Vec<u8>, name: &str, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(name.len() + 20 + len);
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_hex(out, len);
    out.extend_from_slice(CRLF);
    for part in parts {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(CRLF);
}

fn write_bare(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(CRLF);
}

/// Uppercase hex without leading zeros, as in the protocol's own examples.
fn write_hex(out: &mut Vec<u8>, value: usize) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 2 * std::mem::size_of::<usize>()];
    let mut i = buf.len();
    let mut v = value;
    loop {
        i -= 1;
        buf[i] = DIGITS[v % 16];
        v /= 16;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends any event. Events without payload are written bare; a `Close`
/// without a code is written bare too, since a reason needs a code.
pub fn write_event(out: &mut Vec<u8>, event: &Event<'_>) {
    match *event {
        Event::Open => write_open(out),
        Event::Text(content) => write_text(out, content),
        Event::Binary(content) => write_binary(out, content),
        Event::Ping(content) => write_ping(out, content),
        Event::Pong(content) => write_pong(out, content),
        Event::Close(Some(code), reason) => write_close_with_reason(out, code, reason),
        Event::Close(None, _) => write_bare(out, "CLOSE"),
        Event::Disconnect => write_disconnect(out),
    }
}

/// Appends `OPEN\r\n` (accepting the connection, when sent by the origin).
pub fn write_open(out: &mut Vec<u8>) {
    write_bare(out, "OPEN");
}

/// Appends a TEXT event.
pub fn write_text(out: &mut Vec<u8>, content: &[u8]) {
    write_with_content(out, "TEXT", &[content]);
}

/// Appends a BINARY event.
pub fn write_binary(out: &mut Vec<u8>, content: &[u8]) {
    write_with_content(out, "BINARY", &[content]);
}

/// Appends a PING event (bare when `content` is empty).
pub fn write_ping(out: &mut Vec<u8>, content: &[u8]) {
    if content.is_empty() {
        write_bare(out, "PING");
    } else {
        write_with_content(out, "PING", &[content]);
    }
}

/// Appends a PONG event (bare when `content` is empty); a pong answering a
/// ping should echo the ping's content.
pub fn write_pong(out: &mut Vec<u8>, content: &[u8]) {
    if content.is_empty() {
        write_bare(out, "PONG");
    } else {
        write_with_content(out, "PONG", &[content]);
    }
}

/// Appends a CLOSE event with a close code and no reason.
pub fn write_close(out: &mut Vec<u8>, code: u16) {
    write_close_with_reason(out, code, &[]);
}

/// Appends a CLOSE event with a close code and a reason (UTF-8 by WebSocket
/// rules, at most 123 bytes to fit a control frame).
pub fn write_close_with_reason(out: &mut Vec<u8>, code: u16, reason: &[u8]) {
    write_with_content(out, "CLOSE", &[&code.to_be_bytes(), reason]);
}

/// Appends `DISCONNECT\r\n`.
pub fn write_disconnect(out: &mut Vec<u8>) {
    write_bare(out, "DISCONNECT");
}

/// Appends a GRIP control message: a TEXT event whose content is `c:` followed
/// by `json`, e.g. `{"type":"subscribe","channel":"mychannel"}`.
pub fn control_message(out: &mut Vec<u8>, json: &str) {
    write_with_content(out, "TEXT", &[CONTROL_PREFIX.as_bytes(), json.as_bytes()]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_documents_examples_parse() {
        assert_eq!(
            parse(b"TEXT B\r\nhello world\r\n").unwrap(),
            [Event::Text(b"hello world")]
        );
        assert_eq!(parse(b"OPEN\r\n").unwrap(), [Event::Open]);
        assert_eq!(parse(b"OPEN 0\r\n\r\n").unwrap(), [Event::Open]);
        // The document's own example says "1B" for this 28-byte message.
        assert_eq!(
            parse(b"TEXT 5\r\nworld\r\nTEXT 1C\r\nhere is another nice message\r\n").unwrap(),
            [
                Event::Text(b"world"),
                Event::Text(b"here is another nice message")
            ]
        );
        assert_eq!(
            parse(b"CLOSE 2\r\n\x03\xe8\r\n").unwrap(),
            [Event::Close(Some(1000), b"")]
        );
    }

    #[test]
    fn every_event_type_parses() {
        let body = b"OPEN\r\nTEXT 2\r\nhi\r\nBINARY 3\r\n\x10\x00\xff\r\nPING\r\nPING 1\r\np\r\n\
PONG 1\r\nq\r\nCLOSE 6\r\n\x0f\xa0gone\r\nCLOSE\r\nDISCONNECT\r\n";
        assert_eq!(
            parse(body).unwrap(),
            [
                Event::Open,
                Event::Text(b"hi"),
                Event::Binary(b"\x10\x00\xff"),
                Event::Ping(b""),
                Event::Ping(b"p"),
                Event::Pong(b"q"),
                Event::Close(Some(4000), b"gone"),
                Event::Close(None, b""),
                Event::Disconnect,
            ]
        );
    }

    #[test]
    fn content_may_contain_crlf_and_hex_may_be_lowercase() {
        assert_eq!(
            parse(b"BINARY a\r\n\r\n\r\n\r\n\r\n\r\n\r\n").unwrap(),
            [Event::Binary(b"\r\n\r\n\r\n\r\n\r\n")]
        );
        assert_eq!(
            parse(b"TEXT 0b\r\nhello world\r\n").unwrap(),
            [Event::Text(b"hello world")]
        );
    }

    #[test]
    fn an_empty_body_is_a_keep_alive_with_no_events() {
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn malformed_bodies_are_rejected_with_the_reason() {
        let cases: [(&[u8], WsEventError); 13] = [
            (b"OPEN", WsEventError::MissingLineEnd { offset: 0 }),
            (
                b"OPEN\r\nTEXT 1\n",
                WsEventError::MissingLineEnd { offset: 6 },
            ),
            (
                b"HELLO\r\n",
                WsEventError::UnknownType {
                    offset: 0,
                    name: "HELLO".into(),
                },
            ),
            (
                b"text 1\r\na\r\n",
                WsEventError::UnknownType {
                    offset: 0,
                    name: "text".into(),
                },
            ),
            (
                b"TEXT\r\nOPEN \r\n",
                WsEventError::InvalidLength {
                    offset: 11,
                    text: String::new(),
                },
            ),
            (
                b"TEXT 1g\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "1g".into(),
                },
            ),
            (
                b"TEXT -1\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "-1".into(),
                },
            ),
            (
                b"TEXT  1\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: " 1".into(),
                },
            ),
            (
                b"TEXT FFFFFFFFFFFFFFFFF\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "FFFFFFFFFFFFFFFFF".into(),
                },
            ),
            (
                b"TEXT 5\r\nhel",
                WsEventError::Truncated {
                    offset: 8,
                    declared: 5,
                    available: 3,
                },
            ),
            (
                b"TEXT 5\r\nhello",
                WsEventError::MissingContentEnd { offset: 13 },
            ),
            (
                b"TEXT 4\r\nhello\r\n",
                WsEventError::MissingContentEnd { offset: 12 },
            ),
            (
                b"CLOSE 1\r\nx\r\n",
                WsEventError::InvalidCloseContent { offset: 9 },
            ),
        ];
        for (body, err) in cases {
            assert_eq!(parse(body), Err(err), "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_iterator_yields_events_up_to_the_first_error_then_stops() {
        let mut it = events(b"OPEN\r\nBOGUS\r\nOPEN\r\n");
        assert_eq!(it.next(), Some(Ok(Event::Open)));
        assert!(matches!(
            it.next(),
            Some(Err(WsEventError::UnknownType { offset: 6, .. }))
        ));
        assert_eq!(it.next(), None);
    }

    #[test]
    fn writers_produce_these_golden_bodies() {
        type Writer = fn(&mut Vec<u8>);
        let cases: [(Writer, &[u8]); 11] = [
            (write_open, b"OPEN\r\n"),
            (
                |o| write_text(o, b"hello world"),
                b"TEXT B\r\nhello world\r\n",
            ),
            (|o| write_text(o, b""), b"TEXT 0\r\n\r\n"),
            (
                |o| write_binary(o, &[0xc0, 0x00]),
                b"BINARY 2\r\n\xc0\x00\r\n",
            ),
            (|o| write_ping(o, b""), b"PING\r\n"),
            (|o| write_pong(o, b""), b"PONG\r\n"),
            (|o| write_pong(o, b"xy"), b"PONG 2\r\nxy\r\n"),
            (|o| write_close(o, 1000), b"CLOSE 2\r\n\x03\xe8\r\n"),
            (
                |o| write_close_with_reason(o, 1008, b"bad"),
                b"CLOSE 5\r\n\x03\xf0bad\r\n",
            ),
            (write_disconnect, b"DISCONNECT\r\n"),
            (
                |o| control_message(o, r#"{"type":"subscribe","channel":"mychannel"}"#),
                b"TEXT 2C\r\nc:{\"type\":\"subscribe\",\"channel\":\"mychannel\"}\r\n",
            ),
        ];
        for (write, expected) in cases {
            let mut out = Vec::new();
            write(&mut out);
            assert_eq!(out, expected, "{:?}", String::from_utf8_lossy(expected));
        }
    }

    #[test]
    fn long_content_gets_a_multi_digit_length() {
        let mut out = Vec::new();
        write_binary(&mut out, &[0u8; 0x1234]);
        assert!(out.starts_with(b"BINARY 1234\r\n"));
        assert_eq!(parse(&out).unwrap(), [Event::Binary(&[0u8; 0x1234])]);
    }

    #[test]
    fn written_events_parse_back_to_themselves() {
        let events = [
            Event::Open,
            Event::Text(b"t"),
            Event::Binary(b""),
            Event::Ping(b"p"),
            Event::Pong(b""),
            Event::Close(Some(1001), b"bye"),
            Event::Close(None, b""),
            Event::Disconnect,
        ];
        let mut body = Vec::new();
        for event in &events {
            write_event(&mut body, event);
        }
        assert_eq!(parse(&body).unwrap(), events);
    }
}
