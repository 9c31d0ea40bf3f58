use super::*;
use crate::uri_match::MAX_GROUPS;

const HUB: &str = "https://hub.example.com/.well-known/mercure";

fn matches(pattern: &str, topic: &str) -> bool {
    UrlPattern::parse(pattern, Some(HUB))
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .matches(topic)
}

#[test]
fn patterns_match_as_the_standard_says() {
    let cases: &[(&str, &str, bool)] = &[
        // The draft's examples.
        (
            "https://example.com/books/:id",
            "https://example.com/books/1",
            true,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com/books/1/2",
            false,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com/books/",
            false,
        ),
        (
            "https://example.com/books/:id",
            "https://EXAMPLE.com/books/1",
            true,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com/Books/1",
            false,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com:443/books/1",
            true,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com:8443/books/1",
            false,
        ),
        (
            "https://example.com/books/:id",
            "https://example.com/books/1?x#y",
            true,
        ),
        (
            "https://example.com/books/:id",
            "http://example.com/books/1",
            false,
        ),
        (
            "/.well-known/mercure/subscriptions/:topic/:sub",
            "/.well-known/mercure/subscriptions/a/b",
            true,
        ),
        (
            "/.well-known/mercure/subscriptions/:topic/:sub",
            "https://hub.example.com/.well-known/mercure/subscriptions/a/b",
            true,
        ),
        (
            "/.well-known/mercure/subscriptions/:topic/:sub",
            "https://other.example/.well-known/mercure/subscriptions/a/b",
            false,
        ),
        // Modifiers, wildcards, groups, regexps.
        (
            "https://example.com/books/:id?",
            "https://example.com/books",
            true,
        ),
        (
            "https://example.com/books/:id+",
            "https://example.com/books/1/2/3",
            true,
        ),
        (
            "https://example.com/books/:id*",
            "https://example.com/books",
            true,
        ),
        (
            "https://example.com/books/*",
            "https://example.com/books/a/b",
            true,
        ),
        (
            "https://example.com/books/*",
            "https://example.com/book",
            false,
        ),
        (
            "https://example.com/books{/old}?/:id",
            "https://example.com/books/old/1",
            true,
        ),
        (
            "https://example.com/books{/old}?/:id",
            "https://example.com/books/1",
            true,
        ),
        (
            "https://example.com/books/:id(\\d+)",
            "https://example.com/books/12",
            true,
        ),
        (
            "https://example.com/books/:id(\\d+)",
            "https://example.com/books/1a",
            false,
        ),
        (
            "https://example.com/books/(a|bc)",
            "https://example.com/books/bc",
            true,
        ),
        (
            "https://example.com/books/([a-c]{2,3})",
            "https://example.com/books/abc",
            true,
        ),
        (
            "https://example.com/books/([a-c]{2,3})",
            "https://example.com/books/abcd",
            false,
        ),
        (
            "https://example.com/:file.json",
            "https://example.com/a.json",
            true,
        ),
        ("http{s}?://example.com/x", "http://example.com/x", true),
        ("http{s}?://example.com/x", "https://example.com/x", true),
        ("https://*.example.com/x", "https://a.b.example.com/x", true),
        (
            "https://:sub.example.com/x",
            "https://a.b.example.com/x",
            false,
        ),
        (
            "https://example.com/x?q=:v",
            "https://example.com/x?q=1",
            true,
        ),
        (
            "https://example.com/x?q=:v",
            "https://example.com/x?r=1",
            false,
        ),
        (
            "https://example.com/x#:frag",
            "https://example.com/x#top",
            true,
        ),
        (
            "https://example.com/x#:frag",
            "https://example.com/x?a#top",
            false,
        ),
        (
            "https://example.com/café",
            "https://example.com/caf%C3%A9",
            true,
        ),
        // `:` before a letter starts a name: the standard needs `\\:` there.
        ("urn\\:example\\:*", "urn:example:1", true),
        ("urn\\:example\\:*", "urn:other:1", false),
        ("foo://host/a/:b", "foo://host/a/x", true),
        // Topics that are not URLs match nothing.
        ("https://example.com/*", "https://exämple.com/x", false),
        ("*://*/*", "http://a b/", false),
        ("/*", "relative topic", true),
    ];
    for (pattern, topic, want) in cases {
        assert_eq!(matches(pattern, topic), *want, "{pattern} vs {topic}");
    }
}

#[test]
fn bad_patterns_are_refused_naming_the_part() {
    let cases: &[(&str, &str)] = &[
        ("https://example.com/:id(a", "not closed"),
        ("https://example.com/(a(b))", "capturing"),
        ("https://example.com/((?=a))", "non-capturing"),
        ("https://example.com/(\\1)", "escape"),
        ("https://example.com/(^a)", "anchors"),
        ("https://example.com/:id/:id", "twice"),
        ("https://example.com/{a", "not closed"),
        ("https://exämple.com/x", "IDNA"),
        ("https://example.com:8x/", "port"),
        ("https://example.com/(a{1,1000})", "over 100"),
        ("https://example.com/()", "empty"),
    ];
    for (pattern, why) in cases {
        let err = UrlPattern::parse(pattern, Some(HUB)).expect_err(pattern);
        assert!(err.to_string().contains(why), "{pattern}: {err}");
    }
    let err = UrlPattern::parse("/books/:id", None).expect_err("relative without base");
    assert!(err.to_string().contains("base"), "{err}");
    let many: String = (0..40).map(|i| format!("/:g{i}")).collect();
    let err = UrlPattern::parse(&format!("https://e.com{many}"), None).expect_err("groups");
    assert!(err.to_string().contains("groups"), "{err}");
}

/// The worst cases tried: nested and adjacent quantifiers that make a backtracking
/// engine take exponential time. Each must finish well within a millisecond budget.
#[test]
fn pathological_patterns_match_in_bounded_time() {
    let long = "a".repeat(900);
    let cases = [
        "https://e.com/((?:a+)+)b".to_owned(),
        "https://e.com/((?:a|a)*)b".to_owned(),
        "https://e.com/((?:a*)*(?:a*)*(?:a*)*)b".to_owned(),
        format!("https://e.com/{}", "(a*)".repeat(30)),
        format!("https://e.com/{}b", "(a{0,100})".repeat(3)),
        format!("https://e.com/*{}", "a*".repeat(20)),
    ];
    for pattern in &cases {
        let p = UrlPattern::parse(pattern, None).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let topic = format!("https://e.com/{long}!");
        let start = std::time::Instant::now();
        let _ = p.matches(&topic);
        let took = start.elapsed();
        eprintln!("{pattern:.60} over {} chars: {took:?}", topic.len());
        assert!(
            took < std::time::Duration::from_millis(100),
            "{pattern}: {took:?}"
        );
    }
}

/// The most work one match may do: the largest program the caps allow, kept full of
/// live threads over a long topic, stops at the cost cap.
#[test]
fn the_cost_cap_bounds_the_largest_program() {
    let pattern = format!("https://e.com/{}", "([a-z]{0,30})".repeat(MAX_GROUPS));
    let p = UrlPattern::parse(&pattern, None).expect("within the caps");
    let topic = format!("https://e.com/{}", "a".repeat(4000));
    let start = std::time::Instant::now();
    assert!(!p.matches(&topic), "over the cap is not a match");
    let took = start.elapsed();
    eprintln!("largest program over 4000 chars: {took:?} (stopped by the cost cap)");
    assert!(took < std::time::Duration::from_millis(100), "{took:?}");
}
