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
//!   refused with 400) and asks Fanout for a request every [`KEEP_ALIVE_INTERVAL`] seconds
//!   of silence (`Keep-Alive-Interval`), so token expiry and the MQTT keep alive are
//!   enforced even on an idle connection.
//! - MQTT packets may be split across WebSocket messages and requests, and one message may
//!   hold several packets. Fanout (Pushpin 1.36) does not implement
//!   `Content-Bytes-Accepted`, so the bytes of an incomplete packet are kept in connection
//!   metadata (`mqtt-buf`) and prepended to the next request's bytes.
//!
//! The packet-level behaviour starts in `connection.rs`.

mod connect;
mod connection;
mod liveness;
mod publish;
mod session;
mod subscribe;
mod will;
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

/// Seconds of silence after which Fanout sends an empty request for the connection.
pub const KEEP_ALIVE_INTERVAL: u32 = 30;

const EVENTS: &str = "application/websocket-events";

/// A `GET /mqtt` that carries a verified `Grip-Sig`: not how Fanout speaks to the app.
pub fn get(_req: Request) -> Result {
    Err(Error::BadRequest(
        "WebSocket-over-HTTP requests are POSTs with Content-Type application/websocket-events"
            .into(),
    ))
}

/// Handles one WebSocket-over-HTTP request of an MQTT connection.
pub fn websocket(platform: &Platform, req: Request) -> Result {
    if req.extensions().get::<GripVerified>().is_none() {
        return Err(Error::BadGripSig(
            "WebSocket-over-HTTP requests must come from Fanout, signed".into(),
        ));
    }
    let content_type = req.headers().get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    if content_type != Some(EVENTS.as_bytes()) {
        return Err(Error::BadRequest(format!("Content-Type must be {EVENTS}")));
    }
    let config = required::<Config>(&req)?;
    let events = wsevents::parse(req.body())
        .map_err(|e| Error::BadRequest(format!("malformed WebSocket-over-HTTP body: {e}")))?;
    let connection_id = req
        .headers()
        .get("connection-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let session = Session::from_headers(req.headers())?;
    let mut conn = Connection::new(platform, config, &connection_id, session);

    let mut opened = false;
    let mut incoming = std::mem::take(&mut conn.session.buffer);
    let had_buffer = !incoming.is_empty();
    // Events are handled in order: the packets that came before a CLOSE are processed
    // before it (a DISCONNECT then a close is a normal end, not a lost connection).
    let mut end = None;
    for event in &events {
        match event {
            Event::Open => {
                if !offers_mqtt(&req) {
                    return Err(Error::BadRequest(
                        "the WebSocket must offer the `mqtt` subprotocol".into(),
                    ));
                }
                opened = true;
                wsevents::write_open(&mut conn.out);
            }
            Event::Binary(bytes) => incoming.extend_from_slice(bytes),
            Event::Ping(data) => wsevents::write_pong(&mut conn.out, data),
            Event::Pong(_) => {}
            Event::Text(_) | Event::Close(..) | Event::Disconnect => {
                end = Some(event);
                break;
            }
        }
    }
    conn.check_liveness();
    if !opened {
        conn.recover_retained();
    }
    conn.receive(&incoming, had_buffer);
    match end {
        // [MQTT-6.0.0-1]: MQTT travels in binary data frames only.
        Some(Event::Text(_)) => conn.close(1003),
        Some(Event::Close(code, _)) if !conn.closed => {
            conn.close_quietly();
            wsevents::write_close(&mut conn.out, code.unwrap_or(1000));
        }
        Some(Event::Close(..)) => {}
        Some(_) => conn.close_quietly(),
        None => {}
    }

    let (session, body) = conn.finish();
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(EVENTS));
    if opened {
        h.insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
        h.insert("sec-websocket-extensions", HeaderValue::from_static("grip"));
        h.insert(
            "keep-alive-interval",
            HeaderValue::from(KEEP_ALIVE_INTERVAL),
        );
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
