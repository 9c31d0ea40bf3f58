//! Config Store key `mqtt-limits`: the per-request and per-connection budgets of an MQTT
//! connection, in one value.
//!
//! ```text
//! publishes 200; control 100; min-keep-alive 30; channels 20
//! ```
//!
//! Settings are separated by `;`, each a name and a whole number, each at most once; a
//! setting left out keeps its default ([`MqttLimits::default`]), and so does every one
//! when the key is absent.
//!
//! - `publishes` (1 to 10000): PUBLISH packets one WebSocket-over-HTTP request may carry;
//! - `control` (1 to 10000): other packets (SUBSCRIBE, UNSUBSCRIBE, PINGREQ, PUBREL) one
//!   request may carry;
//! - `min-keep-alive` (0 to 65535 seconds): the shortest keep alive the broker honours;
//! - `channels` (2 to 1000): Fanout channels one connection may listen on, its key
//!   channel included (Pushpin's `connection_subscription_max`).
//!
//! One key holds them all because every key of [`Config`](crate::Config) is read on
//! every request and a Compute execution may read only a few Config Store entries.

use crate::ConfigError;

/// The Config Store key.
pub const KEY: &str = "mqtt-limits";

/// What the key accepts, for the error naming it.
pub const EXPECTED: &str = "`;`-separated settings `<name> <n>`, each at most once: \
                            publishes 1-10000, control 1-10000, min-keep-alive 0-65535 \
                            (seconds), channels 2-1000";

/// The budgets of an MQTT connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MqttLimits {
    /// The most PUBLISH packets one request may carry.
    pub publishes_per_request: usize,
    /// The most other packets (SUBSCRIBE, UNSUBSCRIBE, PINGREQ, PUBREL) one request may
    /// carry.
    pub control_per_request: usize,
    /// The shortest keep alive honoured, in seconds: a client asking for less (but not
    /// 0, no keep alive) gets this.
    pub min_keep_alive: u16,
    /// The most Fanout channels one connection may listen on, its key channel included.
    pub channels_per_connection: usize,
}

impl Default for MqttLimits {
    fn default() -> Self {
        Self {
            publishes_per_request: 200,
            control_per_request: 100,
            min_keep_alive: 30,
            channels_per_connection: 20,
        }
    }
}

/// Reads `mqtt-limits` through `lookup`.
pub(crate) fn load(
    lookup: &mut impl FnMut(&str) -> Option<String>,
) -> Result<MqttLimits, ConfigError> {
    let Some(value) = lookup(KEY) else {
        return Ok(MqttLimits::default());
    };
    parse(&value).ok_or(ConfigError {
        key: KEY,
        value,
        expected: EXPECTED,
    })
}

/// Parses a value of the key; `None` when any setting is unknown, repeated or out of range.
pub(crate) fn parse(value: &str) -> Option<MqttLimits> {
    let mut limits = MqttLimits::default();
    let mut seen: Vec<&str> = Vec::new();
    for setting in value.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, n) = setting.split_once(char::is_whitespace)?;
        if seen.contains(&name) {
            return None;
        }
        seen.push(name);
        let n: usize = n.trim().parse().ok()?;
        match name {
            "publishes" if (1..=10_000).contains(&n) => limits.publishes_per_request = n,
            "control" if (1..=10_000).contains(&n) => limits.control_per_request = n,
            "min-keep-alive" => limits.min_keep_alive = u16::try_from(n).ok()?,
            "channels" if (2..=1_000).contains(&n) => limits.channels_per_connection = n,
            _ => return None,
        }
    }
    Some(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_left_out_keep_their_defaults() {
        let d = MqttLimits::default();
        assert_eq!(parse(""), Some(d));
        let l = parse("control 5; channels 40").expect("valid");
        assert_eq!((l.control_per_request, l.channels_per_connection), (5, 40));
        assert_eq!(
            (l.publishes_per_request, l.min_keep_alive),
            (d.publishes_per_request, d.min_keep_alive)
        );
        let all = parse("publishes 10000;control 1; min-keep-alive 0 ;channels 2").expect("ok");
        assert_eq!(all.publishes_per_request, 10_000);
        assert_eq!(all.min_keep_alive, 0);
    }

    #[test]
    fn unknown_repeated_or_out_of_range_settings_are_refused() {
        for bad in [
            "publishes 0",
            "publishes 10001",
            "control 0",
            "min-keep-alive 65536",
            "channels 1",
            "channels 1001",
            "channels 20; channels 30",
            "pings 5",
            "publishes",
            "publishes ten",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
