//! The endpoints of Edge Pub/Sub: small functions from a request (already admitted by the
//! middleware) to a response. The domain they use (retained storage, message rendering,
//! tokens, channels) is `pubsub_core`.
//!
//! - [`sse`]: `GET /events`, subscribe with Server-Sent Events through Fanout.
//! - [`publish`]: `POST /events`, publish a message to SSE and MQTT subscribers.
//! - [`history`]: `GET /history`, a page of a topic's history as JSON.
//! - [`admin`]: `/admin/keys`, create, register, list and revoke signing keys.
//! - [`mqtt`]: `/mqtt`, MQTT 5 and 3.1.1 over WebSocket-over-HTTP.
//! - [`mercure`]: `/.well-known/mercure`, the Mercure hub (publish and subscribe).
//! - [`demo`]: `GET /`, the demo page (and its style sheet and script).

pub mod admin;
pub mod demo;
pub mod history;
pub mod mercure;
pub mod mqtt;
pub mod publish;
pub mod sse;

#[cfg(test)]
pub(crate) mod test_helpers;
