//! PUBLISH from a client: checks, the retained store, the publish API, and PUBACK.
//!
//! - Delivery to subscribers is QoS 0. A QoS 1 PUBLISH from a client is acknowledged only
//!   after the publish API accepted the message (at least once from client to broker).
//!   QoS 2 is refused: MQTT 5 DISCONNECT 0x9B, 3.1.1 close.
//! - An unauthorised PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87 and the connection stays;
//!   MQTT 5 QoS 0 (which has no acknowledgement) gets DISCONNECT 0x87, so the client learns
//!   why; MQTT 3.1.1 has no negative acknowledgement, so the connection is closed
//!   ([MQTT-3.3.5-2] allows that).
//! - A retained message is stored before it is published; when the store fails nothing is
//!   published.
//! - A retained message the store refuses for rate (Fastly KV: one write per second per
//!   key, so one retained PUBLISH per second per topic) is neither stored nor published:
//!   MQTT 5 QoS 1 gets PUBACK 0x97 Quota exceeded (the client may retry a second later);
//!   MQTT 3.1.1 QoS 1 has no negative acknowledgement, so the connection is closed and the
//!   client re-sends the unacknowledged message when it reconnects; QoS 0 (either
//!   version) drops it like any other QoS 0 failure: QoS 0 promises no delivery, and a
//!   DISCONNECT would make a client that publishes faster than once a second reconnect
//!   again and again.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{
    DisconnectReasonCode, Packet, ProtocolVersion, PubAck, PubAckReasonCode, Publish, QoS,
};
use pubsub_core::message::{self, Outgoing, RetainedOutgoing};
use pubsub_core::retained::{self, NewRetained};
use pubsub_core::tokens::Access;
use pubsub_core::topics;
use pubsub_core::Error;

use super::connection::Connection;

impl Connection<'_> {
    /// Handles a client's PUBLISH: refused, forwarded, and acknowledged at QoS 1.
    pub(super) fn publish(&mut self, p: Publish) {
        let v5 = self.version() == ProtocolVersion::V5;
        let ack = |code| (p.qos == QoS::AtLeastOnce).then_some(code).zip(p.packet_id);
        if p.qos == QoS::ExactlyOnce {
            return self.disconnect(
                DisconnectReasonCode::QoSNotSupported,
                "QoS 2 is not supported; the maximum QoS is 1",
            );
        }
        if p.properties.topic_alias.is_some() {
            return self.disconnect(
                DisconnectReasonCode::TopicAliasInvalid,
                "topic aliases are not supported (Topic Alias Maximum is 0)",
            );
        }
        if let Err(e) = topics::validate(&p.topic) {
            return self.disconnect(DisconnectReasonCode::TopicNameInvalid, &e.to_string());
        }
        if p.payload.len() > self.config.max_message_bytes {
            let text = format!(
                "message is larger than {} bytes",
                self.config.max_message_bytes
            );
            return self.disconnect(DisconnectReasonCode::PacketTooLarge, &text);
        }
        let allowed = match self.principal() {
            Ok(principal) => principal.allows(Access::Write, &p.topic),
            Err(_) => false,
        };
        if !allowed {
            let text = format!("the token may not publish to {:?}", p.topic);
            return match ack(PubAckReasonCode::NotAuthorized) {
                Some((code, id)) if v5 => self.puback(id, code, Some(text)),
                _ => self.disconnect(DisconnectReasonCode::NotAuthorized, &text),
            };
        }
        let result = self.forward(&p);
        let qos1_id = p.packet_id.filter(|_| p.qos == QoS::AtLeastOnce);
        self.acknowledge(qos1_id, result);
    }

    /// Answers a forwarded PUBLISH: a PUBACK at QoS 1, negative in MQTT 5 when it failed
    /// (3.1.1 has no negative acknowledgement, so the connection closes instead); nothing
    /// at QoS 0, which promises nothing: a failed message is lost, the connection stays.
    fn acknowledge(&mut self, qos1_id: Option<NonZeroU16>, result: Result<(), Forward>) {
        let Some(id) = qos1_id else {
            return;
        };
        let (code, why) = match result {
            Ok(()) => return self.puback(id, PubAckReasonCode::Success, None),
            Err(Forward::RateLimited(why)) => (PubAckReasonCode::QuotaExceeded, why),
            Err(Forward::NotStored(why)) => (PubAckReasonCode::ImplementationSpecificError, why),
            Err(Forward::NotDelivered(why)) => (PubAckReasonCode::UnspecifiedError, why),
        };
        if self.version() == ProtocolVersion::V5 {
            self.puback(id, code, Some(why));
        } else {
            self.disconnect(DisconnectReasonCode::UnspecifiedError, &why);
        }
    }

    /// Sends a PUBACK; the reason string only in MQTT 5.
    fn puback(&mut self, id: NonZeroU16, code: PubAckReasonCode, text: Option<String>) {
        let mut ack = PubAck::new(id);
        ack.reason_code = code;
        if self.version() == ProtocolVersion::V5 {
            ack.properties.reason_string = text;
        }
        self.send(&Packet::PubAck(ack));
    }

    /// Publishes a client's message to every subscriber of its topic; a retained one is
    /// stored first (`Err` before anything is published when the store fails).
    pub(super) fn forward(&mut self, p: &Publish) -> Result<(), Forward> {
        let props = message::mqtt_props(&p.properties);
        let expiry = p.properties.message_expiry_interval;
        let render = |version| {
            message::mqtt_publish(version, &p.topic, &p.payload, Some(&props), expiry, false)
        };
        let outgoing = Outgoing {
            topic: &p.topic,
            payload: &p.payload,
            mqtt_v5: render(ProtocolVersion::V5),
            mqtt_v311: render(ProtocolVersion::V311),
            sender: Some(self.connection_id),
        };
        let body = if p.retain {
            let new = NewRetained {
                payload: &p.payload,
                ttl_secs: expiry,
                mqtt: Some(props.clone()),
            };
            let stored = retained::store(&*self.platform.kv, self.now, &p.topic, new).map_err(
                |e| match e {
                    Error::RateLimited { .. } => Forward::RateLimited(e.to_string()),
                    e => Forward::NotStored(e.to_string()),
                },
            )?;
            message::retained_publish_body(&[RetainedOutgoing {
                message: outgoing,
                stored,
            }])
        } else {
            message::publish_body(&[outgoing])
        };
        self.platform
            .publisher
            .publish(self.config, body)
            .map_err(|why| match p.retain {
                true => Forward::NotDelivered(format!(
                    "stored as the retained message but not delivered live: {why}"
                )),
                false => Forward::NotDelivered(why),
            })
    }
}

/// Why a client's message did not go out.
pub(super) enum Forward {
    /// The retained message could not be stored; nothing was published.
    NotStored(String),
    /// The store refused the retained message for rate; nothing was published.
    RateLimited(String),
    /// The publish API refused it.
    NotDelivered(String),
}
