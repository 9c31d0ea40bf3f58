//! Decode and encode errors, and the single mapping from a decode failure to
//! the code the server answers with.
//!
//! The MQTT 5 specification (§4.13) separates a *Malformed Packet* (it cannot
//! be parsed: bad lengths, reserved bits set, unknown or misplaced property
//! identifiers, invalid UTF-8, unknown reason codes) from a *Protocol Error*
//! (it parses, but its content is not allowed: duplicate properties, packet
//! identifier 0, an empty subscription list, ...). The [`DecodeError`]
//! variants follow that split; [`DecodeError::reason_code`] turns it into 0x81
//! or 0x82 and picks the more specific codes where the specification has them.
//!
//! The variants and that mapping are in `decode.rs`, the message each variant
//! displays (citing the rule it enforces) in `messages.rs`, and the encoder's
//! errors in `encode.rs`.

mod decode;
mod encode;
mod messages;

pub use decode::DecodeError;
pub use encode::EncodeError;
