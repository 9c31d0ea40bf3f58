//! SUBSCRIBE (spec §3.8): a list of topic filters, each with its
//! subscription options byte.
//!
//! Filter *syntax* is not checked here: a bad filter gets a per-filter SUBACK
//! failure (0x8F in MQTT 5), not a dropped connection, so the caller checks
//! each one with [`is_valid_topic_filter`](super::is_valid_topic_filter).

use std::num::NonZeroU16;

use super::frame::open_frame;
use super::layout::{decode_id_and_properties, IdHeader};
use super::primitives::{prefixed_len, put_string, Reader};
use super::properties::{self, Properties};
use super::{topic, DecodeError, EncodeError, PacketType, ProtocolVersion, QoS};

const QOS_MASK: u8 = 0x03;
const NO_LOCAL: u8 = 0x04;
const RETAIN_AS_PUBLISHED: u8 = 0x08;
const RETAIN_HANDLING_SHIFT: u8 = 4;
const RESERVED_V5: u8 = 0xC0;
const RESERVED_V311: u8 = 0xFC;

/// When retained messages are sent for a new subscription (MQTT 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RetainHandling {
    /// 0: send retained messages when the subscription is made.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send them only if the subscription did not already exist.
    SendIfNew = 1,
    /// 2: do not send them.
    DoNotSend = 2,
}

/// The options requested for one topic filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SubscriptionOptions {
    /// Maximum QoS the client wants to receive at.
    pub qos: QoS,
    /// MQTT 5: do not deliver the client's own publications back to it.
    pub no_local: bool,
    /// MQTT 5: keep the RETAIN flag as published when forwarding.
    pub retain_as_published: bool,
    /// MQTT 5: retained message behaviour at subscribe time.
    pub retain_handling: RetainHandling,
}

impl SubscriptionOptions {
    /// Options with only a QoS, as 3.1.1 expresses them.
    pub fn qos(qos: QoS) -> Self {
        Self {
            qos,
            ..Self::default()
        }
    }

    fn decode(byte: u8, version: ProtocolVersion) -> Result<Self, DecodeError> {
        let reserved = match version {
            ProtocolVersion::V5 => RESERVED_V5,
            ProtocolVersion::V311 => RESERVED_V311,
        };
        if byte & reserved != 0 {
            return Err(DecodeError::ReservedSubscriptionOptions { options: byte });
        }
        let qos = QoS::try_from(byte & QOS_MASK)
            .map_err(|_| DecodeError::InvalidSubscriptionQos { options: byte })?;
        let retain_handling = match (byte >> RETAIN_HANDLING_SHIFT) & 0x03 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::InvalidRetainHandling { options: byte }),
        };
        Ok(Self {
            qos,
            no_local: byte & NO_LOCAL != 0,
            retain_as_published: byte & RETAIN_AS_PUBLISHED != 0,
            retain_handling,
        })
    }

    /// The options byte; 3.1.1 has only the QoS bits.
    fn encode(self, version: ProtocolVersion) -> u8 {
        let mut byte = self.qos as u8;
        if version == ProtocolVersion::V5 {
            if self.no_local {
                byte |= NO_LOCAL;
            }
            if self.retain_as_published {
                byte |= RETAIN_AS_PUBLISHED;
            }
            byte |= (self.retain_handling as u8) << RETAIN_HANDLING_SHIFT;
        }
        byte
    }
}

/// One topic filter with its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The topic filter, possibly `$share/{name}/{filter}`.
    pub filter: String,
    /// The requested options.
    pub options: SubscriptionOptions,
}

/// A SUBSCRIBE packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier, echoed in SUBACK.
    pub packet_id: NonZeroU16,
    /// The requested subscriptions, in order; never empty when decoded.
    pub subscriptions: Vec<Subscription>,
    /// Subscription Identifier (at most one) and User Properties (5.0 only).
    pub properties: Properties,
}

impl Subscribe {
    /// Decodes one complete SUBSCRIBE frame.
    pub fn decode(packet: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let (_, body) = open_frame(packet, PacketType::Subscribe, version)?;
        Self::decode_body(body, version)
    }

    pub(crate) fn decode_body(body: &[u8], version: ProtocolVersion) -> Result<Self, DecodeError> {
        let mut r = Reader::new(body);
        let (packet_id, properties) = decode_id_and_properties(
            &mut r,
            PacketType::Subscribe,
            version,
            &properties::SUBSCRIBE,
        )?;
        let mut subscriptions = Vec::new();
        while !r.is_empty() {
            let filter = r.string("topic filter")?;
            let options = SubscriptionOptions::decode(r.u8("subscription options")?, version)?;
            // A shared subscriber would otherwise never see messages another
            // member of its group published.
            if options.no_local && topic::shared_subscription(filter).is_some() {
                return Err(DecodeError::NoLocalOnSharedSubscription {
                    filter: filter.to_owned(),
                });
            }
            subscriptions.push(Subscription {
                filter: filter.to_owned(),
                options,
            });
        }
        if subscriptions.is_empty() {
            return Err(DecodeError::EmptySubscribe);
        }
        Ok(Self {
            packet_id,
            subscriptions,
            properties,
        })
    }

    fn header(&self) -> IdHeader<'_> {
        IdHeader {
            packet: PacketType::Subscribe,
            packet_id: self.packet_id,
            properties: &self.properties,
            context: &properties::SUBSCRIBE,
        }
    }

    /// Size of the list after the header.
    fn list_len(&self) -> usize {
        self.subscriptions
            .iter()
            .map(|s| prefixed_len(s.filter.as_bytes()) + 1)
            .sum()
    }

    /// Size of the encoded packet.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        self.header().packet_len(version, self.list_len())
    }

    /// Appends the packet. For 3.1.1 only the QoS of each option survives.
    pub fn encode(&self, version: ProtocolVersion, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.header()
            .encode_packet(out, version, self.list_len(), |out| {
                for subscription in &self.subscriptions {
                    put_string(out, &subscription.filter, "topic filter")?;
                    out.push(subscription.options.encode(version));
                }
                Ok(())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::test_util::{assert_round_trip, hex};
    use crate::mqtt::{decode, Packet};

    fn subscribe(id: u16, subscriptions: &[(&str, SubscriptionOptions)]) -> Subscribe {
        Subscribe {
            packet_id: NonZeroU16::new(id).unwrap(),
            subscriptions: subscriptions
                .iter()
                .map(|(filter, options)| Subscription {
                    filter: (*filter).to_owned(),
                    options: *options,
                })
                .collect(),
            properties: Properties::default(),
        }
    }

    #[test]
    fn v311_subscribe_lists_filters_with_a_qos_byte() {
        let packet = subscribe(
            1,
            &[
                ("a/+", SubscriptionOptions::qos(QoS::AtLeastOnce)),
                ("b/#", SubscriptionOptions::qos(QoS::ExactlyOnce)),
            ],
        );
        assert_round_trip(
            &Packet::Subscribe(packet),
            ProtocolVersion::V311,
            &hex("820e 0001 0003 612f2b 01 0003 622f23 02"),
        );
    }

    #[test]
    fn v5_subscribe_carries_all_option_bits_and_a_subscription_identifier() {
        let mut packet = subscribe(
            0x0102,
            &[(
                "x",
                SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            )],
        );
        packet.properties.subscription_identifiers = vec![42];
        assert_round_trip(
            &Packet::Subscribe(packet),
            ProtocolVersion::V5,
            &hex("8209 0102 02 0b2a 0001 78 2d"),
        );
    }

    #[test]
    fn v311_encoding_keeps_only_the_qos_bits() {
        let packet = subscribe(
            1,
            &[(
                "x",
                SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::SendIfNew,
                },
            )],
        );
        let mut out = Vec::new();
        packet.encode(ProtocolVersion::V311, &mut out).unwrap();
        assert_eq!(out, hex("8206 0001 0001 78 01"));
    }

    #[test]
    fn filter_syntax_is_left_to_the_caller() {
        let packet = decode(&hex("8206 0001 0001 23 00"), ProtocolVersion::V311).unwrap();
        assert!(matches!(packet, Packet::Subscribe(_)));
        let packet = decode(&hex("8207 0001 0002 2361 00"), ProtocolVersion::V311).unwrap();
        let Packet::Subscribe(subscribe) = packet else {
            panic!("not a subscribe")
        };
        assert_eq!(subscribe.subscriptions[0].filter, "#a");
    }

    #[test]
    fn invalid_subscribes_are_rejected() {
        use DecodeError as E;
        let cases = [
            ("8202 0001", ProtocolVersion::V311, E::EmptySubscribe),
            ("8203 0001 00", ProtocolVersion::V5, E::EmptySubscribe),
            (
                "8206 0000 0001 78 00",
                ProtocolVersion::V311,
                E::ZeroPacketId {
                    packet: PacketType::Subscribe,
                },
            ),
            (
                "8206 0001 0001 78 04",
                ProtocolVersion::V311,
                E::ReservedSubscriptionOptions { options: 0x04 },
            ),
            (
                "8207 0001 00 0001 78 40",
                ProtocolVersion::V5,
                E::ReservedSubscriptionOptions { options: 0x40 },
            ),
            (
                "8206 0001 0001 78 03",
                ProtocolVersion::V311,
                E::InvalidSubscriptionQos { options: 0x03 },
            ),
            (
                "8207 0001 00 0001 78 03",
                ProtocolVersion::V5,
                E::InvalidSubscriptionQos { options: 0x03 },
            ),
            (
                "8207 0001 00 0001 78 30",
                ProtocolVersion::V5,
                E::InvalidRetainHandling { options: 0x30 },
            ),
            (
                "8210 0001 00 000a 2473686172652f672f61 04",
                ProtocolVersion::V5,
                E::NoLocalOnSharedSubscription {
                    filter: "$share/g/a".into(),
                },
            ),
            (
                "820b 0001 04 0b01 0b02 0001 78 00",
                ProtocolVersion::V5,
                E::DuplicateProperty {
                    id: crate::mqtt::PropertyId::SubscriptionIdentifier,
                },
            ),
            (
                "8205 0001 0001 78",
                ProtocolVersion::V311,
                E::UnexpectedEnd {
                    field: "subscription options",
                },
            ),
            (
                "8205 0001 0002 78",
                ProtocolVersion::V311,
                E::UnexpectedEnd {
                    field: "topic filter",
                },
            ),
            (
                "8006 0001 0001 78 00",
                ProtocolVersion::V311,
                E::InvalidFlags {
                    packet: PacketType::Subscribe,
                    flags: 0,
                },
            ),
        ];
        for (bytes, version, err) in cases {
            assert_eq!(decode(&hex(bytes), version), Err(err), "{bytes}");
        }
    }

    #[test]
    fn reserved_option_bits_outrank_other_option_errors() {
        assert_eq!(
            decode(&hex("8207 0001 00 0001 78 f3"), ProtocolVersion::V5),
            Err(DecodeError::ReservedSubscriptionOptions { options: 0xf3 })
        );
        assert_eq!(
            DecodeError::ReservedSubscriptionOptions { options: 0xf3 }.reason_code(),
            0x81
        );
        assert_eq!(
            DecodeError::InvalidRetainHandling { options: 0x30 }.reason_code(),
            0x82
        );
    }
}
