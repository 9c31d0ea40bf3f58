//! Reading one Config Store key: the value as the given type and in range, its default
//! when absent, or a [`ConfigError`] naming the key, the value and what it accepts.

use crate::{ConfigError, MAX_WILDCARD_LEVELS};

/// `wildcard-max-levels`: 0 to [`MAX_WILDCARD_LEVELS`].
pub(crate) fn wildcard_max_levels(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: usize,
) -> Result<usize, ConfigError> {
    number(
        lookup,
        "wildcard-max-levels",
        default,
        0..=MAX_WILDCARD_LEVELS,
        "an integer from 0 to 8 (0: no wildcard subscriptions)",
    )
}

/// `wildcard-retained-max`: 0 to 64.
pub(crate) fn wildcard_retained_max(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: usize,
) -> Result<usize, ConfigError> {
    let expected = "an integer from 0 to 64";
    number(lookup, "wildcard-retained-max", default, 0..=64, expected)
}

/// The value of `key` when present and `valid`; a present, invalid value is an error.
pub(crate) fn text(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    key: &'static str,
    expected: &'static str,
    valid: impl Fn(&str) -> bool,
) -> Result<Option<String>, ConfigError> {
    parsed(lookup, key, expected, |v| valid(v).then(|| v.to_owned()))
}

/// The value of `key` read by `parse` when present; a value it refuses is an error.
pub(crate) fn parsed<T>(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    key: &'static str,
    expected: &'static str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, ConfigError> {
    let Some(value) = lookup(key) else {
        return Ok(None);
    };
    match parse(&value) {
        Some(parsed) => Ok(Some(parsed)),
        None => Err(ConfigError {
            key,
            value,
            expected,
        }),
    }
}

pub(crate) fn flag(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    key: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match lookup(key).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(ConfigError {
            key,
            value: other.to_owned(),
            expected: "`true` or `false`",
        }),
    }
}

/// `mqtt-server-keep-alive`: 0 to 65535 seconds.
pub(crate) fn server_keep_alive(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: u16,
) -> Result<u16, ConfigError> {
    let secs = number(
        lookup,
        "mqtt-server-keep-alive",
        usize::from(default),
        0..=usize::from(u16::MAX),
        "an integer from 0 to 65535 (seconds; 0 keeps the client's keep alive)",
    )?;
    Ok(u16::try_from(secs).unwrap_or(u16::MAX))
}

/// `mqtt-connect-deadline`: 1 to 30 seconds.
pub(crate) fn connect_deadline(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: u16,
) -> Result<u16, ConfigError> {
    let expected = "an integer from 1 to 30 (seconds)";
    let secs = number(
        lookup,
        "mqtt-connect-deadline",
        usize::from(default),
        1..=30,
        expected,
    )?;
    Ok(u16::try_from(secs).unwrap_or(default))
}

/// `durable-recovery-interval`: 1 to 86400 seconds (a day).
pub(crate) fn recovery_interval(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    let expected = "an integer from 1 to 86400 (seconds)";
    seconds(
        lookup,
        "durable-recovery-interval",
        default,
        1..=86_400,
        expected,
    )
}

/// `link-grant-max-age`: 10 to 86400 seconds (a day).
pub(crate) fn link_grant_max_age(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    default: u32,
) -> Result<u32, ConfigError> {
    let expected = "an integer from 10 to 86400 (seconds)";
    seconds(lookup, "link-grant-max-age", default, 10..=86_400, expected)
}

/// A number of seconds under `key` within `range`, as a `u32`.
fn seconds(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    key: &'static str,
    default: u32,
    range: std::ops::RangeInclusive<usize>,
    expected: &'static str,
) -> Result<u32, ConfigError> {
    let fallback = usize::try_from(default).unwrap_or(usize::MAX);
    let secs = number(lookup, key, fallback, range, expected)?;
    Ok(u32::try_from(secs).unwrap_or(default))
}

pub(crate) fn number(
    lookup: &mut impl FnMut(&str) -> Option<String>,
    key: &'static str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
    expected: &'static str,
) -> Result<usize, ConfigError> {
    let Some(value) = lookup(key) else {
        return Ok(default);
    };
    match value.parse::<usize>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(ConfigError {
            key,
            value,
            expected,
        }),
    }
}
