//! MQTT 5 codec throughput: ours (`pubsub-codec`) against the codec inside rumqttc 0.24
//! (`rumqttc::v5::mqttbytes`), on the same bytes: the mix of `support/mqtt_mix.rs` (99
//! packets, QoS 0 and 1 PUBLISHes of 100 B to 16 KB, acks, pings, SUBSCRIBE, CONNECT with a
//! token and a will, ...), encoded by rumqttc.
//!
//! `cargo bench -p pubsub-codec --bench codec [-- --samples N]`; not part of
//! `scripts/test.sh` (its sanity check, that both codecs read the mix alike, is
//! `tests/codec_vs_rumqttc.rs`).
//!
//! - decode: the whole stream, packet by packet, each pass from a fresh copy of it (the
//!   same copy for both: rumqttc consumes its `BytesMut`). Ours frames with `frame_len`
//!   and decodes each frame with `decode_borrowed` (a PUBLISH's topic and payload stay
//!   in the buffer, every other packet is owned); rumqttc reads into `Bytes` that share
//!   the buffer.
//! - encode: every packet of the mix, decoded once by the codec itself, into one reused
//!   output buffer.
//!
//! Each sample times enough passes for about 20 ms; ours and rumqttc's samples alternate.
//! Printed: median ns per packet and MB/s of MQTT bytes, with the samples' min–max.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use pubsub_codec::mqtt::{self, ProtocolVersion};
use rumqttc::v5::mqttbytes::v5::Packet as RPacket;

#[path = "support/mqtt_mix.rs"]
mod mqtt_mix;

/// Larger than any packet of the mix, for both codecs' size checks.
const MAX_PACKET: usize = 1 << 20;

fn main() {
    if let Some(mode) = std::env::args().skip_while(|a| a != "--count").nth(1) {
        return count_passes(&mode);
    }
    let samples = std::env::args()
        .skip_while(|a| a != "--samples")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(25);
    let stream = mqtt_mix::stream();
    let ours = owned_ours(&stream);
    let theirs = decode_theirs(BytesMut::from(&stream[..]));
    assert_eq!(ours.len(), theirs.len(), "both codecs see every packet");
    let count = ours.len();
    println!(
        "MQTT 5 codec: {count} packets, {} bytes per pass; {samples} samples per codec\n",
        stream.len()
    );
    println!("| operation | ours: ns/packet | rumqttc: ns/packet | ours: MB/s | rumqttc: MB/s | rumqttc ÷ ours (time) |");
    println!("|---|---|---|---|---|---|");

    bench_decode(&stream, samples, count);
    bench_encode(&ours, &theirs, stream.len(), samples);
}

/// `--count <mode> N`: runs N passes of one operation and nothing else, for counting
/// instructions under callgrind (the difference between N and 2N passes is N passes
/// without start-up). Modes: `decode-ours` (borrowed, as the decode row),
/// `decode-ours-owned` (into owned `Packet`s), `decode-theirs`, `encode-ours`,
/// `encode-theirs`.
fn count_passes(mode: &str) {
    let n: u32 = std::env::args()
        .skip_while(|a| a != "--count")
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let stream = mqtt_mix::stream();
    let ours = owned_ours(&stream);
    let theirs = decode_theirs(BytesMut::from(&stream[..]));
    let mut out = Vec::with_capacity(stream.len());
    let mut out_theirs = BytesMut::with_capacity(stream.len());
    for _ in 0..n {
        match mode {
            "decode-ours" => {
                black_box(decode_ours_copy(black_box(&stream)));
            }
            "decode-ours-owned" => {
                black_box(owned_ours(&black_box(stream.clone())));
            }
            "decode-theirs" => drop(black_box(decode_theirs(BytesMut::from(black_box(
                &stream[..],
            ))))),
            "encode-ours" => encode_ours(black_box(&ours), black_box(&mut out)),
            "encode-theirs" => encode_theirs(black_box(&theirs), black_box(&mut out_theirs)),
            other => panic!("unknown --count mode {other}"),
        }
    }
}

/// The decode row: the whole stream, by each codec. Each pass first copies the stream
/// into a new buffer, for both codecs alike (rumqttc consumes its input), so both read
/// the same warm bytes and both figures include one copy.
fn bench_decode(stream: &[u8], samples: usize, count: usize) {
    let passes = passes_for(|| {
        black_box(decode_ours_copy(black_box(stream)));
    });
    let (a, b) = alternate(
        samples,
        passes,
        |n| {
            timed(n, || {
                black_box(decode_ours_copy(black_box(stream)));
            })
        },
        |n| {
            timed(n, || {
                drop(black_box(decode_theirs(BytesMut::from(black_box(stream)))))
            })
        },
    );
    row("decode", &a, &b, passes, count, stream.len());
}

/// The encode row: every packet of the mix, by each codec from its own values.
fn bench_encode(ours: &[mqtt::Packet], theirs: &[RPacket], bytes: usize, samples: usize) {
    let mut out = Vec::with_capacity(bytes);
    let mut out_theirs = BytesMut::with_capacity(bytes);
    let passes = passes_for(|| encode_ours(ours, &mut out));
    let (a, b) = alternate(
        samples,
        passes,
        |n| timed(n, || encode_ours(black_box(ours), black_box(&mut out))),
        |n| {
            timed(n, || {
                encode_theirs(black_box(theirs), black_box(&mut out_theirs))
            })
        },
    );
    row("encode", &a, &b, passes, ours.len(), bytes);
}

/// Every packet of `stream`, borrowing PUBLISH topics and payloads from it.
fn decode_ours(stream: &[u8]) -> Vec<mqtt::PacketRef<'_>> {
    let mut packets = Vec::with_capacity(128);
    let mut rest = stream;
    while !rest.is_empty() {
        let len = mqtt::frame_len(rest, MAX_PACKET as u32)
            .expect("valid frame")
            .expect("complete frame");
        packets.push(mqtt::decode_borrowed(&rest[..len], ProtocolVersion::V5).expect("decodes"));
        rest = &rest[len..];
    }
    packets
}

/// [`decode_ours`] from a copy of `stream`, as [`decode_theirs`] gets one; the packets
/// are dropped with the copy.
fn decode_ours_copy(stream: &[u8]) -> usize {
    let copy = stream.to_vec();
    let packets = decode_ours(black_box(&copy));
    black_box(&packets);
    packets.len()
}

/// The mix as owned packets, for the encode row.
fn owned_ours(stream: &[u8]) -> Vec<mqtt::Packet> {
    decode_ours(stream)
        .into_iter()
        .map(mqtt::PacketRef::into_owned)
        .collect()
}

fn decode_theirs(mut stream: BytesMut) -> Vec<RPacket> {
    let mut packets = Vec::with_capacity(128);
    while !stream.is_empty() {
        packets.push(RPacket::read(&mut stream, Some(MAX_PACKET)).expect("decodes"));
    }
    packets
}

fn encode_ours(packets: &[mqtt::Packet], out: &mut Vec<u8>) {
    out.clear();
    for p in packets {
        p.encode(ProtocolVersion::V5, out).expect("encodes");
    }
}

fn encode_theirs(packets: &[RPacket], out: &mut BytesMut) {
    out.clear();
    for p in packets {
        p.write(out).expect("encodes");
    }
}

/// The time `n` calls of `pass` take.
fn timed(n: u32, mut pass: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        pass();
    }
    start.elapsed()
}

/// How many passes make a sample of about 20 ms (after a short warm-up).
fn passes_for(mut pass: impl FnMut()) -> u32 {
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(100) {
        pass();
        n += 1;
    }
    (n / 5).max(1)
}

/// `samples` timings of `passes` passes each, of `a` and `b` in turn (which goes first
/// alternates).
fn alternate(
    samples: usize,
    passes: u32,
    mut a: impl FnMut(u32) -> Duration,
    mut b: impl FnMut(u32) -> Duration,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for i in 0..samples {
        if i % 2 == 0 {
            ta.push(a(passes));
            tb.push(b(passes));
        } else {
            tb.push(b(passes));
            ta.push(a(passes));
        }
    }
    (ta, tb)
}

/// Median, min and max of `times`, per packet in ns.
fn per_packet(times: &[Duration], passes: u32, count: usize) -> (f64, f64, f64) {
    let mut ns: Vec<f64> = times
        .iter()
        .map(|t| t.as_nanos() as f64 / f64::from(passes) / count as f64)
        .collect();
    ns.sort_by(f64::total_cmp);
    (ns[ns.len() / 2], ns[0], ns[ns.len() - 1])
}

fn row(op: &str, a: &[Duration], b: &[Duration], passes: u32, count: usize, bytes: usize) {
    let (ma, mina, maxa) = per_packet(a, passes, count);
    let (mb, minb, maxb) = per_packet(b, passes, count);
    let mbps = |ns_per_packet: f64| bytes as f64 / (ns_per_packet * count as f64) * 1e3;
    println!(
        "| {op} | {ma:.0} ({mina:.0}–{maxa:.0}) | {mb:.0} ({minb:.0}–{maxb:.0}) | {:.0} | {:.0} | {:.2} |",
        mbps(ma),
        mbps(mb),
        mb / ma
    );
}
