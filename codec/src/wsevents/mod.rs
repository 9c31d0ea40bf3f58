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

mod decode;
mod encode;

pub use decode::{events, parse, Events};
pub use encode::{
    control_message, write_binary, write_close, write_close_with_reason, write_disconnect,
    write_event, write_open, write_ping, write_pong, write_text,
};

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
