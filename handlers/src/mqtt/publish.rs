//! PUBLISH from a client: checks, the retained store, the publish API, and PUBACK or
//! PUBREC.
//!
//! - Delivery to subscribers is QoS 0. A QoS 1 PUBLISH from a client is acknowledged only
//!   after the publish API accepted the message (at least once from client to broker). A
//!   QoS 2 PUBLISH is published once and answered with PUBREC (the exchange and its
//!   duplicates: `qos2.rs`).
//! - An unauthorised PUBLISH: MQTT 5 QoS 1 gets PUBACK 0x87, QoS 2 PUBREC 0x87, and the
//!   connection stays; MQTT 5 QoS 0 (which has no acknowledgement) gets DISCONNECT 0x87,
//!   so the client learns why; MQTT 3.1.1 has no negative acknowledgement, so the
//!   connection is closed ([MQTT-3.3.5-2] allows that).
//! - A retained message is stored before it is published; when the store fails nothing is
//!   published.
//! - A retained message the store refuses for rate (Fastly KV: one write per second per
//!   key, so one retained PUBLISH per second per topic) is neither stored nor published:
//!   MQTT 5 QoS 1 gets PUBACK 0x97 Quota exceeded, QoS 2 PUBREC 0x97 (the client may retry
//!   a second later); MQTT 3.1.1 QoS 1 and 2 have no negative acknowledgement, so the
//!   connection is closed and the client re-sends the unacknowledged message when it
//!   reconnects; QoS 0 (either version) drops it like any other QoS 0 failure: QoS 0
//!   promises no delivery, and a DISCONNECT would make a client that publishes faster
//!   than once a second reconnect again and again.

use std::num::NonZeroU16;

use pubsub_codec::mqtt::{
    DisconnectReasonCode, Packet, ProtocolVersion, PubAck, PubAckReasonCode, PubRec, Publish, QoS,
};
use pubsub_core::publish::{self as publishing, Publication, PublishError};
use pubsub_core::render;
use pubsub_core::tokens::Access;
use pubsub_core::topics;

use super::connection::Connection;

mod rate_limit;

impl Connection<'_> {
    /// Handles a client's PUBLISH: refused, forwarded, and acknowledged at QoS 1 and 2.
    pub(super) fn publish(&mut self, p: Publish) {
        if let (QoS::ExactlyOnce, Some(id)) = (p.qos, p.packet_id) {
            if !self.admit_qos2(id) {
                return;
            }
        }
        if self.over_publish_limit(&p) {
            return;
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
            return match acknowledged(&p) {
                Some((qos, id)) if self.version() == ProtocolVersion::V5 => {
                    self.puback(qos, id, PubAckReasonCode::NotAuthorized, Some(text))
                }
                _ => self.disconnect(DisconnectReasonCode::NotAuthorized, &text),
            };
        }
        let result = self.forward(&p);
        self.acknowledge(&p, result);
    }

    /// Answers a forwarded PUBLISH: a PUBACK at QoS 1, a PUBREC at QoS 2 (whose identifier
    /// then awaits PUBREL), negative in MQTT 5 when it failed (3.1.1 has no negative
    /// acknowledgement, so the connection closes instead); nothing at QoS 0, which promises
    /// nothing: a failed message is lost, the connection stays.
    fn acknowledge(&mut self, p: &Publish, result: Result<(), Forward>) {
        let Some((qos, id)) = acknowledged(p) else {
            return;
        };
        let (code, why) = match result {
            Ok(()) => {
                if qos == QoS::ExactlyOnce {
                    self.remember_qos2(id);
                }
                return self.puback(qos, id, PubAckReasonCode::Success, None);
            }
            Err(Forward::RateLimited(why)) => (PubAckReasonCode::QuotaExceeded, why),
            Err(Forward::NotStored(why)) => (PubAckReasonCode::ImplementationSpecificError, why),
            Err(Forward::NotDelivered(why)) => (PubAckReasonCode::UnspecifiedError, why),
            Err(Forward::TooLarge(why)) => (PubAckReasonCode::QuotaExceeded, why),
        };
        if self.version() == ProtocolVersion::V5 {
            self.puback(qos, id, code, Some(why));
        } else {
            self.disconnect(DisconnectReasonCode::UnspecifiedError, &why);
        }
    }

    /// Sends the PUBLISH's acknowledgement: PUBACK at QoS 1, PUBREC at QoS 2 (one layout,
    /// one set of reason codes); the reason string only in MQTT 5.
    fn puback(&mut self, qos: QoS, id: NonZeroU16, code: PubAckReasonCode, text: Option<String>) {
        let mut ack = PubAck::new(id);
        ack.reason_code = code;
        if self.version() == ProtocolVersion::V5 {
            ack.properties.reason_string = text;
        }
        let packet = match qos {
            QoS::ExactlyOnce => Packet::PubRec(PubRec {
                packet_id: ack.packet_id,
                reason_code: ack.reason_code,
                properties: ack.properties,
            }),
            _ => Packet::PubAck(ack),
        };
        self.send(&packet);
    }

    /// Publishes a client's message to every subscriber of its topic; a retained one is
    /// stored first (`Err` before anything is published when the store fails).
    pub(super) fn forward(&mut self, p: &Publish) -> Result<(), Forward> {
        let publication = Publication {
            topics: std::slice::from_ref(&p.topic),
            payload: &p.payload,
            retain: p.retain,
            ttl_secs: p.properties.message_expiry_interval,
            mqtt: Some(render::mqtt_props(&p.properties)),
            sender: Some(self.connection_id),
        };
        match publishing::publish(self.platform, self.config, &publication) {
            Ok(_) => Ok(()),
            Err(e) => Err(match e {
                PublishError::TooLarge(_) => Forward::TooLarge(e.to_string()),
                PublishError::RateLimited(_) => Forward::RateLimited(e.to_string()),
                PublishError::NotDelivered { .. } => Forward::NotDelivered(e.to_string()),
                _ => Forward::NotStored(e.to_string()),
            }),
        }
    }
}

/// The QoS and Packet Identifier of a PUBLISH that is acknowledged (QoS 1 and 2).
fn acknowledged(p: &Publish) -> Option<(QoS, NonZeroU16)> {
    p.packet_id
        .filter(|_| p.qos != QoS::AtMostOnce)
        .map(|id| (p.qos, id))
}

/// Why a client's message did not go out.
pub(super) enum Forward {
    /// The retained message could not be stored (or the message not encoded); nothing was
    /// published.
    NotStored(String),
    /// The store refused the retained message for rate; nothing was published.
    RateLimited(String),
    /// The publish API refused it.
    NotDelivered(String),
    /// Its wildcard fan-out is over the publish budget; nothing was stored or published.
    TooLarge(String),
}
