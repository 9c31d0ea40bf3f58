//! The token generator of the `jwt_diff` target: a structured mutation that reads the
//! fuzzer's bytes as choices (header members, claims, the signing key, then corruptions)
//! and builds one compact JWS from them, signed with the fixed test keys of [`super::keys`].
//!
//! Every choice is a byte taken in order ([`Choices`]); when the bytes run out every
//! choice is 0, which is the well-formed case (the key's own `alg`, its `kid`, a valid
//! `exp`, no corruption), so short inputs are valid tokens and the fuzzer mutates away
//! from them. JSON is written as text, not through `serde_json::Value`, so duplicate
//! members and member order are the fuzzer's to choose.

use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use super::keys::{self, Kid};

/// Reads choices from the fuzzer's bytes; 0 once they run out.
pub struct Choices<'a>(pub &'a [u8]);

impl Choices<'_> {
    pub fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// One of `n` options, 0 the likeliest (about half the time).
    pub fn pick(&mut self, n: u8) -> u8 {
        let b = self.byte();
        if b < 128 {
            0
        } else {
            b % n
        }
    }

    /// A short string of the fuzzer's (up to 16 bytes, lossy UTF-8), JSON-escaped.
    pub fn text(&mut self) -> String {
        let len = usize::from(self.byte() % 17).min(self.0.len());
        let (head, rest) = self.0.split_at(len);
        self.0 = rest;
        serde_json::to_string(&String::from_utf8_lossy(head)).unwrap_or_default()
    }
}

/// A member `"name":value` pushed onto `members` (value already JSON text).
fn member(members: &mut Vec<String>, name: &str, value: impl Into<String>) {
    members.push(format!("{name:?}:{}", value.into()));
}

/// The header's JSON text: `alg`, `kid`, then the confusing members.
fn header(c: &mut Choices, kid: Kid) -> String {
    let mut m = Vec::new();
    let alg = match c.pick(12) {
        0 => format!("{:?}", kid.alg()),
        1 => "\"none\"".into(),
        2 => "\"HS256\"".into(),
        3 => "\"ES256\"".into(),
        4 => "\"EdDSA\"".into(),
        5 => "\"HS384\"".into(),
        6 => "\"RS256\"".into(),
        7 => "\"PS256\"".into(),
        8 => "\"hs256\"".into(),
        9 => "\"ES384\"".into(),
        10 => "7".into(),
        _ => c.text(),
    };
    member(&mut m, "alg", alg);
    match c.pick(6) {
        0 => member(&mut m, "kid", format!("{:?}", kid.id())),
        1 => {}
        2 => member(&mut m, "kid", "\"unknown\""),
        3 => member(&mut m, "kid", "\"\""),
        4 => member(&mut m, "kid", "null"),
        _ => member(&mut m, "kid", c.text()),
    }
    let extras: [(&str, &str); 14] = [
        ("typ", "\"JWT\""),
        ("typ", "7"),
        ("typ", "\"at+jwt\""),
        ("crit", "[\"exp\"]"),
        ("crit", "[]"),
        ("crit", "[\"b64\"]"),
        ("b64", "false"),
        ("jku", "\"https://attacker.example/jwks\""),
        ("jku", "1"),
        ("jwk", keys::ATTACKER_JWK),
        ("jwk", "{\"kty\":\"oct\"}"),
        ("x5c", "[\"AA==\"]"),
        ("cty", "\"JWT\""),
        ("foo", "1"),
    ];
    for _ in 0..c.pick(4) {
        let (name, value) = extras[usize::from(c.byte()) % extras.len()];
        member(&mut m, name, value);
    }
    if c.pick(8) == 1 {
        // A second `alg` or `kid`: RFC 7515 §4 says names must be unique.
        let name = if c.byte() % 2 == 0 { "alg" } else { "kid" };
        member(&mut m, name, "\"HS256\"");
    }
    shuffle(c, &mut m);
    format!("{{{}}}", m.join(","))
}

/// A number claim relative to `now`, or a confusing value.
fn time(c: &mut Choices, now: u64, usual: i64) -> Option<String> {
    let at = |d: i64| now.saturating_add_signed(d).to_string();
    Some(match c.pick(14) {
        0 => at(usual),
        1 => return None,
        2 => at(-61),
        3 => at(-60),
        4 => at(60),
        5 => at(61),
        6 => format!("{}.0", at(3600)),
        7 => format!("{}.5", at(0)),
        8 => "null".into(),
        9 => format!("\"{}\"", at(3600)),
        10 => "-1".into(),
        11 => "-0".into(),
        12 => u64::MAX.to_string(),
        _ => format!("{}e0", at(3600)),
    })
}

/// The payload's JSON text.
fn claims(c: &mut Choices, now: u64) -> String {
    let mut m = Vec::new();
    if let Some(exp) = time(c, now, 3600) {
        member(&mut m, "exp", exp);
    }
    if c.pick(3) == 1 {
        if let Some(nbf) = time(c, now, 0) {
            member(&mut m, "nbf", nbf);
        }
    }
    let extras: [(&str, &str); 12] = [
        ("x-fastly-read", "[\"a\",\"b/+\"]"),
        ("x-fastly-read", "\"a\""),
        ("x-fastly-write", "[1]"),
        ("x-fastly-write", "[\"#\"]"),
        ("sub", "\"user\""),
        ("sub", "7"),
        ("aud", "\"edge\""),
        ("aud", "[\"a\",1]"),
        ("iss", "\"me\""),
        ("iss", "{}"),
        ("exp", "1"),
        ("jti", "\"x\""),
    ];
    for _ in 0..c.pick(4) {
        let (name, value) = extras[usize::from(c.byte()) % extras.len()];
        member(&mut m, name, value);
    }
    shuffle(c, &mut m);
    match c.pick(8) {
        1 => "[]".into(),
        2 => "\"x\"".into(),
        3 => format!("{{{}", m.join(",")),
        4 => format!(" {{{}}} ", m.join(",")),
        _ => format!("{{{}}}", m.join(",")),
    }
}

fn shuffle(c: &mut Choices, members: &mut [String]) {
    if members.len() > 1 && c.pick(3) == 1 {
        let i = usize::from(c.byte()) % members.len();
        members.swap(0, i);
    }
}

/// A part's base64url text, sometimes encoded the wrong way.
fn encode(c: &mut Choices, bytes: &[u8]) -> String {
    match c.pick(10) {
        1 => URL_SAFE.encode(bytes),
        2 => STANDARD.encode(bytes),
        _ => URL_SAFE_NO_PAD.encode(bytes),
    }
}

/// A token built from the choices: the key it is meant for, and its text.
pub fn build(c: &mut Choices, now: u64) -> (Kid, String) {
    let kid = Kid::ALL[usize::from(c.pick(3))];
    let header = header(c, kid);
    let payload = claims(c, now);
    let input = format!(
        "{}.{}",
        encode(c, header.as_bytes()),
        encode(c, payload.as_bytes())
    );
    let signature = signature(c, kid, input.as_bytes());
    let mut token = format!("{input}.{}", encode(c, &signature));
    corrupt(c, &mut token);
    (kid, token)
}

/// The signature: the key's own, another key's, or a non-canonical form of it.
fn signature(c: &mut Choices, kid: Kid, input: &[u8]) -> Vec<u8> {
    let own = || keys::sign(kid, input);
    match c.pick(10) {
        1 => keys::hs256(keys::public_bytes(kid), input),
        2 => keys::sign(Kid::ALL[usize::from(c.byte()) % 3], input),
        3 => keys::high_s(kid, own()),
        4 => keys::der(kid, own()),
        5 => {
            let mut s = own();
            s.pop();
            s
        }
        6 => {
            let mut s = own();
            s.push(0);
            s
        }
        7 => {
            let mut s = own();
            let i = usize::from(c.byte()) % s.len().max(1);
            if let Some(b) = s.get_mut(i) {
                *b ^= 1 << (c.byte() % 8);
            }
            s
        }
        8 => Vec::new(),
        _ => own(),
    }
}

/// Text-level corruptions of the finished token.
fn corrupt(c: &mut Choices, token: &mut String) {
    match c.pick(9) {
        1 => token.push('='),
        2 => token.insert(0, ' '),
        3 => token.push('\n'),
        4 => {
            let i = usize::from(c.byte()) % token.len().max(1);
            if token.is_char_boundary(i) {
                token.insert(i, ' ');
            }
        }
        5 => token.push_str(".x"),
        6 => {
            // Non-canonical base64: the last character's unused bits set.
            if let Some(last) = token.pop() {
                let sibling = match last {
                    'A'..='Y' | 'a'..='y' | '0'..='8' => char::from(last as u8 + 1),
                    other => other,
                };
                token.push(sibling);
            }
        }
        7 => {
            let i = usize::from(c.byte()) % token.len().max(1);
            if token.is_char_boundary(i) {
                token.truncate(i);
            }
        }
        8 => token.push_str(&c.text()),
        _ => {}
    }
}
