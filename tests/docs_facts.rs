//! One source for each fact: the tables of the documentation that restate the code's
//! defaults, limits and reason codes are checked against the code here, and the documents'
//! links against the files and headings they point at.
//!
//! - `docs/configuration.md`, Config Store table: every key that `Config::load` reads is a
//!   row and every row a key it reads; each documented default, loaded explicitly, gives
//!   `Config::default()`; each documented range `A to B` accepts A and B and refuses the
//!   values just outside, naming the key.
//! - `docs/configuration.md`, fixed limits: each row names a constant of the code and states
//!   its value; every constant listed here has a row.
//! - `docs/mqtt.md`, reason codes: each row's code and name are the codec's for every packet
//!   it names, and every reason code the broker's code sends (handlers, core, the codec's
//!   decode errors) has a row for its packet.
//!
//! Links, code fences, doctests and the README's shape: `tests/docs_links.rs`.

#[path = "support/markdown.rs"]
mod markdown;
#[path = "support/reason_codes.rs"]
mod reason_codes;

use std::collections::BTreeSet;

use markdown::{read, Table};
use pubsub_core::Config;
use reason_codes::{codec_name, decode_error_codes, packets_of, sent_reason_codes, squash};

/// The table of `doc` under the heading `heading` whose first column is `first`.
fn table(doc: &str, heading: &str, first: &str) -> Table {
    markdown::tables(&read(doc))
        .into_iter()
        .find(|t| t.heading == heading && t.header.first().is_some_and(|h| h == first))
        .unwrap_or_else(|| panic!("{doc} has no table {first:?} under heading {heading:?}"))
}

/// The text of a cell without backticks.
fn plain(cell: &str) -> String {
    cell.replace('`', "")
}

/// The number at the start of `text`, digits with `,` separators (`32,768 B` → 32768).
fn number(text: &str) -> Option<u64> {
    let digits: String = text
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn load(pairs: &[(&str, String)]) -> Result<Config, pubsub_config::ConfigError> {
    Config::load(|k| {
        pairs
            .iter()
            .find(|(key, _)| *key == k)
            .map(|(_, v)| v.clone())
    })
}

#[test]
fn the_config_store_table_is_config_load() {
    let t = table("docs/configuration.md", "Config Store `config`", "Key");
    let (values, default) = (t.column("Values"), t.column("Default"));
    let mut read_keys = BTreeSet::new();
    let _ = Config::load(|k| {
        read_keys.insert(k.to_owned());
        None
    });
    let documented: BTreeSet<String> = t.rows.iter().map(|r| plain(&r[0])).collect();
    assert_eq!(
        documented, read_keys,
        "documented keys vs the keys Config::load reads"
    );
    for row in &t.rows {
        let key = plain(&row[0]);
        let key = key.as_str();
        let cell = row[default].trim();
        // A default written as one value (`true`, `300`) must be the code's default.
        let literal = cell.strip_prefix('`').and_then(|c| c.strip_suffix('`'));
        let literal = literal
            .map(str::to_owned)
            .or_else(|| number(cell).map(|n| n.to_string()));
        if let Some(v) = literal.filter(|v| !v.contains('<')) {
            assert_eq!(
                load(&[(key, v.clone())]),
                Ok(Config::default()),
                "{key}: documented default {v:?} is not Config::default()"
            );
        }
        check_values(key, &row[values]);
    }
}

/// `A to B` and `true`/`false`: the bounds are accepted, the values just outside refused.
fn check_values(key: &str, cell: &str) {
    let refused = |v: String| {
        let err = load(&[(key, v.clone())]).expect_err(&format!("{key} = {v:?} is refused"));
        assert_eq!(err.key, key);
    };
    let accepted = |v: String| {
        load(&[(key, v.clone())]).unwrap_or_else(|e| panic!("{key} = {v:?} is accepted: {e}"));
    };
    if plain(cell) == "true/false" {
        accepted("true".into());
        accepted("false".into());
        refused("yes".into());
    } else if let Some((lo, hi)) = cell.split_once(" to ") {
        let (lo, hi) = (number(lo), number(hi));
        let (Some(lo), Some(hi)) = (lo, hi) else {
            panic!("{key}: cannot read the range {cell:?}")
        };
        accepted(lo.to_string());
        accepted(hi.to_string());
        refused((hi + 1).to_string());
        if lo > 0 {
            refused((lo - 1).to_string());
        }
    }
}

/// The fixed limits the documentation names, by the constant that holds each.
fn constants() -> Vec<(&'static str, u64)> {
    use pubsub_handlers::{admin, mqtt, sse};
    let n = |v: usize| v as u64;
    vec![
        ("MAX_TOPIC_BYTES", n(pubsub_config::MAX_TOPIC_BYTES)),
        ("MAX_WILDCARD_LEVELS", n(pubsub_config::MAX_WILDCARD_LEVELS)),
        (
            "MAX_REQUEST_BODY_BYTES",
            n(pubsub_core::limits::MAX_REQUEST_BODY_BYTES),
        ),
        ("admin::MAX_BODY_BYTES", n(admin::MAX_BODY_BYTES)),
        ("admin::SECRET_BYTES", n(admin::SECRET_BYTES)),
        ("sse::KEEP_ALIVE_SECS", u64::from(sse::KEEP_ALIVE_SECS)),
        (
            "principal::LEEWAY_SECS",
            pubsub_core::principal::LEEWAY_SECS,
        ),
        ("mqtt::MAX_SUBSCRIPTIONS", n(mqtt::MAX_SUBSCRIPTIONS)),
        ("mqtt::RECEIVE_MAXIMUM", u64::from(mqtt::RECEIVE_MAXIMUM)),
        ("mqtt::MAX_WILL_BYTES", n(mqtt::MAX_WILL_BYTES)),
        ("mqtt::MAX_TOKEN_BYTES", n(mqtt::MAX_TOKEN_BYTES)),
        (
            "mqtt::MAX_CARRIED_PACKET_BYTES",
            n(mqtt::MAX_CARRIED_PACKET_BYTES),
        ),
        ("mqtt::ANSWER_BUDGET_BYTES", n(mqtt::ANSWER_BUDGET_BYTES)),
        ("mqtt::MAX_SLOT_READS", n(mqtt::MAX_SLOT_READS)),
        ("mqtt::MAX_FILTER_LISTINGS", n(mqtt::MAX_FILTER_LISTINGS)),
        ("mqtt::MIN_CALLBACK_SECS", mqtt::MIN_CALLBACK_SECS),
        (
            "wildcard::BUDGET_BYTES",
            n(pubsub_core::publish::BUDGET_BYTES),
        ),
        (
            "wildcard::REQUEST_BYTES",
            n(pubsub_core::grip::REQUEST_BYTES),
        ),
        (
            "retained::MAX_ATTEMPTS",
            n(pubsub_core::retained::MAX_ATTEMPTS),
        ),
        (
            "retained::RETRY_AFTER_SECS",
            u64::from(pubsub_core::retained::RETRY_AFTER_SECS),
        ),
        (
            "retained::SLOT_GRACE_SECS",
            u64::from(pubsub_core::retained::SLOT_GRACE_SECS),
        ),
        (
            "retained::EVENT_ID_MAX_ENTRIES",
            n(pubsub_core::retained::EVENT_ID_MAX_ENTRIES),
        ),
        (
            "retained::LIST_PAGE",
            u64::from(pubsub_core::retained::LIST_PAGE),
        ),
    ]
}

#[test]
fn the_fixed_limits_table_is_the_code_constants() {
    let t = table("docs/configuration.md", "Fixed limits", "Limit");
    let (value, constant) = (t.column("Value"), t.column("Constant"));
    let known = constants();
    let mut seen = BTreeSet::new();
    for row in &t.rows {
        let name = plain(&row[constant]);
        let Some((_, code)) = known.iter().find(|(n, _)| *n == name) else {
            panic!(
                "row {:?} names {name:?}, which tests/docs_facts.rs does not know",
                row[0]
            )
        };
        assert_eq!(
            number(&row[value]),
            Some(*code),
            "{name}: the table says {:?}",
            row[value]
        );
        seen.insert(name);
    }
    for (name, _) in known {
        assert!(
            seen.contains(name),
            "docs/configuration.md has no row for {name}"
        );
    }
}

#[test]
fn the_reason_code_table_is_the_codec_and_covers_what_the_broker_sends() {
    let t = table("docs/mqtt.md", "Reason codes", "Code");
    let (name, packets) = (t.column("Name"), t.column("Packets"));
    let mut rows: Vec<(u8, Vec<String>)> = Vec::new();
    for row in &t.rows {
        let hex = plain(&row[0]);
        let code = u8::from_str_radix(hex.trim_start_matches("0x"), 16)
            .unwrap_or_else(|_| panic!("not a reason code: {hex:?}"));
        let list: Vec<String> = row[packets]
            .split(',')
            .map(|p| plain(p).trim().to_owned())
            .collect();
        for p in &list {
            let codec = codec_name(p, code)
                .unwrap_or_else(|| panic!("0x{code:02X} is not a {p} reason code in the codec"));
            assert_eq!(squash(&codec), squash(&row[name]), "0x{code:02X} in {p}");
        }
        rows.push((code, list));
    }
    let has = |code: u8, packet: &str| {
        rows.iter()
            .any(|(c, l)| *c == code && l.iter().any(|p| p == packet))
    };
    for (prefix, variant) in sent_reason_codes() {
        let code = (1..=255u8)
            .chain([0])
            .find(|c| {
                packets_of(&prefix)
                    .first()
                    .and_then(|p| codec_name(p, *c))
                    .is_some_and(|n| n == variant)
            })
            .unwrap_or_else(|| panic!("{prefix}ReasonCode::{variant} not in the codec"));
        assert!(
            packets_of(&prefix).iter().any(|p| has(code, p)),
            "the broker sends {prefix}ReasonCode::{variant} (0x{code:02X}) but docs/mqtt.md's \
             table has no row for it in {:?}",
            packets_of(&prefix)
        );
    }
    for code in decode_error_codes() {
        // A bad CONNECT is answered in CONNACK, a bad later packet in DISCONNECT (0x84 and
        // 0x85 are about CONNECT only).
        let disconnect = matches!(code, 0x84 | 0x85) || has(code, "DISCONNECT");
        assert!(
            has(code, "CONNACK") && disconnect,
            "a decode error is answered with 0x{code:02X}: docs/mqtt.md's table lacks it"
        );
    }
}
