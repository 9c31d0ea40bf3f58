//! Config Store key `request-log`: the real-time log endpoint that gets one JSON line per
//! request, and which share of requests is logged.
//!
//! ```text
//! pubsub-requests               every request, to endpoint `pubsub-requests`
//! pubsub-requests sample 0.01   one request in a hundred, chosen at random
//! ```
//!
//! Absent or `off`: nothing is logged. The endpoint name is what the Fastly service's
//! logging endpoint is called: no whitespace, no `:`, not `stdout`, `stderr` or
//! `fst_managed_…` (names the platform reserves). The sample is a fraction from 0.000001
//! to 1 (default 1). One key holds both for the same reason as `rate-limits`: a Compute
//! execution may read only a few Config Store entries.

/// The Config Store key.
pub const KEY: &str = "request-log";

/// What the key accepts, for the error naming it.
pub const EXPECTED: &str = "`off`, or a log endpoint name (no whitespace or `:`, not stdout, \
                            stderr or fst_managed_*), optionally followed by `sample <fraction>` \
                            with a fraction from 0.000001 to 1";

/// The whole: one in a million is the smallest sample.
pub const SAMPLE_WHOLE: u32 = 1_000_000;

/// Where request lines go, and how many.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestLog {
    /// The real-time log endpoint's name.
    pub endpoint: String,
    /// The share of requests logged, in millionths ([`SAMPLE_WHOLE`]: every request).
    pub sample_ppm: u32,
}

impl std::fmt::Display for RequestLog {
    /// The value of [`KEY`] that sets this log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, part) = (
            self.sample_ppm / SAMPLE_WHOLE,
            self.sample_ppm % SAMPLE_WHOLE,
        );
        write!(f, "{} sample {whole}.{part:06}", self.endpoint)
    }
}

/// Reads [`KEY`] through `lookup`: absent is off; a malformed value is an error.
pub(crate) fn load(
    lookup: &mut impl FnMut(&str) -> Option<String>,
) -> Result<Option<RequestLog>, crate::ConfigError> {
    Ok(crate::parse::parsed(lookup, KEY, EXPECTED, parse)?.flatten())
}

/// Parses the value of [`KEY`]: `Some(None)` is off; `None` when it is malformed.
pub fn parse(value: &str) -> Option<Option<RequestLog>> {
    let mut words = value.split_whitespace();
    let endpoint = words.next()?;
    if endpoint == "off" {
        return words.next().is_none().then_some(None);
    }
    if !valid_endpoint(endpoint) {
        return None;
    }
    let sample_ppm = match (words.next(), words.next(), words.next()) {
        (None, ..) => SAMPLE_WHOLE,
        (Some("sample"), Some(fraction), None) => sample(fraction)?,
        _ => return None,
    };
    Some(Some(RequestLog {
        endpoint: endpoint.to_owned(),
        sample_ppm,
    }))
}

fn valid_endpoint(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.len() <= 255
        && !name.contains(':')
        && !name.chars().any(char::is_control)
        && lower != "stdout"
        && lower != "stderr"
        && !lower.starts_with("fst_managed_")
}

/// A decimal fraction (`1`, `0.25`, `.5`, `1.0`) in millionths, at least one.
fn sample(fraction: &str) -> Option<u32> {
    let (whole, decimals) = fraction.split_once('.').unwrap_or((fraction, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(decimals) || decimals.len() > 6 || whole.len() > 1 {
        return None;
    }
    if whole.is_empty() && decimals.is_empty() {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let padded = format!("{decimals:0<6}");
    let ppm = whole * SAMPLE_WHOLE + padded.parse::<u32>().ok()?;
    (1..=SAMPLE_WHOLE).contains(&ppm).then_some(ppm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(endpoint: &str, sample_ppm: u32) -> Option<Option<RequestLog>> {
        Some(Some(RequestLog {
            endpoint: endpoint.into(),
            sample_ppm,
        }))
    }

    #[test]
    fn an_endpoint_logs_every_request_unless_sampled() {
        assert_eq!(parse("requests"), log("requests", 1_000_000));
        assert_eq!(parse(" requests  sample 0.01 "), log("requests", 10_000));
        assert_eq!(parse("requests sample 1"), log("requests", 1_000_000));
        assert_eq!(parse("requests sample 1.0"), log("requests", 1_000_000));
        assert_eq!(parse("requests sample .5"), log("requests", 500_000));
        assert_eq!(parse("requests sample 0.000001"), log("requests", 1));
        assert_eq!(parse("off"), Some(None));
        for value in [
            "requests sample 0.000001",
            "requests sample 0.25",
            "requests",
        ] {
            let log = parse(value).flatten().expect("on");
            assert_eq!(parse(&log.to_string()), Some(Some(log)));
        }
    }

    #[test]
    fn bad_endpoints_and_samples_are_refused() {
        let cases = [
            "",
            "a:b",
            "stdout",
            "STDERR",
            "fst_managed_x",
            "requests sample",
            "requests sample 0",
            "requests sample 0.0000001",
            "requests sample 1.5",
            "requests sample 2",
            "requests sample -0.5",
            "requests sample 0.5x",
            "requests sample .",
            "requests sample 10%",
            "requests every 2",
            "requests sample 0.5 extra",
            "off sample 0.5",
        ];
        for value in cases {
            assert_eq!(parse(value), None, "{value:?}");
        }
    }
}
