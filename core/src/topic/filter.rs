//! MQTT topic filters (MQTT 5.0 and 3.1.1, §4.7): validation, matching a topic name, and
//! whether one filter covers another. A token claim with a wildcard is a filter (see
//! [`Principal::allows`](crate::principal::Principal::allows)); so is a wildcard
//! subscription ([`Selector::Filter`](super::Selector::Filter)).
//!
//! **Syntax.** A filter is non-empty [MQTT-4.7.3-1] UTF-8 of at most [`MAX_TOPIC_BYTES`]
//! bytes, like a topic name, without control characters (so without U+0000,
//! [MQTT-4.7.3-2]; topic names refuse them too). `/` separates levels. `+` matches exactly
//! one level (an empty one too) and must be a whole level [MQTT-4.7.1-2]; `#` matches any
//! number of levels, zero included, and must be a whole level and the last one
//! [MQTT-4.7.1-1]. So `a/#` matches `a` itself as well as `a/b/c`.
//!
//! **`$` topics.** A filter whose first character is a wildcard never matches a topic that
//! begins with `$` [MQTT-4.7.2-1]: `#` and `+/x` do not match `$SYS/x`; `$SYS/#` does.
//!
//! **Covering.** Claim C covers filter F when every topic F can match is matched by C
//! ([`Filter::covers`]). Level by level: C's `#` covers whatever remains of F (nothing
//! too); C's `+` covers one F level that is `+` or a name; a name covers only the same
//! name; F's `#` is covered only by C's `#` (it matches F's parent too: `a/+/#` does not
//! cover `a/#`), except where that parent would be the empty string, which is no topic:
//! `+/#` covers `#`, `+/+/#` covers `/#`; C and F must run out of levels together. And a C
//! that begins with a wildcard covers no F that begins with `$`. The rule is exact: a test
//! compares it with the set definition over every filter of up to three levels.

use std::fmt;
use std::str::FromStr;

use super::name::{has_wildcards, MAX_TOPIC_BYTES};
use crate::Error;

/// The multi-level wildcard, as a level.
const MULTI: &str = "#";
/// The single-level wildcard, as a level.
const SINGLE: &str = "+";

/// A validated MQTT topic filter (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Filter(String);

/// Why a string is not a topic filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterError {
    /// The filter is empty [MQTT-4.7.3-1].
    Empty,
    /// The filter is this many bytes long, over [`MAX_TOPIC_BYTES`].
    TooLong(usize),
    /// The filter contains a control character (U+0000 among them, [MQTT-4.7.3-2]).
    ControlCharacter,
    /// `#` is not alone in its level, or not in the last level [MQTT-4.7.1-1].
    MisplacedMultiLevel,
    /// `+` is not alone in its level [MQTT-4.7.1-2].
    MisplacedSingleLevel,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("topic filter must not be empty"),
            Self::TooLong(n) => write!(
                f,
                "topic filter is {n} bytes long; the limit is {MAX_TOPIC_BYTES}"
            ),
            Self::ControlCharacter => {
                f.write_str("topic filter must not contain control characters")
            }
            Self::MisplacedMultiLevel => f.write_str(
                "`#` must be a whole level of a topic filter, and its last (`a/#`, not `a#` or `a/#/b`)",
            ),
            Self::MisplacedSingleLevel => {
                f.write_str("`+` must be a whole level of a topic filter (`a/+/b`, not `a+`)")
            }
        }
    }
}

impl std::error::Error for FilterError {}

impl From<FilterError> for Error {
    fn from(e: FilterError) -> Self {
        Error::BadRequest(e.to_string())
    }
}

impl Filter {
    /// Validates `filter`.
    pub fn parse(filter: &str) -> Result<Self, FilterError> {
        check(filter)?;
        Ok(Self(filter.to_owned()))
    }

    /// A filter from a string that passed [`check`].
    pub(super) fn from_checked(filter: String) -> Self {
        Self(filter)
    }

    /// The filter as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What every topic it matches starts with: the text before its first wildcard,
    /// without a trailing `/` (`a/#` also matches `a`); empty for a leading wildcard.
    pub fn literal_prefix(&self) -> &str {
        let text = self.as_str();
        let literal = &text[..text.find(['+', '#']).unwrap_or(text.len())];
        literal.strip_suffix('/').unwrap_or(literal)
    }

    /// Whether the filter matches topic name `topic`. A string that is not a topic name
    /// (empty, or holding a wildcard) matches no filter.
    pub fn matches(&self, topic: &str) -> bool {
        matches(&self.0, topic)
    }

    /// Whether every topic `other` can match is matched by `self`.
    pub fn covers(&self, other: &Filter) -> bool {
        covers(&self.0, &other.0)
    }
}

impl FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Filter {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Checks the syntax of a topic filter without copying it.
pub fn check(filter: &str) -> Result<(), FilterError> {
    if filter.is_empty() {
        return Err(FilterError::Empty);
    }
    if filter.len() > MAX_TOPIC_BYTES {
        return Err(FilterError::TooLong(filter.len()));
    }
    if filter.chars().any(char::is_control) {
        return Err(FilterError::ControlCharacter);
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        if level.contains('#') && (level != MULTI || levels.peek().is_some()) {
            return Err(FilterError::MisplacedMultiLevel);
        }
        if level.contains('+') && level != SINGLE {
            return Err(FilterError::MisplacedSingleLevel);
        }
    }
    Ok(())
}

/// [`Filter::matches`] on a filter already checked.
fn matches(filter: &str, topic: &str) -> bool {
    if topic.is_empty() || has_wildcards(topic) {
        return false;
    }
    // [MQTT-4.7.2-1]
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut names = topic.split('/');
    for level in filter.split('/') {
        if level == MULTI {
            return true;
        }
        match names.next() {
            Some(name) if level == SINGLE || level == name => {}
            _ => return false,
        }
    }
    names.next().is_none()
}

/// [`Filter::covers`] on filters already checked.
fn covers(claim: &str, filter: &str) -> bool {
    if claim.starts_with(['+', '#']) && filter.starts_with('$') {
        return false;
    }
    let (mut levels, mut inner) = (claim.split('/'), filter.split('/'));
    let mut depth = 0;
    while let Some(level) = levels.next() {
        if level == MULTI {
            return true;
        }
        match inner.next() {
            // F's `#` matches F's parent level too, which only C's `#` matches; but when the
            // parent would be the empty string (`#`, `/#`), which is no topic, C's `+/#`
            // covers what F's `#` matches: one level or more.
            Some(MULTI) => {
                let no_parent = depth == 0 || (depth == 1 && filter.starts_with('/'));
                return no_parent && level == SINGLE && levels.next() == Some(MULTI);
            }
            Some(f) if level == SINGLE || level == f => {}
            _ => return false,
        }
        depth += 1;
    }
    inner.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_validated() {
        let long = "a".repeat(MAX_TOPIC_BYTES + 1);
        let longest = format!("{}/#", "é".repeat(127));
        let cases: [(&str, Result<(), FilterError>); 18] = [
            ("a", Ok(())),
            ("a/b/c", Ok(())),
            ("#", Ok(())),
            ("+", Ok(())),
            ("a/#", Ok(())),
            ("+/+/#", Ok(())),
            ("/+/", Ok(())),
            ("$SYS/#", Ok(())),
            (&longest, Ok(())),
            ("", Err(FilterError::Empty)),
            (&long, Err(FilterError::TooLong(257))),
            ("a\0b", Err(FilterError::ControlCharacter)),
            ("a/\n", Err(FilterError::ControlCharacter)),
            ("a#", Err(FilterError::MisplacedMultiLevel)),
            ("a/#/b", Err(FilterError::MisplacedMultiLevel)),
            ("#/", Err(FilterError::MisplacedMultiLevel)),
            ("a+/b", Err(FilterError::MisplacedSingleLevel)),
            ("a/+b", Err(FilterError::MisplacedSingleLevel)),
        ];
        for (filter, want) in cases {
            assert_eq!(check(filter), want, "{filter:?}");
            assert_eq!(Filter::parse(filter).map(|_| ()), want, "{filter:?}");
        }
    }

    #[test]
    fn filters_match_topics() {
        let cases: [(&str, &str, bool); 26] = [
            ("a/b", "a/b", true),
            ("a/b", "a/c", false),
            ("a/b", "a/b/c", false),
            ("a/+", "a/b", true),
            ("a/+", "a/", true),
            ("a/+", "a", false),
            ("a/+", "a/b/c", false),
            ("+/b", "a/b", true),
            ("+", "a", true),
            ("+", "/a", false),
            ("+/+", "/a", true),
            ("a/#", "a", true),
            ("a/#", "a/", true),
            ("a/#", "a/b/c", true),
            ("a/#", "ab", false),
            ("a/+/#", "a", false),
            ("#", "a/b", true),
            ("#", "/", true),
            ("#", "$SYS/x", false),
            ("+/x", "$SYS/x", false),
            ("$SYS/#", "$SYS/x", true),
            ("$SYS/+", "$SYS/x", true),
            ("a/$x", "a/$x", true),
            ("+/$x", "a/$x", true),
            ("#", "a/+", false),
            ("#", "", false),
        ];
        for (filter, topic, want) in cases {
            let f = Filter::parse(filter).expect(filter);
            assert_eq!(f.matches(topic), want, "{filter:?} on {topic:?}");
        }
    }

    #[test]
    fn claims_cover_filters() {
        let cases: [(&str, &str, bool); 32] = [
            ("a", "a", true),
            ("a", "b", false),
            ("a/#", "a/+/c", true),
            ("a/#", "a", true),
            ("a/#", "a/#", true),
            ("a/#", "a/b/#", true),
            ("a/#", "b/#", false),
            ("a", "a/#", false),
            ("a/+", "a/#", false),
            ("a/+", "a/b", true),
            ("a/+", "a/+", true),
            ("a/b", "a/+", false),
            ("a/+", "a/b/c", false),
            ("a/+/#", "a", false),
            ("a/+/#", "a/#", false),
            ("+/b", "#", false),
            ("+/+", "+", false),
            ("#", "a/b", true),
            ("#", "+/+/#", true),
            ("#", "#", true),
            ("#", "$SYS/#", false),
            ("#", "$SYS/a", false),
            ("+/#", "$SYS/a", false),
            ("$SYS/#", "$SYS/a/+", true),
            ("$SYS/#", "#", false),
            ("+/#", "#", true),
            ("+/+/#", "#", false),
            ("+/+/#", "/#", true),
            ("+/+/#", "+/#", false),
            ("#", "+/#", true),
            ("+/+", "a/+", true),
            ("a/+/c", "a/#", false),
        ];
        for (claim, filter, want) in cases {
            let (c, f) = (Filter::parse(claim), Filter::parse(filter));
            let (c, f) = (c.expect(claim), f.expect(filter));
            assert_eq!(c.covers(&f), want, "{claim:?} covers {filter:?}");
        }
    }

    /// Every filter of up to three levels over `a`, `$s`, the empty name and the
    /// wildcards.
    fn small_filters() -> Vec<String> {
        let levels = ["a", "$s", "", "+", "#"];
        let mut all: Vec<String> = levels.iter().map(|l| l.to_string()).collect();
        for _ in 0..2 {
            let longer: Vec<String> = all
                .iter()
                .flat_map(|f| levels.iter().map(move |l| format!("{f}/{l}")))
                .collect();
            all.extend(longer);
        }
        all.sort();
        all.dedup();
        all.retain(|f| check(f).is_ok());
        all
    }

    #[test]
    fn covering_is_exactly_the_inclusion_of_matched_topics() {
        let names = ["a", "$s", "", "z"];
        let mut topics: Vec<String> = names.iter().map(|l| l.to_string()).collect();
        for _ in 0..3 {
            let longer: Vec<String> = topics
                .iter()
                .flat_map(|t| names.iter().map(move |l| format!("{t}/{l}")))
                .collect();
            topics.extend(longer);
        }
        topics.sort();
        topics.dedup();
        topics.retain(|t| !t.is_empty());
        let filters: Vec<Filter> = small_filters()
            .iter()
            .map(|f| Filter::parse(f).expect(f))
            .collect();
        let matched: Vec<Vec<bool>> = filters
            .iter()
            .map(|f| topics.iter().map(|t| f.matches(t)).collect())
            .collect();
        for (c, c_matches) in filters.iter().zip(&matched) {
            for (f, f_matches) in filters.iter().zip(&matched) {
                let included = c_matches.iter().zip(f_matches).all(|(c, f)| *c || !*f);
                assert_eq!(c.covers(f), included, "{c} covers {f}");
            }
        }
    }

    #[test]
    fn a_filter_error_is_a_400_naming_the_rule() {
        let err = Error::from(FilterError::MisplacedMultiLevel);
        assert_eq!(err.status().as_u16(), 400);
        assert!(err.to_string().contains("`#`"), "{err}");
    }
}
