//! MQTT control packet codec for protocol levels 4 (3.1.1) and 5 (5.0).
//!
//! Framing is kept apart from parsing so the caller can buffer a byte stream
//! (for example the BINARY events of a WebSocket-over-HTTP request) without
//! this module doing any I/O:
//!
//! 1. [`frame_len`] looks at the start of a buffer and says whether a whole
//!    packet is there yet, and how long it is. It also enforces the maximum
//!    packet size before any body bytes are buffered.
//! 2. [`decode_connect`] parses the first packet of a connection, which is
//!    where the protocol version is learned.
//! 3. [`decode`] parses every later packet for that version.
//! 4. [`Packet::encode`] (or each packet type's own `encode`) appends the wire
//!    form to a `Vec<u8>`; `encoded_len` tells the size beforehand so the
//!    caller can honour the peer's Maximum Packet Size.
//!
//! A failed decode yields a [`DecodeError`]; [`DecodeError::reason_code`] is
//! the one place that decides which v5 reason code answers it (CONNACK for a
//! bad CONNECT, DISCONNECT otherwise) and
//! [`DecodeError::connack_return_code_v311`] gives the 3.1.1 return code where
//! 3.1.1 has one.
//!
//! Error messages cite the rule they enforce: normative statements as
//! `[MQTT-3.3.1-4]`, other requirements by section as `[§2.2.2.2]`, both from
//! the OASIS MQTT 5.0 specification unless marked "(3.1.1)".
//!
//! The decoder checks every rule that can be judged from a single packet. It
//! does not know connection state, so rules such as "a client must not send a
//! Subscription Identifier in PUBLISH" or topic-alias bookkeeping belong to the
//! caller. The encoder checks lengths and structural consistency but trusts the
//! caller on semantics (it will, for example, encode a SUBSCRIBE whose filter
//! list is empty).
//!
//! ```
//! use pubsub_codec::mqtt::{self, Packet, ProtocolVersion, QoS};
//!
//! // CONNECT captured from MQTT.js 5.16 (protocol level 4, client id "mqttjs_test").
//! let bytes = [
//!     0x10, 0x17, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x0b,
//!     b'm', b'q', b't', b't', b'j', b's', b'_', b't', b'e', b's', b't',
//! ];
//! let len = mqtt::frame_len(&bytes, 32_768)?.expect("whole packet present");
//! let connect = mqtt::decode_connect(&bytes[..len])?;
//! assert_eq!(connect.protocol, ProtocolVersion::V311);
//! assert_eq!(connect.client_id, "mqttjs_test");
//!
//! let mut out = Vec::new();
//! Packet::PingResp.encode(connect.protocol, &mut out)?;
//! assert_eq!(out, [0xd0, 0x00]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

/// Declares a `#[repr(u8)]` reason-code enum together with its `TryFrom<u8>`
/// (the error is the unknown byte) and `From<Self> for u8` conversions, so the
/// byte values are written exactly once.
macro_rules! reason_code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum $name {
            $( $(#[$vmeta])* $variant = $value, )+
        }

        impl TryFrom<u8> for $name {
            type Error = u8;

            fn try_from(value: u8) -> Result<Self, u8> {
                match value {
                    $( $value => Ok(Self::$variant), )+
                    other => Err(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(code: $name) -> u8 {
                code as u8
            }
        }
    };
}

mod auth;
mod connack;
mod connect;
mod disconnect;
mod error;
mod ping;
mod primitives;
mod properties;
mod puback;
mod publish;
mod suback;
mod subscribe;
mod topic;
mod unsuback;
mod unsubscribe;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod test_util;

pub use auth::{Auth, AuthReasonCode};
pub use connack::{ConnAck, ConnectReasonCode};
pub use connect::{Connect, Will};
pub use disconnect::{Disconnect, DisconnectReasonCode};
pub use error::{DecodeError, EncodeError};
pub use ping::{PINGREQ_BYTES, PINGRESP_BYTES};
pub use properties::{PayloadFormat, Properties, PropertyId};
pub use puback::{PubAck, PubAckReasonCode, PubComp, PubRec, PubRel, PubRelReasonCode};
pub use publish::Publish;
pub use suback::{SubAck, SubAckReasonCode};
pub use subscribe::{RetainHandling, Subscribe, Subscription, SubscriptionOptions};
pub use topic::{is_valid_topic_filter, is_valid_topic_name, shared_subscription};
pub use unsuback::{UnsubAck, UnsubAckReasonCode};
pub use unsubscribe::Unsubscribe;

use primitives::{decode_var_int, put_var_int, var_int_len, VAR_INT_MAX};

/// The MQTT protocol level spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    /// MQTT 3.1.1, protocol level 4: no properties, no reason codes on most acks.
    V311,
    /// MQTT 5.0, protocol level 5.
    V5,
}

impl ProtocolVersion {
    /// The "Protocol Level" byte sent in CONNECT.
    pub fn level(self) -> u8 {
        match self {
            Self::V311 => 4,
            Self::V5 => 5,
        }
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V311 => "MQTT 3.1.1",
            Self::V5 => "MQTT 5.0",
        })
    }
}

/// Quality of service of a message or subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(u8)]
pub enum QoS {
    /// QoS 0: fire and forget.
    #[default]
    AtMostOnce = 0,
    /// QoS 1: acknowledged with PUBACK.
    AtLeastOnce = 1,
    /// QoS 2: four-way PUBREC/PUBREL/PUBCOMP handshake.
    ExactlyOnce = 2,
}

impl TryFrom<u8> for QoS {
    type Error = u8;

    fn try_from(value: u8) -> Result<Self, u8> {
        match value {
            0 => Ok(Self::AtMostOnce),
            1 => Ok(Self::AtLeastOnce),
            2 => Ok(Self::ExactlyOnce),
            other => Err(other),
        }
    }
}

/// The fifteen MQTT control packet types (the high nibble of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketType {
    /// Client request to connect.
    Connect = 1,
    /// Connect acknowledgement.
    ConnAck = 2,
    /// Application message.
    Publish = 3,
    /// QoS 1 acknowledgement.
    PubAck = 4,
    /// QoS 2 delivery part 1.
    PubRec = 5,
    /// QoS 2 delivery part 2.
    PubRel = 6,
    /// QoS 2 delivery part 3.
    PubComp = 7,
    /// Subscribe request.
    Subscribe = 8,
    /// Subscribe acknowledgement.
    SubAck = 9,
    /// Unsubscribe request.
    Unsubscribe = 10,
    /// Unsubscribe acknowledgement.
    UnsubAck = 11,
    /// Keep-alive request.
    PingReq = 12,
    /// Keep-alive response.
    PingResp = 13,
    /// Disconnect notification.
    Disconnect = 14,
    /// Enhanced authentication exchange (MQTT 5 only).
    Auth = 15,
}

impl PacketType {
    /// Reads the packet type from a fixed header's first byte. Type 0 is
    /// reserved in both versions and type 15 is reserved in 3.1.1 (§2.1.2).
    pub fn from_first_byte(first: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let packet_type = match first >> 4 {
            1 => Self::Connect,
            2 => Self::ConnAck,
            3 => Self::Publish,
            4 => Self::PubAck,
            5 => Self::PubRec,
            6 => Self::PubRel,
            7 => Self::PubComp,
            8 => Self::Subscribe,
            9 => Self::SubAck,
            10 => Self::Unsubscribe,
            11 => Self::UnsubAck,
            12 => Self::PingReq,
            13 => Self::PingResp,
            14 => Self::Disconnect,
            15 if version == ProtocolVersion::V5 => Self::Auth,
            other => return Err(DecodeError::ReservedPacketType(other)),
        };
        Ok(packet_type)
    }

    /// The name the specification uses, e.g. `"UNSUBACK"`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::ConnAck => "CONNACK",
            Self::Publish => "PUBLISH",
            Self::PubAck => "PUBACK",
            Self::PubRec => "PUBREC",
            Self::PubRel => "PUBREL",
            Self::PubComp => "PUBCOMP",
            Self::Subscribe => "SUBSCRIBE",
            Self::SubAck => "SUBACK",
            Self::Unsubscribe => "UNSUBSCRIBE",
            Self::UnsubAck => "UNSUBACK",
            Self::PingReq => "PINGREQ",
            Self::PingResp => "PINGRESP",
            Self::Disconnect => "DISCONNECT",
            Self::Auth => "AUTH",
        }
    }

    /// The fixed-header flag nibble this type must carry, or `None` for
    /// PUBLISH whose flags hold DUP/QoS/RETAIN (§2.1.3).
    fn required_flags(self) -> Option<u8> {
        match self {
            Self::Publish => None,
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    /// The first byte of a fixed header for this type with its fixed flags.
    fn first_byte(self) -> u8 {
        ((self as u8) << 4) | self.required_flags().unwrap_or(0)
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded MQTT control packet.
// CONNECT (two property sets) dwarfs the rest, but it arrives once per
// connection; boxing it would cost an allocation to save a memcpy.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH (any QoS, including QoS 2 so the caller can refuse it properly).
    Publish(Publish),
    /// PUBACK.
    PubAck(PubAck),
    /// PUBREC.
    PubRec(PubRec),
    /// PUBREL.
    PubRel(PubRel),
    /// PUBCOMP.
    PubComp(PubComp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(UnsubAck),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// AUTH (MQTT 5 only).
    Auth(Auth),
}

impl Packet {
    /// The control packet type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect(_) => PacketType::Connect,
            Self::ConnAck(_) => PacketType::ConnAck,
            Self::Publish(_) => PacketType::Publish,
            Self::PubAck(_) => PacketType::PubAck,
            Self::PubRec(_) => PacketType::PubRec,
            Self::PubRel(_) => PacketType::PubRel,
            Self::PubComp(_) => PacketType::PubComp,
            Self::Subscribe(_) => PacketType::Subscribe,
            Self::SubAck(_) => PacketType::SubAck,
            Self::Unsubscribe(_) => PacketType::Unsubscribe,
            Self::UnsubAck(_) => PacketType::UnsubAck,
            Self::PingReq => PacketType::PingReq,
            Self::PingResp => PacketType::PingResp,
            Self::Disconnect(_) => PacketType::Disconnect,
            Self::Auth(_) => PacketType::Auth,
        }
    }

    /// Appends the packet's wire form to `out`. CONNECT is always encoded at
    /// its own `protocol` level, whatever `version` says. On error `out` is
    /// left as it was.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Connect(p) => p.encode(out),
            Self::ConnAck(p) => p.encode(version, out),
            Self::Publish(p) => p.encode(version, out),
            Self::PubAck(p) => p.encode(version, out),
            Self::PubRec(p) => p.encode(version, out),
            Self::PubRel(p) => p.encode(version, out),
            Self::PubComp(p) => p.encode(version, out),
            Self::Subscribe(p) => p.encode(version, out),
            Self::SubAck(p) => p.encode(version, out),
            Self::Unsubscribe(p) => p.encode(version, out),
            Self::UnsubAck(p) => p.encode(version, out),
            Self::PingReq => {
                out.extend_from_slice(&PINGREQ_BYTES);
                Ok(())
            }
            Self::PingResp => {
                out.extend_from_slice(&PINGRESP_BYTES);
                Ok(())
            }
            Self::Disconnect(p) => p.encode(version, out),
            Self::Auth(p) => p.encode(version, out),
        }
    }

    /// The number of bytes [`Packet::encode`] appends when it succeeds.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        match self {
            Self::Connect(p) => p.encoded_len(),
            Self::ConnAck(p) => p.encoded_len(version),
            Self::Publish(p) => p.encoded_len(version),
            Self::PubAck(p) => p.encoded_len(version),
            Self::PubRec(p) => p.encoded_len(version),
            Self::PubRel(p) => p.encoded_len(version),
            Self::PubComp(p) => p.encoded_len(version),
            Self::Subscribe(p) => p.encoded_len(version),
            Self::SubAck(p) => p.encoded_len(version),
            Self::Unsubscribe(p) => p.encoded_len(version),
            Self::UnsubAck(p) => p.encoded_len(version),
            Self::PingReq | Self::PingResp => 2,
            Self::Disconnect(p) => p.encoded_len(version),
            Self::Auth(p) => p.encoded_len(version),
        }
    }
}

/// Measures the first packet in `buf`.
///
/// Returns `Ok(None)` while more bytes are needed (fixed header or body
/// incomplete) and `Ok(Some(n))` once the first `n` bytes form a whole packet.
/// Fails when the Remaining Length is malformed or when the packet would
/// exceed `max_packet_size` (counted, as the spec does, over the whole packet
/// including the fixed header) — the latter is known as soon as the length
/// field is complete, so an oversized body is never buffered.
pub fn frame_len(buf: &[u8], max_packet_size: u32) -> Result<Option<usize>, DecodeError> {
    let Some(after_first) = buf.get(1..) else {
        return Ok(None);
    };
    let Some((remaining, len_bytes)) = decode_var_int(after_first)? else {
        return Ok(None);
    };
    let total = 1 + len_bytes + remaining as usize;
    if total > max_packet_size as usize {
        return Err(DecodeError::PacketTooLarge {
            size: total,
            max: max_packet_size,
        });
    }
    Ok((buf.len() >= total).then_some(total))
}

/// Decodes exactly one complete packet (as measured by [`frame_len`]) spoken
/// at `version`. CONNECT is decoded whatever `version` says, since it carries
/// its own protocol level.
pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let (first, body) = split_frame(packet)?;
    let packet_type = PacketType::from_first_byte(first, version)?;
    check_flags(packet_type, first)?;
    Ok(match packet_type {
        PacketType::Connect => Packet::Connect(Connect::decode_body(body)?),
        PacketType::ConnAck => Packet::ConnAck(ConnAck::decode_body(body, version)?),
        PacketType::Publish => Packet::Publish(Publish::decode_body(first, body, version)?),
        PacketType::PubAck => Packet::PubAck(PubAck::decode_body(body, version)?),
        PacketType::PubRec => Packet::PubRec(PubRec::decode_body(body, version)?),
        PacketType::PubRel => Packet::PubRel(PubRel::decode_body(body, version)?),
        PacketType::PubComp => Packet::PubComp(PubComp::decode_body(body, version)?),
        PacketType::Subscribe => Packet::Subscribe(Subscribe::decode_body(body, version)?),
        PacketType::SubAck => Packet::SubAck(SubAck::decode_body(body, version)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode_body(body, version)?),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::decode_body(body, version)?),
        PacketType::PingReq => {
            ping::decode_body(PacketType::PingReq, body)?;
            Packet::PingReq
        }
        PacketType::PingResp => {
            ping::decode_body(PacketType::PingResp, body)?;
            Packet::PingResp
        }
        PacketType::Disconnect => Packet::Disconnect(Disconnect::decode_body(body, version)?),
        PacketType::Auth => Packet::Auth(Auth::decode_body(body)?),
    })
}

/// Decodes the first packet of a connection, which must be CONNECT
/// [MQTT-3.1.0-1]. The protocol version for the rest of the connection is
/// `Connect::protocol`.
pub fn decode_connect(packet: &[u8]) -> Result<Connect, DecodeError> {
    Connect::decode(packet)
}

/// Splits a complete frame into its first byte and body, checking that the
/// slice is exactly as long as the Remaining Length says.
fn split_frame(packet: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    let (&first, after_first) = packet.split_first().ok_or(DecodeError::UnexpectedEnd {
        field: "fixed header",
    })?;
    let (remaining, len_bytes) =
        decode_var_int(after_first)?.ok_or(DecodeError::UnexpectedEnd {
            field: "remaining length",
        })?;
    let declared = 1 + len_bytes + remaining as usize;
    if packet.len() != declared {
        return Err(DecodeError::FrameLengthMismatch {
            declared,
            actual: packet.len(),
        });
    }
    Ok((first, &after_first[len_bytes..]))
}

/// Rejects fixed-header flags that differ from the ones the type requires
/// [MQTT-2.1.3-1].
fn check_flags(packet_type: PacketType, first: u8) -> Result<(), DecodeError> {
    let flags = first & 0x0F;
    match packet_type.required_flags() {
        Some(required) if flags != required => Err(DecodeError::InvalidFlags {
            packet: packet_type,
            flags,
        }),
        _ => Ok(()),
    }
}

/// Frame parsing shared by every packet type's own `decode`: splits the frame,
/// insists on the expected type and its flags, and returns the first byte
/// (PUBLISH needs its flags) and the body.
fn open_frame(
    packet: &[u8],
    expected: PacketType,
    version: ProtocolVersion,
) -> Result<(u8, &[u8]), DecodeError> {
    let (first, body) = split_frame(packet)?;
    let found = PacketType::from_first_byte(first, version)?;
    if found != expected {
        return Err(DecodeError::UnexpectedPacketType {
            expected,
            found: first >> 4,
        });
    }
    check_flags(found, first)?;
    Ok((first, body))
}

/// Total wire size of a packet whose body is `body_len` bytes.
fn frame_size(body_len: usize) -> usize {
    1 + var_int_len(body_len) + body_len
}

/// Writes the fixed header and then the body via `write_body`, restoring
/// `out` if anything fails so a caller never sends half a packet.
fn encode_frame(
    out: &mut Vec<u8>,
    first_byte: u8,
    body_len: usize,
    write_body: impl FnOnce(&mut Vec<u8>) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    let remaining = u32::try_from(body_len)
        .ok()
        .filter(|&len| len <= VAR_INT_MAX)
        .ok_or(EncodeError::PacketTooLarge {
            remaining_length: body_len,
        })?;
    let start = out.len();
    out.reserve(frame_size(body_len));
    out.push(first_byte);
    put_var_int(out, remaining);
    let body_start = out.len();
    if let Err(err) = write_body(out) {
        out.truncate(start);
        return Err(err);
    }
    debug_assert_eq!(
        out.len() - body_start,
        body_len,
        "body length computation out of sync with the writer"
    );
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::test_util::hex;
    use super::*;

    #[test]
    fn frame_len_waits_for_the_fixed_header() {
        assert_eq!(frame_len(&[], 100), Ok(None));
        assert_eq!(frame_len(&[0x30], 100), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x80], 100), Ok(None));
        assert_eq!(frame_len(&[0x30, 0x80, 0x80, 0x80], 1 << 30), Ok(None));
    }

    #[test]
    fn frame_len_waits_for_the_body() {
        assert_eq!(frame_len(&[0x30, 0x03, 0x00, 0x01], 100), Ok(None));
    }

    #[test]
    fn frame_len_reports_only_the_first_packet() {
        let two = hex("c000 d000");
        assert_eq!(frame_len(&two, 100), Ok(Some(2)));
        let long = [&[0x30, 0x80, 0x01][..], &[0u8; 128][..], &[0xc0, 0x00][..]].concat();
        assert_eq!(frame_len(&long, 1000), Ok(Some(131)));
    }

    #[test]
    fn frame_len_rejects_a_five_byte_remaining_length() {
        assert_eq!(
            frame_len(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], u32::MAX),
            Err(DecodeError::VarIntTooLong)
        );
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x80, 0x80, 0x80], u32::MAX),
            Err(DecodeError::VarIntTooLong)
        );
    }

    #[test]
    fn frame_len_rejects_a_non_minimal_remaining_length() {
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x00], 100),
            Err(DecodeError::NonMinimalVarInt)
        );
    }

    #[test]
    fn frame_len_rejects_packets_over_the_maximum_before_the_body_arrives() {
        // 0x80 0x80 0x02 = 32,768 bytes of body; the packet is 32,772 bytes in all.
        assert_eq!(
            frame_len(&[0x30, 0x80, 0x80, 0x02], 32_768),
            Err(DecodeError::PacketTooLarge {
                size: 32_772,
                max: 32_768
            })
        );
    }

    #[test]
    fn frame_len_accepts_a_packet_of_exactly_the_maximum_size() {
        let mut packet = vec![0x30, 0x7e];
        packet.extend([0u8; 126]);
        assert_eq!(frame_len(&packet, 128), Ok(Some(128)));
        assert!(frame_len(&packet, 127).is_err());
    }

    #[test]
    fn decode_rejects_a_slice_longer_or_shorter_than_the_frame() {
        assert_eq!(
            decode(&hex("c000 00"), ProtocolVersion::V5),
            Err(DecodeError::FrameLengthMismatch {
                declared: 2,
                actual: 3
            })
        );
        assert_eq!(
            decode(&hex("3005 0001"), ProtocolVersion::V5),
            Err(DecodeError::FrameLengthMismatch {
                declared: 7,
                actual: 4
            })
        );
        assert_eq!(
            decode(&[], ProtocolVersion::V5),
            Err(DecodeError::UnexpectedEnd {
                field: "fixed header"
            })
        );
        assert_eq!(
            decode(&[0xc0], ProtocolVersion::V5),
            Err(DecodeError::UnexpectedEnd {
                field: "remaining length"
            })
        );
    }

    #[test]
    fn reserved_packet_types_are_malformed() {
        let cases = [
            ("0000", ProtocolVersion::V5, 0),
            ("0000", ProtocolVersion::V311, 0),
            ("f000", ProtocolVersion::V311, 15),
        ];
        for (bytes, version, found) in cases {
            let err = decode(&hex(bytes), version).unwrap_err();
            assert_eq!(err, DecodeError::ReservedPacketType(found), "{bytes}");
            assert_eq!(err.reason_code(), 0x81);
        }
    }

    #[test]
    fn fixed_header_flags_must_match_the_packet_type() {
        let cases = [
            ("1100", PacketType::Connect, 1),
            ("2802 0000", PacketType::ConnAck, 8),
            ("4202 0001", PacketType::PubAck, 2),
            ("6002 0001", PacketType::PubRel, 0),
            ("8005 0001 0000 00", PacketType::Subscribe, 0),
            ("a305 0001 0001 61", PacketType::Unsubscribe, 3),
            ("c100", PacketType::PingReq, 1),
            ("d800", PacketType::PingResp, 8),
            ("e200", PacketType::Disconnect, 2),
            ("f100", PacketType::Auth, 1),
        ];
        for (bytes, packet, flags) in cases {
            let err = decode(&hex(bytes), ProtocolVersion::V5).unwrap_err();
            assert_eq!(err, DecodeError::InvalidFlags { packet, flags }, "{bytes}");
            assert_eq!(err.reason_code(), 0x81);
        }
    }

    #[test]
    fn decode_connect_insists_on_connect_first() {
        assert_eq!(
            decode_connect(&hex("c000")),
            Err(DecodeError::UnexpectedPacketType {
                expected: PacketType::Connect,
                found: 12
            })
        );
    }

    #[test]
    fn encode_leaves_the_buffer_untouched_on_failure() {
        let publish = Publish {
            topic: "a\0b".into(),
            ..Publish::default()
        };
        let mut out = vec![1, 2, 3];
        assert!(Packet::Publish(publish)
            .encode(ProtocolVersion::V5, &mut out)
            .is_err());
        assert_eq!(out, [1, 2, 3]);
    }

    #[test]
    fn encode_refuses_bodies_beyond_the_largest_remaining_length() {
        let publish = Publish {
            topic: "t".into(),
            payload: vec![0; VAR_INT_MAX as usize],
            ..Publish::default()
        };
        let mut out = Vec::new();
        assert_eq!(
            publish.encode(ProtocolVersion::V311, &mut out),
            Err(EncodeError::PacketTooLarge {
                remaining_length: VAR_INT_MAX as usize + 3
            })
        );
        assert!(out.is_empty());
    }

    #[test]
    fn packet_type_names_match_the_specification() {
        assert_eq!(PacketType::UnsubAck.to_string(), "UNSUBACK");
        assert_eq!(PacketType::UnsubAck as u8, 11);
        assert_eq!(ProtocolVersion::V5.level(), 5);
        assert_eq!(ProtocolVersion::V311.level(), 4);
    }
}
