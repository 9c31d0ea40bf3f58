//! The sanity check of the codec benchmark (`benches/codec.rs`): on its packet mix our
//! MQTT 5 codec and rumqttc's read the same bytes as the same packets, so the benchmark
//! compares like with like.

#[path = "../benches/support/mqtt_mix.rs"]
mod mqtt_mix;

use bytes::BytesMut;
use pubsub_codec::mqtt::{self, ProtocolVersion};
use rumqttc::v5::mqttbytes::v5::Packet as RPacket;

#[test]
fn every_packet_of_the_mix_survives_a_round_trip_through_both_codecs() {
    for (name, _, theirs) in mqtt_mix::packets() {
        let bytes = mqtt_mix::encode(&theirs);
        let ours = mqtt::decode(&bytes, ProtocolVersion::V5)
            .unwrap_or_else(|e| panic!("{name}: our codec refuses rumqttc's bytes: {e}"));
        let borrowed = mqtt::decode_borrowed(&bytes, ProtocolVersion::V5)
            .unwrap_or_else(|e| panic!("{name}: the borrowed decoder refuses it: {e}"));
        assert_eq!(
            borrowed.into_owned(),
            ours,
            "{name}: borrowed and owned agree"
        );
        let mut again = Vec::new();
        ours.encode(ProtocolVersion::V5, &mut again)
            .unwrap_or_else(|e| panic!("{name}: cannot encode it again: {e}"));
        let back = RPacket::read(&mut BytesMut::from(&again[..]), None)
            .unwrap_or_else(|e| panic!("{name}: rumqttc refuses our bytes: {e:?}"));
        assert_eq!(back, theirs, "{name}");
    }
}

#[test]
fn publishes_keep_topic_payload_and_packet_id() {
    for (name, _, theirs) in mqtt_mix::packets() {
        let RPacket::Publish(theirs) = theirs else {
            continue;
        };
        let bytes = mqtt_mix::encode(&RPacket::Publish(theirs.clone()));
        let Ok(mqtt::Packet::Publish(ours)) = mqtt::decode(&bytes, ProtocolVersion::V5) else {
            panic!("{name}: not decoded as a PUBLISH");
        };
        assert_eq!(ours.topic.as_bytes(), &theirs.topic[..], "{name}");
        assert_eq!(ours.payload, &theirs.payload[..], "{name}");
        assert_eq!(
            ours.packet_id.map_or(0, |id| id.get()),
            theirs.pkid,
            "{name}"
        );
    }
}

#[test]
fn the_stream_splits_into_the_same_packets() {
    let stream = mqtt_mix::stream();
    let weights: usize = mqtt_mix::packets().iter().map(|(_, w, _)| w).sum();
    let (mut ours, mut rest) = (0, &stream[..]);
    while !rest.is_empty() {
        let len = mqtt::frame_len(rest, 1 << 20)
            .expect("valid frame")
            .expect("complete frame");
        mqtt::decode(&rest[..len], ProtocolVersion::V5).expect("decodes");
        rest = &rest[len..];
        ours += 1;
    }
    let (mut theirs, mut buf) = (0, BytesMut::from(&stream[..]));
    while !buf.is_empty() {
        RPacket::read(&mut buf, None).expect("decodes");
        theirs += 1;
    }
    assert_eq!((ours, theirs), (weights, weights));
}
