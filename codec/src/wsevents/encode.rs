//! Writing events: one function per event type, and [`write_event`] for any.

use super::{Event, CONTROL_PREFIX, CRLF};

/// Appends `NAME <HEX>\r\n<parts...>\r\n`.
fn write_with_content(out: &mut Vec<u8>, name: &str, parts: &[&[u8]]) {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    out.reserve(name.len() + 20 + len);
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_hex(out, len);
    out.extend_from_slice(CRLF);
    for part in parts {
        out.extend_from_slice(part);
    }
    out.extend_from_slice(CRLF);
}

fn write_bare(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(CRLF);
}

/// Uppercase hex without leading zeros, as in the protocol's own examples.
fn write_hex(out: &mut Vec<u8>, value: usize) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 2 * std::mem::size_of::<usize>()];
    let mut i = buf.len();
    let mut v = value;
    loop {
        i -= 1;
        buf[i] = DIGITS[v % 16];
        v /= 16;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends any event. Events without payload are written bare; a `Close`
/// without a code is written bare too, since a reason needs a code.
pub fn write_event(out: &mut Vec<u8>, event: &Event<'_>) {
    match *event {
        Event::Open => write_open(out),
        Event::Text(content) => write_text(out, content),
        Event::Binary(content) => write_binary(out, content),
        Event::Ping(content) => write_ping(out, content),
        Event::Pong(content) => write_pong(out, content),
        Event::Close(Some(code), reason) => write_close_with_reason(out, code, reason),
        Event::Close(None, _) => write_bare(out, "CLOSE"),
        Event::Disconnect => write_disconnect(out),
    }
}

/// Appends `OPEN\r\n` (accepting the connection, when sent by the origin).
pub fn write_open(out: &mut Vec<u8>) {
    write_bare(out, "OPEN");
}

/// Appends a TEXT event.
pub fn write_text(out: &mut Vec<u8>, content: &[u8]) {
    write_with_content(out, "TEXT", &[content]);
}

/// Appends a BINARY event.
pub fn write_binary(out: &mut Vec<u8>, content: &[u8]) {
    write_with_content(out, "BINARY", &[content]);
}

/// Appends a PING event (bare when `content` is empty).
pub fn write_ping(out: &mut Vec<u8>, content: &[u8]) {
    if content.is_empty() {
        write_bare(out, "PING");
    } else {
        write_with_content(out, "PING", &[content]);
    }
}

/// Appends a PONG event (bare when `content` is empty); a pong answering a
/// ping should echo the ping's content.
pub fn write_pong(out: &mut Vec<u8>, content: &[u8]) {
    if content.is_empty() {
        write_bare(out, "PONG");
    } else {
        write_with_content(out, "PONG", &[content]);
    }
}

/// Appends a CLOSE event with a close code and no reason.
pub fn write_close(out: &mut Vec<u8>, code: u16) {
    write_close_with_reason(out, code, &[]);
}

/// Appends a CLOSE event with a close code and a reason (UTF-8 by WebSocket
/// rules, at most 123 bytes to fit a control frame).
pub fn write_close_with_reason(out: &mut Vec<u8>, code: u16, reason: &[u8]) {
    write_with_content(out, "CLOSE", &[&code.to_be_bytes(), reason]);
}

/// Appends `DISCONNECT\r\n`.
pub fn write_disconnect(out: &mut Vec<u8>) {
    write_bare(out, "DISCONNECT");
}

/// Appends a GRIP control message: a TEXT event whose content is `c:` followed
/// by `json`, e.g. `{"type":"subscribe","channel":"mychannel"}`.
pub fn control_message(out: &mut Vec<u8>, json: &str) {
    write_with_content(out, "TEXT", &[CONTROL_PREFIX.as_bytes(), json.as_bytes()]);
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    #[test]
    fn writers_produce_these_golden_bodies() {
        type Writer = fn(&mut Vec<u8>);
        let cases: [(Writer, &[u8]); 11] = [
            (write_open, b"OPEN\r\n"),
            (
                |o| write_text(o, b"hello world"),
                b"TEXT B\r\nhello world\r\n",
            ),
            (|o| write_text(o, b""), b"TEXT 0\r\n\r\n"),
            (
                |o| write_binary(o, &[0xc0, 0x00]),
                b"BINARY 2\r\n\xc0\x00\r\n",
            ),
            (|o| write_ping(o, b""), b"PING\r\n"),
            (|o| write_pong(o, b""), b"PONG\r\n"),
            (|o| write_pong(o, b"xy"), b"PONG 2\r\nxy\r\n"),
            (|o| write_close(o, 1000), b"CLOSE 2\r\n\x03\xe8\r\n"),
            (
                |o| write_close_with_reason(o, 1008, b"bad"),
                b"CLOSE 5\r\n\x03\xf0bad\r\n",
            ),
            (write_disconnect, b"DISCONNECT\r\n"),
            (
                |o| control_message(o, r#"{"type":"subscribe","channel":"mychannel"}"#),
                b"TEXT 2C\r\nc:{\"type\":\"subscribe\",\"channel\":\"mychannel\"}\r\n",
            ),
        ];
        for (write, expected) in cases {
            let mut out = Vec::new();
            write(&mut out);
            assert_eq!(out, expected, "{:?}", String::from_utf8_lossy(expected));
        }
    }

    #[test]
    fn long_content_gets_a_multi_digit_length() {
        let mut out = Vec::new();
        write_binary(&mut out, &[0u8; 0x1234]);
        assert!(out.starts_with(b"BINARY 1234\r\n"));
        assert_eq!(parse(&out).unwrap(), [Event::Binary(&[0u8; 0x1234])]);
    }

    #[test]
    fn written_events_parse_back_to_themselves() {
        let events = [
            Event::Open,
            Event::Text(b"t"),
            Event::Binary(b""),
            Event::Ping(b"p"),
            Event::Pong(b""),
            Event::Close(Some(1001), b"bye"),
            Event::Close(None, b""),
            Event::Disconnect,
        ];
        let mut body = Vec::new();
        for event in &events {
            write_event(&mut body, event);
        }
        assert_eq!(parse(&body).unwrap(), events);
    }
}
