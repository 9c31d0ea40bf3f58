//! WHATWG URL Pattern (the URL Pattern Living Standard) as Mercure 1.0 `urlpattern`
//! matchers: [`UrlPattern::parse`] is `new URLPattern(input, baseURL)` (without
//! `ignoreCase`), [`UrlPattern::matches`] is `test(topic, baseURL)`.
//!
//! - [`constructor`] splits the pattern string into its eight components; a relative
//!   pattern takes the components before its first one from the base URL, as the
//!   standard's init processing does (never the username and password); components
//!   still unset are `*`.
//! - [`component`] compiles each component's pattern syntax to the automaton of
//!   [`crate::uri_match::nfa`], its fixed text canonicalised like the URL parser would
//!   (lower-case protocol and host, the default port dropped, percent-encoding).
//! - [`regex`] is the safe subset of regexp groups.
//! - [`url`] parses a topic (relative ones against the base) into the same components.
//!
//! Known differences from the standard, all in what a pattern's fixed text is
//! canonicalised to: no IDNA (a non-ASCII hostname is refused), no dot-segment removal
//! inside a pathname pattern's fixed text (`/a/../b` stays as written), no IPv4 number
//! canonicalisation. The matching itself is the standard's regular expression, full
//! match, case-sensitive.

mod component;
mod constructor;
mod regex;
mod tokenizer;
mod url;

use super::nfa::Program;
use super::{UriMatchError, MATCH_COST_CAP};
use component::Options;
use constructor::Init;
use url::{default_port, encode, Url};

/// A parsed URL pattern, compiled for matching.
#[derive(Clone, Debug)]
pub struct UrlPattern {
    text: String,
    base: Option<Url>,
    /// Protocol, username, password, hostname, port, pathname, search, hash; `None` is
    /// `*` (matches anything, no work).
    components: [Option<Program>; 8],
}

/// The names of the components, in order.
pub const COMPONENTS: [&str; 8] = [
    "protocol", "username", "password", "hostname", "port", "pathname", "search", "hash",
];

/// Escapes the pattern syntax characters of a base URL's component.
fn escape_pattern(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "+*?:{}()\\".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn inherit(init: &mut Init, base: &Url) {
    let given = [
        init.protocol.is_some(),
        init.hostname.is_some(),
        init.port.is_some(),
        init.pathname.is_some(),
        init.search.is_some(),
        init.hash.is_some(),
    ];
    let none_of = |n: usize| !given[..n].iter().any(|g| *g);
    let from = |s: &str| Some(escape_pattern(s));
    if none_of(1) {
        init.protocol = from(&base.protocol);
    }
    if none_of(2) {
        init.hostname = from(&base.hostname);
    }
    if none_of(3) {
        init.port = from(&base.port);
    }
    if none_of(4) {
        init.pathname = from(&base.pathname);
    } else if !given[0] && !given[1] && !given[2] {
        if let Some(path) = &init.pathname {
            if !path.starts_with(['/', '\\', '{', '*', '(']) && base.has_host {
                let dir = base
                    .pathname
                    .rfind('/')
                    .map_or("", |i| &base.pathname[..=i]);
                init.pathname = Some(format!("{}{path}", escape_pattern(dir)));
            }
        }
    }
    if none_of(5) {
        init.search = from(&base.search);
    }
    if none_of(6) {
        init.hash = from(&base.hash);
    }
}

fn lower_scheme(s: &str) -> Result<String, String> {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        Ok(s.to_ascii_lowercase())
    } else {
        Err("not a valid protocol".into())
    }
}

fn host(s: &str) -> Result<String, String> {
    let bad = |c: char| !c.is_ascii() || c.is_ascii_control() || " #/<>?@\\^|%".contains(c);
    if s.chars().any(bad) {
        Err("not a valid ASCII hostname (IDNA hostnames are not supported)".into())
    } else {
        Ok(s.to_ascii_lowercase())
    }
}

fn port(s: &str) -> Result<String, String> {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("a port is digits".into())
    }
}

fn options(index: usize, special: bool) -> Options {
    let plain = |encode: fn(&str) -> Result<String, String>| Options {
        delimiter: None,
        prefix: None,
        encode,
    };
    match index {
        0 => plain(lower_scheme),
        1 | 2 => plain(|s| Ok(encode(s, url::USERINFO_SET))),
        3 => Options {
            delimiter: Some('.'),
            prefix: None,
            encode: host,
        },
        4 => plain(port),
        5 if special => Options {
            delimiter: Some('/'),
            prefix: Some('/'),
            encode: |s| Ok(encode(s, url::PATH_SET)),
        },
        5 => plain(|s| Ok(encode(s, ""))),
        6 if special => plain(|s| Ok(encode(s, "\"#<>'"))),
        6 => plain(|s| Ok(encode(s, url::QUERY_SET))),
        _ => plain(|s| Ok(encode(s, url::FRAGMENT_SET))),
    }
}

/// Compiles the eight component patterns (`None` or `*` is a wildcard); the pathname,
/// search and hash follow the URL rules of special schemes when the protocol pattern
/// matches one.
fn compile_all(texts: &[Option<String>; 8]) -> Result<[Option<Program>; 8], UriMatchError> {
    let compile = |i: usize, special: bool| -> Result<Option<Program>, UriMatchError> {
        match &texts[i] {
            None => Ok(None),
            Some(t) if t == "*" => Ok(None),
            Some(t) => {
                let node = component::compile(t, options(i, special)).map_err(|e| {
                    UriMatchError::new(e.part, format!("{}: {}", COMPONENTS[i], e.reason))
                })?;
                Program::compile(&node, t).map(Some)
            }
        }
    };
    let protocol_prog = compile(0, false)?;
    let special = match &protocol_prog {
        None => true,
        Some(p) => ["http", "https", "ws", "wss", "ftp", "file"]
            .iter()
            .any(|s| {
                let mut budget = MATCH_COST_CAP;
                p.matches(s, &mut budget).unwrap_or(false)
            }),
    };
    let mut components: [Option<Program>; 8] = Default::default();
    components[0] = protocol_prog;
    for (i, slot) in components.iter_mut().enumerate().skip(1) {
        *slot = compile(i, special)?;
    }
    Ok(components)
}

impl UrlPattern {
    /// Parses `input` as `new URLPattern(input, base)` does; a relative pattern without
    /// a base is refused, as is a base that is not a URL.
    pub fn parse(input: &str, base: Option<&str>) -> Result<Self, UriMatchError> {
        let mut init = constructor::split(input)?;
        let base = match base {
            Some(b) => Some(
                url::parse(b, None)
                    .ok_or_else(|| UriMatchError::new(b, "the base URL is not an absolute URL"))?,
            ),
            None => None,
        };
        match (&base, init.protocol.is_some()) {
            (Some(b), _) => inherit(&mut init, b),
            (None, false) => {
                return Err(UriMatchError::new(
                    input,
                    "a relative URL pattern needs the hub's URL as base",
                ))
            }
            (None, true) => {}
        }
        let protocol = init
            .protocol
            .clone()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let (Some(p), Some(default)) = (&init.port, default_port(&protocol)) {
            if p == default {
                init.port = Some(String::new());
            }
        }
        let texts = [
            init.protocol,
            init.username,
            init.password,
            init.hostname,
            init.port,
            init.pathname,
            init.search,
            init.hash,
        ];
        let components = compile_all(&texts)?;
        Ok(Self {
            text: input.to_owned(),
            base,
            components,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `topic` (relative topics resolved against the base) matches; a topic
    /// that is not a URL, or a match over the cost cap, does not.
    pub fn matches(&self, topic: &str) -> bool {
        let Some(u) = url::parse(topic, self.base.as_ref()) else {
            return false;
        };
        let values = [
            &u.protocol,
            &u.username,
            &u.password,
            &u.hostname,
            &u.port,
            &u.pathname,
            &u.search,
            &u.hash,
        ];
        let mut budget = MATCH_COST_CAP;
        let all = self
            .components
            .iter()
            .zip(values)
            .all(|(prog, value)| match prog {
                None => true,
                Some(p) => p.matches(value, &mut budget).unwrap_or(false),
            });
        all
    }
}

#[cfg(test)]
mod tests;
