//! One request's log line: what is read from the request before it goes in, what is added
//! from the answer, and the JSON it becomes. Pure: no platform access.
//!
//! Only facts that are safe to ship to a log provider are kept: the route pattern (never
//! the path, which for a link holds a grant), the number of `topic` parameters (never the
//! query), the key id a token names (never the token), MQTT packet types (never their
//! contents).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::header::CONTENT_TYPE;
use serde::Serialize;

use pubsub_codec::mqtt::{frame_len, PacketType, ProtocolVersion};
use pubsub_codec::wsevents::{self, Event, DEFAULT_MESSAGE_PREFIX};
use pubsub_core::extensions::Handoff;
use pubsub_core::mqtt_session::Field;
use pubsub_core::{jwt, keys, limits};

use crate::extract_auth::{extract, Credentials};
use crate::{Error, Request, Response};

/// The most of a `Connection-Id` a line keeps (Fanout's are far shorter).
const MAX_CONNECTION_ID: usize = 64;

/// How many packets of each type a WebSocket-over-HTTP body carried.
pub(crate) type PacketCounts = BTreeMap<&'static str, u32>;

/// The fields of one line (`None`s are left out).
#[derive(Debug, Default, Serialize)]
pub(crate) struct Line {
    /// When the request arrived: RFC 3339, UTC, milliseconds.
    pub(crate) time: String,
    pub(crate) method: String,
    /// The route pattern that matched (`/admin/keys/{id}`), `None` for an unknown path.
    pub(crate) route: Option<String>,
    pub(crate) status: u16,
    pub(crate) duration_us: u64,
    /// How many `topic` query parameters the request had, when it had any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) topics: Option<usize>,
    /// The key id the request's token names (verified or not), when it is a well-formed
    /// key id (1 to 64 of `A-Z a-z 0-9 - _`): a forged token cannot make lines long.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) kid: Option<String>,
    /// Whether the request carried `Grip-Sig` (a forged one ends in a 403).
    pub(crate) grip: bool,
    /// Whether the answer hands the request off to Fanout (the first pass of a subscribe).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) handoff: bool,
    /// Fanout's `Connection-Id` of a WebSocket-over-HTTP request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) connection: Option<String>,
    /// MQTT packets the client sent in this batch, by type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mqtt_in: Option<PacketCounts>,
    /// MQTT packets the answer sends the client, by type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) mqtt_out: Option<PacketCounts>,
    /// The error's condition (`unauthorized`, `too-many-requests`, …) when the answer is
    /// an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<&'static str>,
}

impl Line {
    /// What the request itself tells; `route` is the matched pattern.
    pub(crate) fn of_request(req: &Request, route: Option<String>, start_micros: u64) -> Self {
        let headers = req.headers();
        let websocket = headers
            .get(CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes() == wsevents::CONTENT_TYPE.as_bytes());
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let token = match extract(req) {
            Ok(Some(Credentials(token))) => Some(token),
            _ => text(Field::Token.meta()).map(str::to_owned),
        };
        let topics = req.uri().query().map_or(0, |q| {
            let is_topic = |pair: &&str| pair.split('=').next() == Some("topic");
            q.split('&').filter(is_topic).count()
        });
        Self {
            time: rfc3339_millis(start_micros),
            method: req.method().as_str().to_owned(),
            route,
            topics: (topics > 0).then_some(topics),
            kid: token
                .and_then(|t| jwt::parse(&t).ok()?.kid)
                .filter(|kid| keys::validate_id(kid).is_ok()),
            grip: headers.contains_key("grip-sig"),
            connection: websocket
                .then(|| text("connection-id"))
                .flatten()
                .map(|id| limits::cut_at_char_boundary(id, MAX_CONNECTION_ID).to_owned()),
            mqtt_in: websocket.then(|| incoming(req.body(), text(Field::Buffer.meta()))),
            ..Self::default()
        }
    }

    /// Adds the answer: `status` is what the client gets (an error's status depends on
    /// its rendering, see `ErrorMap`).
    pub(crate) fn answer(&mut self, result: &Result<Response, Error>, status: u16, micros: u64) {
        self.status = status;
        self.duration_us = micros;
        match result {
            Ok(res) => {
                self.handoff = res.extensions().get::<Handoff>().is_some();
                if self.mqtt_in.is_some() {
                    self.mqtt_out = Some(outgoing(res.body()));
                }
            }
            Err(e) => self.error = Some(e.condition()),
        }
    }

    /// The line as JSON, one line.
    pub(crate) fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The packets a client's batch holds: the partial packet carried from the previous
/// request (`mqtt-buf`, base64), then every BINARY event's bytes.
fn incoming(body: &[u8], carried: Option<&str>) -> PacketCounts {
    let mut stream = carried
        .and_then(|b| BASE64.decode(b).ok())
        .unwrap_or_default();
    for event in wsevents::events(body).map_while(Result::ok) {
        if let Event::Binary(bytes) = event {
            stream.extend_from_slice(bytes);
        }
    }
    let mut counts = PacketCounts::new();
    count_packets(&stream, &mut counts);
    counts
}

/// The packets an answer sends: each BINARY event is one message with the grip prefix.
fn outgoing(body: &[u8]) -> PacketCounts {
    let mut counts = PacketCounts::new();
    for event in wsevents::events(body).map_while(Result::ok) {
        if let Event::Binary(bytes) = event {
            let packets = bytes.strip_prefix(DEFAULT_MESSAGE_PREFIX.as_bytes());
            count_packets(packets.unwrap_or(bytes), &mut counts);
        }
    }
    counts
}

/// Counts the packets of `stream` by type; the rest of a packet cut short is `partial`,
/// a fixed header that cannot be read is `malformed`.
fn count_packets(stream: &[u8], counts: &mut PacketCounts) {
    let mut rest = stream;
    while let Some(&first) = rest.first() {
        let name = match frame_len(rest, u32::MAX) {
            Ok(Some(len)) => {
                rest = &rest[len..];
                PacketType::from_first_byte(first, ProtocolVersion::V5)
                    .map_or("reserved", |t| t.name())
            }
            Ok(None) => {
                rest = &[];
                "partial"
            }
            Err(_) => {
                rest = &[];
                "malformed"
            }
        };
        *counts.entry(name).or_default() += 1;
    }
}

/// `micros` since the epoch as `2026-11-29T23:59:01.123Z`.
pub(crate) fn rfc3339_millis(micros: u64) -> String {
    let secs = micros / 1_000_000;
    let millis = (micros / 1_000) % 1_000;
    let (days, day_secs) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (day_secs / 3_600, day_secs / 60 % 60, day_secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (H. Hinnant's `civil_from_days`,
/// for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
