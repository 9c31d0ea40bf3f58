//! Wildcard subscriptions on exact-match channels: publish-side expansion.
//!
//! Fanout delivers an item only to the connections subscribed to its exact channel name. So
//! a wildcard subscription listens on one channel named after its filter
//! ([`Feed::Filter`](crate::audience::Feed::Filter) /
//! [`Feed::Filter311`](crate::audience::Feed::Filter311)), and a publish to topic `T`
//! also goes to the channels of the subscribed filters that match `T`
//! ([`crate::audience::registry`]); when the registry is unknown, to the channel of every
//! filter that could match `T` ([`filters_matching`]): each level of `T` either as written
//! or `+`, and every prefix of `T` (the empty one and `T` itself included) followed by `#`.
//!
//! The number of such filters grows as 3·2^L for a topic of L levels, so the filters a
//! subscription may use are bounded by the Config Store's `wildcard-max-levels` (`D`): a
//! wildcard filter has at most `D` levels, `#` included. A publish to a topic of L levels
//! then reaches at most [`count`]`(L, D)` filter channels: 3·2^L − 2 when L < D, 2^(D+1) − 2
//! when L = D (the most: 126 at D = 6, 510 at D = 8) and 2^D − 1 (only `#` filters) when
//! L > D: the most a publish reaches, without a registry or with every filter subscribed.
//!
//! The `$` rule [MQTT-4.7.2-1] holds here too: a filter that begins with a wildcard never
//! matches a topic that begins with `$`, so such a topic is not published to those filters.

use super::filter::{self, FilterError};

/// Why a filter cannot be a wildcard subscription here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a filter (MQTT: 0x8F / 0x80).
    Invalid(FilterError),
    /// Wildcard subscriptions are off (`wildcard-max-levels` = 0).
    Off,
    /// The filter has this many levels, over `wildcard-max-levels` (the second value).
    TooDeep(usize, usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(e) => e.fmt(f),
            Self::Off => f.write_str("wildcard subscriptions are turned off on this service"),
            Self::TooDeep(n, max) => write!(
                f,
                "a wildcard topic filter may have at most {max} levels; this one has {n}"
            ),
        }
    }
}

/// Checks that `filter`, which holds a wildcard, can be subscribed to with at most
/// `max_levels` levels.
pub fn check_subscription(filter: &str, max_levels: usize) -> Result<(), Refusal> {
    filter::check(filter).map_err(Refusal::Invalid)?;
    if max_levels == 0 {
        return Err(Refusal::Off);
    }
    let levels = filter.split('/').count();
    if levels > max_levels {
        return Err(Refusal::TooDeep(levels, max_levels));
    }
    Ok(())
}

/// How many filter channels a publish to a topic of `levels` levels reaches with
/// `wildcard-max-levels` = `max_levels` (the topic's `$` rule aside).
pub fn count(levels: usize, max_levels: usize) -> usize {
    if max_levels == 0 || levels == 0 {
        return 0;
    }
    // Whole-topic filters with at least one `+`, then `#` after each allowed prefix.
    let whole = if levels <= max_levels {
        (1usize << levels) - 1
    } else {
        0
    };
    let hashes = (1usize << (levels.min(max_levels - 1) + 1)) - 1;
    whole + hashes
}

/// Every wildcard filter of at most `max_levels` levels that matches topic name `topic`,
/// each once; `f` is called with each. The topic itself (no wildcard) is not among them.
pub fn filters_matching(topic: &str, max_levels: usize, mut f: impl FnMut(&str)) {
    if max_levels == 0 {
        return;
    }
    let levels: Vec<&str> = topic.split('/').collect();
    let n = levels.len();
    let dollar = topic.starts_with('$');
    let mut buf = String::with_capacity(topic.len() + 2 * n + 2);
    // Whole-topic filters: each mask with at least one `+`.
    if n <= max_levels && n < usize::BITS as usize {
        for mask in 1..(1usize << n) {
            if dollar && mask & 1 == 1 {
                continue;
            }
            render(&levels, mask, None, &mut buf);
            f(&buf);
        }
    }
    // `#` after a prefix of k levels, each level as written or `+`.
    for k in 0..=n.min(max_levels - 1) {
        for mask in 0..(1usize << k) {
            if dollar && (k == 0 || mask & 1 == 1) {
                continue;
            }
            render(&levels[..k], mask, Some("#"), &mut buf);
            f(&buf);
        }
    }
}

/// Writes `levels` into `buf` with `+` for each level whose bit is set in `mask`, then
/// `last` as one more level.
fn render(levels: &[&str], mask: usize, last: Option<&str>, buf: &mut String) {
    buf.clear();
    for (i, level) in levels.iter().enumerate() {
        if i > 0 {
            buf.push('/');
        }
        buf.push_str(if mask >> i & 1 == 1 { "+" } else { level });
    }
    if let Some(last) = last {
        if !levels.is_empty() {
            buf.push('/');
        }
        buf.push_str(last);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::topic::filter::Filter;
    use crate::topic::name::has_wildcards;

    fn expand(topic: &str, max: usize) -> Vec<String> {
        let mut out = Vec::new();
        filters_matching(topic, max, |f| out.push(f.to_owned()));
        out
    }

    /// Every filter over the alphabet {a, b, +, #} (and `$x`) of at most `max` levels.
    fn all_filters(max: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut frontier = vec![String::new()];
        for depth in 1..=max {
            let mut next = Vec::new();
            for prefix in &frontier {
                for level in ["a", "b", "", "$x", "+", "#"] {
                    let f = if depth == 1 {
                        level.to_owned()
                    } else {
                        format!("{prefix}/{level}")
                    };
                    if Filter::parse(&f).is_ok() {
                        out.push(f.clone());
                    }
                    if level != "#" {
                        next.push(f);
                    }
                }
            }
            frontier = next;
        }
        out
    }

    #[test]
    fn expansion_is_exactly_the_wildcard_filters_that_match_within_the_bound() {
        let filters = all_filters(4);
        for topic in [
            "a", "b/a", "a/b/a", "a//b", "$x", "$x/a", "a/$x/b", "a/b/a/b", "/",
        ] {
            for max in 1..=4 {
                let got = expand(topic, max);
                let set: BTreeSet<&String> = got.iter().collect();
                assert_eq!(set.len(), got.len(), "{topic} {max}: duplicates in {got:?}");
                let want: BTreeSet<&String> = filters
                    .iter()
                    .filter(|f| has_wildcards(f) && f.split('/').count() <= max)
                    .filter(|f| Filter::parse(f).is_ok_and(|f| f.matches(topic)))
                    .collect();
                assert_eq!(set, want, "{topic} with at most {max} levels");
                if !topic.starts_with('$') {
                    let levels = topic.split('/').count();
                    assert_eq!(got.len(), count(levels, max), "{topic} {max}");
                }
            }
        }
    }

    #[test]
    fn the_count_follows_the_documented_formulas() {
        for max in 1..=8 {
            for l in 1..=10 {
                let want = match l.cmp(&max) {
                    std::cmp::Ordering::Less => 3 * (1 << l) - 2,
                    std::cmp::Ordering::Equal => (1 << (max + 1)) - 2,
                    std::cmp::Ordering::Greater => (1 << max) - 1,
                };
                assert_eq!(count(l, max), want, "L={l} D={max}");
            }
        }
        assert_eq!(count(6, 6), 126);
        assert_eq!(count(8, 8), 510);
        assert_eq!(count(3, 0), 0);
        assert!(expand("a/b", 0).is_empty());
    }

    #[test]
    fn subscriptions_are_checked_against_the_bound() {
        assert_eq!(check_subscription("a/+/c", 3), Ok(()));
        assert_eq!(check_subscription("a/b/#", 3), Ok(()));
        assert_eq!(
            check_subscription("a/b/c/#", 3),
            Err(Refusal::TooDeep(4, 3))
        );
        assert_eq!(check_subscription("#", 0), Err(Refusal::Off));
        assert!(matches!(
            check_subscription("a/#/b", 6),
            Err(Refusal::Invalid(FilterError::MisplacedMultiLevel))
        ));
        assert!(Refusal::TooDeep(9, 6)
            .to_string()
            .contains("at most 6 levels"));
    }
}
