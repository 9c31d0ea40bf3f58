//! [`decode_borrowed`]: decoding that leaves a PUBLISH's topic and payload in
//! the caller's buffer ([`PacketRef::Publish`] holds a
//! [`PublishRef`](super::PublishRef)) and gives every other packet type owned,
//! exactly as [`decode`](super::decode) does.
//!
//! Contract: the two decoders accept and refuse the same frames with the same
//! errors, and `decode_borrowed(b)?.into_owned() == decode(b)?` (the owned
//! PUBLISH decoder is the borrowed one followed by a copy). Use it where the
//! packet is handled before the buffer is reused; nothing is copied for a
//! PUBLISH but its properties.

use super::frame::split_frame;
use super::packet::decode_parts;
use super::{DecodeError, Packet, PacketType, ProtocolVersion, PublishRef};

/// One decoded packet: PUBLISH borrowed from the frame, the rest owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketRef<'a> {
    /// PUBLISH, borrowing topic and payload.
    Publish(PublishRef<'a>),
    /// Any other packet type.
    Owned(Packet),
}

impl PacketRef<'_> {
    /// The packet as an owned [`Packet`] (copies a PUBLISH's topic and payload).
    pub fn into_owned(self) -> Packet {
        match self {
            Self::Publish(p) => Packet::Publish(p.into_owned()),
            Self::Owned(p) => p,
        }
    }
}

/// Decodes exactly one complete packet like [`decode`](super::decode), but a
/// PUBLISH comes back as a [`PublishRef`] into `packet`.
pub fn decode_borrowed(
    packet: &[u8],
    version: ProtocolVersion,
) -> Result<PacketRef<'_>, DecodeError> {
    let (first, body) = split_frame(packet)?;
    if first >> 4 == PacketType::Publish as u8 {
        return PublishRef::decode_body(first, body, version).map(PacketRef::Publish);
    }
    decode_parts(first, body, version).map(PacketRef::Owned)
}
