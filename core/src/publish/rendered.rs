//! Step 1 of a publish: the MQTT packets of the message on each of its topics.
//!
//! Each topic gets an MQTT 5 and an MQTT 3.1.1 QoS 0 PUBLISH (the topic is inside the
//! packet). The MQTT 5 packet carries the publication's MQTT properties and, for an MQTT
//! publication (one with properties), its expiry as Message Expiry Interval; an HTTP
//! `ttl` only bounds how long the retained message stays deliverable. A packet that does
//! not encode refuses the publication before anything is stored or published: an empty
//! `content-bin` is never sent. The SSE events depend on the step that uses them (live,
//! retained with its event id, wildcard with its topic) and are rendered there.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use pubsub_codec::mqtt::ProtocolVersion;

use super::error::PublishError;
use super::publication::Publication;
use crate::render::mqtt_publish;

/// The message as rendered for one of its topics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Rendered<'a> {
    /// The topic.
    pub(super) topic: &'a str,
    /// The MQTT 5 PUBLISH that carries it to MQTT 5 subscribers.
    pub(super) mqtt_v5: Vec<u8>,
    /// The MQTT 3.1.1 PUBLISH that carries it to MQTT 3.1.1 subscribers.
    pub(super) mqtt_v311: Vec<u8>,
    /// `mqtt_v5` as base64, as the items carry it (every item of it shares one encoding).
    pub(super) v5_base64: String,
    /// `mqtt_v311` as base64.
    pub(super) v311_base64: String,
}

/// The message of `p` rendered for each of its topics, in order.
pub(super) fn render<'a>(p: &Publication<'a>) -> Result<Vec<Rendered<'a>>, PublishError> {
    let props = p.mqtt.as_ref();
    let expiry = props.and(p.ttl_secs);
    p.topics
        .iter()
        .map(|topic| {
            let packet = |version| {
                let packet = mqtt_publish(version, topic, p.payload, props, expiry, false);
                match packet.is_empty() {
                    true => Err(PublishError::Unrenderable(format!(
                        "the {version:?} PUBLISH of topic {topic:?}"
                    ))),
                    false => Ok(packet),
                }
            };
            let (mqtt_v5, mqtt_v311) =
                (packet(ProtocolVersion::V5)?, packet(ProtocolVersion::V311)?);
            Ok(Rendered {
                topic,
                v5_base64: BASE64.encode(&mqtt_v5),
                v311_base64: BASE64.encode(&mqtt_v311),
                mqtt_v5,
                mqtt_v311,
            })
        })
        .collect()
}
