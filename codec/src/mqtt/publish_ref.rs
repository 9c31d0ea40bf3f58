//! Borrowed decoding of PUBLISH: a message whose topic and payload point into
//! the frame it was read from ([`decode_borrowed`](super::decode_borrowed)
//! yields one for PUBLISH and the owned [`Packet`](super::Packet) otherwise).
//!
//! Contract:
//! - [`PublishRef`] applies exactly the checks of [`Publish::decode`] (it is
//!   the one implementation: the owned decoder converts a `PublishRef`), so
//!   the same bytes give the same value or the same spec-tagged error.
//! - Nothing is copied but the properties (usually none); the view lives as
//!   long as the caller's buffer. `PublishRef::into_owned` makes a `Publish`.
//! - `decode_borrowed` and `decode` accept and refuse the
//!   same frames; `decode_borrowed(b)?.into_owned() == decode(b)?`.

use std::num::NonZeroU16;

use super::primitives::Reader;
use super::properties::{self, Properties};
use super::{DecodeError, PacketType, ProtocolVersion, QoS};

pub(super) const FLAG_DUP: u8 = 0x08;
pub(super) const QOS_SHIFT: u8 = 1;
pub(super) const FLAG_RETAIN: u8 = 0x01;

/// A decoded PUBLISH borrowing its topic and payload from the frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRef<'a> {
    /// DUP: this is a re-delivery. Always false at QoS 0.
    pub dup: bool,
    /// Delivery QoS.
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic name; no wildcards. Empty only in MQTT 5 with a Topic Alias.
    pub topic: &'a str,
    /// Packet identifier: present exactly when `qos` is above 0.
    pub packet_id: Option<NonZeroU16>,
    /// PUBLISH properties (5.0 only).
    pub properties: Properties,
    /// Application payload.
    pub payload: &'a [u8],
}

impl<'a> PublishRef<'a> {
    /// Decodes the body of a PUBLISH whose first byte is `first` (its type
    /// already checked; PUBLISH has no fixed flags to check).
    pub(crate) fn decode_body(
        first: u8,
        body: &'a [u8],
        version: ProtocolVersion,
    ) -> Result<Self, DecodeError> {
        let dup = first & FLAG_DUP != 0;
        let retain = first & FLAG_RETAIN != 0;
        let qos = QoS::try_from((first >> QOS_SHIFT) & 0x03)
            .map_err(|_| DecodeError::InvalidPublishQos)?;
        if dup && qos == QoS::AtMostOnce {
            return Err(DecodeError::DupWithQos0);
        }

        let mut r = Reader::new(body);
        let (topic, wildcard) = r.topic_name("topic name")?;
        if wildcard {
            return Err(DecodeError::WildcardInTopicName {
                topic: topic.to_owned(),
            });
        }
        let packet_id = match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce | QoS::ExactlyOnce => Some(r.packet_id(PacketType::Publish)?),
        };
        let properties = Properties::decode_if_v5(&mut r, version, &properties::PUBLISH)?;
        // An empty topic means "use the topic this alias stands for", which
        // only MQTT 5 has.
        if topic.is_empty() && properties.topic_alias.is_none() {
            return Err(DecodeError::EmptyTopicName);
        }
        Ok(Self {
            dup,
            qos,
            retain,
            topic,
            packet_id,
            properties,
            payload: r.rest(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::hex;
    use crate::mqtt::{decode, decode_borrowed, PacketRef};

    #[test]
    fn borrowed_and_owned_decoding_agree_on_values_and_errors() {
        let cases = [
            "3007 0003 612f62 6869",
            "3b06 0001 74 000a 78",
            "320a 0001 74 0002 05 0101 2300 07 78",
            "3208 0001 74 0002 00 7878",
            "3005 0001 2b 00 78",
            "3809 0001 74 0002 00 78",
            "3606 0001 74 0001 78",
            "3004 0000 00 78",
            "3206 0001 74 0000 00",
            "3005 0002 c328 00",
            "4002 0007",
            "c000",
            "e000",
        ];
        for case in cases {
            for version in [ProtocolVersion::V311, ProtocolVersion::V5] {
                let bytes = hex(case);
                assert_eq!(
                    decode_borrowed(&bytes, version).map(PacketRef::into_owned),
                    decode(&bytes, version),
                    "{case} at {version}"
                );
            }
        }
    }

    #[test]
    fn a_borrowed_publish_points_into_the_frame() {
        let bytes = hex("3007 0003 612f62 6869");
        let Ok(PacketRef::Publish(p)) = decode_borrowed(&bytes, ProtocolVersion::V311) else {
            panic!("not a borrowed publish");
        };
        assert_eq!((p.topic, p.payload), ("a/b", &b"hi"[..]));
        assert!(std::ptr::eq(p.payload.as_ptr(), bytes[7..].as_ptr()));
    }
}
