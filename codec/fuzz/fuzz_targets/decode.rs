//! Fuzz target for the MQTT codec: framing, decoding at both protocol levels
//! and CONNECT decoding must never panic, and every packet that decodes must
//! re-encode to bytes that decode to the same packet.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_codec::mqtt::{self, DecodeError, Packet, ProtocolVersion};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V311, ProtocolVersion::V5];

fn check_round_trip(packet: &Packet, version: ProtocolVersion) {
    let mut out = Vec::new();
    packet
        .encode(version, &mut out)
        .expect("a decoded packet re-encodes");
    assert_eq!(
        out.len(),
        packet.encoded_len(version),
        "encoded_len disagrees with encode"
    );
    assert_eq!(mqtt::frame_len(&out, u32::MAX), Ok(Some(out.len())));
    let again = mqtt::decode(&out, version).expect("a re-encoded packet decodes");
    assert_eq!(&again, packet, "the round trip changed the packet");
}

fn exercise_error(err: &DecodeError) {
    // Formatting and mapping must work for every error the decoder produces.
    let _ = err.to_string();
    let code = err.reason_code();
    assert!(code >= 0x80, "an error maps to a failure reason code");
    let _ = err.connack_return_code_v311();
}

fuzz_target!(|data: &[u8]| {
    let framed = mqtt::frame_len(data, u32::MAX);
    if let Err(err) = mqtt::frame_len(data, 32_768) {
        exercise_error(&err);
    }

    let mut frames = vec![data];
    if let Ok(Some(len)) = framed {
        frames.push(&data[..len]);
    }
    for frame in frames {
        for version in VERSIONS {
            match mqtt::decode(frame, version) {
                Ok(packet) => {
                    // Anything decode accepts is exactly one frame.
                    assert_eq!(mqtt::frame_len(frame, u32::MAX), Ok(Some(frame.len())));
                    check_round_trip(&packet, version);
                }
                Err(err) => {
                    if frame.len() < data.len() || matches!(framed, Ok(Some(n)) if n == data.len())
                    {
                        assert!(
                            !matches!(err, DecodeError::FrameLengthMismatch { .. }),
                            "frame_len and decode disagree on the frame: {err}"
                        );
                    }
                    exercise_error(&err);
                }
            }
        }
        match mqtt::decode_connect(frame) {
            Ok(connect) => {
                let protocol = connect.protocol;
                check_round_trip(&Packet::Connect(Box::new(connect)), protocol);
            }
            Err(err) => exercise_error(&err),
        }
    }
});
