//! RFC 6570 URI templates as Mercure 0.x selectors: a template selects a topic when the
//! topic is the template itself or a string the template could expand to.
//!
//! Parsing follows the RFC's grammar (levels 1 to 4: the operators `+ # . / ; ? &`,
//! prefix modifiers `:N` with N in 1..=9999, explode `*`); the operators reserved for
//! future use (`= , ! @ |`) and anything else off the grammar make the template
//! malformed, and Mercure's hub then compares the selector byte for byte
//! ([`super::UriSelector::parse_v0`] does the same).
//!
//! Matching reads each expression the way Mercure's hub does (the regular expression of
//! the Go `uritemplate` package, matched as a whole):
//!
//! - an expression may expand to nothing at all (every variable undefined);
//! - otherwise it is the operator's first character (`#`, `.`, `/`, `;`, `?`, `&`; none
//!   for simple and `+`), then one value, then up to (variables − 1) more values, each after
//!   the operator's separator; any number when a variable is exploded;
//! - a value is any run of percent-encoded octets and allowed characters: unreserved
//!   characters and `,` (and `=` for the named operators `;`, `?`, `&`, or an exploded
//!   list), plus the reserved characters for `+` and `#`.
//!
//! A prefix modifier does not shorten what a value may be, as in Mercure's hub.

use super::nfa::{Class, Node, Program};
use super::{UriMatchError, MATCH_COST_CAP, MAX_GROUPS};

/// A parsed URI template, compiled for matching.
#[derive(Clone, Debug)]
pub struct UriTemplate {
    text: String,
    program: Program,
}

/// Why a string is not a usable template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Not a template by RFC 6570 (a 0.x selector is then compared exactly).
    Malformed(UriMatchError),
    /// A template over the bounds (too many expressions, too large to compile).
    TooBig(UriMatchError),
}

impl ParseError {
    /// The error inside.
    pub fn error(&self) -> &UriMatchError {
        match self {
            Self::Malformed(e) | Self::TooBig(e) => e,
        }
    }
}

struct Expr {
    op: Option<char>,
    vars: usize,
    explode: bool,
}

const RESERVED: &str = ":/?#[]@!$&'()*+,;=";
const UNRESERVED_PUNCT: &str = "-._~";

impl UriTemplate {
    /// Parses and compiles `text`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut exprs = 0;
        while !rest.is_empty() {
            if let Some(body) = rest.strip_prefix('{') {
                let end = body
                    .find('}')
                    .ok_or_else(|| malformed(rest, "the expression has no closing `}`"))?;
                exprs += 1;
                if exprs > MAX_GROUPS {
                    return Err(ParseError::TooBig(UriMatchError::new(
                        text,
                        format!("the template has more than {MAX_GROUPS} expressions"),
                    )));
                }
                let expr = parse_expr(&body[..end])?;
                parts.push(expr_node(&expr));
                rest = &body[end + 1..];
            } else {
                let end = rest.find('{').unwrap_or(rest.len());
                check_literal(&rest[..end])?;
                parts.push(Node::text(&rest[..end]));
                rest = &rest[end..];
            }
        }
        let program = Program::compile(&Node::Concat(parts), text).map_err(ParseError::TooBig)?;
        Ok(Self {
            text: text.to_owned(),
            program,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `topic` is the template itself or one of its expansions; a match over
    /// the cost cap does not match.
    pub fn matches(&self, topic: &str) -> bool {
        if topic == self.text {
            return true;
        }
        let mut budget = MATCH_COST_CAP;
        self.program.matches(topic, &mut budget).unwrap_or(false)
    }
}

fn malformed(part: &str, why: &str) -> ParseError {
    ParseError::Malformed(UriMatchError::new(part, why))
}

fn is_hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

/// Checks a literal run: no characters the RFC excludes, `%` only as `%XX`.
fn check_literal(lit: &str) -> Result<(), ParseError> {
    let bytes = lit.as_bytes();
    for (i, c) in lit.char_indices() {
        let bad = c.is_control() || " \"'<>\\^`{|}".contains(c);
        if bad {
            return Err(malformed(
                &lit[i..],
                "a template literal may not contain this character",
            ));
        }
        if c == '%'
            && !(bytes.get(i + 1).is_some_and(|&b| is_hex(b))
                && bytes.get(i + 2).is_some_and(|&b| is_hex(b)))
        {
            return Err(malformed(
                &lit[i..],
                "`%` must start a percent-encoded octet",
            ));
        }
    }
    Ok(())
}

fn parse_expr(body: &str) -> Result<Expr, ParseError> {
    let mut chars = body.chars();
    let op = match chars.clone().next() {
        Some(c) if "+#./;?&".contains(c) => {
            chars.next();
            Some(c)
        }
        Some(c) if "=,!@|".contains(c) => {
            return Err(malformed(body, "this operator is reserved by RFC 6570"));
        }
        _ => None,
    };
    let list = chars.as_str();
    let mut explode = false;
    let mut vars = 0;
    for spec in list.split(',') {
        vars += 1;
        let name = if let Some(name) = spec.strip_suffix('*') {
            explode = true;
            name
        } else if let Some((name, len)) = spec.split_once(':') {
            let ok = (1..=4).contains(&len.len())
                && !len.starts_with('0')
                && len.bytes().all(|b| b.is_ascii_digit());
            if !ok {
                return Err(malformed(spec, "a prefix modifier is 1 to 9999"));
            }
            name
        } else {
            spec
        };
        check_varname(name)?;
    }
    Ok(Expr { op, vars, explode })
}

fn check_varname(name: &str) -> Result<(), ParseError> {
    let bytes = name.as_bytes();
    let mut i = 0;
    let mut after_dot = true;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if bytes.get(i + 1).is_some_and(|&b| is_hex(b))
                && bytes.get(i + 2).is_some_and(|&b| is_hex(b)) =>
            {
                i += 2;
                after_dot = false;
            }
            b'.' if !after_dot => after_dot = true,
            b if b.is_ascii_alphanumeric() || b == b'_' => after_dot = false,
            _ => return Err(malformed(name, "not a variable name")),
        }
        i += 1;
    }
    if after_dot {
        return Err(malformed(name, "not a variable name"));
    }
    Ok(())
}

/// The values one expression may expand to (see the module doc).
fn expr_node(e: &Expr) -> Node {
    let (first, sep, named, reserved) = match e.op {
        None => (None, ',', false, false),
        Some('+') => (None, ',', false, true),
        Some('#') => (Some('#'), ',', false, true),
        Some('.') => (Some('.'), '.', false, false),
        Some('/') => (Some('/'), '/', false, false),
        Some(';') => (Some(';'), ';', true, false),
        Some('?') => (Some('?'), '&', true, false),
        Some(_) => (Some('&'), '&', true, false),
    };
    let value = |with_equals: bool| {
        let mut allowed = String::from(UNRESERVED_PUNCT);
        allowed.push(',');
        if with_equals {
            allowed.push('=');
        }
        if reserved {
            allowed.push_str(RESERVED);
        }
        let mut class = Class::of(&allowed);
        class.ranges.extend([('a', 'z'), ('A', 'Z'), ('0', '9')]);
        let hex = Node::Class(Class {
            ranges: vec![('0', '9'), ('a', 'f'), ('A', 'F')],
            negated: false,
        });
        Node::star(Node::Alt(vec![
            Node::Class(class),
            Node::Concat(vec![Node::Char('%'), hex.clone(), hex]),
        ]))
    };
    let mut body = vec![value(named || e.explode)];
    if e.vars > 1 || e.explode {
        let more = Node::Concat(vec![Node::Char(sep), value(named || e.explode)]);
        let max = if e.explode {
            None
        } else {
            Some(e.vars as u32 - 1)
        };
        body.push(Node::Repeat {
            node: Box::new(more),
            min: 0,
            max,
        });
    }
    if let Some(first) = first {
        body.insert(0, Node::Char(first));
    }
    Node::optional(Node::Concat(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_their_expansions() {
        let cases: &[(&str, &str, bool)] = &[
            // Mercure's own examples.
            (
                "https://example.com/books/{id}",
                "https://example.com/books/1",
                true,
            ),
            (
                "https://example.com/books/{id}",
                "https://example.com/books/1/x",
                false,
            ),
            (
                "https://example.com/books/{id}",
                "https://example.com/books/",
                true,
            ),
            (
                "https://example.com/books/{id}",
                "https://example.com/books/{id}",
                true,
            ),
            (
                "https://example.com/users/{user}/books/{id}",
                "https://example.com/users/a/books/9",
                true,
            ),
            (
                "https://example.com/{+path}",
                "https://example.com/a/b?c#d",
                true,
            ),
            (
                "https://example.com/{path}",
                "https://example.com/a/b",
                false,
            ),
            (
                "https://example.com/{path}",
                "https://example.com/a%2Fb",
                true,
            ),
            (
                "https://example.com/{path}",
                "https://example.com/a%2",
                false,
            ),
            (
                "https://example.com/x{/a,b}",
                "https://example.com/x/1/2",
                true,
            ),
            (
                "https://example.com/x{/a,b}",
                "https://example.com/x/1/2/3",
                false,
            ),
            (
                "https://example.com/x{/a*}",
                "https://example.com/x/1/2/3",
                true,
            ),
            (
                "https://example.com/x{?a,b}",
                "https://example.com/x?a=1&b=2",
                true,
            ),
            (
                "https://example.com/x{?a}",
                "https://example.com/x?a=1&b=2",
                false,
            ),
            (
                "https://example.com/x{&a}",
                "https://example.com/x&a=1",
                true,
            ),
            (
                "https://example.com/x{#f}",
                "https://example.com/x#a/b",
                true,
            ),
            (
                "https://example.com/x{.ext}",
                "https://example.com/x.json",
                true,
            ),
            (
                "https://example.com/x{;p}",
                "https://example.com/x;p=1",
                true,
            ),
            ("urn:{a}:{b}", "urn:x:y", true),
            ("urn:{a}:{b}", "urn:x:y:z", false),
            ("{a}", "", true),
            ("{a}", "é", false),
        ];
        for (t, topic, want) in cases {
            let parsed = UriTemplate::parse(t).unwrap_or_else(|e| panic!("{t}: {e:?}"));
            assert_eq!(parsed.matches(topic), *want, "{t} vs {topic}");
        }
    }

    #[test]
    fn malformed_templates_are_named() {
        let cases: &[(&str, &str)] = &[
            ("a{b", "closing"),
            ("a{=b}", "reserved"),
            ("a{b:0}", "prefix"),
            ("a{b:10000}", "prefix"),
            ("a{b.}", "variable"),
            ("a{}", "variable"),
            ("a b{c}", "literal"),
            ("a%zz{c}", "percent"),
        ];
        for (t, why) in cases {
            match UriTemplate::parse(t) {
                Err(ParseError::Malformed(e)) => assert!(e.to_string().contains(why), "{t}: {e}"),
                other => panic!("{t}: {other:?}"),
            }
        }
        let many = "{a}".repeat(MAX_GROUPS + 1);
        assert!(matches!(
            UriTemplate::parse(&many),
            Err(ParseError::TooBig(_))
        ));
    }

    #[test]
    fn the_worst_template_is_bounded() {
        // 32 adjacent exploded expressions over a long run: every split point is a
        // candidate; a backtracker tries combinations, the automaton n × size steps.
        let t = UriTemplate::parse(&"{/a*}".repeat(MAX_GROUPS)).expect("parses");
        let topic = format!("{}!", "/a".repeat(500));
        let start = std::time::Instant::now();
        assert!(!t.matches(&topic));
        assert!(start.elapsed() < std::time::Duration::from_millis(200));
    }
}
