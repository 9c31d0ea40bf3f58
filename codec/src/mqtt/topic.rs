//! Topic name and topic filter syntax (spec §4.7, §4.8.2).
//!
//! The decoder rejects a whole packet only where the specification says the
//! packet is invalid (a wildcard in a PUBLISH topic name). A bad *filter* in
//! SUBSCRIBE is answered per filter (SUBACK 0x8F Topic Filter invalid), so
//! these checks are exposed for the caller rather than applied while decoding.

const SHARE_PREFIX: &str = "$share/";

/// Whether `topic` contains a wildcard character (both are ASCII, so a byte
/// scan finds them without decoding characters).
pub(crate) fn has_wildcard(topic: &str) -> bool {
    topic.bytes().any(|b| b == b'+' || b == b'#')
}

/// Whether `name` is a valid topic name: non-empty [MQTT-4.7.3-1], no
/// wildcards [MQTT-4.7.0-1], no U+0000 [MQTT-4.7.3-2].
pub fn is_valid_topic_name(name: &str) -> bool {
    !name.is_empty() && !has_wildcard(name) && !name.contains('\0')
}

/// Whether `filter` is a valid topic filter, including the shared form
/// `$share/{ShareName}/{filter}`: `#` only as the whole last level
/// [MQTT-4.7.1-1], `+` only as a whole level [MQTT-4.7.1-2], non-empty
/// [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2].
pub fn is_valid_topic_filter(filter: &str) -> bool {
    if let Some(rest) = filter.strip_prefix(SHARE_PREFIX) {
        return match rest.split_once('/') {
            Some((share_name, inner)) => {
                !share_name.is_empty() && !has_wildcard(share_name) && is_valid_plain_filter(inner)
            }
            None => false,
        };
    }
    is_valid_plain_filter(filter)
}

fn is_valid_plain_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let is_last = levels.peek().is_none();
        let ok = match level {
            "#" => is_last,
            "+" => true,
            other => !has_wildcard(other),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// Splits a shared subscription `$share/{ShareName}/{filter}` into its share
/// name and filter; `None` for an ordinary (or malformed shared) filter.
pub fn shared_subscription(filter: &str) -> Option<(&str, &str)> {
    let (share_name, inner) = filter.strip_prefix(SHARE_PREFIX)?.split_once('/')?;
    Some((share_name, inner))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_reject_wildcards_and_emptiness() {
        for good in ["a", "a/b", "/", "a//b", "$SYS/x", "sport/tennis player1"] {
            assert!(is_valid_topic_name(good), "{good}");
        }
        for bad in ["", "a/+", "#", "a/b#", "a\0b"] {
            assert!(!is_valid_topic_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn topic_filters_follow_the_wildcard_placement_rules() {
        let good = [
            "#",
            "+",
            "a/#",
            "a/+/c",
            "+/+",
            "/+",
            "a//#",
            "$share/g/a/#",
            "$share/g/#",
            "$sharex/a",
        ];
        for filter in good {
            assert!(is_valid_topic_filter(filter), "{filter}");
        }
        let bad = [
            "",
            "a#",
            "a/#/b",
            "a/b+",
            "+a",
            "##",
            "$share/",
            "$share/g",
            "$share//a",
            "$share/g+/a",
            "$share/g/",
            "a\0",
        ];
        for filter in bad {
            assert!(!is_valid_topic_filter(filter), "{filter:?}");
        }
    }

    #[test]
    fn shared_subscriptions_split_into_share_name_and_filter() {
        assert_eq!(shared_subscription("$share/grp/a/+"), Some(("grp", "a/+")));
        assert_eq!(shared_subscription("a/b"), None);
        assert_eq!(shared_subscription("$share/grp"), None);
    }
}
