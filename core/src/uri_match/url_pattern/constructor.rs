//! The constructor string of a URL pattern (`new URLPattern("https://example.com/:id")`)
//! split into its components, following the URL Pattern standard's constructor string
//! parser: the separators (`:` after the protocol, `//`, `@`, `:` before the port, `/`,
//! `?`, `#`) count only as plain characters outside `{…}` groups, so `:name`, `(…)`,
//! `*` and `?` modifiers stay inside their component.
//!
//! A component the string does not reach stays unset (a wildcard, unless the base URL
//! fills it in); a component skipped over on the way to a later one is empty
//! (`https://h/p#x` has an empty search); a hostname without a port has the empty port.

use super::super::UriMatchError;
use super::tokenizer::{tokenize, Tok};
use super::url::is_special;

/// The components a constructor string sets, as pattern text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Init {
    pub(super) protocol: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<String>,
    pub(super) hostname: Option<String>,
    pub(super) port: Option<String>,
    pub(super) pathname: Option<String>,
    pub(super) search: Option<String>,
    pub(super) hash: Option<String>,
}

/// Splits `input` into components.
pub(super) fn split(input: &str) -> Result<Init, UriMatchError> {
    let plain = separators(input)?;
    let mut init = Init::default();
    let protocol_end = plain.iter().find(|p| p.0 == ':').filter(|p| {
        // Only when the text before it holds no `/`, `?` or `#` separator.
        !plain.iter().any(|q| q.1 < p.1 && "/?#".contains(q.0))
    });
    let Some(&(_, colon_tok, colon_start, colon_end)) = protocol_end else {
        relative(input, &plain, 0, &mut init);
        return Ok(init);
    };
    let protocol = &input[..colon_start];
    init.protocol = Some(protocol.to_owned());
    let special = is_special(&protocol.to_ascii_lowercase());
    let after: Vec<_> = plain.iter().copied().filter(|p| p.1 > colon_tok).collect();
    let two_slashes = after.len() >= 2
        && after[0].0 == '/'
        && after[1].0 == '/'
        && after[0].1 == colon_tok + 1
        && after[1].1 == colon_tok + 2;
    if !two_slashes {
        // An opaque path (`urn:…`), or a special scheme's path directly.
        path_onwards(input, &after, colon_end, &mut init);
        return Ok(init);
    }
    let auth_start = after[1].3;
    let rest: Vec<_> = after[2..].to_vec();
    let auth_end = rest
        .iter()
        .find(|p| "/?#".contains(p.0))
        .map_or(input.len(), |p| p.2);
    authority(input, &rest, auth_start, auth_end, &mut init);
    let tail: Vec<_> = rest.iter().copied().filter(|p| p.2 >= auth_end).collect();
    if auth_end < input.len() {
        relative(input, &tail, auth_end, &mut init);
        if init.pathname.is_none() {
            init.pathname = Some(if special { "/".into() } else { String::new() });
        }
    }
    Ok(init)
}

/// A separator candidate: the character, its token index, its byte span.
type Sep = (char, usize, usize, usize);

/// The characters outside groups that may separate components.
fn separators(input: &str) -> Result<Vec<Sep>, UriMatchError> {
    let toks = tokenize(input, true)?;
    // The positions of separator characters outside groups.
    let mut depth = 0usize;
    let mut plain: Vec<Sep> = Vec::new();
    for (i, (tok, start, end)) in toks.iter().enumerate() {
        match tok {
            Tok::Open => depth += 1,
            Tok::Close => depth = depth.saturating_sub(1),
            Tok::Char(c) | Tok::Escaped(c) if depth == 0 => plain.push((*c, i, *start, *end)),
            // A `?` modifier that follows nothing it could modify starts the search.
            Tok::Modifier('?') if depth == 0 => {
                let modifies = i > 0
                    && matches!(
                        toks[i - 1].0,
                        Tok::Name(_) | Tok::Regexp(_) | Tok::Close | Tok::Asterisk
                    );
                if !modifies {
                    plain.push(('?', i, *start, *end));
                }
            }
            _ => {}
        }
    }
    Ok(plain)
}

/// Username, password, hostname and port between bytes `auth_start` and `auth_end`.
fn authority(input: &str, rest: &[Sep], auth_start: usize, auth_end: usize, init: &mut Init) {
    let in_auth: Vec<_> = rest.iter().copied().filter(|p| p.3 <= auth_end).collect();
    let mut host_start = auth_start;
    if let Some(at) = in_auth.iter().rev().find(|p| p.0 == '@') {
        let userinfo = &input[auth_start..at.2];
        let colon = in_auth.iter().find(|p| p.0 == ':' && p.2 < at.2);
        match colon {
            Some(c) => {
                init.username = Some(input[auth_start..c.2].to_owned());
                init.password = Some(input[c.3..at.2].to_owned());
            }
            None => init.username = Some(userinfo.to_owned()),
        }
        host_start = at.3;
    }
    // The port's `:` is the last plain `:` after the host start, outside `[…]`.
    let mut bracket = 0i32;
    let mut port_colon = None;
    for p in in_auth.iter().filter(|p| p.2 >= host_start) {
        match p.0 {
            '[' => bracket += 1,
            ']' => bracket -= 1,
            ':' if bracket == 0 => port_colon = Some(*p),
            _ => {}
        }
    }
    match port_colon {
        Some(c) => {
            init.hostname = Some(input[host_start..c.2].to_owned());
            init.port = Some(input[c.3..auth_end].to_owned());
        }
        None => {
            init.hostname = Some(input[host_start..auth_end].to_owned());
            init.port = Some(String::new());
        }
    }
}

/// Pathname, search and hash from byte `from` on (the separators in `plain`).
fn relative(input: &str, plain: &[Sep], from: usize, init: &mut Init) {
    let q = plain.iter().find(|p| p.0 == '?' && p.2 >= from);
    let h = plain.iter().find(|p| p.0 == '#' && p.2 >= from);
    let path_end = q.or(h).map_or(input.len(), |p| p.2);
    if path_end > from {
        init.pathname = Some(input[from..path_end].to_owned());
    }
    match (q, h) {
        (Some(q), Some(h)) if q.2 < h.2 => {
            init.search = Some(input[q.3..h.2].to_owned());
            init.hash = Some(input[h.3..].to_owned());
        }
        (Some(q), None) => init.search = Some(input[q.3..].to_owned()),
        (_, Some(h)) => {
            init.hash = Some(input[h.3..].to_owned());
            if init.search.is_none() && h.2 > from {
                init.search = Some(String::new());
            }
        }
        (None, None) => {}
    }
}

fn path_onwards(input: &str, plain: &[Sep], from: usize, init: &mut Init) {
    init.hostname = Some(String::new());
    init.port = Some(String::new());
    relative(input, plain, from, init);
    if init.pathname.is_none() {
        init.pathname = Some(String::new());
    }
}
