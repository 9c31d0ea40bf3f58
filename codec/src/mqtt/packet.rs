//! The control packet types and the [`Packet`] enum, with the dispatch from
//! a frame's type nibble to each packet type's own decoder and encoder.

use std::fmt;

use super::frame::{check_flags, split_frame};
use super::{
    ping, Auth, ConnAck, Connect, DecodeError, Disconnect, EncodeError, ProtocolVersion, PubAck,
    PubComp, PubRec, PubRel, Publish, SubAck, Subscribe, UnsubAck, Unsubscribe, PINGREQ_BYTES,
    PINGRESP_BYTES,
};

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
    pub(super) fn required_flags(self) -> Option<u8> {
        match self {
            Self::Publish => None,
            Self::PubRel | Self::Subscribe | Self::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }

    /// The first byte of a fixed header for this type with its fixed flags.
    pub(super) fn first_byte(self) -> u8 {
        ((self as u8) << 4) | self.required_flags().unwrap_or(0)
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One decoded MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT, boxed: it arrives once per connection and is more than twice
    /// the size of any other packet, which every packet would carry.
    Connect(Box<Connect>),
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

/// Decodes exactly one complete packet (as measured by
/// [`frame_len`](super::frame_len)) spoken at `version`. CONNECT is decoded
/// whatever `version` says, since it carries its own protocol level.
pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Packet, DecodeError> {
    let (first, body) = split_frame(packet)?;
    decode_parts(first, body, version)
}

/// [`decode`] of a frame already split into its first byte and body.
pub(super) fn decode_parts(
    first: u8,
    body: &[u8],
    version: ProtocolVersion,
) -> Result<Packet, DecodeError> {
    let packet_type = PacketType::from_first_byte(first, version)?;
    check_flags(packet_type, first)?;
    Ok(match packet_type {
        PacketType::Connect => Packet::Connect(Box::new(Connect::decode_body(body)?)),
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

#[cfg(test)]
mod tests {
    use super::super::test_util::hex;
    use super::*;

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
    fn packet_type_names_match_the_specification() {
        assert_eq!(PacketType::UnsubAck.to_string(), "UNSUBACK");
        assert_eq!(PacketType::UnsubAck as u8, 11);
        assert_eq!(ProtocolVersion::V5.level(), 5);
        assert_eq!(ProtocolVersion::V311.level(), 4);
    }
}
