//! Mercure topic selectors: which topics a subscription or a token grant selects.
//!
//! Mercure has two dialects of selector, parsed once into a [`UriSelector`]:
//!
//! - 0.x (`topic=` query parameters, `mercure.subscribe` / `mercure.publish` claims):
//!   `*` selects every topic; a string with an RFC 6570 URI template expression
//!   ([`template`]) selects the topic itself and every topic the template could expand
//!   to; anything else (a template that does not parse included, as Mercure's own hub
//!   does) is compared byte for byte.
//! - 1.0 (`match` / `match_exact` / `match_urlpattern` query parameters, the `match` and
//!   `match_type` of an authorization detail): `*` selects every topic whatever the
//!   matcher type; `exact` compares byte for byte (no resolution, no normalisation);
//!   `urlpattern` is a WHATWG URL Pattern ([`url_pattern`]), relative patterns and
//!   relative topics resolved against the hub's URL.
//!
//! Matching never backtracks: templates and URL patterns become a regular-expression tree
//! ([`tree`]) compiled to a small automaton ([`nfa`]) simulated over the topic (Pike VM), so a match costs at most
//! topic length × automaton size steps, and stops (as not matching, which the 1.0
//! draft asks for) past [`MATCH_COST_CAP`]. Parsing is bounded too: a selector longer than
//! [`MAX_SELECTOR_LEN`] bytes, with more than [`MAX_GROUPS`] expressions or groups, or
//! compiling to more than [`MAX_PROGRAM`] instructions, is refused with an error that
//! names the offending part.
//!
//! URL Pattern regexp groups `(…)` accept a safe subset of JavaScript regular
//! expressions, compiled to the same automaton: literals, `.`, classes `[…]` (ranges,
//! negation, `\d \w \s` and their negations), escapes, non-capturing groups `(?:…)`,
//! alternation `|`, quantifiers `? * + {n} {n,} {n,m}` (lazy forms match the same set).
//! Everything else (backreferences, lookaround, anchors, named or capturing groups
//! inside a group, flags, Unicode property escapes) is refused by name.

pub mod nfa;
pub mod template;
pub mod tree;
pub mod url_pattern;

use std::fmt;

pub use template::UriTemplate;
pub use url_pattern::UrlPattern;

/// The longest selector accepted, in bytes.
pub const MAX_SELECTOR_LEN: usize = 1024;
/// The most expressions (templates) or groups (URL patterns) one selector may have.
pub const MAX_GROUPS: usize = 32;
/// The most automaton instructions one selector may compile to.
pub const MAX_PROGRAM: usize = 2048;
/// The most automaton steps (thread × character) one match may take; past it, the
/// selector does not match.
pub const MATCH_COST_CAP: usize = 100_000;

/// Why a selector cannot be used: the offending part and the rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriMatchError {
    /// The part of the selector at fault (quoted in the message).
    pub part: String,
    /// What is wrong with it.
    pub reason: String,
}

impl UriMatchError {
    pub(crate) fn new(part: impl Into<String>, reason: impl Into<String>) -> Self {
        let mut part = part.into();
        if part.len() > 64 {
            let mut cut = 64;
            while !part.is_char_boundary(cut) {
                cut -= 1;
            }
            part.truncate(cut);
            part.push('…');
        }
        Self {
            part,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for UriMatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.part, self.reason)
    }
}

impl std::error::Error for UriMatchError {}

/// The 1.0 matcher types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchKind {
    /// `exact` (the `match` and `match_exact` query parameters, the default `match_type`).
    Exact,
    /// `urlpattern` (`match_urlpattern`).
    UrlPattern,
}

impl MatchKind {
    /// The matcher type of a 1.0 subscribe query parameter name: `match` and
    /// `match_exact` are exact, `match_urlpattern` a URL pattern. `None` for any other
    /// name; the caller refuses names in the reserved `match` namespace
    /// ([`MatchKind::is_reserved`]) with a 400.
    pub fn from_param(name: &str) -> Option<Self> {
        match name {
            "match" | "match_exact" => Some(Self::Exact),
            "match_urlpattern" => Some(Self::UrlPattern),
            _ => None,
        }
    }

    /// The matcher type of an authorization detail's `match_type` (case-sensitive);
    /// `None` when the hub does not support it (the token is then refused).
    pub fn from_match_type(name: &str) -> Option<Self> {
        match name {
            "exact" => Some(Self::Exact),
            "urlpattern" => Some(Self::UrlPattern),
            _ => None,
        }
    }

    /// Whether a query parameter name is in the reserved `match` namespace (it starts
    /// with `match`, ASCII case-insensitively).
    pub fn is_reserved(name: &str) -> bool {
        name.get(..5)
            .is_some_and(|head| head.eq_ignore_ascii_case("match"))
    }

    /// The canonical name (`exact`, `urlpattern`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::UrlPattern => "urlpattern",
        }
    }
}

/// A parsed topic selector of either dialect.
// A request holds a handful of selectors, parsed once: boxing the pattern would buy
// nothing but an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum UriSelector {
    /// `*`: every topic.
    Any,
    /// A byte-for-byte comparison.
    Exact(String),
    /// An RFC 6570 URI template (0.x).
    Template(UriTemplate),
    /// A WHATWG URL pattern (1.0).
    Pattern(UrlPattern),
}

impl UriSelector {
    /// A 0.x selector (`topic=`, `mercure.subscribe`, `mercure.publish` entries): `*`,
    /// else a URI template if it has expressions and parses, else exact. `Err` only for
    /// a selector over the bounds (length, expressions, automaton size).
    pub fn parse_v0(s: &str) -> Result<Self, UriMatchError> {
        check_len(s)?;
        if s == "*" {
            return Ok(Self::Any);
        }
        if !s.contains('{') {
            return Ok(Self::Exact(s.to_owned()));
        }
        match UriTemplate::parse(s) {
            Ok(t) => Ok(Self::Template(t)),
            Err(template::ParseError::Malformed(_)) => Ok(Self::Exact(s.to_owned())),
            Err(template::ParseError::TooBig(e)) => Err(e),
        }
    }

    /// A 1.0 matcher of type `kind`: `*` is every topic whatever the type; `Exact`
    /// compares byte for byte; `UrlPattern` parses `s` as a URL pattern, a relative one
    /// against `base` (the hub's URL; without it a relative pattern is refused).
    pub fn parse_v1(kind: MatchKind, s: &str, base: Option<&str>) -> Result<Self, UriMatchError> {
        check_len(s)?;
        if s == "*" {
            return Ok(Self::Any);
        }
        match kind {
            MatchKind::Exact => Ok(Self::Exact(s.to_owned())),
            MatchKind::UrlPattern => UrlPattern::parse(s, base).map(Self::Pattern),
        }
    }

    /// Whether the selector selects `topic`.
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Exact(s) => s == topic,
            Self::Template(t) => t.matches(topic),
            Self::Pattern(p) => p.matches(topic),
        }
    }

    /// Whether some topic of `topics` is selected.
    pub fn matches_any<'a>(&self, topics: impl IntoIterator<Item = &'a str>) -> bool {
        topics.into_iter().any(|t| self.matches(t))
    }

    /// The selector as written (`*` for [`UriSelector::Any`]).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Any => "*",
            Self::Exact(s) => s,
            Self::Template(t) => t.as_str(),
            Self::Pattern(p) => p.as_str(),
        }
    }
}

fn check_len(s: &str) -> Result<(), UriMatchError> {
    if s.len() > MAX_SELECTOR_LEN {
        return Err(UriMatchError::new(
            s,
            format!(
                "the selector has {} bytes, more than {MAX_SELECTOR_LEN}",
                s.len()
            ),
        ));
    }
    if s.is_empty() {
        return Err(UriMatchError::new(s, "the selector is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HUB: &str = "https://hub.example.com/.well-known/mercure";

    #[test]
    fn selectors_of_both_dialects_parse_and_match() {
        let v0: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("https://e.com/a", "https://e.com/a", true),
            ("https://e.com/a", "https://e.com/A", false),
            ("https://e.com/{id}", "https://e.com/1", true),
            ("https://e.com/{id", "https://e.com/{id", true),
            ("https://e.com/{id", "https://e.com/1", false),
            ("https://e.com/{=x}", "https://e.com/{=x}", true),
        ];
        for (s, topic, want) in v0 {
            let sel = UriSelector::parse_v0(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sel.matches(topic), *want, "{s} vs {topic}");
            assert_eq!(sel.as_str(), *s);
        }
        let v1: &[(MatchKind, &str, &str, bool)] = &[
            (MatchKind::Exact, "*", "x", true),
            (MatchKind::UrlPattern, "*", "x", true),
            (MatchKind::Exact, "/a", "/a", true),
            (MatchKind::Exact, "/a", "https://hub.example.com/a", false),
            (
                MatchKind::Exact,
                "https://e.com/{id}",
                "https://e.com/1",
                false,
            ),
            (
                MatchKind::UrlPattern,
                "/a/:b",
                "https://hub.example.com/a/1",
                true,
            ),
            (MatchKind::UrlPattern, "/a/:b", "/a/1", true),
        ];
        for (kind, s, topic, want) in v1 {
            let sel =
                UriSelector::parse_v1(*kind, s, Some(HUB)).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(sel.matches(topic), *want, "{s} vs {topic}");
        }
    }

    #[test]
    fn selectors_over_the_bounds_are_refused() {
        let long = "a".repeat(MAX_SELECTOR_LEN + 1);
        for r in [
            UriSelector::parse_v0(&long),
            UriSelector::parse_v0(""),
            UriSelector::parse_v1(MatchKind::Exact, &long, None),
            UriSelector::parse_v0(&"{a}".repeat(MAX_GROUPS + 1)),
        ] {
            let err = r.expect_err("refused");
            assert!(!err.reason.is_empty() && err.part.len() <= 67, "{err}");
        }
    }

    #[test]
    fn matcher_parameter_names() {
        assert_eq!(MatchKind::from_param("match"), Some(MatchKind::Exact));
        assert_eq!(MatchKind::from_param("match_exact"), Some(MatchKind::Exact));
        assert_eq!(
            MatchKind::from_param("match_urlpattern"),
            Some(MatchKind::UrlPattern)
        );
        assert_eq!(MatchKind::from_param("match_regex"), None);
        assert!(MatchKind::is_reserved("MATCHx") && !MatchKind::is_reserved("topic"));
        assert_eq!(MatchKind::from_match_type("URLPattern"), None);
    }
}
