//! Rate limits by caller, on the [`RateLimiter`] port (Fastly's Edge Rate Limiting): what
//! the `RateLimit` layer and the MQTT publish limit share.
//!
//! Each request of a limited [`Class`] is counted under one entry of the rate counter,
//! `<class>|<caller>`, where the [`Caller`] is
//!
//! - a token's key id and subject (`t:` and 32 hex digits of their SHA-256; a token
//!   without `sub` is counted on its own, by the SHA-256 of the whole token), once the
//!   token verified: a forged token never counts against the subject it names;
//! - else the client's address (`ip:203.0.113.7`; an IPv6 address by its /64, which one
//!   client usually holds whole);
//! - for an MQTT connection's PUBLISH packets, the connection (`c:` and Fanout's
//!   `Connection-Id`).
//!
//! An entry over its class's limit goes into the penalty box for the class's penalty, and
//! while it is there its requests are refused ([`Error::OverLimit`], 429 with
//! `Retry-After` = the penalty) before anything else is looked at. A failing rate counter
//! lets requests through: a limit protects the service, and an outage of the counter
//! must not become an outage of the service.

use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::ports::RateLimiter;
use crate::{jwt, Error};
use pubsub_config::{RateLimit, RateLimits};

/// What a limit applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// `POST /events`.
    Publish,
    /// The first, unsigned request of an SSE subscribe or of an MQTT WebSocket.
    Subscribe,
    /// `/admin/...`.
    Admin,
    /// PUBLISH packets of one MQTT connection.
    MqttPublish,
}

impl Class {
    /// The class's name in `rate-limits` and in counter entries.
    pub fn name(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Subscribe => "subscribe",
            Self::Admin => "admin",
            Self::MqttPublish => "mqtt-publish",
        }
    }

    /// The class's limit in `limits`, if it has one.
    pub fn limit(self, limits: &RateLimits) -> Option<RateLimit> {
        match self {
            Self::Publish => limits.publish,
            Self::Subscribe => limits.subscribe,
            Self::Admin => limits.admin,
            Self::MqttPublish => limits.mqtt_publish,
        }
    }
}

/// Who a request is counted as; see the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller(String);

impl Caller {
    /// The bearer of `token`, as the token names it: key id and `sub`, else the token
    /// itself. `None` when `token` is not a JWT with a `kid`. Nothing is verified: count
    /// a token's requests under this only once it verified.
    pub fn token(token: &str) -> Option<Self> {
        let parsed = jwt::parse(token).ok()?;
        let kid = parsed.kid.as_deref()?;
        Some(match parsed.unverified_subject() {
            Some(sub) => Self(format!(
                "t:{}",
                digest(&[b"sub", kid.as_bytes(), sub.as_bytes()])
            )),
            None => Self(format!("t:{}", digest(&[b"token", token.as_bytes()]))),
        })
    }

    /// The client at `ip` (IPv6: its /64); `None` for a request whose address is unknown.
    pub fn ip(ip: Option<IpAddr>) -> Self {
        match ip {
            Some(IpAddr::V4(v4)) => Self(format!("ip:{v4}")),
            Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => Self(format!("ip:{v4}")),
                None => {
                    let s = v6.segments();
                    Self(format!(
                        "ip:{:x}:{:x}:{:x}:{:x}::/64",
                        s[0], s[1], s[2], s[3]
                    ))
                }
            },
            None => Self("ip:unknown".into()),
        }
    }

    /// The MQTT connection Fanout names `connection_id`.
    pub fn connection(connection_id: &str) -> Self {
        match connection_id.len() <= 64 {
            true => Self(format!("c:{connection_id}")),
            false => Self(format!("c:{}", digest(&[connection_id.as_bytes()]))),
        }
    }
}

/// 32 hex digits of the SHA-256 of `parts`, each ended by a zero byte.
fn digest(parts: &[&[u8]]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
        hash.update([0]);
    }
    let mut hex = String::with_capacity(32);
    for byte in &hash.finalize()[..16] {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// One class's limit on a rate counter.
pub struct Limiter<'a> {
    rate: &'a dyn RateLimiter,
    class: Class,
    limit: RateLimit,
}

impl<'a> Limiter<'a> {
    /// The limiter of `class` under `limits`; `None` when the class is not limited.
    pub fn new(rate: &'a dyn RateLimiter, class: Class, limits: &RateLimits) -> Option<Self> {
        let limit = class.limit(limits)?;
        Some(Self { rate, class, limit })
    }

    fn entry(&self, caller: &Caller) -> String {
        format!("{}|{}", self.class.name(), caller.0)
    }

    /// `Err(OverLimit)` while `caller` is in the penalty box.
    pub fn refuse_penalised(&self, caller: &Caller) -> Result<(), Error> {
        match self.rate.penalised(&self.entry(caller)) {
            Ok(true) => Err(self.refusal()),
            Ok(false) | Err(_) => Ok(()),
        }
    }

    /// Counts one request of `caller`; `Err(OverLimit)` when it goes over the limit (the
    /// caller is then in the penalty box).
    pub fn count(&self, caller: &Caller) -> Result<(), Error> {
        let RateLimit {
            per_second,
            window,
            penalty_minutes,
        } = self.limit;
        match self
            .rate
            .check_rate(&self.entry(caller), window, per_second, penalty_minutes)
        {
            Ok(true) => Err(self.refusal()),
            Ok(false) | Err(_) => Ok(()),
        }
    }

    /// Both: a penalised caller is refused without being counted again.
    pub fn admit(&self, caller: &Caller) -> Result<(), Error> {
        self.refuse_penalised(caller)?;
        self.count(caller)
    }

    /// The refusal of this class's limit.
    pub fn refusal(&self) -> Error {
        let RateLimit {
            per_second,
            window,
            penalty_minutes,
        } = self.limit;
        Error::OverLimit {
            limit: format!(
                "{} allows {per_second}/s over {}s per caller, then refuses the caller for \
                 {penalty_minutes} min",
                self.class.name(),
                window.secs(),
            ),
            retry_after_secs: self.limit.penalty_secs(),
        }
    }
}

#[cfg(test)]
mod tests;
