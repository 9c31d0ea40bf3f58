//! Pure protocol codecs for the pub/sub broker: no I/O, no dependencies.
//!
//! * [`mqtt`] — MQTT 3.1.1 and 5.0 framing, packet decoding and encoding.
//! * [`wsevents`] — Pushpin's WebSocket-over-HTTP event bodies, which carry the
//!   client's WebSocket frames (and so its MQTT bytes) between Fanout and the app.
//!
//! Everything here works on byte slices and `Vec<u8>` so it can be tested and
//! fuzzed in isolation from the HTTP plumbing.

pub mod mqtt;
pub mod wsevents;
