//! One message, rendered for every kind of subscriber, and the GRIP publish request that
//! carries it.
//!
//! A publish item carries two formats so that every subscriber of the channel receives the
//! same message: `http-stream` (an SSE event, for `/events` subscribers) and `ws-message`
//! (an MQTT v5 PUBLISH packet in `content-bin`, for `/mqtt` subscribers speaking MQTT 5).
//! MQTT 3.1.1 encodes PUBLISH differently (no properties), so 3.1.1 connections subscribe
//! to a second channel per topic, [`Feed::Mqtt311`](crate::audience::Feed::Mqtt311), and every message is also published
//! there as a 3.1.1 packet: two items per topic, one publish request.
//!
//! A retained message (see the [`retained`](crate::retained) module) is published with
//! [`retained_publish_body`]: its SSE event goes alone on the topic's retained channel, in
//! the topic's version sequence (GRIP `id` and `prev-id`, and an SSE `id:` line), while its
//! MQTT packets go on the usual channels without the SSE format. SSE subscribers listen on
//! both the live and the retained channel, so each subscriber gets every message once.
//!
//! SSE events: a UTF-8 payload is `event: message` with one `data:` line per line of the
//! payload (lines end at CRLF, CR or LF, as the SSE parser splits them, so a multi-line
//! message arrives with its lines); any other payload is `event: message-base64` with the
//! standard base64 of the bytes.

mod mqtt;
mod publish;
mod revoke;
mod sse;
mod wildcard;

pub use mqtt::{mqtt_props, mqtt_publish};
pub use publish::{publish_body, retained_publish_body, Outgoing, RetainedOutgoing};
pub use revoke::{revocation_body, REVOKED_CLOSE_CODE};
pub use sse::sse_event;
pub use wildcard::{filter_sse_event, publish_all, wildcard_bodies, BUDGET_BYTES, REQUEST_BYTES};
