//! MQTT 5 packets in WebSocket-over-HTTP batches, as Fanout sends them to the app: a
//! signed `POST /mqtt` with `Content-Type: application/websocket-events`, a
//! `Connection-Id`, and the connection's state in `Meta-*` headers (which the app sets
//! with `Set-Meta-*`).
//!
//! The packets are written here byte by byte (MQTT 5.0, sections 3.1, 3.3 and 3.8), so
//! the same bytes go to the baseline and the current module whatever their codecs.

use crate::client::{Answer, Req};

/// MQTT 5 CONNECT: clean start, keep alive 60 s, no properties, client id `client_id`,
/// the token as password (no user name).
pub(crate) fn connect(client_id: &str, token: &str) -> Vec<u8> {
    let mut body = Vec::new();
    string(&mut body, b"MQTT");
    body.push(5); // protocol level
    body.push(0x40 | 0x02); // password, clean start
    body.extend_from_slice(&60u16.to_be_bytes());
    body.push(0); // properties
    string(&mut body, client_id.as_bytes());
    string(&mut body, token.as_bytes());
    packet(0x10, &body)
}

/// MQTT 5 SUBSCRIBE of `filters`, each QoS 0 with Retain Handling 0.
pub(crate) fn subscribe(packet_id: u16, filters: &[String]) -> Vec<u8> {
    let mut body = packet_id.to_be_bytes().to_vec();
    body.push(0); // properties
    for filter in filters {
        string(&mut body, filter.as_bytes());
        body.push(0); // options: QoS 0, retain handling 0
    }
    packet(0x82, &body)
}

/// MQTT 5 PUBLISH of `payload` to `topic`, QoS 0 (`packet_id` `None`) or QoS 1.
pub(crate) fn publish(topic: &str, packet_id: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    string(&mut body, topic.as_bytes());
    if let Some(id) = packet_id {
        body.extend_from_slice(&id.to_be_bytes());
    }
    body.push(0); // properties
    body.extend_from_slice(payload);
    packet(if packet_id.is_some() { 0x32 } else { 0x30 }, &body)
}

/// A fixed header (type and flags, Variable Byte Integer length) and `body`.
fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![first];
    let mut len = body.len();
    loop {
        let mut byte = (len % 128) as u8;
        len /= 128;
        if len > 0 {
            byte |= 0x80;
        }
        out.push(byte);
        if len == 0 {
            break;
        }
    }
    out.extend_from_slice(body);
    out
}

/// A UTF-8 string or binary data field: two-byte length, then the bytes.
fn string(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

/// A WebSocket-over-HTTP body: `OPEN` first when `open`, then one `BINARY` event.
pub(crate) fn events(open: bool, binary: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if open {
        out.extend_from_slice(b"OPEN\r\n");
    }
    out.extend_from_slice(format!("BINARY {:X}\r\n", binary.len()).as_bytes());
    out.extend_from_slice(binary);
    out.extend_from_slice(b"\r\n");
    out
}

/// A connection's metadata as Fanout keeps it: `(name, value)` without the prefix.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta(Vec<(String, String)>);

impl Meta {
    /// Applies the `Set-Meta-*` headers of an answer (an empty value removes the entry).
    pub(crate) fn apply(&mut self, answer: &Answer) {
        for (name, value) in &answer.headers {
            let Some(key) = name.strip_prefix("set-meta-") else {
                continue;
            };
            self.0.retain(|(k, _)| k != key);
            if !value.is_empty() {
                self.0.push((key.to_owned(), value.clone()));
            }
        }
    }

    /// How many entries there are.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The signed WebSocket-over-HTTP request of connection `connection_id` carrying
/// `body`, with the connection's metadata (the handshake's subprotocol offer on an OPEN).
pub(crate) fn request(grip_sig: &str, connection_id: &str, meta: &Meta, body: Vec<u8>) -> Req {
    let mut req = Req::post("/mqtt".into(), body)
        .header("grip-sig", grip_sig)
        .header("content-type", "application/websocket-events")
        .header("connection-id", connection_id)
        .header("sec-websocket-protocol", "mqtt");
    for (name, value) in &meta.0 {
        req = req.header(&format!("meta-{name}"), value.as_str());
    }
    req
}

/// The contents of the `BINARY` events of an answer body (the MQTT bytes for the client),
/// without the `m:` message prefix if there is one.
pub(crate) fn binaries(body: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..line_end]).into_owned();
        rest = &rest[line_end + 2..];
        let Some((kind, len)) = line.split_once(' ') else {
            continue;
        };
        let len = usize::from_str_radix(len.trim(), 16)
            .unwrap_or(0)
            .min(rest.len());
        if kind == "BINARY" {
            // The `grip` extension's default message prefix, when the app uses it.
            let content = &rest[..len];
            out.push(content.strip_prefix(b"m:").unwrap_or(content));
        }
        rest = rest.get(len + 2..).unwrap_or_default();
    }
    out
}

/// The MQTT packet types in an answer body (e.g. `[2]` for a CONNACK).
pub(crate) fn packet_types(body: &[u8]) -> Vec<u8> {
    binaries(body)
        .iter()
        .filter_map(|b| b.first().map(|first| first >> 4))
        .collect()
}

/// Whether an answer body holds a CONNACK with reason code 0 (Success).
pub(crate) fn connack_ok(body: &[u8]) -> bool {
    binaries(body).iter().any(|packet| {
        // Type and flags, the Remaining Length (1 to 4 bytes), Acknowledge Flags, Reason.
        let length_bytes = packet.iter().skip(1).take_while(|b| *b & 0x80 != 0).count() + 1;
        packet.first().map(|b| b >> 4) == Some(2) && packet.get(2 + length_bytes) == Some(&0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_have_their_fixed_headers() {
        assert_eq!(publish("t", None, b"x"), [0x30, 5, 0, 1, b't', 0, b'x']);
        assert_eq!(publish("t", Some(7), b""), [0x32, 6, 0, 1, b't', 0, 7, 0]);
        assert_eq!(
            subscribe(1, &["a".into()]),
            [0x82, 7, 0, 1, 0, 0, 1, b'a', 0]
        );
        let long = connect("c", &"t".repeat(200));
        assert_eq!(&long[..3], &[0x10, 0xD8, 0x01]); // 216 = 0x58 + 128
        assert_eq!(long.len(), 3 + 216);
    }

    #[test]
    fn answers_are_read_back_as_packet_types() {
        let mut body = b"OPEN\r\nTEXT 2\r\nc:\r\n".to_vec();
        body.extend_from_slice(&events(false, &[0x20, 2, 0, 0]));
        body.extend_from_slice(&events(false, &[0x90, 3, 0, 1, 0]));
        assert_eq!(packet_types(&body), [2, 9]);
        assert!(connack_ok(&body));
        assert!(!connack_ok(&events(false, &[0x20, 2, 0, 0x87])));
        assert_eq!(packet_types(&events(false, b"m:\x40\x02\x00\x01")), [4]);
    }
}
