//! PINGREQ and PINGRESP (spec §3.12, §3.13): keep-alive packets with no
//! variable header or payload, identical in both protocol versions.

use super::{DecodeError, PacketType};

/// The complete PINGREQ packet.
pub const PINGREQ_BYTES: [u8; 2] = [0xC0, 0x00];

/// The complete PINGRESP packet.
pub const PINGRESP_BYTES: [u8; 2] = [0xD0, 0x00];

/// A ping carries nothing, so any body at all is malformed.
pub(crate) fn decode_body(packet: PacketType, body: &[u8]) -> Result<(), DecodeError> {
    if body.is_empty() {
        Ok(())
    } else {
        Err(DecodeError::TrailingBytes {
            packet,
            count: body.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, ProtocolVersion};

    #[test]
    fn pings_are_two_bytes_in_both_versions() {
        for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
            assert_round_trip(&Packet::PingReq, version, &PINGREQ_BYTES);
            assert_round_trip(&Packet::PingResp, version, &PINGRESP_BYTES);
        }
    }

    #[test]
    fn a_ping_with_a_body_is_malformed() {
        let err = decode(&hex("c001 00"), ProtocolVersion::V5);
        assert_eq!(
            err,
            Err(DecodeError::TrailingBytes {
                packet: PacketType::PingReq,
                count: 1
            })
        );
    }
}
