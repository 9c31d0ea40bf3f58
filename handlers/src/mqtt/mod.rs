//! `/mqtt`: MQTT 5 and 3.1.1 over WebSocket, through Fanout's WebSocket-over-HTTP protocol.
//!
//! Fanout holds the WebSocket and turns each batch of client frames into a POST with
//! `Content-Type: application/websocket-events` (events `OPEN`, `BINARY`, `CLOSE`, …),
//! carrying the connection's metadata as `Meta-*` headers (schema and diff:
//! `pubsub_core::mqtt_session`). The answer is events too: the MQTT packets for the
//! client as `BINARY` events, Fanout control messages (`c:{"type":"subscribe",…}` `TEXT`
//! events, understood because the OPEN answer negotiates the `grip` extension), and
//! `CLOSE` to end the connection; its `Set-Meta-*` headers are the fields that differ
//! from the session read.
//!
//! - The OPEN answer selects the `mqtt` subprotocol (a client that does not offer it is
//!   refused with 400). Every answer sets `Keep-Alive-Interval` to when the connection's
//!   next deadline passes (see `protocol/liveness.rs`), so the CONNECT deadline, the keep
//!   alive and token expiry are enforced on an idle connection with one request each, not
//!   a request every few seconds.
//! - MQTT packets may be split across WebSocket messages and requests, and one message may
//!   hold several packets. Fanout (Pushpin 1.36) does not implement
//!   `Content-Bytes-Accepted`, so the bytes of an incomplete packet are kept in connection
//!   metadata (`mqtt-buf`) and prepended to the next request's bytes. So a packet is at
//!   most `MAX_CARRIED_PACKET_BYTES` (32,768), whatever `max-packet-bytes` allows.
//! - An answer carries at most `ANSWER_BUDGET_BYTES` (900,000) of events, below Fanout's
//!   1,000,000 byte response limit (see `driver/retained.rs`).
//!
//! The protocol rules are a pure core in `protocol/` (packets in, typed effects out);
//! `driver/` alone touches the platform and executes the effects.

mod driver;
mod protocol;
pub use driver::retained::{ANSWER_BUDGET_BYTES, MAX_FILTER_LISTINGS, MAX_SLOT_READS};
pub use protocol::connect::MAX_TOKEN_BYTES;
pub use protocol::liveness::{MAX_CALLBACK_SECS, MIN_CALLBACK_SECS};
pub use protocol::qos2::RECEIVE_MAXIMUM;
pub use protocol::state::MAX_CARRIED_PACKET_BYTES;
pub use protocol::subscribe::MAX_SUBSCRIPTIONS;
pub use protocol::will::MAX_WILL_BYTES;
#[cfg(test)]
mod tests;

use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};

use pubsub_codec::wsevents::{self, Event};
use pubsub_core::extensions::{required, GripVerified};
use pubsub_core::mqtt_session::Session;
use pubsub_core::ports::Platform;
use pubsub_core::{Config, Error, Request, Response, Result};

use driver::Outcome;

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
        .unwrap_or("");
    let original = Session::from_headers(req.headers())?;
    let session = original.clone();
    let outcome = driver::run(
        platform,
        config,
        connection_id,
        session,
        &events,
        offers_mqtt(&req),
    )?;
    response(&original, outcome)
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

/// The answer: the events for the client, the handshake headers when the request opened
/// the WebSocket, `Keep-Alive-Interval` (`interval`: when Fanout calls again if the client
/// stays silent), and `Set-Meta-*` for every change of the session.
fn response(original: &Session, outcome: Outcome) -> Result {
    let mut res = Response::new(outcome.body);
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(EVENTS));
    if outcome.opened {
        h.insert("sec-websocket-protocol", HeaderValue::from_static("mqtt"));
        h.insert("sec-websocket-extensions", HeaderValue::from_static("grip"));
    }
    if let Some(secs) = outcome.interval {
        h.insert("keep-alive-interval", HeaderValue::from(secs));
    }
    for (name, value) in outcome.session.changes(original) {
        let value = HeaderValue::try_from(value)
            .map_err(|e| Error::Internal(format!("meta header value: {e}")))?;
        h.insert(HeaderName::from_static(name), value);
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
