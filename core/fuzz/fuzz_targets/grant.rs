//! Fuzz target for link grants: `grant::verify` with a fuzzed grant, topics and clock
//! must never panic, and only ever grants reading exactly the topics asked for; a grant
//! `grant::issue` makes for a usable key id verifies for its topics until it expires.
//!
//! The input is NUL-separated: the clock (decimal), the grant, then the topics. With the
//! mode bit (first byte odd) the grant field is a key id and `exp`, and the target issues
//! a grant for them first.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::grant;
use pubsub_core::keys::validate_id;
use pubsub_core::principal::Principal;
use pubsub_core::topic::Selector;

const KEY: &[u8] = b"grant-fuzz-key";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let mut fields = text.split('\0');
    let now: u64 = fields.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    let grant_field = fields.next().unwrap_or("");
    // A grant covers the selectors of a subscription; fields that are none are skipped.
    let topics: Vec<Selector> = fields
        .filter_map(|f| Selector::subscription(f.to_owned(), 8).ok())
        .collect();

    if mode % 2 == 1 {
        // `<kid>:<exp>`: issue, then verify.
        let (kid, exp) = grant_field.split_once(':').unwrap_or((grant_field, ""));
        if validate_id(kid).is_err() {
            return;
        }
        let principal = Principal {
            read: topics.iter().take(1).cloned().collect(),
            exp: exp.parse().ok().filter(|&e| e != 0),
            kid: kid.to_owned(),
            ..Principal::default()
        };
        let issued = grant::issue(KEY, &principal, &topics).expect("issued");
        match grant::verify(KEY, &issued, &topics, now) {
            Ok(p) => {
                assert_eq!(
                    (p.read, p.exp, p.kid),
                    (topics.clone(), principal.exp, principal.kid)
                );
                assert!(p.write.is_empty() && p.nbf.is_none());
            }
            Err(err) => {
                assert!(principal.expired_at(now), "a fresh grant refused: {err}");
                assert_eq!(err.status(), 401);
            }
        }
        assert!(grant::verify(b"another-key", &issued, &topics, now).is_err());
        let mut more = topics.clone();
        more.extend(Selector::subscription("x".into(), 8));
        assert!(grant::verify(KEY, &issued, &more, now).is_err());
        return;
    }

    match grant::verify(KEY, grant_field, &topics, now) {
        Ok(p) => {
            assert_eq!(p.read, topics);
            assert!(p.write.is_empty());
            assert!(!p.expired_at(now));
        }
        Err(err) => {
            let _ = err.to_string();
        }
    }
    assert!(grant::verify(b"", grant_field, &topics, now).is_err());
});
