//! The state of one MQTT connection, carried by Fanout in connection metadata.
//!
//! The app keeps no memory between requests, so everything a later request needs rides in
//! `Meta-*` headers that Fanout sends with every request of the connection and that the app
//! changes with `Set-Meta-*` response headers. They are trusted only because `Grip-Sig`
//! verified (the route's `FanoutHandoff` guarantees it).
//!
//! | meta | meaning |
//! |---|---|
//! | `mqtt-v` | protocol level after CONNECT: `4` (3.1.1) or `5`; absent before CONNECT |
//! | `mqtt-token` | the token from the CONNECT password, re-verified when it is used |
//! | `mqtt-exp` | the token's `exp`, checked on every request |
//! | `mqtt-ka` | the CONNECT keep alive, seconds |
//! | `mqtt-seen` | when the client last sent a packet, seconds since the epoch |
//! | `mqtt-subs` | subscriptions: `,`-separated `<options hex><channel>` |
//! | `mqtt-buf` | base64 of the bytes of an incomplete packet, awaiting the rest |
//! | `mqtt-will` | base64 of the Will Message as an MQTT 5 PUBLISH, until the session ends |
//! | `mqtt-qos2` | `,`-separated Packet Identifiers of QoS 2 PUBLISHes awaiting PUBREL |
//!
//! Every value is bounded to stay under the proxy's header limits (README, "MQTT over
//! WebSocket"): `mqtt-buf` by `MAX_CARRIED_PACKET_BYTES`, `mqtt-subs` by
//! `MAX_SUBSCRIPTIONS`, `mqtt-will` by `MAX_WILL_BYTES`, `mqtt-token` by `MAX_TOKEN_BYTES`,
//! `mqtt-qos2` by `RECEIVE_MAXIMUM`.

use std::num::NonZeroU16;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use http::HeaderMap;

use pubsub_codec::mqtt::{ProtocolVersion, RetainHandling, SubscriptionOptions};

use pubsub_core::audience::feed;
use pubsub_core::Error;

use pubsub_core::retained::Version;

use super::qos2;

/// One subscription of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sub {
    /// The channel it listens on: the topic's channel (see `pubsub_core::audience`), or its
    /// MQTT 3.1.1 (`v4#`) or Retain As Published (`a#`) variant.
    pub(crate) channel: String,
    /// No Local.
    pub(crate) no_local: bool,
    /// Retain As Published.
    pub(crate) retain_as_published: bool,
    /// Retain Handling.
    pub(crate) retain_handling: RetainHandling,
    /// The slot version the retained delivery at SUBSCRIBE saw, until the request after
    /// the SUBSCRIBE checked it again (see `Connection::recover_retained`).
    pub(crate) check: Option<Version>,
}

impl Sub {
    pub(crate) fn new(channel: String, options: &SubscriptionOptions) -> Self {
        Self {
            channel,
            no_local: options.no_local,
            retain_as_published: options.retain_as_published,
            retain_handling: options.retain_handling,
            check: None,
        }
    }

    /// The topic of the subscription (its channel, unescaped).
    pub(crate) fn topic(&self) -> String {
        // Channels are made from valid topics, so the inverse always exists.
        feed::parse(&self.channel)
            .map(|(_, topic)| topic)
            .unwrap_or_default()
    }

    fn encode(&self, out: &mut String) {
        let flags = u8::from(self.no_local)
            | u8::from(self.retain_as_published) << 1
            | (self.retain_handling as u8) << 2;
        out.push(char::from(b"0123456789abcdef"[usize::from(flags & 15)]));
        out.push_str(&self.channel);
        if let Some(version) = self.check {
            // `|` never occurs in a channel name (it is percent-encoded there).
            out.push('|');
            out.push_str(&version.to_string());
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let flags = u8::from_str_radix(s.get(..1)?, 16).ok()?;
        let retain_handling = match flags >> 2 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return None,
        };
        let (channel, check) = match s[1..].split_once('|') {
            Some((channel, version)) => (channel, Some(version.parse().ok()?)),
            None => (&s[1..], None),
        };
        Some(Self {
            channel: channel.to_owned(),
            check,
            no_local: flags & 1 != 0,
            retain_as_published: flags & 2 != 0,
            retain_handling,
        })
    }
}

/// The connection state read from `Meta-*` headers; changes are written back as
/// `Set-Meta-*` headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Session {
    pub(crate) version: Option<ProtocolVersion>,
    pub(crate) token: Option<String>,
    pub(crate) exp: Option<u64>,
    pub(crate) keep_alive: u16,
    pub(crate) seen: u64,
    pub(crate) subs: Vec<Sub>,
    pub(crate) buffer: Vec<u8>,
    /// The Will Message to publish when the session ends abnormally, as an MQTT 5
    /// PUBLISH packet (`mqtt-will`, base64).
    pub(crate) will: Option<Vec<u8>>,
    /// The Packet Identifiers of QoS 2 PUBLISHes published and awaiting PUBREL.
    pub(crate) qos2: Vec<NonZeroU16>,
    /// Names of the metadata changed since it was read.
    dirty: Vec<&'static str>,
}

fn meta<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
}

fn corrupt(name: &str) -> Error {
    Error::BadRequest(format!("connection metadata `{name}` is corrupt"))
}

impl Session {
    /// Reads the state from the request's `Meta-*` headers.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Self, Error> {
        let version = match meta(headers, "meta-mqtt-v") {
            None => None,
            Some("4") => Some(ProtocolVersion::V311),
            Some("5") => Some(ProtocolVersion::V5),
            Some(_) => return Err(corrupt("mqtt-v")),
        };
        let number = |name: &'static str| -> Result<Option<u64>, Error> {
            meta(headers, name)
                .map(|v| v.parse::<u64>().map_err(|_| corrupt(name)))
                .transpose()
        };
        let subs = match meta(headers, "meta-mqtt-subs") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(|s| Sub::decode(s).ok_or_else(|| corrupt("mqtt-subs")))
                .collect::<Result<_, _>>()?,
        };
        let buffer = match meta(headers, "meta-mqtt-buf") {
            None => Vec::new(),
            Some(b) => BASE64.decode(b).map_err(|_| corrupt("mqtt-buf"))?,
        };
        Ok(Self {
            version,
            token: meta(headers, "meta-mqtt-token").map(str::to_owned),
            exp: number("meta-mqtt-exp")?,
            keep_alive: number("meta-mqtt-ka")?.map_or(0, |k| u16::try_from(k).unwrap_or(u16::MAX)),
            seen: number("meta-mqtt-seen")?.unwrap_or(0),
            subs,
            buffer,
            will: match meta(headers, "meta-mqtt-will") {
                None => None,
                Some(w) => Some(BASE64.decode(w).map_err(|_| corrupt("mqtt-will"))?),
            },
            qos2: match meta(headers, "meta-mqtt-qos2") {
                None => Vec::new(),
                Some(ids) => qos2::decode_ids(ids).ok_or_else(|| corrupt("mqtt-qos2"))?,
            },
            dirty: Vec::new(),
        })
    }

    /// Marks metadata `name` as changed.
    pub(crate) fn touch(&mut self, name: &'static str) {
        if !self.dirty.contains(&name) {
            self.dirty.push(name);
        }
    }

    /// The index of the subscription to `topic`, if any.
    pub(crate) fn position(&self, topic: &str) -> Option<usize> {
        self.subs.iter().position(|s| s.topic() == topic)
    }

    /// The `Set-Meta-*` headers for every changed value (an empty value removes it).
    pub(crate) fn changes(&self) -> Vec<(String, String)> {
        self.dirty
            .iter()
            .map(|&name| {
                let value = match name {
                    "mqtt-v" => self
                        .version
                        .map_or(String::new(), |v| v.level().to_string()),
                    "mqtt-token" => self.token.clone().unwrap_or_default(),
                    "mqtt-exp" => self.exp.map_or(String::new(), |e| e.to_string()),
                    "mqtt-ka" => self.keep_alive.to_string(),
                    "mqtt-seen" => self.seen.to_string(),
                    "mqtt-subs" => {
                        let mut out = String::new();
                        for (i, sub) in self.subs.iter().enumerate() {
                            if i > 0 {
                                out.push(',');
                            }
                            sub.encode(&mut out);
                        }
                        out
                    }
                    "mqtt-buf" => BASE64.encode(&self.buffer),
                    "mqtt-will" => self
                        .will
                        .as_ref()
                        .map_or(String::new(), |w| BASE64.encode(w)),
                    "mqtt-qos2" => qos2::encode_ids(&self.qos2),
                    _ => String::new(),
                };
                (format!("set-meta-{name}"), value)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_survives_a_trip_through_metadata() {
        let mut s = Session {
            version: Some(ProtocolVersion::V5),
            token: Some("tok".into()),
            exp: Some(99),
            keep_alive: 30,
            seen: 12,
            subs: vec![
                Sub {
                    channel: "a%2Cb".into(),
                    no_local: true,
                    retain_as_published: false,
                    retain_handling: RetainHandling::DoNotSend,
                    check: Some("0000691c2a5e-000000000002".parse().expect("version")),
                },
                Sub {
                    channel: "c".into(),
                    no_local: false,
                    retain_as_published: true,
                    retain_handling: RetainHandling::SendAtSubscribe,
                    check: None,
                },
            ],
            buffer: vec![0x10, 0xff],
            will: Some(vec![0x30, 3, 0, 1, b'w']),
            qos2: vec![NonZeroU16::MIN, NonZeroU16::MAX],
            dirty: Vec::new(),
        };
        for name in [
            "mqtt-v",
            "mqtt-token",
            "mqtt-exp",
            "mqtt-ka",
            "mqtt-seen",
            "mqtt-subs",
            "mqtt-buf",
            "mqtt-will",
            "mqtt-qos2",
        ] {
            s.touch(name);
        }
        let mut headers = HeaderMap::new();
        for (name, value) in s.changes() {
            let name = name.replace("set-meta-", "meta-");
            headers.insert(
                http::HeaderName::try_from(name).expect("name"),
                value.parse().expect("value"),
            );
        }
        let back = Session::from_headers(&headers).expect("parsed");
        s.dirty.clear();
        assert_eq!(back, s);
    }

    #[test]
    fn a_subscriptions_topic_is_its_channel_unescaped() {
        let sub = |channel: &str| Sub {
            channel: channel.into(),
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
            check: None,
        };
        assert_eq!(sub("a+b%2Cc%25").topic(), "a+b,c%");
        assert_eq!(sub("v4#x%C3%A9").topic(), "xé");
        assert_eq!(sub("a#x").topic(), "x");
    }

    #[test]
    fn corrupt_metadata_is_a_clear_error() {
        let mut headers = HeaderMap::new();
        headers.insert("meta-mqtt-v", "7".parse().expect("value"));
        let err = Session::from_headers(&headers).expect_err("corrupt");
        assert!(err.to_string().contains("mqtt-v"));
    }
}
