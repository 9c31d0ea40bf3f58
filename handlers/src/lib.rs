//! The handlers of Edge Pub/Sub: small functions from a request (already authorised by the
//! middleware) to a response.
//!
//! - [`sse`]: `GET /events`, subscribe with Server-Sent Events through Fanout.
//! - [`publish`]: `POST /events`, publish a message to SSE and MQTT subscribers.
//! - [`message`]: how one message is rendered for every kind of subscriber.
//! - [`retained`]: the last retained message of each topic, in KV store `messages`.
//! - [`admin`]: `/admin/keys`, create, register, list and revoke signing keys.

pub mod admin;
pub mod message;
pub mod mqtt;
pub mod publish;
pub mod retained;
pub mod sse;

#[cfg(test)]
pub(crate) mod test_helpers;
