//! Config Store key `history`: which topics keep a history of their messages, how many
//! and for how long, in one value.
//!
//! ```text
//! chat/# 1000 24h; ai/+/answer 20000 1h
//! ```
//!
//! Rules are separated by `;`, each `<filter> <max-count> <max-age>` (parts separated by
//! whitespace, whitespace around them ignored). The filter has MQTT's syntax (`+` one
//! level, `#` every level below, as the last level only); levels are `/`-separated, and a
//! filter that begins with a wildcard does not match a topic that begins with `$`.
//! `max-count` is 1 to [`MAX_COUNT`]; `max-age` an integer and a unit `s`, `m`, `h` or `d`,
//! 1 s to 30 days. The FIRST rule whose filter matches a topic applies; at most
//! [`MAX_RULES`] rules. An absent or empty value keeps no history (the default: each kept
//! message costs a KV write). A malformed value is a [`ConfigError`] whose `value` is the
//! first bad rule (the whole value when the rule count is the problem).

use crate::{ConfigError, MAX_TOPIC_BYTES};

/// The Config Store key.
pub const KEY: &str = "history";

/// What the key accepts, for the error naming it.
pub const EXPECTED: &str = "`;`-separated rules `<filter> <max-count> <max-age>`: an MQTT \
                            filter, 1 to 100000 messages, 1s to 30d (units s, m, h, d), \
                            at most 32 rules";

/// The most messages one rule may keep per topic.
pub const MAX_COUNT: u32 = 100_000;

/// The longest age one rule may keep a message: 30 days, in seconds.
pub const MAX_AGE_SECS: u32 = 30 * 24 * 60 * 60;

/// The most rules the key may hold.
pub const MAX_RULES: usize = 32;

/// How much history a topic keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryRule {
    /// The most messages kept (the newest ones).
    pub max_count: u32,
    /// The longest a message is kept, in seconds.
    pub max_age_secs: u32,
}

/// The rules of [`KEY`], in order; empty: no topic keeps history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HistoryRules(Vec<(String, HistoryRule)>);

impl HistoryRules {
    /// The rule of the first filter that matches `topic`, if any.
    pub fn rule_for(&self, topic: &str) -> Option<HistoryRule> {
        self.0
            .iter()
            .find(|(filter, _)| matches(filter, topic))
            .map(|(_, rule)| *rule)
    }

    /// Whether no topic keeps history.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses a value of [`KEY`]; `Err` carries the bad rule.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for text in value.split(';') {
            if text.trim().is_empty() {
                continue;
            }
            if rules.len() == MAX_RULES {
                return Err(value.to_owned());
            }
            rules.push(rule(text).ok_or_else(|| text.trim().to_owned())?);
        }
        Ok(Self(rules))
    }
}

impl std::fmt::Display for HistoryRules {
    /// The value of [`KEY`] that sets these rules.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (filter, rule)) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "; " };
            write!(f, "{sep}{filter} {} {}s", rule.max_count, rule.max_age_secs)?;
        }
        Ok(())
    }
}

/// Reads [`KEY`] through `lookup`: absent or empty is no history.
pub(crate) fn load(
    lookup: &mut impl FnMut(&str) -> Option<String>,
) -> Result<HistoryRules, ConfigError> {
    let Some(value) = lookup(KEY) else {
        return Ok(HistoryRules::default());
    };
    HistoryRules::parse(&value).map_err(|bad| ConfigError {
        key: KEY,
        value: bad,
        expected: EXPECTED,
    })
}

/// One rule: `<filter> <max-count> <max-age>`.
fn rule(text: &str) -> Option<(String, HistoryRule)> {
    let mut parts = text.split_whitespace();
    let (filter, count, age) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !valid_filter(filter) {
        return None;
    }
    let max_count = digits(count)?;
    let max_age_secs = age_secs(age)?;
    ((1..=MAX_COUNT).contains(&max_count) && (1..=MAX_AGE_SECS).contains(&max_age_secs)).then(
        || {
            let rule = HistoryRule {
                max_count,
                max_age_secs,
            };
            (filter.to_owned(), rule)
        },
    )
}

/// A number of ASCII digits only (no sign), as a `u32`.
fn digits(text: &str) -> Option<u32> {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| text.parse().ok()).flatten()
}

/// `<n>s|m|h|d` in seconds.
fn age_secs(text: &str) -> Option<u32> {
    let unit = match text.as_bytes().last()? {
        b's' => 1,
        b'm' => 60,
        b'h' => 3_600,
        b'd' => 86_400,
        _ => return None,
    };
    digits(&text[..text.len() - 1])?.checked_mul(unit)
}

/// An MQTT filter: non-empty, at most [`MAX_TOPIC_BYTES`], `+` and `#` alone in their
/// level, `#` last, no NUL.
fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > MAX_TOPIC_BYTES || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, level)| match *level {
        "+" => true,
        "#" => i + 1 == levels.len(),
        other => !other.contains(['+', '#']),
    })
}

/// Whether the valid filter `filter` matches `topic` (MQTT rules).
fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && filter.starts_with(['+', '#']) {
        return false;
    }
    let mut topic_levels = topic.split('/');
    for level in filter.split('/') {
        match level {
            "#" => return true,
            "+" => {
                if topic_levels.next().is_none() {
                    return false;
                }
            }
            literal => {
                if topic_levels.next() != Some(literal) {
                    return false;
                }
            }
        }
    }
    topic_levels.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(value: &str) -> HistoryRules {
        HistoryRules::parse(value).expect(value)
    }

    #[test]
    fn the_first_matching_rule_applies() {
        let r = rules(" chat/# 1000 24h ; ai/+/answer 20000 1h; # 5 90s ;");
        let rule = |count, age| {
            Some(HistoryRule {
                max_count: count,
                max_age_secs: age,
            })
        };
        let cases = [
            ("chat", rule(1000, 86_400)),
            ("chat/room/1", rule(1000, 86_400)),
            ("ai/x/answer", rule(20_000, 3_600)),
            ("ai/x/answer/more", rule(5, 90)),
            ("other", rule(5, 90)),
            ("$SYS/x", None),
        ];
        for (topic, want) in cases {
            assert_eq!(r.rule_for(topic), want, "{topic}");
        }
        assert_eq!(
            r.to_string(),
            "chat/# 1000 86400s; ai/+/answer 20000 3600s; # 5 90s"
        );
        assert_eq!(
            rules(&r.to_string()),
            r,
            "the display is a value of the key"
        );
    }

    #[test]
    fn filters_match_as_mqtt_filters_do() {
        let cases = [
            ("a/+", "a/b", true),
            ("a/+", "a", false),
            ("a/+", "a/b/c", false),
            ("a/#", "a", true),
            ("+/+", "/x", true),
            ("a", "a/b", false),
            ("$SYS/#", "$SYS/a", true),
            ("+/a", "$x/a", false),
        ];
        for (filter, topic, want) in cases {
            assert_eq!(matches(filter, topic), want, "{filter} vs {topic}");
        }
    }

    #[test]
    fn an_empty_value_keeps_no_history() {
        assert!(rules("").is_empty());
        assert!(rules("  ;  ").is_empty());
        assert_eq!(rules("").rule_for("a"), None);
    }

    #[test]
    fn a_bad_rule_is_named() {
        for bad in [
            "a",
            "a 10",
            "a 10 1h extra",
            "a/#/b 10 1h",
            "a+ 10 1h",
            "a 0 1h",
            "a 100001 1h",
            "a -1 1h",
            "a 10 0s",
            "a 10 31d",
            "a 10 1",
            "a 10 1w",
            "a 10 +1h",
        ] {
            let value = format!("ok 1 1s; {bad}");
            assert_eq!(HistoryRules::parse(&value), Err(bad.to_owned()), "{bad}");
        }
        assert!(HistoryRules::parse("a 100000 30d").is_ok());
        let many = vec!["a 1 1s"; MAX_RULES + 1].join(";");
        assert_eq!(HistoryRules::parse(&many), Err(many.clone()));
        assert!(HistoryRules::parse(&vec!["a 1 1s"; MAX_RULES].join(";")).is_ok());
    }
}
