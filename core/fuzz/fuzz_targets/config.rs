//! Fuzz target for configuration values: `Config::load` with fuzzed key/value pairs must
//! never panic; a loaded configuration writes back to values that load to the same one;
//! a refusal names a key that was looked up and the value found under it.
//!
//! The input is lines of `<key char><value>`: `a`, `b`, ... pick the known keys in the
//! order below, any other character the key `x` (an unknown key, never read). The first line
//! for a key is the value the lookup returns.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_config::Config;

const KEYS: [&str; 19] = [
    "sse",
    "http-publish",
    "mqtt",
    "admin",
    "demo",
    "max-message-bytes",
    "max-topics",
    "max-packet-bytes",
    "publish-path",
    "grip-sig-iss",
    "admin-fastly-key",
    "mqtt-server-keep-alive",
    "allow-tokens-without-exp",
    "mqtt-connect-deadline",
    "wildcard-max-levels",
    "wildcard-retained-max",
    "durable-recovery-interval",
    "rate-limits",
    "request-log",
];

fn load(pairs: &[(&str, String)]) -> (Result<Config, pubsub_config::ConfigError>, Vec<String>) {
    let mut asked = Vec::new();
    let result = Config::load(|key| {
        asked.push(key.to_owned());
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    });
    (result, asked)
}

fn written(c: &Config) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        ("sse", c.sse.to_string()),
        ("http-publish", c.http_publish.to_string()),
        ("mqtt", c.mqtt.to_string()),
        ("admin", c.admin.to_string()),
        ("demo", c.demo.to_string()),
        ("max-message-bytes", c.max_message_bytes.to_string()),
        ("max-topics", c.max_topics.to_string()),
        ("max-packet-bytes", c.max_packet_bytes.to_string()),
        ("grip-sig-iss", c.grip_sig_iss.clone()),
        ("admin-fastly-key", c.admin_fastly_key.to_string()),
        (
            "mqtt-server-keep-alive",
            c.mqtt_server_keep_alive.to_string(),
        ),
        (
            "allow-tokens-without-exp",
            c.allow_tokens_without_exp.to_string(),
        ),
        ("mqtt-connect-deadline", c.mqtt_connect_deadline.to_string()),
        ("wildcard-max-levels", c.wildcard_max_levels.to_string()),
        ("wildcard-retained-max", c.wildcard_retained_max.to_string()),
        (
            "durable-recovery-interval",
            c.durable_recovery_interval.to_string(),
        ),
        ("rate-limits", c.rate_limits.to_string()),
    ];
    if let Some(log) = &c.request_log {
        pairs.push(("request-log", log.to_string()));
    }
    if let Some(path) = &c.publish_path {
        pairs.push(("publish-path", path.clone()));
    }
    pairs
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(&str, String)> = text
        .split('\n')
        .filter_map(|line| {
            let mut chars = line.chars();
            let key = chars.next()?;
            let index = (key as usize).wrapping_sub('a' as usize);
            let key = KEYS.get(index).copied().unwrap_or("x");
            Some((key, chars.as_str().to_owned()))
        })
        .collect();
    let (result, asked) = load(&pairs);
    assert!(asked.iter().all(|k| KEYS.contains(&k.as_str())));
    match result {
        Ok(config) => {
            assert_eq!(asked.len(), KEYS.len(), "every key is read");
            assert!((1..=1_048_576).contains(&config.max_message_bytes));
            assert!((1..=100).contains(&config.max_topics));
            assert!((64..=1_048_576).contains(&config.max_packet_bytes));
            assert!((1..=30).contains(&config.mqtt_connect_deadline));
            assert!(!config.grip_sig_iss.is_empty());
            if let Some(path) = &config.publish_path {
                assert!(path.starts_with('/'));
            }
            let (again, _) = load(&written(&config));
            assert_eq!(
                again.as_ref(),
                Ok(&config),
                "the round trip changed the config"
            );
        }
        Err(err) => {
            assert_eq!(asked.last().map(String::as_str), Some(err.key));
            let found = pairs.iter().find(|(k, _)| *k == err.key).map(|(_, v)| v);
            assert_eq!(found, Some(&err.value), "the error names another value");
            let _ = err.to_string();
        }
    }
});
