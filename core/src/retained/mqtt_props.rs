//! [`MqttProps`]: the MQTT v5 properties a retained message keeps, as stored in its record.

use serde::{Deserialize, Serialize};

/// MQTT v5 PUBLISH properties that a retained message keeps for its later subscribers.
/// Filled by the MQTT handler; HTTP publishes have none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MqttProps {
    /// Payload Format Indicator (0: unspecified bytes, 1: UTF-8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_format_indicator: Option<u8>,
    /// Content Type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Response Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_topic: Option<String>,
    /// Correlation Data (binary; standard base64 in the record).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_base64")]
    pub correlation_data: Option<Vec<u8>>,
    /// User Properties, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_properties: Vec<(String, String)>,
}

mod opt_base64 {
    //! `Option<Vec<u8>>` as an optional standard-base64 string.

    use base64::engine::general_purpose::STANDARD as BASE64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(bytes) => serializer.serialize_str(&BASE64.encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|s| BASE64.decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}
