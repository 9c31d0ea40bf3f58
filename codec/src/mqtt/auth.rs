//! AUTH (MQTT 5 only, spec §3.15): enhanced authentication exchange. Decoded
//! so the caller can refuse it cleanly; in 3.1.1 packet type 15 is reserved.

use super::frame::{encode_frame, frame_size, open_frame};
use super::layout::parse_reason_code;
use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, EncodeError, PacketType, ProtocolVersion};

reason_code_enum! {
    /// AUTH reason codes (MQTT 5 §3.15.2.1).
    pub enum AuthReasonCode {
        /// 0x00 Success.
        Success = 0x00,
        /// 0x18 Continue authentication.
        ContinueAuthentication = 0x18,
        /// 0x19 Re-authenticate.
        ReAuthenticate = 0x19,
    }
}

/// An AUTH packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// Step of the exchange.
    pub reason_code: AuthReasonCode,
    /// Authentication Method and Data, Reason String, User Properties.
    pub properties: Properties,
}

impl Auth {
    /// Decodes one complete AUTH frame. Fails for 3.1.1, where the type is
    /// reserved.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::Auth, version)?;
        Self::decode_body(body)
    }

    pub(crate) fn decode_body(body: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let mut auth = Self {
            reason_code: AuthReasonCode::Success,
            properties: Properties::default(),
        };
        if !r.is_empty() {
            let code = r.u8("reason code")?;
            auth.reason_code = parse_reason_code(PacketType::Auth, code)?;
        }
        if !r.is_empty() {
            auth.properties = Properties::decode(&mut r, &properties::AUTH)?;
            if auth.properties.authentication_method.is_none() && !auth.properties.is_empty() {
                return Err(DecodeError::AuthenticationMethodMissing);
            }
        }
        r.finish(PacketType::Auth)?;
        Ok(auth)
    }

    fn body_len(&self) -> usize {
        if self.reason_code == AuthReasonCode::Success && self.properties.is_empty() {
            0
        } else {
            1 + self.properties.wire_len()
        }
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, _version: ProtocolVersion) -> usize {
        frame_size(self.body_len())
    }

    /// Appends the packet; AUTH does not exist in 3.1.1.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        if version == ProtocolVersion::V311 {
            return Err(EncodeError::NotInVersion {
                packet: PacketType::Auth,
                version,
            });
        }
        let body_len = self.body_len();
        encode_frame(out, PacketType::Auth.first_byte(), body_len, |out| {
            if body_len > 0 {
                out.push(self.reason_code.into());
                self.properties.encode(out, &properties::AUTH)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet, PropertyValues};

    #[test]
    fn auth_success_without_properties_is_empty() {
        let auth = Auth {
            reason_code: AuthReasonCode::Success,
            properties: Properties::default(),
        };
        assert_round_trip(&Packet::Auth(auth), ProtocolVersion::V5, &hex("f000"));
    }

    #[test]
    fn auth_continue_carries_method_and_data() {
        let auth = Auth {
            reason_code: AuthReasonCode::ContinueAuthentication,
            properties: PropertyValues {
                authentication_method: Some("M".into()),
                authentication_data: Some(vec![0xaa]),
                ..PropertyValues::default()
            }
            .into(),
        };
        assert_round_trip(
            &Packet::Auth(auth),
            ProtocolVersion::V5,
            &hex("f00a 18 08 150001 4d 160001 aa"),
        );
    }

    #[test]
    fn auth_does_not_exist_in_v311() {
        assert_eq!(
            decode(&hex("f000"), ProtocolVersion::V311),
            Err(DecodeError::ReservedPacketType(15))
        );
        let auth = Auth::decode(&hex("f000"), ProtocolVersion::V5).unwrap();
        assert_eq!(
            auth.encode(ProtocolVersion::V311, &mut Vec::new()),
            Err(EncodeError::NotInVersion {
                packet: PacketType::Auth,
                version: ProtocolVersion::V311
            })
        );
    }

    #[test]
    fn invalid_auth_packets_are_rejected() {
        use DecodeError as E;
        let cases = [
            (
                "f001 01",
                E::InvalidReasonCode {
                    packet: PacketType::Auth,
                    code: 1,
                },
            ),
            ("f006 18 04 1f000161", E::AuthenticationMethodMissing),
            ("f005 18 03 160000", E::AuthenticationMethodMissing),
        ];
        for (bytes, err) in cases {
            assert_eq!(
                decode(&hex(bytes), ProtocolVersion::V5),
                Err(err),
                "{bytes}"
            );
        }
    }
}
