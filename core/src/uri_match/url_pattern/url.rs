//! A small URL parser for topics and base URLs: the components a URL pattern matches,
//! canonicalised as the WHATWG URL parser would for the common cases (lower-case scheme
//! and ASCII host, default port dropped, `.`/`..` path segments resolved, the
//! characters the URL standard percent-encodes encoded, a relative reference resolved
//! against a base). Deliberately not covered: IDNA (a non-ASCII host does not parse),
//! IPv4 number forms (`0x7f.1` stays as written), `file:` host quirks. A topic that does
//! not parse matches no pattern, as the 1.0 draft says.

/// The components of a URL, without their delimiters (`https`, not `https:`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Url {
    pub(super) protocol: String,
    pub(super) username: String,
    pub(super) password: String,
    pub(super) hostname: String,
    pub(super) port: String,
    pub(super) pathname: String,
    pub(super) search: String,
    pub(super) hash: String,
    /// Whether the URL has a host (`scheme://…`), so its path is hierarchical.
    pub(super) has_host: bool,
}

/// The default port of a special scheme.
pub(super) fn default_port(scheme: &str) -> Option<&'static str> {
    match scheme {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    }
}

/// Whether `scheme` is special in the URL standard.
pub(super) fn is_special(scheme: &str) -> bool {
    default_port(scheme).is_some() || scheme == "file"
}

/// Percent-encodes the characters of `s` that `set` (besides controls, space and
/// non-ASCII) holds.
pub(super) fn encode(s: &str, set: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() && !c.is_ascii_control() && c != ' ' && !set.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The path percent-encode set (besides controls, space and non-ASCII).
pub(super) const PATH_SET: &str = "\"#<>?`{}";
/// The query set (special schemes add `'`).
pub(super) const QUERY_SET: &str = "\"#<>";
/// The fragment set.
pub(super) const FRAGMENT_SET: &str = "\"<>`";
/// The userinfo set.
pub(super) const USERINFO_SET: &str = "\"#<>?`{}/:;=@[\\]^|";

fn split_scheme(input: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = input.split_once(':')?;
    let mut chars = scheme.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    ok.then_some((scheme, rest))
}

/// Parses `input`, resolving a relative reference against `base`; `None` when it is
/// not a URL this parser reads.
pub(super) fn parse(input: &str, base: Option<&Url>) -> Option<Url> {
    let trimmed = input.trim_matches(|c: char| c <= ' ');
    let cleaned: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let input = cleaned.as_str();
    if let Some((scheme, rest)) = split_scheme(input) {
        return absolute(scheme, rest);
    }
    let base = base?;
    let special = is_special(&base.protocol);
    let mut url = base.clone();
    let starts =
        |p: &str| input.starts_with(p) || (special && input.starts_with(&p.replace('/', "\\")));
    if starts("//") {
        url.username.clear();
        url.password.clear();
        return authority_and_rest(url, &input[2..]);
    }
    if !base.has_host && !input.starts_with('#') {
        return None;
    }
    let (before_hash, hash) = split_off(input, '#');
    let (path, search) = split_off(before_hash, '?');
    url.hash = hash.map(|h| encode(h, FRAGMENT_SET)).unwrap_or_default();
    if before_hash.is_empty() {
        return Some(url);
    }
    if let Some(q) = search {
        url.search = encode(q, if special { "\"#<>'" } else { QUERY_SET });
    } else {
        url.search.clear();
    }
    if !path.is_empty() {
        let absolute = path.starts_with('/') || (special && path.starts_with('\\'));
        let joined = if absolute {
            path.to_owned()
        } else {
            let dir = base
                .pathname
                .rfind('/')
                .map_or("", |i| &base.pathname[..=i]);
            format!("{dir}{path}")
        };
        url.pathname = normalize_path(&joined, special);
    }
    Some(url)
}

/// A URL with its own scheme: `rest` is what follows `scheme:`.
fn absolute(scheme: &str, rest: &str) -> Option<Url> {
    let scheme = scheme.to_ascii_lowercase();
    let special = is_special(&scheme);
    let mut url = Url {
        protocol: scheme,
        ..Url::default()
    };
    let slashes = if special { "/\\" } else { "/" };
    if special || rest.starts_with("//") {
        let after = rest.trim_start_matches(|c| slashes.contains(c));
        if !special && rest.len() - after.len() != 2 {
            return opaque(url, rest);
        }
        return authority_and_rest(url, after);
    }
    url.has_host = false;
    opaque(url, rest)
}

fn split_off(s: &str, c: char) -> (&str, Option<&str>) {
    match s.split_once(c) {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    }
}

fn opaque(mut url: Url, rest: &str) -> Option<Url> {
    let (before_hash, hash) = split_off(rest, '#');
    let (path, search) = split_off(before_hash, '?');
    url.pathname = encode(path, "");
    url.search = search.map(|q| encode(q, QUERY_SET)).unwrap_or_default();
    url.hash = hash.map(|h| encode(h, FRAGMENT_SET)).unwrap_or_default();
    Some(url)
}

fn authority_and_rest(mut url: Url, rest: &str) -> Option<Url> {
    let special = is_special(&url.protocol);
    let end = rest
        .find(|c: char| c == '/' || c == '?' || c == '#' || (special && c == '\\'))
        .unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let hostport = match authority.rsplit_once('@') {
        Some((userinfo, hostport)) => {
            let (user, pass) = split_off(userinfo, ':');
            url.username = encode(user, USERINFO_SET);
            url.password = pass.map(|p| encode(p, USERINFO_SET)).unwrap_or_default();
            hostport
        }
        None => authority,
    };
    let (host, port) = match hostport.rfind(':') {
        Some(i) if !hostport[i..].contains(']') => (&hostport[..i], Some(&hostport[i + 1..])),
        _ => (hostport, None),
    };
    url.hostname = parse_host(host, special)?;
    url.port = match port {
        None | Some("") => String::new(),
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
            let digits = p.trim_start_matches('0');
            let n: u32 = if digits.len() > 5 {
                u32::MAX
            } else {
                digits.parse().unwrap_or(0)
            };
            if n > 65_535 {
                return None;
            }
            let n = n.to_string();
            if default_port(&url.protocol) == Some(n.as_str()) {
                String::new()
            } else {
                n
            }
        }
        Some(_) => return None,
    };
    url.has_host = true;
    let (before_hash, hash) = split_off(tail, '#');
    let (path, search) = split_off(before_hash, '?');
    url.pathname = if path.is_empty() && !special {
        String::new()
    } else {
        normalize_path(path, special)
    };
    url.search = search
        .map(|q| encode(q, if special { "\"#<>'" } else { QUERY_SET }))
        .unwrap_or_default();
    url.hash = hash.map(|h| encode(h, FRAGMENT_SET)).unwrap_or_default();
    Some(url)
}

/// A host: lower-cased ASCII (special schemes), bracketed IPv6 kept as written.
pub(super) fn parse_host(host: &str, special: bool) -> Option<String> {
    if host.starts_with('[') {
        let ok = host.ends_with(']')
            && host[1..host.len() - 1]
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        return ok.then(|| host.to_ascii_lowercase());
    }
    if !host.is_ascii() {
        return None;
    }
    let forbidden = |c: char| c.is_ascii_control() || " #/:<>?@[\\]^|%".contains(c);
    if host.chars().any(forbidden) {
        return None;
    }
    if special {
        if host.is_empty() {
            return None;
        }
        Some(host.to_ascii_lowercase())
    } else {
        Some(host.to_owned())
    }
}

/// Resolves `.` and `..` segments and percent-encodes a hierarchical path.
pub(super) fn normalize_path(path: &str, special: bool) -> String {
    let path = if special {
        path.replace('\\', "/")
    } else {
        path.to_owned()
    };
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(&path).split('/').collect();
    let last = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        let dot = matches!(seg.to_ascii_lowercase().as_str(), "." | "%2e");
        let dotdot = matches!(
            seg.to_ascii_lowercase().as_str(),
            ".." | ".%2e" | "%2e." | "%2e%2e"
        );
        if dotdot {
            out.pop();
            if i == last {
                out.push("");
            }
        } else if dot {
            if i == last {
                out.push("");
            }
        } else {
            out.push(seg);
        }
    }
    format!("/{}", encode(&out.join("/"), PATH_SET))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_resolve_as_the_url_standard_does() {
        let base = parse("https://Hub.Example:443/.well-known/mercure", None).expect("base");
        assert_eq!(
            (
                base.hostname.as_str(),
                base.port.as_str(),
                base.pathname.as_str()
            ),
            ("hub.example", "", "/.well-known/mercure")
        );
        let cases: &[(&str, &str)] = &[
            ("/a/./b/../c", "https|hub.example||/a/c||"),
            ("x?q", "https|hub.example||/.well-known/x|q|"),
            ("#f", "https|hub.example||/.well-known/mercure||f"),
            ("//other:8080/p", "https|other|8080|/p||"),
            ("HTTP://A.b/é?x y#z", "http|a.b||/%C3%A9|x%20y|z"),
            ("urn:uuid:1234", "urn|||uuid:1234||"),
            ("https://u:p@h:0443/", "https|h||/||"),
        ];
        for (input, want) in cases {
            let u = parse(input, Some(&base)).unwrap_or_else(|| panic!("{input}"));
            let got = [
                &u.protocol,
                &u.hostname,
                &u.port,
                &u.pathname,
                &u.search,
                &u.hash,
            ]
            .map(String::as_str)
            .join("|");
            assert_eq!(&got, want, "{input}");
        }
        for bad in [
            "https://exämple.com/",
            "https://h:99999/",
            "https://h:x/",
            "https://?x",
        ] {
            assert_eq!(parse(bad, None), None, "{bad}");
        }
        assert_eq!(parse("relative", None), None);
    }
}
