//! Typed configuration of the broker and its loading from the Config Store `config`.
//!
//! Every value arrives as a string (that is what a Fastly Config Store holds). [`Config::load`]
//! reads each known key through a lookup function, validates it and returns a [`Config`] whose
//! fields are already typed and in range, so handlers never re-check them. A missing key takes
//! its default; a present but invalid value is a [`ConfigError`] naming the key and the value.
//!
//! Every key, its values, default and meaning are documented once, in
//! `docs/configuration.md`, whose table `tests/docs_facts.rs` checks against [`Config::load`]
//! and [`Config::default`].
//!
//! - [`rate_limit`], [`request_log`], [`mqtt_limits`], [`history`]: the syntax of the keys
//!   with rules.
//! - [`mercure`]: the syntax of key `mercure`, the Mercure hub's settings.
//! - `parse`: reading one key as its type and in range, or its default.

use std::fmt;

pub mod history;
pub mod mercure;
pub mod mqtt_limits;
mod parse;
pub mod rate_limit;
pub mod request_log;

pub use history::{HistoryRule, HistoryRules};
pub use mqtt_limits::MqttLimits;
pub use rate_limit::{RateLimit, RateLimits, Window};
pub use request_log::RequestLog;

use parse::{
    connect_deadline, flag, link_grant_max_age, number, recovery_interval, server_keep_alive, text,
    wildcard_max_levels, wildcard_retained_max,
};

/// The validated configuration of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// SSE subscribe (`GET /events`) is served.
    pub sse: bool,
    /// HTTP publish (`POST /events`) is served.
    pub http_publish: bool,
    /// MQTT over WebSocket (`/mqtt`) is served.
    pub mqtt: bool,
    /// The admin API (`/admin/...`) is served.
    pub admin: bool,
    /// The demo page (`GET /` and its two files) is served.
    pub demo: bool,
    /// Largest message body accepted, in bytes.
    pub max_message_bytes: usize,
    /// Largest number of topics in one subscribe request.
    pub max_topics: usize,
    /// Largest MQTT packet accepted, in bytes.
    pub max_packet_bytes: usize,
    /// Path of the publish endpoint on backend `api`; `None` means Fastly's publish API.
    pub publish_path: Option<String>,
    /// Issuer expected in a `Grip-Sig` signed with a shared (local) key.
    pub grip_sig_iss: String,
    /// A Fastly API token that Fastly validates for this service is also accepted as an
    /// admin credential (never the service's own `publish-token`). Off by default: any
    /// token that may purge the service would otherwise manage its signing keys.
    pub admin_fastly_key: bool,
    /// The keep alive an MQTT 5 CONNACK asks for (Server Keep Alive), in seconds; 0 keeps
    /// the client's own. Every PINGREQ is a request to the app, so a longer keep alive is a
    /// cheaper idle connection, and a dead one is found later (1.5 times this).
    pub mqtt_server_keep_alive: u16,
    /// Access tokens without an `exp` claim are accepted. Off by default: such a token
    /// never expires.
    pub allow_tokens_without_exp: bool,
    /// Seconds an MQTT WebSocket may stay open without a CONNECT. Fanout calls the app at
    /// most every 20 s when the client is silent, so below 20 a client that sends nothing is
    /// still closed after 20 s; one that sends something is closed at its first request
    /// after the deadline.
    pub mqtt_connect_deadline: u16,
    /// The most levels a wildcard subscription's filter may have. Every publish also goes
    /// to the channel of each filter of up to this many levels that matches its topic, so
    /// this bounds the work of every publish; 0 turns wildcard subscriptions off.
    pub wildcard_max_levels: usize,
    /// The most retained messages a new wildcard subscription receives.
    pub wildcard_retained_max: usize,
    /// Seconds after which Fanout requests a durable SSE stream's `Grip-Link` (sooner when
    /// the token expires first), so that a retained message stored but not delivered live
    /// still arrives. Each time is one request to the app per durable stream.
    pub durable_recovery_interval: u32,
    /// The per-request and per-connection budgets of MQTT (`mqtt-limits`).
    pub mqtt_limits: MqttLimits,
    /// Seconds a link grant stays valid at most, even for a token without `exp` (sooner
    /// when the token expires first): Fanout requests the link by then, and its answer
    /// issues a fresh grant after checking the key again.
    pub link_grant_max_age: u32,
    /// The request limits of each route class (`rate-limits`); every class is unlimited
    /// by default.
    pub rate_limits: RateLimits,
    /// Where one JSON line per request goes (`request-log`); `None`: nowhere (default).
    pub request_log: Option<RequestLog>,
    /// Which topics keep a history of their messages (`history`); none by default.
    pub history: HistoryRules,
    /// The Mercure hub's settings (`mercure`); `None`: the hub is off (default).
    pub mercure: Option<mercure::Mercure>,
}

/// Largest length of a topic name, in bytes.
pub const MAX_TOPIC_BYTES: usize = 256;

/// The highest `wildcard-max-levels`: a publish to a topic of 8 levels then goes to 510
/// filter channels.
pub const MAX_WILDCARD_LEVELS: usize = 8;

impl Default for Config {
    fn default() -> Self {
        Self {
            sse: true,
            http_publish: true,
            mqtt: true,
            admin: true,
            demo: true,
            max_message_bytes: 32_512,
            max_topics: 9,
            max_packet_bytes: 32_768,
            publish_path: None,
            grip_sig_iss: "pushpin".to_owned(),
            admin_fastly_key: false,
            mqtt_server_keep_alive: 300,
            allow_tokens_without_exp: false,
            mqtt_connect_deadline: 30,
            wildcard_max_levels: 6,
            wildcard_retained_max: 16,
            durable_recovery_interval: 600,
            mqtt_limits: MqttLimits::default(),
            link_grant_max_age: 3_600,
            rate_limits: RateLimits::default(),
            request_log: None,
            history: HistoryRules::default(),
            mercure: None,
        }
    }
}

/// What `grip-sig-iss` accepts.
const ISSUER: &str = "a non-empty issuer";

fn non_empty(v: &str) -> bool {
    !v.is_empty()
}

/// A configuration value that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The Config Store key.
    pub key: &'static str,
    /// The value found under it.
    pub value: String,
    /// What the key accepts.
    pub expected: &'static str,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "config key `{}` has invalid value {:?}: expected {}",
            self.key, self.value, self.expected
        )
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and validates every known key through `lookup` (a Config Store read).
    pub fn load(mut lookup: impl FnMut(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            sse: flag(&mut lookup, "sse", d.sse)?,
            http_publish: flag(&mut lookup, "http-publish", d.http_publish)?,
            mqtt: flag(&mut lookup, "mqtt", d.mqtt)?,
            admin: flag(&mut lookup, "admin", d.admin)?,
            demo: flag(&mut lookup, "demo", d.demo)?,
            max_message_bytes: number(
                &mut lookup,
                "max-message-bytes",
                d.max_message_bytes,
                1..=1_048_576,
                "an integer from 1 to 1048576",
            )?,
            max_topics: number(
                &mut lookup,
                "max-topics",
                d.max_topics,
                1..=100,
                "an integer from 1 to 100",
            )?,
            max_packet_bytes: number(
                &mut lookup,
                "max-packet-bytes",
                d.max_packet_bytes,
                64..=1_048_576,
                "an integer from 64 to 1048576",
            )?,
            publish_path: text(
                &mut lookup,
                "publish-path",
                "a path starting with `/`",
                |p| p.starts_with('/') && !p.contains(char::is_whitespace),
            )?,
            grip_sig_iss: text(&mut lookup, "grip-sig-iss", ISSUER, non_empty)?
                .unwrap_or(d.grip_sig_iss),
            admin_fastly_key: flag(&mut lookup, "admin-fastly-key", d.admin_fastly_key)?,
            mqtt_server_keep_alive: server_keep_alive(&mut lookup, d.mqtt_server_keep_alive)?,
            allow_tokens_without_exp: flag(
                &mut lookup,
                "allow-tokens-without-exp",
                d.allow_tokens_without_exp,
            )?,
            mqtt_connect_deadline: connect_deadline(&mut lookup, d.mqtt_connect_deadline)?,
            wildcard_max_levels: wildcard_max_levels(&mut lookup, d.wildcard_max_levels)?,
            wildcard_retained_max: wildcard_retained_max(&mut lookup, d.wildcard_retained_max)?,
            durable_recovery_interval: recovery_interval(&mut lookup, d.durable_recovery_interval)?,
            mqtt_limits: mqtt_limits::load(&mut lookup)?,
            link_grant_max_age: link_grant_max_age(&mut lookup, d.link_grant_max_age)?,
            rate_limits: rate_limit::load(&mut lookup)?,
            request_log: request_log::load(&mut lookup)?,
            history: history::load(&mut lookup)?,
            mercure: mercure::load(&mut lookup)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(|k| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn an_empty_store_gives_the_defaults() {
        assert_eq!(load(&[]), Ok(Config::default()));
    }

    #[test]
    fn the_security_relaxations_are_off_by_default() {
        let c = Config::default();
        assert!(!c.admin_fastly_key, "admin by Fastly API token is opt-in");
        assert!(!c.allow_tokens_without_exp, "tokens without exp are opt-in");
        assert_eq!(c.rate_limits, RateLimits::default(), "no class is limited");
        assert_eq!(c.request_log, None, "nothing is logged");
        assert!(c.history.is_empty(), "no topic keeps history");
    }

    #[test]
    fn toggles_and_limits_are_parsed() {
        let c = load(&[
            ("sse", "false"),
            ("admin", "false"),
            ("demo", "false"),
            ("max-message-bytes", "100"),
            ("max-topics", "3"),
            ("publish-path", "/publish/"),
            ("admin-fastly-key", "true"),
            ("allow-tokens-without-exp", "true"),
            ("mqtt-server-keep-alive", "0"),
            ("mqtt-connect-deadline", "10"),
            ("wildcard-max-levels", "0"),
            ("wildcard-retained-max", "64"),
            ("durable-recovery-interval", "2"),
            ("link-grant-max-age", "60"),
            ("rate-limits", "publish 20/s over 1s penalty 5m"),
            ("request-log", "requests sample 0.5"),
            ("mqtt-limits", "publishes 7; min-keep-alive 0"),
            ("history", "chat/# 1000 24h"),
        ])
        .expect("valid config");
        let publish = c.rate_limits.publish.expect("publish limit");
        assert_eq!(
            (publish.per_second, publish.window),
            (20, Window::OneSecond)
        );
        assert_eq!(c.request_log.map(|l| l.sample_ppm), Some(500_000));
        assert_eq!((c.wildcard_max_levels, c.wildcard_retained_max), (0, 64));
        assert_eq!(c.durable_recovery_interval, 2);
        assert_eq!(c.mqtt_limits.publishes_per_request, 7);
        assert_eq!(c.mqtt_limits.min_keep_alive, 0);
        assert_eq!(c.link_grant_max_age, 60);
        let chat = c.history.rule_for("chat/x").expect("a history rule");
        assert_eq!((chat.max_count, chat.max_age_secs), (1000, 86_400));
        assert_eq!(c.mqtt_connect_deadline, 10);
        assert_eq!(c.mqtt_server_keep_alive, 0);
        assert!(!c.sse && !c.admin && !c.demo && c.mqtt && c.http_publish);
        assert!(c.admin_fastly_key && c.allow_tokens_without_exp);
        assert_eq!(c.max_message_bytes, 100);
        assert_eq!(c.max_topics, 3);
        assert_eq!(c.publish_path.as_deref(), Some("/publish/"));
    }

    #[test]
    fn a_bad_value_is_named_with_its_key() {
        let cases = [
            ("sse", "yes"),
            ("mqtt", "TRUE"),
            ("demo", "no"),
            ("max-message-bytes", "0"),
            ("wildcard-max-levels", "9"),
            ("wildcard-retained-max", "65"),
            ("mqtt-server-keep-alive", "65536"),
            ("max-message-bytes", "lots"),
            ("max-topics", "101"),
            ("max-packet-bytes", "10"),
            ("publish-path", "publish"),
            ("grip-sig-iss", ""),
            ("admin-fastly-key", "yes"),
            ("allow-tokens-without-exp", "1"),
            ("mqtt-connect-deadline", "0"),
            ("mqtt-connect-deadline", "31"),
            ("durable-recovery-interval", "0"),
            ("durable-recovery-interval", "86401"),
            ("durable-recovery-interval", "5s"),
            ("link-grant-max-age", "9"),
            ("link-grant-max-age", "86401"),
            ("link-grant-max-age", "-1"),
            ("rate-limits", "publish 10/m"),
            ("rate-limits", "publish 10/s; publish 20/s"),
            ("mqtt-limits", "publishes 0"),
            ("mqtt-limits", "channels 20; channels 21"),
            ("request-log", "stdout"),
            ("request-log", "requests sample 0"),
            ("history", "a/# 0 1h"),
            ("history", "a/# 10"),
        ];
        for (key, value) in cases {
            let err = load(&[(key, value)]).expect_err(key);
            assert_eq!(err.key, key);
            assert_eq!(err.value, value);
            let text = err.to_string();
            assert!(text.contains(key) && text.contains(value), "{text}");
        }
    }
}
