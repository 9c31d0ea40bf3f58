//! One message rendered for every kind of subscriber: the SSE event of `/events`
//! subscribers and the MQTT PUBLISH packets of `/mqtt` subscribers.
//!
//! SSE events (`sse.rs`): a UTF-8 payload is `event: message` with one `data:` line per
//! line of the payload (lines end at CRLF, CR or LF, as the SSE parser splits them, so a
//! multi-line message arrives with its lines); any other payload is
//! `event: message-base64` with the standard base64 of the bytes. Subscribers of a
//! wildcard filter get [`filter_sse_event`] instead, whose `data:` is a JSON object that
//! also names the topic.
//!
//! MQTT (`mqtt.rs`): a QoS 0 PUBLISH per protocol version; MQTT 5 packets carry the
//! publisher's properties ([`crate::retained::MqttProps`]) and Message Expiry Interval,
//! MQTT 3.1.1 packets carry neither (that version has no properties).
//!
//! Renderings are pure functions of the message; which channel each goes to is
//! `crate::audience`'s, and how it travels is `crate::grip`'s.

mod mqtt;
pub(crate) mod sse;

pub use mqtt::{mqtt_props, mqtt_publish};
pub use sse::{filter_sse_event, filter_sse_event_with_id, sse_event};
