//! Fuzz target for MQTT topic filters and token claims: `filter::check`, `Filter::parse`,
//! `Selector::claim`, `matches` and `covers` must never panic; a filter prints as written
//! and parses back; a filter covers itself; a claim selects what its filter matches; and
//! covering is sound: when claim A covers filter B, every topic B matches is matched by A.
//!
//! The input is NUL-separated: filter A, filter B, topic T. Besides T, the target builds a
//! topic B matches (its `+` levels and `#` filled from T's first level) to test soundness.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::topic::filter::{self, Filter};
use pubsub_core::topic::{Selector, TopicName};

/// A topic `f` should match: each `+` becomes `fill`, a final `#` becomes `fill` too.
fn topic_matched_by(f: &Filter, fill: &str) -> String {
    f.as_str()
        .split('/')
        .map(|level| {
            if level == "+" || level == "#" {
                fill
            } else {
                level
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn check_pair(a: &Filter, b: &Filter, topic: &str) {
    let covers = a.covers(b);
    let claims = (Selector::claim(a.to_string()), Selector::claim(b.to_string()));
    if let (Ok(claim_a), Ok(claim_b)) = claims {
        assert_eq!(claim_a.covers(&claim_b), covers, "{a} covers {b}");
    }
    if covers && b.matches(topic) {
        assert!(
            a.matches(topic),
            "{a} covers {b}, which matches {topic:?}, but {a} does not"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.split('\0');
    let a_text = fields.next().unwrap_or("");
    let b_text = fields.next().unwrap_or("");
    let topic = fields.next().unwrap_or("");

    let mut parsed = Vec::new();
    for f in [a_text, b_text] {
        let result = Filter::parse(f);
        assert_eq!(
            filter::check(f),
            result.as_ref().map(|_| ()).map_err(|e| *e)
        );
        assert_eq!(f.parse::<Filter>(), result);
        match result {
            Ok(filter) => {
                assert_eq!((filter.as_str(), filter.to_string().as_str()), (f, f));
                assert!(filter.covers(&filter), "{f:?} does not cover itself");
                let claim = Selector::claim(f.to_owned()).expect("a filter is a claim");
                assert_eq!(claim.matches(topic), filter.matches(topic));
                if !f.contains(['+', '#']) {
                    assert!(matches!(claim, Selector::Name(_)));
                    assert_eq!(filter.matches(topic), f == topic);
                    assert!(filter.matches(f));
                }
                parsed.push(filter);
            }
            Err(err) => {
                let _ = err.to_string();
                assert!(Selector::claim(f.to_owned()).is_err());
            }
        }
    }
    let [a, b] = parsed.as_slice() else {
        return;
    };
    check_pair(a, b, topic);
    check_pair(b, a, topic);
    let fill = topic.split('/').next().unwrap_or("");
    let built = topic_matched_by(b, fill);
    if TopicName::parse(&built).is_ok()
        && !(built.starts_with('$') && b.as_str().starts_with(['+', '#']))
    {
        assert!(b.matches(&built), "{b} does not match {built:?}");
        check_pair(a, b, &built);
    }
});
