//! The state of one MQTT connection as Fanout carries it in connection metadata: a typed
//! [`Session`], the one schema of its `Meta-*` header names ([`Field`]), and the
//! `Set-Meta-*` changes computed by comparing a session with the one read.
//!
//! The app keeps no memory between requests, so everything a later request needs rides in
//! `Meta-*` headers that Fanout sends with every request of the connection; the app
//! changes them with `Set-Meta-*` response headers (an empty value removes one). They are
//! trusted only because `Grip-Sig` verified.
//!
//! Invariants: every header name is declared once, in [`Field`]; [`Session::changes`]
//! writes exactly the fields whose value differs from the session read
//! ([`Session::from_headers`]), so no change can be forgotten or misnamed; each field's
//! text format is fixed (connections opened before a deploy keep parsing). The handler
//! bounds every value (`mqtt-buf`, `mqtt-subs`, `mqtt-will`, `mqtt-token`, `mqtt-qos2`)
//! to stay under the proxy's header limits. A persistent-session store would be a second
//! backing of the same `Session`, beside these headers.

use std::num::NonZeroU16;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::HeaderMap;

use pubsub_codec::mqtt::ProtocolVersion;

use crate::Error;

mod sub;
pub mod takeover;
pub use sub::Sub;

/// One field of the session metadata; its header names are declared here only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `mqtt-v`: protocol level after CONNECT: `4` (3.1.1) or `5`; absent before CONNECT.
    Version,
    /// `mqtt-token`: the token from the CONNECT password, re-verified when it is used.
    Token,
    /// `mqtt-exp`: the token's `exp`, checked on every request.
    Exp,
    /// `mqtt-ka`: the keep alive, seconds.
    KeepAlive,
    /// `mqtt-seen`: when the client last sent a packet, seconds since the epoch.
    Seen,
    /// `mqtt-subs`: subscriptions, `,`-separated `<options hex><channel>[|<version>]`.
    Subs,
    /// `mqtt-buf`: base64 of the bytes of an incomplete packet, awaiting the rest.
    Buffer,
    /// `mqtt-will`: base64 of the Will Message as an MQTT 5 PUBLISH.
    Will,
    /// `mqtt-qos2`: `,`-separated Packet Identifiers of QoS 2 PUBLISHes awaiting PUBREL.
    Qos2,
}

impl Field {
    /// Every field, in the order `Set-Meta-*` headers are written.
    pub const ALL: [Field; 9] = [
        Field::Version,
        Field::Token,
        Field::Exp,
        Field::KeepAlive,
        Field::Seen,
        Field::Subs,
        Field::Buffer,
        Field::Will,
        Field::Qos2,
    ];

    /// The request header Fanout carries the field in.
    pub const fn meta(self) -> &'static str {
        match self {
            Field::Version => "meta-mqtt-v",
            Field::Token => "meta-mqtt-token",
            Field::Exp => "meta-mqtt-exp",
            Field::KeepAlive => "meta-mqtt-ka",
            Field::Seen => "meta-mqtt-seen",
            Field::Subs => "meta-mqtt-subs",
            Field::Buffer => "meta-mqtt-buf",
            Field::Will => "meta-mqtt-will",
            Field::Qos2 => "meta-mqtt-qos2",
        }
    }

    /// The response header that changes the field.
    pub const fn set_meta(self) -> &'static str {
        match self {
            Field::Version => "set-meta-mqtt-v",
            Field::Token => "set-meta-mqtt-token",
            Field::Exp => "set-meta-mqtt-exp",
            Field::KeepAlive => "set-meta-mqtt-ka",
            Field::Seen => "set-meta-mqtt-seen",
            Field::Subs => "set-meta-mqtt-subs",
            Field::Buffer => "set-meta-mqtt-buf",
            Field::Will => "set-meta-mqtt-will",
            Field::Qos2 => "set-meta-mqtt-qos2",
        }
    }

    /// The metadata name (`mqtt-v`), as errors name it.
    pub fn name(self) -> &'static str {
        self.meta().trim_start_matches("meta-")
    }
}

/// The connection state read from `Meta-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Session {
    /// The protocol version of the CONNECT; `None` before it.
    pub version: Option<ProtocolVersion>,
    /// The CONNECT password.
    pub token: Option<String>,
    /// The token's `exp`.
    pub exp: Option<u64>,
    /// The keep alive in force, seconds (0: off).
    pub keep_alive: u16,
    /// When the client last sent a packet (or opened the WebSocket), seconds since the epoch.
    pub seen: u64,
    /// The subscriptions, in the order they were made.
    pub subs: Vec<Sub>,
    /// The bytes of an incomplete packet.
    pub buffer: Vec<u8>,
    /// The Will Message to publish when the session ends abnormally, as an MQTT 5 PUBLISH.
    pub will: Option<Vec<u8>>,
    /// The Packet Identifiers of QoS 2 PUBLISHes published and awaiting PUBREL.
    pub qos2: Vec<NonZeroU16>,
}

fn meta(headers: &HeaderMap, field: Field) -> Option<&str> {
    headers
        .get(field.meta())
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn corrupt(field: Field) -> Error {
    let name = field.name();
    Error::BadRequest(format!("connection metadata `{name}` is corrupt"))
}

fn number(headers: &HeaderMap, field: Field) -> Result<Option<u64>, Error> {
    meta(headers, field)
        .map(|v| v.parse::<u64>().map_err(|_| corrupt(field)))
        .transpose()
}

fn base64(headers: &HeaderMap, field: Field) -> Result<Option<Vec<u8>>, Error> {
    meta(headers, field)
        .map(|v| BASE64.decode(v).map_err(|_| corrupt(field)))
        .transpose()
}

impl Session {
    /// Reads the state from the request's `Meta-*` headers.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, Error> {
        let version = match meta(headers, Field::Version) {
            None => None,
            Some("4") => Some(ProtocolVersion::V311),
            Some("5") => Some(ProtocolVersion::V5),
            Some(_) => return Err(corrupt(Field::Version)),
        };
        let subs = match meta(headers, Field::Subs) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|s| Sub::decode(s).ok_or_else(|| corrupt(Field::Subs)))
                .collect::<Result<_, _>>()?,
        };
        let keep_alive = number(headers, Field::KeepAlive)?;
        Ok(Self {
            version,
            token: meta(headers, Field::Token).map(str::to_owned),
            exp: number(headers, Field::Exp)?,
            keep_alive: keep_alive.map_or(0, |k| u16::try_from(k).unwrap_or(u16::MAX)),
            seen: number(headers, Field::Seen)?.unwrap_or(0),
            subs,
            buffer: base64(headers, Field::Buffer)?.unwrap_or_default(),
            will: base64(headers, Field::Will)?,
            qos2: match meta(headers, Field::Qos2) {
                None => Vec::new(),
                Some(ids) => decode_ids(ids).ok_or_else(|| corrupt(Field::Qos2))?,
            },
        })
    }

    /// The index of the subscription to `topic`, if any.
    pub fn position(&self, topic: &str) -> Option<usize> {
        self.subs.iter().position(|s| s.topic() == topic)
    }

    /// Whether `field` holds the same value in both sessions.
    fn same(&self, other: &Session, field: Field) -> bool {
        match field {
            Field::Version => self.version == other.version,
            Field::Token => self.token == other.token,
            Field::Exp => self.exp == other.exp,
            Field::KeepAlive => self.keep_alive == other.keep_alive,
            Field::Seen => self.seen == other.seen,
            Field::Subs => self.subs == other.subs,
            Field::Buffer => self.buffer == other.buffer,
            Field::Will => self.will == other.will,
            Field::Qos2 => self.qos2 == other.qos2,
        }
    }

    /// `field`'s metadata text (empty: absent).
    pub fn encode(&self, field: Field) -> String {
        match field {
            Field::Version => self
                .version
                .map_or(String::new(), |v| v.level().to_string()),
            Field::Token => self.token.clone().unwrap_or_default(),
            Field::Exp => self.exp.map_or(String::new(), |e| e.to_string()),
            Field::KeepAlive => self.keep_alive.to_string(),
            Field::Seen => self.seen.to_string(),
            Field::Subs => {
                let mut out = String::new();
                for (i, sub) in self.subs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    sub.encode(&mut out);
                }
                out
            }
            Field::Buffer => BASE64.encode(&self.buffer),
            Field::Will => self
                .will
                .as_ref()
                .map_or(String::new(), |w| BASE64.encode(w)),
            Field::Qos2 => encode_ids(&self.qos2),
        }
    }

    /// The `Set-Meta-*` headers that turn `original` into this session: one for every
    /// field whose value differs (an empty value removes it).
    pub fn changes(&self, original: &Session) -> Vec<(&'static str, String)> {
        Field::ALL
            .into_iter()
            .filter(|&field| !self.same(original, field))
            .map(|field| (field.set_meta(), self.encode(field)))
            .collect()
    }
}

/// `mqtt-qos2` metadata: the identifiers, `,`-separated decimal.
fn encode_ids(ids: &[NonZeroU16]) -> String {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    ids.join(",")
}

/// Reads `mqtt-qos2` metadata; `None` when it is corrupt.
fn decode_ids(s: &str) -> Option<Vec<NonZeroU16>> {
    s.split(',').map(|id| id.parse().ok()).collect()
}

#[cfg(test)]
mod tests;
