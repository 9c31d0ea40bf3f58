//! Selectors: what a subscription asks for and what a token claim grants, parsed once.
//!
//! A selector is a topic name ([`TopicName`]) or, when the string holds `+` or `#`, an
//! MQTT topic filter ([`Filter`]). The string is read where it enters: a subscription
//! with [`Selector::subscription`] (the `topic` query parameters of `GET /events`, an MQTT
//! SUBSCRIBE filter), which also bounds a filter's depth by `wildcard-max-levels`
//! ([`super::wildcard`]); a token claim with [`Selector::claim`], which has no depth
//! bound. From then on code matches on the variant; nothing asks the string again
//! whether it is a filter.
//!
//! Invariants: a [`Selector::Filter`] always holds a wildcard (a filter without one is a
//! [`Selector::Name`]); [`Selector::as_str`] is the string as written, so a selector
//! prints, signs (grants) and names channels exactly as the client sent it.
//!
//! Mercure's URI patterns will be one more variant here, matched and covered by the same
//! two methods.

use std::fmt;

use super::filter::{check, Filter};
use super::name::{has_wildcards, NameError, TopicName};
use super::wildcard::{check_subscription, Refusal};
use crate::Error;

/// A topic name or a wildcard topic filter (see the module documentation).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Selector {
    /// Exactly one topic.
    Name(TopicName),
    /// Every topic the filter matches; always holds `+` or `#`.
    Filter(Filter),
}

/// Why a string is not a selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectorError {
    /// No wildcard, and not a topic name.
    Name(NameError),
    /// A wildcard, but not a filter that may be used here.
    Filter {
        /// The string as given.
        filter: String,
        /// Why not.
        why: Refusal,
    },
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(e) => e.fmt(f),
            Self::Filter { filter, why } => write!(f, "topic filter {filter:?}: {why}"),
        }
    }
}

impl std::error::Error for SelectorError {}

impl From<SelectorError> for Error {
    fn from(e: SelectorError) -> Self {
        Error::BadRequest(e.to_string())
    }
}

impl Selector {
    /// Reads a subscription: a topic name, or a filter of at most `max_levels` levels.
    pub fn subscription(s: String, max_levels: usize) -> Result<Self, SelectorError> {
        Self::read(s, |filter| check_subscription(filter, max_levels))
    }

    /// Reads a token claim: a topic name, or a filter of any depth.
    pub fn claim(s: String) -> Result<Self, SelectorError> {
        Self::read(s, |filter| check(filter).map_err(Refusal::Invalid))
    }

    /// The one place that tells a filter from a name: a filter is what holds a wildcard,
    /// and must pass `check_filter`.
    fn read(
        s: String,
        check_filter: impl FnOnce(&str) -> Result<(), Refusal>,
    ) -> Result<Self, SelectorError> {
        if !has_wildcards(&s) {
            return TopicName::from_string(s)
                .map(Self::Name)
                .map_err(SelectorError::Name);
        }
        match check_filter(&s) {
            Ok(()) => Ok(Self::Filter(Filter::from_checked(s))),
            Err(why) => Err(SelectorError::Filter { filter: s, why }),
        }
    }

    /// The selector as written.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Name(name) => name.as_str(),
            Self::Filter(filter) => filter.as_str(),
        }
    }

    /// Whether topic name `topic` is selected. A string that is not a topic name matches
    /// no filter (and equals no name).
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            Self::Name(name) => name.as_str() == topic,
            Self::Filter(filter) => filter.matches(topic),
        }
    }

    /// Whether every topic `other` selects is selected by `self` (see
    /// [`Filter::covers`]). A name covers only itself: a wildcard filter always matches
    /// more than one topic.
    pub fn covers(&self, other: &Selector) -> bool {
        match (self, other) {
            (_, Self::Name(topic)) => self.matches(topic),
            (Self::Name(_), Self::Filter(_)) => false,
            (Self::Filter(claim), Self::Filter(filter)) => claim.covers(filter),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Selector {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Selector {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subscription(s: &str, max_levels: usize) -> Result<Selector, String> {
        Selector::subscription(s.to_owned(), max_levels).map_err(|e| e.to_string())
    }

    #[test]
    fn a_wildcard_makes_a_subscription_a_filter_within_the_level_bound() {
        for (topic, max_levels, outcome) in [
            ("a/+", 6, Ok(true)),
            ("#", 1, Ok(true)),
            ("a/b/#", 3, Ok(true)),
            ("a/b", 1, Ok(false)),
            ("a/b/#", 2, Err("at most 2 levels; this one has 3")),
            ("a+b", 6, Err("`+` must be a whole level")),
            ("x#", 6, Err("`#` must be a whole level")),
            ("a/+", 0, Err("turned off")),
            ("", 6, Err("must not be empty")),
        ] {
            let got = subscription(topic, max_levels);
            match (got, outcome) {
                (Ok(s), Ok(filter)) => {
                    assert_eq!(matches!(s, Selector::Filter(_)), filter, "{topic}");
                    assert_eq!(s.as_str(), topic);
                }
                (Err(err), Err(needle)) => assert!(err.contains(needle), "{topic}: {err}"),
                (got, want) => panic!("{topic} at {max_levels}: {got:?}, want {want:?}"),
            }
        }
        let err = subscription("a/#/b", 6).expect_err("misplaced");
        assert!(err.starts_with("topic filter \"a/#/b\": "), "{err}");
    }

    #[test]
    fn a_claim_has_no_level_bound_and_a_malformed_one_is_refused() {
        let deep = Selector::claim("a/b/c/d/e/f/g/h/#".into()).expect("deep claim");
        assert!(matches!(deep, Selector::Filter(_)));
        for bad in ["a#", "", "x\n", "a/#/b"] {
            assert!(Selector::claim(bad.into()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_cover_themselves_and_filters_cover_what_they_match() {
        let s = |t: &str| Selector::claim(t.to_owned()).expect(t);
        let cases = [
            ("a", "a", true),
            ("a", "b", false),
            ("a", "a/+", false),
            ("a/+", "a/b", true),
            ("a/+", "a/+", true),
            ("a/#", "a", true),
            ("a/+", "a/#", false),
            ("#", "$SYS/a", false),
        ];
        for (claim, selector, want) in cases {
            assert_eq!(
                s(claim).covers(&s(selector)),
                want,
                "{claim} covers {selector}"
            );
        }
        assert!(s("a/+").matches("a/b") && !s("a").matches("a/b") && s("a").matches("a"));
    }
}
