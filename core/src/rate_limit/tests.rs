use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::*;
use crate::ports::memory::{MemoryRateLimiter, TestEnv};
use crate::test_util::*;

fn caller(token: &str) -> Caller {
    Caller::token(token).expect("a JWT with a kid")
}

#[test]
fn a_token_is_counted_by_key_id_and_subject_or_else_on_its_own() {
    let alice = |exp: u64| mint(&serde_json::json!({"sub": "alice", "exp": exp}));
    assert_eq!(caller(&alice(NOW)), caller(&alice(NOW + 1)), "same subject");
    let bob = mint(&serde_json::json!({"sub": "bob", "exp": NOW}));
    assert_ne!(caller(&alice(NOW)), caller(&bob));
    let other_key = mint_with(
        "HS256",
        "k2",
        DEV_SECRET,
        &serde_json::json!({"sub": "alice"}),
    );
    assert_ne!(
        caller(&alice(NOW)),
        caller(&other_key),
        "a subject per key id"
    );
    let anonymous = |exp: u64| mint(&serde_json::json!({"exp": exp}));
    assert_ne!(
        caller(&anonymous(NOW)),
        caller(&anonymous(NOW + 1)),
        "no sub: per token"
    );
    assert!(caller(&bob).0.starts_with("t:") && caller(&bob).0.len() == 34);
    assert!(
        !caller(&bob).0.contains("bob"),
        "the subject is not kept in clear"
    );
    assert_eq!(Caller::token("not a jwt"), None);
    assert_eq!(
        Caller::token(&unsigned_token(&serde_json::json!({"alg": "HS256"}))),
        None
    );
}

#[test]
fn an_address_is_counted_whole_for_ipv4_and_by_its_64_bits_for_ipv6() {
    let v4 = Caller::ip(Some(Ipv4Addr::new(203, 0, 113, 7).into()));
    assert_eq!(v4.0, "ip:203.0.113.7");
    let v6 = |s: &str| Caller::ip(Some(s.parse::<Ipv6Addr>().expect("v6").into()));
    assert_eq!(v6("2001:db8:1:2:aaaa::1").0, "ip:2001:db8:1:2::/64");
    assert_eq!(v6("2001:db8:1:2:bbbb::2"), v6("2001:db8:1:2::9"));
    assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
    assert_eq!(
        v6("::ffff:203.0.113.7"),
        v4,
        "an IPv4-mapped address is its IPv4 one"
    );
    assert_eq!(Caller::ip(None).0, "ip:unknown");
    assert_eq!(Caller::connection("abc").0, "c:abc");
    assert_eq!(Caller::connection(&"x".repeat(65)).0.len(), 34);
}

fn limiter() -> (Arc<TestEnv>, Arc<MemoryRateLimiter>) {
    let env = Arc::new(TestEnv::default());
    (env.clone(), Arc::new(MemoryRateLimiter::new(env)))
}

fn limits(rule: &str) -> RateLimits {
    pubsub_config::rate_limit::parse(rule).expect("valid rule")
}

#[test]
fn a_caller_over_the_limit_is_refused_for_the_penalty_then_admitted_again() {
    let (env, rate) = limiter();
    let limits = limits("publish 2/s over 1s penalty 2m");
    let limiter = Limiter::new(&*rate, Class::Publish, &limits).expect("limited");
    let alice = Caller::ip(Some(Ipv4Addr::LOCALHOST.into()));
    let bob = Caller::connection("bob");
    assert_eq!(limiter.admit(&alice), Ok(()));
    assert_eq!(limiter.admit(&alice), Ok(()));
    let refused = limiter.admit(&alice).expect_err("third in a second");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.retry_after_secs(), Some(120));
    assert_eq!(
        refused.to_string(),
        "too many requests: publish allows 2/s over 1s per caller, then refuses the caller \
         for 2 min; retry after 120 s"
    );
    assert_eq!(limiter.admit(&bob), Ok(()), "callers do not share a count");
    assert_eq!(rate.penalised_entries(), ["publish|ip:127.0.0.1"]);
    // A second later the rate is fine, but the penalty holds.
    env.now.fetch_add(1, Ordering::Relaxed);
    assert!(limiter.refuse_penalised(&alice).is_err());
    env.now.fetch_add(119, Ordering::Relaxed);
    assert_eq!(limiter.admit(&alice), Ok(()), "the penalty is over");
}

#[test]
fn classes_count_apart_and_an_unlimited_class_has_no_limiter() {
    let (_, rate) = limiter();
    let limits = limits("publish 1/s over 1s; admin 1/s over 1s");
    let publish = Limiter::new(&*rate, Class::Publish, &limits).expect("limited");
    let admin = Limiter::new(&*rate, Class::Admin, &limits).expect("limited");
    let caller = Caller::connection("x");
    assert_eq!(publish.admit(&caller), Ok(()));
    assert_eq!(admin.admit(&caller), Ok(()));
    assert!(publish.admit(&caller).is_err());
    assert!(Limiter::new(&*rate, Class::Subscribe, &limits).is_none());
    assert!(Limiter::new(&*rate, Class::MqttPublish, &limits).is_none());
}

#[test]
fn a_failing_rate_counter_lets_requests_through() {
    let (_, rate) = limiter();
    let limits = limits("publish 1/s over 1s");
    let limiter = Limiter::new(&*rate, Class::Publish, &limits).expect("limited");
    rate.fail.store(true, Ordering::Relaxed);
    for _ in 0..5 {
        assert_eq!(limiter.admit(&Caller::connection("x")), Ok(()));
    }
}
