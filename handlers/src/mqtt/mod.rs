//! `/mqtt`: MQTT 5 and 3.1.1 over WebSocket, through Fanout's WebSocket-over-HTTP protocol.
//!
//! Fanout holds the WebSocket and turns each batch of client frames into a POST with
//! `Content-Type: application/websocket-events` (events `OPEN`, `BINARY`, `CLOSE`, …),
//! carrying the connection's metadata as `Meta-*` headers (see `session.rs`). The answer
//! is events too: the MQTT packets for the client as `BINARY` events, Fanout control
//! messages (`c:{"type":"subscribe",…}` `TEXT` events, understood because the OPEN answer
//! negotiates the `grip` extension), and `CLOSE` to end the connection.
//!
//! - The OPEN answer selects the `mqtt` subprotocol (a client that does not offer it is
//!   refused with 400). Every answer sets `Keep-Alive-Interval` to when the connection's
//!   next deadline passes (see `liveness.rs`), so the CONNECT deadline, the keep alive
//!   and token expiry are enforced on an idle connection with one request each, not a
//!   request every few seconds.
//! - MQTT packets may be split across WebSocket messages and requests, and one message may
//!   hold several packets. Fanout (Pushpin 1.36) does not implement
//!   `Content-Bytes-Accepted`, so the bytes of an incomplete packet are kept in connection
//!   metadata (`mqtt-buf`) and prepended to the next request's bytes. So a packet is at
//!   most `MAX_CARRIED_PACKET_BYTES` (32,768), whatever `max-packet-bytes` allows.
//! - An answer carries at most `ANSWER_BUDGET_BYTES` (900,000) of events, below Fanout's
//!   1,000,000 byte response limit (see `retained.rs`).
//!
//! The packet-level behaviour starts in `connection.rs`.

mod connect;
mod connection;
mod liveness;
mod publish;
mod qos2;
mod retained;
mod session;
mod subscribe;
mod will;
pub use connect::MAX_TOKEN_BYTES;
pub use connection::MAX_CARRIED_PACKET_BYTES;
pub use liveness::{MAX_CALLBACK_SECS, MIN_CALLBACK_SECS};
pub use qos2::RECEIVE_MAXIMUM;
pub use retained::{ANSWER_BUDGET_BYTES, MAX_SLOT_READS};
pub use subscribe::MAX_SUBSCRIPTIONS;
pub use will::MAX_WILL_BYTES;
#[cfg(test)]
mod tests;

use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use pubsub_codec::wsevents::{self, Event};
use pubsub_core::extensions::{required, GripVerified};
use pubsub_core::ports::Platform;
use pubsub_core::{Config, Error, Request, Response, Result};

use connection::Connection;
use session::Session;

const EVENTS: &str = "application/websocket-events";

/// A `GET /mqtt` that carries a verified `Grip-Sig`: not how Fanout speaks to the app.
pub fn get(_req: Request) -> Result {
    Err(Error::BadRequest(
        "WebSocket-over-HTTP requests are POSTs with Content-Type application/websocket-events"
            .into(),
    ))
}

/// Handles one WebSocket-over-HTTP request of an MQTT connection: the request is
/// verified, the connection's session restored from its metadata, the events folded in
/// order, and the answer written with the session's changes.
pub fn websocket(platform: &Platform, req: Request) -> Result {
    let (config, events) = verify(&req)?;
    let connection_id = req
        .headers()
        .get("connection-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let session = Session::from_headers(req.headers())?;
    let conn = Connection::new(platform, config, &connection_id, session);
    let batch = Batch::new(conn, offers_mqtt(&req));
    let batch = events.iter().try_fold(batch, Batch::event)?;
    let opened = batch.opened;
    let (session, body, interval) = batch.finish();
    response(session, body, opened, interval)
}

/// The events of a request that Fanout signed, with the configuration.
fn verify(req: &Request) -> Result<(&Config, Vec<Event<'_>>), Error> {
    if req.extensions().get::<GripVerified>().is_none() {
        return Err(Error::BadGripSig(
            "WebSocket-over-HTTP requests must come from Fanout, signed".into(),
        ));
    }
    let content_type = req.headers().get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    if content_type != Some(EVENTS.as_bytes()) {
        return Err(Error::BadRequest(format!("Content-Type must be {EVENTS}")));
    }
    let config = required::<Config>(req)?;
    let events = wsevents::parse(req.body())
        .map_err(|e| Error::BadRequest(format!("malformed WebSocket-over-HTTP body: {e}")))?;
    Ok((config, events))
}

/// How the events of a request end the connection, if one does.
#[derive(Clone, Copy)]
enum End {
    /// A text message: not MQTT.
    Text,
    /// The client closed the WebSocket, with this status code if it gave one.
    Close(Option<u16>),
    /// The connection was lost.
    Disconnect,
}

/// One request's events folded in order. The MQTT bytes of all BINARY events are
/// gathered (after the partial packet carried from the previous request) and handled at
/// [`Batch::finish`], before the end event: the packets that came before a CLOSE are
/// processed before it (a DISCONNECT then a close is a normal end, not a lost connection).
/// Events after the end event are ignored.
struct Batch<'a> {
    conn: Connection<'a>,
    /// Whether the handshake offered the `mqtt` subprotocol.
    offers_mqtt: bool,
    /// Whether this request opened the WebSocket.
    opened: bool,
    incoming: Vec<u8>,
    /// Whether the session carried a partial packet (`mqtt-buf`) into this request.
    had_buffer: bool,
    end: Option<End>,
}

impl<'a> Batch<'a> {
    fn new(mut conn: Connection<'a>, offers_mqtt: bool) -> Self {
        let incoming = std::mem::take(&mut conn.session.buffer);
        Self {
            conn,
            offers_mqtt,
            opened: false,
            had_buffer: !incoming.is_empty(),
            incoming,
            end: None,
        }
    }

    /// Takes in one event; OPEN without the `mqtt` subprotocol fails the request.
    fn event(mut self, event: &Event) -> Result<Self, Error> {
        if self.end.is_some() {
            return Ok(self);
        }
        match event {
            Event::Open => {
                if !self.offers_mqtt {
                    return Err(Error::BadRequest(
                        "the WebSocket must offer the `mqtt` subprotocol".into(),
                    ));
                }
                self.opened = true;
                // The CONNECT deadline counts from here.
                self.conn.session.seen = self.conn.now;
                self.conn.session.touch("mqtt-seen");
                wsevents::write_open(&mut self.conn.out);
            }
            Event::Binary(bytes) => self.incoming.extend_from_slice(bytes),
            Event::Ping(data) => wsevents::write_pong(&mut self.conn.out, data),
            Event::Pong(_) => {}
            Event::Text(_) => self.end = Some(End::Text),
            Event::Close(code, _) => self.end = Some(End::Close(*code)),
            Event::Disconnect => self.end = Some(End::Disconnect),
        }
        Ok(self)
    }

    /// Handles the gathered packets and the end event; the session to write back, the
    /// response body, and when Fanout should call again if the client stays silent.
    fn finish(mut self) -> (Session, Vec<u8>, Option<u64>) {
        let conn = &mut self.conn;
        conn.check_liveness();
        if !self.opened {
            conn.recover_retained();
        }
        conn.receive(&self.incoming, self.had_buffer);
        match self.end {
            // [MQTT-6.0.0-1]: MQTT travels in binary data frames only.
            Some(End::Text) => conn.close(1003),
            Some(End::Close(code)) if !conn.closed => {
                conn.close_quietly();
                wsevents::write_close(&mut conn.out, code.unwrap_or(1000));
            }
            Some(End::Close(_)) => {}
            Some(End::Disconnect) => conn.close_quietly(),
            None => {}
        }
        let interval = self.conn.callback_interval();
        let (session, body) = self.conn.finish();
        (session, body, interval)
    }
}

/// The answer: the events for the client, the handshake headers when the request opened
/// the WebSocket, `Keep-Alive-Interval` (`interval`: when Fanout calls again if the client
/// stays silent), and `Set-Meta-*` for every change of the session.
fn response(session: Session, body: Vec<u8>, opened: bool, interval: Option<u64>) -> Result {
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(EVENTS));
    if opened {
        h.insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
        h.insert("sec-websocket-extensions", HeaderValue::from_static("grip"));
    }
    if let Some(secs) = interval {
        h.insert("keep-alive-interval", HeaderValue::from(secs));
    }
    for (name, value) in session.changes() {
        let name = HeaderName::try_from(name)
            .map_err(|e| Error::Internal(format!("meta header name: {e}")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|e| Error::Internal(format!("meta header value: {e}")))?;
        h.insert(name, value);
    }
    Ok(res)
}

/// Whether the handshake offered the `mqtt` subprotocol (the header may list several).
fn offers_mqtt(req: &Request) -> bool {
    req.headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("mqtt"))
}
