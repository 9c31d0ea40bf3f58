//! Config Store key `rate-limits`: the request limits of each route class, in one value.
//!
//! ```text
//! publish 20/s over 10s penalty 5m; subscribe 5/s; admin 1/s over 60s penalty 10m; mqtt-publish 50/s
//! ```
//!
//! Rules are separated by `;`. A rule is a class, then `<n>/s`: at most `n` requests per
//! second on average over the window, then optionally `over 1s|10s|60s` (the window,
//! default 10 s: the windows Fastly's Edge Rate Limiting counts over) and `penalty <m>m`
//! (how long a caller over the limit is refused, 1 to 60 minutes, default 1). A class
//! without a rule is not limited; so is every class when the key is absent or `off`.
//!
//! Classes: `publish` (`POST /events`), `subscribe` (the first, unsigned request of an SSE
//! subscribe or an MQTT WebSocket), `admin` (`/admin/...`), `mqtt-publish` (PUBLISH
//! packets of one MQTT connection).
//!
//! The whole value is one key because a Compute execution may read only a few Config
//! Store entries (16 dictionary lookups), and every key of [`Config`](crate::Config) is
//! read on every request.

/// The Config Store key.
pub const KEY: &str = "rate-limits";

/// What the key accepts, for the error naming it.
pub const EXPECTED: &str = "`off`, or `;`-separated rules `<class> <n>/s [over 1s|10s|60s] \
                            [penalty <1-60>m]` with n from 1 to 1000000 and classes publish, \
                            subscribe, admin, mqtt-publish (each at most once)";

/// A window Edge Rate Limiting averages a rate over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// One second.
    OneSecond,
    /// Ten seconds.
    TenSeconds,
    /// Sixty seconds.
    SixtySeconds,
}

impl Window {
    /// The window's length in seconds.
    pub fn secs(self) -> u32 {
        match self {
            Self::OneSecond => 1,
            Self::TenSeconds => 10,
            Self::SixtySeconds => 60,
        }
    }
}

/// One class's limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per second, on average over [`RateLimit::window`].
    pub per_second: u32,
    /// The window the rate is averaged over.
    pub window: Window,
    /// Minutes a caller over the limit is refused (1 to 60).
    pub penalty_minutes: u32,
}

impl RateLimit {
    /// The penalty in seconds (what `Retry-After` says).
    pub fn penalty_secs(&self) -> u32 {
        self.penalty_minutes * 60
    }
}

impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/s over {}s penalty {}m",
            self.per_second,
            self.window.secs(),
            self.penalty_minutes
        )
    }
}

/// The limit of each class; `None`: not limited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /events`.
    pub publish: Option<RateLimit>,
    /// The first, unsigned request of an SSE subscribe or of an MQTT WebSocket.
    pub subscribe: Option<RateLimit>,
    /// `/admin/...`.
    pub admin: Option<RateLimit>,
    /// PUBLISH packets of one MQTT connection.
    pub mqtt_publish: Option<RateLimit>,
}

impl std::fmt::Display for RateLimits {
    /// The value of [`KEY`] that sets these limits (`off` when there are none).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let classes = [
            ("publish", self.publish),
            ("subscribe", self.subscribe),
            ("admin", self.admin),
            ("mqtt-publish", self.mqtt_publish),
        ];
        let mut rules = classes.iter().filter_map(|(c, l)| Some((c, (*l)?)));
        let Some((class, limit)) = rules.next() else {
            return f.write_str("off");
        };
        write!(f, "{class} {limit}")?;
        rules.try_for_each(|(class, limit)| write!(f, "; {class} {limit}"))
    }
}

/// Reads [`KEY`] through `lookup`: absent is no limit; a malformed value is an error.
pub(crate) fn load(
    lookup: &mut impl FnMut(&str) -> Option<String>,
) -> Result<RateLimits, crate::ConfigError> {
    Ok(crate::parse::parsed(lookup, KEY, EXPECTED, parse)?.unwrap_or_default())
}

/// Parses the value of [`KEY`]; `None` when it is malformed.
pub fn parse(value: &str) -> Option<RateLimits> {
    let mut limits = RateLimits::default();
    if value.trim() == "off" {
        return Some(limits);
    }
    for rule in value.split(';').map(str::trim).filter(|r| !r.is_empty()) {
        let (class, spec) = rule.split_once(char::is_whitespace)?;
        let slot = match class {
            "publish" => &mut limits.publish,
            "subscribe" => &mut limits.subscribe,
            "admin" => &mut limits.admin,
            "mqtt-publish" => &mut limits.mqtt_publish,
            _ => return None,
        };
        if slot.replace(limit(spec)?).is_some() {
            return None;
        }
    }
    Some(limits)
}

/// `<n>/s [over <w>s] [penalty <m>m]`.
fn limit(spec: &str) -> Option<RateLimit> {
    let mut words = spec.split_whitespace();
    let per_second = words.next()?.strip_suffix("/s")?.parse().ok()?;
    if !(1..=1_000_000).contains(&per_second) {
        return None;
    }
    let mut limit = RateLimit {
        per_second,
        window: Window::TenSeconds,
        penalty_minutes: 1,
    };
    let (mut window, mut penalty) = (false, false);
    while let Some(word) = words.next() {
        let value = words.next()?;
        match word {
            "over" if !window => {
                window = true;
                limit.window = match value {
                    "1s" => Window::OneSecond,
                    "10s" => Window::TenSeconds,
                    "60s" => Window::SixtySeconds,
                    _ => return None,
                };
            }
            "penalty" if !penalty => {
                penalty = true;
                limit.penalty_minutes = value.strip_suffix('m')?.parse().ok()?;
                if !(1..=60).contains(&limit.penalty_minutes) {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(per_second: u32, window: Window, penalty_minutes: u32) -> Option<RateLimit> {
        Some(RateLimit {
            per_second,
            window,
            penalty_minutes,
        })
    }

    #[test]
    fn rules_set_their_class_and_the_rest_stay_off() {
        let limits = parse("publish 20/s over 1s penalty 5m; admin 2/s over 60s").expect("ok");
        assert_eq!(limits.publish, rule(20, Window::OneSecond, 5));
        assert_eq!(limits.admin, rule(2, Window::SixtySeconds, 1));
        assert_eq!((limits.subscribe, limits.mqtt_publish), (None, None));
        let limits = parse(" subscribe 5/s ;mqtt-publish 50/s penalty 60m; ").expect("ok");
        assert_eq!(limits.subscribe, rule(5, Window::TenSeconds, 1));
        assert_eq!(limits.mqtt_publish, rule(50, Window::TenSeconds, 60));
        assert_eq!(parse("off"), Some(RateLimits::default()));
        assert_eq!(parse(""), Some(RateLimits::default()));
    }

    #[test]
    fn a_limit_prints_in_the_syntax_it_is_written_in() {
        let limit = parse("publish 20/s").expect("ok").publish.expect("set");
        assert_eq!(limit.to_string(), "20/s over 10s penalty 1m");
        assert_eq!(
            parse(&format!("publish {limit}")).expect("ok").publish,
            Some(limit)
        );
        assert_eq!(limit.penalty_secs(), 60);
        let all = "publish 1/s over 1s penalty 2m; subscribe 3/s over 10s penalty 1m; \
                   admin 4/s over 60s penalty 60m; mqtt-publish 5/s over 10s penalty 1m";
        let limits = parse(all).expect("ok");
        assert_eq!(limits.to_string(), all);
        assert_eq!(RateLimits::default().to_string(), "off");
        let some = parse("admin 2/s").expect("ok");
        assert_eq!(parse(&some.to_string()), Some(some));
    }

    #[test]
    fn malformed_rules_are_refused() {
        let cases = [
            "publish",
            "publish 20",
            "publish 20/m",
            "publish 0/s",
            "publish 1000001/s",
            "publish -1/s",
            "publish 20/s over 5s",
            "publish 20/s over",
            "publish 20/s penalty 0m",
            "publish 20/s penalty 61m",
            "publish 20/s penalty 5",
            "publish 20/s over 1s over 10s",
            "publish 20/s burst 5",
            "publish 1/s; publish 2/s",
            "publsh 20/s",
            "PUBLISH 20/s",
            "on",
        ];
        for value in cases {
            assert_eq!(parse(value), None, "{value:?}");
        }
    }
}
