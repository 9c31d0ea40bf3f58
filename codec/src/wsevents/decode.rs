//! Reading an event body: the [`Events`] iterator and [`parse`].

use super::{Event, WsEventError, CRLF};

/// Parses a whole body into its events.
pub fn parse(body: &[u8]) -> Result<Vec<Event<'_>>, WsEventError> {
    events(body).collect()
}

/// Iterates over the events of a body. After an error the iterator ends,
/// since the position of the next event is unknown.
pub fn events(body: &[u8]) -> Events<'_> {
    Events {
        body,
        pos: 0,
        failed: false,
    }
}

/// Iterator returned by [`events`].
#[derive(Debug, Clone)]
pub struct Events<'a> {
    body: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Iterator for Events<'a> {
    type Item = Result<Event<'a>, WsEventError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.body.len() {
            return None;
        }
        let result = self.next_event();
        self.failed = result.is_err();
        Some(result)
    }
}

impl<'a> Events<'a> {
    /// Reads the event at `pos`: its line, then its content, then what its
    /// type makes of the content. Only a whole event moves `pos` on.
    fn next_event(&mut self) -> Result<Event<'a>, WsEventError> {
        let start = self.pos;
        let line = read_line(self.body, start)?;
        let (content, end) = match line.size {
            None => (&[][..], line.end),
            Some(hex) => {
                let len = parse_hex(hex).ok_or_else(|| WsEventError::InvalidLength {
                    offset: start + line.name.len() + 1,
                    text: shorten(hex),
                })?;
                read_content(self.body, line.end, len)?
            }
        };
        let event = to_event(line.name, content, start, line.end)?;
        self.pos = end;
        Ok(event)
    }
}

/// An event line split at its first space.
struct Line<'a> {
    /// The event type.
    name: &'a [u8],
    /// The content length as written, when the line has one.
    size: Option<&'a [u8]>,
    /// Where the line's CRLF ends (and any content starts).
    end: usize,
}

fn read_line(body: &[u8], start: usize) -> Result<Line<'_>, WsEventError> {
    let rest = &body[start..];
    let line_len = rest
        .windows(2)
        .position(|w| w == CRLF)
        .ok_or(WsEventError::MissingLineEnd { offset: start })?;
    let line = &rest[..line_len];
    let (name, size) = match line.iter().position(|&b| b == b' ') {
        Some(space) => (&line[..space], Some(&line[space + 1..])),
        None => (line, None),
    };
    Ok(Line {
        name,
        size,
        end: start + line_len + CRLF.len(),
    })
}

/// Reads `len` bytes of content at `pos` and the CRLF after them, returning
/// the content and where the event ends.
fn read_content(body: &[u8], pos: usize, len: usize) -> Result<(&[u8], usize), WsEventError> {
    let available = body.len() - pos;
    if len > available {
        return Err(WsEventError::Truncated {
            offset: pos,
            declared: len,
            available,
        });
    }
    let content_end = pos + len;
    if !body[content_end..].starts_with(CRLF) {
        return Err(WsEventError::MissingContentEnd {
            offset: content_end,
        });
    }
    Ok((&body[pos..content_end], content_end + CRLF.len()))
}

/// The event of type `name` carrying `content`; `start` (the event's) and
/// `content_start` are the offsets its errors report.
fn to_event<'a>(
    name: &[u8],
    content: &'a [u8],
    start: usize,
    content_start: usize,
) -> Result<Event<'a>, WsEventError> {
    Ok(match name {
        b"OPEN" => Event::Open,
        b"TEXT" => Event::Text(content),
        b"BINARY" => Event::Binary(content),
        b"PING" => Event::Ping(content),
        b"PONG" => Event::Pong(content),
        b"CLOSE" => match content {
            [] => Event::Close(None, &[]),
            [_] => {
                return Err(WsEventError::InvalidCloseContent {
                    offset: content_start,
                })
            }
            [hi, lo, reason @ ..] => Event::Close(Some(u16::from_be_bytes([*hi, *lo])), reason),
        },
        b"DISCONNECT" => Event::Disconnect,
        _ => {
            return Err(WsEventError::UnknownType {
                offset: start,
                name: shorten(name),
            })
        }
    })
}

/// Parses a non-empty run of hex digits (either case) without overflow.
fn parse_hex(text: &[u8]) -> Option<usize> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0usize, |acc, &b| {
        let digit = char::from(b).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(digit as usize)
    })
}

/// Keeps error messages small when a peer sends garbage.
fn shorten(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(32)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_documents_examples_parse() {
        assert_eq!(
            parse(b"TEXT B\r\nhello world\r\n").unwrap(),
            [Event::Text(b"hello world")]
        );
        assert_eq!(parse(b"OPEN\r\n").unwrap(), [Event::Open]);
        assert_eq!(parse(b"OPEN 0\r\n\r\n").unwrap(), [Event::Open]);
        // The document's own example says "1B" for this 28-byte message.
        assert_eq!(
            parse(b"TEXT 5\r\nworld\r\nTEXT 1C\r\nhere is another nice message\r\n").unwrap(),
            [
                Event::Text(b"world"),
                Event::Text(b"here is another nice message")
            ]
        );
        assert_eq!(
            parse(b"CLOSE 2\r\n\x03\xe8\r\n").unwrap(),
            [Event::Close(Some(1000), b"")]
        );
    }

    #[test]
    fn every_event_type_parses() {
        let body = b"OPEN\r\nTEXT 2\r\nhi\r\nBINARY 3\r\n\x10\x00\xff\r\nPING\r\nPING 1\r\np\r\n\
PONG 1\r\nq\r\nCLOSE 6\r\n\x0f\xa0gone\r\nCLOSE\r\nDISCONNECT\r\n";
        assert_eq!(
            parse(body).unwrap(),
            [
                Event::Open,
                Event::Text(b"hi"),
                Event::Binary(b"\x10\x00\xff"),
                Event::Ping(b""),
                Event::Ping(b"p"),
                Event::Pong(b"q"),
                Event::Close(Some(4000), b"gone"),
                Event::Close(None, b""),
                Event::Disconnect,
            ]
        );
    }

    #[test]
    fn content_may_contain_crlf_and_hex_may_be_lowercase() {
        assert_eq!(
            parse(b"BINARY a\r\n\r\n\r\n\r\n\r\n\r\n\r\n").unwrap(),
            [Event::Binary(b"\r\n\r\n\r\n\r\n\r\n")]
        );
        assert_eq!(
            parse(b"TEXT 0b\r\nhello world\r\n").unwrap(),
            [Event::Text(b"hello world")]
        );
    }

    #[test]
    fn an_empty_body_is_a_keep_alive_with_no_events() {
        assert!(parse(b"").unwrap().is_empty());
    }

    #[test]
    fn malformed_bodies_are_rejected_with_the_reason() {
        let cases: [(&[u8], WsEventError); 13] = [
            (b"OPEN", WsEventError::MissingLineEnd { offset: 0 }),
            (
                b"OPEN\r\nTEXT 1\n",
                WsEventError::MissingLineEnd { offset: 6 },
            ),
            (
                b"HELLO\r\n",
                WsEventError::UnknownType {
                    offset: 0,
                    name: "HELLO".into(),
                },
            ),
            (
                b"text 1\r\na\r\n",
                WsEventError::UnknownType {
                    offset: 0,
                    name: "text".into(),
                },
            ),
            (
                b"TEXT\r\nOPEN \r\n",
                WsEventError::InvalidLength {
                    offset: 11,
                    text: String::new(),
                },
            ),
            (
                b"TEXT 1g\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "1g".into(),
                },
            ),
            (
                b"TEXT -1\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "-1".into(),
                },
            ),
            (
                b"TEXT  1\r\na\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: " 1".into(),
                },
            ),
            (
                b"TEXT FFFFFFFFFFFFFFFFF\r\n",
                WsEventError::InvalidLength {
                    offset: 5,
                    text: "FFFFFFFFFFFFFFFFF".into(),
                },
            ),
            (
                b"TEXT 5\r\nhel",
                WsEventError::Truncated {
                    offset: 8,
                    declared: 5,
                    available: 3,
                },
            ),
            (
                b"TEXT 5\r\nhello",
                WsEventError::MissingContentEnd { offset: 13 },
            ),
            (
                b"TEXT 4\r\nhello\r\n",
                WsEventError::MissingContentEnd { offset: 12 },
            ),
            (
                b"CLOSE 1\r\nx\r\n",
                WsEventError::InvalidCloseContent { offset: 9 },
            ),
        ];
        for (body, err) in cases {
            assert_eq!(parse(body), Err(err), "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn the_iterator_yields_events_up_to_the_first_error_then_stops() {
        let mut it = events(b"OPEN\r\nBOGUS\r\nOPEN\r\n");
        assert_eq!(it.next(), Some(Ok(Event::Open)));
        assert!(matches!(
            it.next(),
            Some(Err(WsEventError::UnknownType { offset: 6, .. }))
        ));
        assert_eq!(it.next(), None);
    }
}
