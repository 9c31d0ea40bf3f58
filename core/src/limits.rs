//! Size limits the Compute adapter applies before and while it reads a request, and
//! bounded text for error messages.
//!
//! The pipeline works on a fully read body ([`crate::Request`]), so the adapter must not
//! read an arbitrarily large one first: that costs the request's memory (128 MB heap) and
//! time before any per-route limit could refuse it. [`check_declared_length`] refuses a
//! declared `Content-Length` above [`MAX_REQUEST_BODY_BYTES`] before a byte of the body is
//! read, and the adapter reads at most one byte more than the cap from a body without
//! `Content-Length` ([`check_read_length`]).
//!
//! The cap is one fixed figure, not the route's own limit, because the configuration is
//! read later, inside the pipeline. It is the largest body any route can accept:
//!
//! - `POST /events`: a message of at most `max-message-bytes`, whose upper bound is
//!   1,048,576 (checked again by the handler against the configured value);
//! - `POST /mqtt`: a WebSocket-over-HTTP batch, i.e. packets of at most
//!   `max-packet-bytes` (upper bound 1,048,576) plus the event framing around them;
//! - `POST /admin/keys`: 16 KiB (checked by the handler).
//!
//! hence 1 MiB plus 64 KiB for the framing. Fanout itself holds no more than 1,000,000
//! bytes, so in production the cap is never the binding limit; it protects the instance
//! from a client that talks to the app directly.

use http::header::{HeaderMap, CONTENT_LENGTH};

use crate::Error;

/// The largest request body the adapter reads, in bytes (see the module doc).
pub const MAX_REQUEST_BODY_BYTES: usize = 1_048_576 + 65_536;

/// Refuses a request whose `Content-Length` exceeds `cap`, before its body is read: 413
/// ([`Error::PayloadTooLarge`]). A missing header passes (the body is then read with
/// [`check_read_length`]); a header that is not one decimal number is a 400.
pub fn check_declared_length(headers: &HeaderMap, cap: usize) -> Result<(), Error> {
    let Some(value) = headers.get(CONTENT_LENGTH) else {
        return Ok(());
    };
    let declared = value
        .to_str()
        .ok()
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::BadRequest("Content-Length is not a number".into()))?;
    // More digits than a usize holds is certainly beyond the cap.
    match declared.parse::<usize>() {
        Ok(n) if n <= cap => Ok(()),
        _ => Err(Error::PayloadTooLarge(cap)),
    }
}

/// Refuses a body of which more than `cap` bytes were read. The adapter reads at most
/// `cap + 1` bytes, so this sees whether the body went on past the cap.
pub fn check_read_length(read: usize, cap: usize) -> Result<(), Error> {
    if read > cap {
        Err(Error::PayloadTooLarge(cap))
    } else {
        Ok(())
    }
}

/// The longest prefix of `text` of at most `max_bytes` bytes that ends on a character
/// boundary (`String::truncate` panics when the cut falls inside a character).
pub fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    // A UTF-8 character is at most 4 bytes, so this steps back at most 3 times.
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_length: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = content_length {
            h.insert(CONTENT_LENGTH, v.parse().expect("header value"));
        }
        h
    }

    #[test]
    fn a_declared_length_above_the_cap_is_refused_before_reading() {
        let cap = MAX_REQUEST_BODY_BYTES;
        let over = (cap + 1).to_string();
        let at = cap.to_string();
        let cases: [(Option<&str>, Result<(), u16>); 7] = [
            (None, Ok(())),
            (Some("0"), Ok(())),
            (Some(&at), Ok(())),
            (Some(&over), Err(413)),
            (Some("99999999999999999999999999"), Err(413)),
            (Some("12x"), Err(400)),
            (Some("-1"), Err(400)),
        ];
        for (value, want) in cases {
            let got = check_declared_length(&headers(value), cap).map_err(|e| e.status().as_u16());
            assert_eq!(got, want, "{value:?}");
        }
        let err = check_declared_length(&headers(Some(&over)), cap).expect_err("too large");
        assert_eq!(err, Error::PayloadTooLarge(cap));
    }

    #[test]
    fn the_cap_admits_every_body_a_route_can_accept() {
        // The upper bounds of `max-message-bytes` and `max-packet-bytes`.
        const { assert!(MAX_REQUEST_BODY_BYTES > 1_048_576) };
        assert_eq!(
            check_read_length(MAX_REQUEST_BODY_BYTES, MAX_REQUEST_BODY_BYTES),
            Ok(())
        );
        assert_eq!(
            check_read_length(MAX_REQUEST_BODY_BYTES + 1, MAX_REQUEST_BODY_BYTES),
            Err(Error::PayloadTooLarge(MAX_REQUEST_BODY_BYTES))
        );
    }

    #[test]
    fn cutting_never_splits_a_character() {
        // 199 ASCII bytes then "é" (2 bytes): byte 200 falls inside the "é", where
        // `String::truncate(200)` panics.
        let text = format!("{}é and more", "a".repeat(199));
        assert!(!text.is_char_boundary(200));
        assert_eq!(cut_at_char_boundary(&text, 200), "a".repeat(199));
        assert_eq!(cut_at_char_boundary("short", 200), "short");
        assert_eq!(cut_at_char_boundary("€€", 5), "€");
        assert_eq!(cut_at_char_boundary("€", 0), "");
        let truncated = std::panic::catch_unwind(|| {
            let mut old = text.clone();
            old.truncate(200);
        });
        assert!(truncated.is_err(), "String::truncate panics on this input");
    }
}
