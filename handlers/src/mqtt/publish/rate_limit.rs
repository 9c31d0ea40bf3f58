//! The per-connection limit on PUBLISH packets: class `mqtt-publish` of Config Store
//! `rate-limits`, counted under the connection (Fanout's `Connection-Id`) on the
//! `RateLimiter` port (see `pubsub_core::rate_limit`).
//!
//! A PUBLISH over the limit, or sent while the connection is in the penalty box, is
//! neither published nor stored, and nothing else is looked at (not the token, not the
//! retained store):
//!
//! - MQTT 5, QoS 1: PUBACK 0x97 Quota exceeded (QoS 2: PUBREC 0x97), with the limit as
//!   reason string; the connection stays, and its later PUBLISHes get the same answer
//!   until the penalty is over.
//! - MQTT 5, QoS 0: DISCONNECT 0x96 Message rate too high (QoS 0 has no acknowledgement,
//!   and dropping messages silently at a rate the client keeps up would lose them all).
//! - MQTT 3.1.1: the connection is closed (it has no negative acknowledgement).

use pubsub_codec::mqtt::{DisconnectReasonCode, ProtocolVersion, PubAckReasonCode, Publish, QoS};
use pubsub_core::rate_limit::{Caller, Class, Limiter};

use crate::mqtt::connection::Connection;

impl Connection<'_> {
    /// Whether `p` is refused for rate; a refused PUBLISH has been answered.
    pub(super) fn over_publish_limit(&mut self, p: &Publish) -> bool {
        let limits = &self.config.rate_limits;
        let Some(limiter) = Limiter::new(&*self.platform.rate, Class::MqttPublish, limits) else {
            return false;
        };
        let Err(refusal) = limiter.admit(&Caller::connection(self.connection_id)) else {
            return false;
        };
        let text = refusal.to_string();
        match (self.version(), p.qos, p.packet_id) {
            (ProtocolVersion::V5, QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) => {
                self.puback(p.qos, id, PubAckReasonCode::QuotaExceeded, Some(text));
            }
            _ => self.disconnect(DisconnectReasonCode::MessageRateTooHigh, &text),
        }
        true
    }
}
