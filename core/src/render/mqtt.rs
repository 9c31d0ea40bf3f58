//! A message as the MQTT PUBLISH packet its MQTT subscribers receive, and the MQTT 5
//! properties that travel with it.

use pubsub_codec::mqtt::{PayloadFormat, Properties, ProtocolVersion, Publish};

use crate::retained::MqttProps;

/// A QoS 0 PUBLISH of `payload` on `topic` for MQTT subscribers of `version`, with the
/// MQTT 5 properties `props` and Message Expiry Interval `expiry` (3.1.1 carries neither),
/// and the RETAIN flag `retain`.
pub fn mqtt_publish(
    version: ProtocolVersion,
    topic: &str,
    payload: &[u8],
    props: Option<&MqttProps>,
    expiry: Option<u32>,
    retain: bool,
) -> Vec<u8> {
    let mut packet = Publish::new(topic, payload);
    packet.retain = retain;
    if version == ProtocolVersion::V5 && (expiry.is_some() || props.is_some()) {
        let p = &mut packet.properties;
        p.message_expiry_interval = expiry;
        if let Some(m) = props {
            p.payload_format_indicator = m.payload_format_indicator.map(|f| {
                if f == 1 {
                    PayloadFormat::Utf8
                } else {
                    PayloadFormat::Unspecified
                }
            });
            p.content_type.clone_from(&m.content_type);
            p.response_topic.clone_from(&m.response_topic);
            p.correlation_data.clone_from(&m.correlation_data);
            p.user_properties.clone_from(&m.user_properties);
        }
    }
    let mut out = Vec::with_capacity(packet.encoded_len(version));
    // Cannot fail: topics are at most 256 bytes and properties came from a decoded packet.
    if packet.encode(version, &mut out).is_err() {
        out.clear();
    }
    out
}

/// The MQTT 5 properties of `p` that travel with a message to its subscribers.
pub fn mqtt_props(p: &Properties) -> MqttProps {
    MqttProps {
        payload_format_indicator: p
            .payload_format_indicator
            .map(|f| u8::from(f == PayloadFormat::Utf8)),
        content_type: p.content_type.clone(),
        response_topic: p.response_topic.clone(),
        correlation_data: p.correlation_data.clone(),
        user_properties: p.user_properties.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mqtt_packets_are_qos0_publishes_in_each_version() {
        let v5 = |retain| mqtt_publish(ProtocolVersion::V5, "t", b"x", None, None, retain);
        assert_eq!(v5(false), [0x30, 5, 0, 1, b't', 0, b'x']);
        assert_eq!(v5(true), [0x31, 5, 0, 1, b't', 0, b'x']);
        let v311 = mqtt_publish(ProtocolVersion::V311, "t", b"x", None, Some(9), false);
        assert_eq!(v311, [0x30, 4, 0, 1, b't', b'x']);
        let big = mqtt_publish(ProtocolVersion::V5, "t", &[0; 200], None, None, false);
        assert_eq!(&big[..3], [0x30, 0xCC, 0x01]);
    }

    #[test]
    fn mqtt_5_properties_travel_with_the_message() {
        let props = MqttProps {
            payload_format_indicator: Some(1),
            content_type: Some("text/plain".into()),
            user_properties: vec![("k".into(), "v".into())],
            ..MqttProps::default()
        };
        let bytes = mqtt_publish(ProtocolVersion::V5, "t", b"x", Some(&props), Some(30), true);
        let decoded = Publish::decode(&bytes, ProtocolVersion::V5).expect("decodes");
        assert!(decoded.retain);
        assert_eq!(decoded.properties.message_expiry_interval, Some(30));
        assert_eq!(mqtt_props(&decoded.properties), props);
    }
}
