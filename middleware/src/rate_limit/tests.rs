use std::net::IpAddr;
use std::sync::atomic::Ordering;

use pubsub_core::ports::memory::InMemory;

use super::*;
use crate::guard::GuardLayer;
use crate::test_helpers::*;

fn ports() -> InMemory {
    InMemory::new().with_hs256_key(DEV_KID, DEV_SECRET)
}

/// A request to a `class` route from `ip`, with `token`, configured with `rule`.
fn request(rule: &str, ip: &str, token: Option<&str>) -> Request {
    let mut req = request_with("POST", "/events?topic=a");
    let config = Config::load(|k| (k == "rate-limits").then(|| rule.to_owned()));
    req.extensions_mut().insert(config.expect("valid rule"));
    let ip: IpAddr = ip.parse().expect("ip");
    req.extensions_mut().insert(ClientIp(ip));
    if let Some(token) = token {
        req.extensions_mut().insert(Credentials(token.to_owned()));
    }
    req
}

/// The statuses of `n` requests made by `make`.
fn statuses(ports: &InMemory, class: Class, n: usize, make: impl Fn() -> Request) -> Vec<u16> {
    let mut svc = GuardLayer::new(RateLimit::new(class, ports.platform.clone())).layer(Echo);
    (0..n)
        .map(|_| {
            call(&mut svc, make()).map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16())
        })
        .collect()
}

const PUBLISH_2: &str = "publish 2/s over 1s penalty 1m";

#[test]
fn without_a_limit_for_the_class_nothing_is_counted() {
    let ports = ports();
    let got = statuses(&ports, Class::Subscribe, 5, || {
        request(PUBLISH_2, "10.0.0.1", None)
    });
    assert_eq!(got, [200; 5]);
    assert!(ports.rate.entries().is_empty());
}

#[test]
fn a_token_is_counted_by_its_subject_and_verified_once_for_the_route() {
    let ports = ports();
    let alice = mint(&serde_json::json!({"sub": "alice"}));
    let got = statuses(&ports, Class::Publish, 4, || {
        request(PUBLISH_2, "10.0.0.1", Some(&alice))
    });
    assert_eq!(got, [200, 200, 429, 429]);
    // Another address, the same subject (a fresh token): still penalised.
    let again = mint(&serde_json::json!({"sub": "alice", "exp": NOW + 7200}));
    let got = statuses(&ports, Class::Publish, 1, || {
        request(PUBLISH_2, "10.0.0.2", Some(&again))
    });
    assert_eq!(got, [429]);
    // Bob, from alice's address, is a caller of his own.
    let bob = mint(&serde_json::json!({"sub": "bob"}));
    let got = statuses(&ports, Class::Publish, 1, || {
        request(PUBLISH_2, "10.0.0.1", Some(&bob))
    });
    assert_eq!(got, [200]);
    assert_eq!(ports.rate.entries().len(), 2, "{:?}", ports.rate.entries());
    // The verified token rides on for Acl.
    let mut guard = RateLimit::new(Class::Publish, ports.platform.clone());
    let mut req = request(
        PUBLISH_2,
        "10.0.0.3",
        Some(&mint(&serde_json::json!({"sub": "c"}))),
    );
    assert!(matches!(guard.admit(&mut req), Ok(Admit::Continue)));
    let verified = req.extensions().get::<VerifiedToken>().expect("verified");
    assert_eq!(verified.0.sub.as_deref(), Some("c"));
    guard = RateLimit::new(Class::Admin, ports.platform.clone());
    let mut req = request("admin 2/s", "10.0.0.3", Some(&mint(&serde_json::json!({}))));
    assert!(matches!(guard.admit(&mut req), Ok(Admit::Continue)));
    assert!(
        req.extensions().get::<VerifiedToken>().is_none(),
        "admin ignores tokens"
    );
}

#[test]
fn a_penalised_caller_is_refused_without_touching_the_stores() {
    let ports = ports();
    let alice = mint(&serde_json::json!({"sub": "alice"}));
    let make = || request(PUBLISH_2, "10.0.0.1", Some(&alice));
    assert_eq!(statuses(&ports, Class::Publish, 3, make), [200, 200, 429]);
    // Any store read would now fail the request with 503.
    ports.kv.fail.store(true, Ordering::Relaxed);
    assert_eq!(statuses(&ports, Class::Publish, 2, make), [429, 429]);
    let anonymous = || request(PUBLISH_2, "10.0.0.9", None);
    assert_eq!(
        statuses(&ports, Class::Publish, 3, anonymous),
        [200, 200, 429]
    );
    // A minute later both are let in again.
    ports.env.now.fetch_add(60, Ordering::Relaxed);
    ports.kv.fail.store(false, Ordering::Relaxed);
    assert_eq!(statuses(&ports, Class::Publish, 1, make), [200]);
    assert_eq!(statuses(&ports, Class::Publish, 1, anonymous), [200]);
}

#[test]
fn a_forged_token_counts_against_its_address_never_the_subject_it_names() {
    let ports = ports();
    let forged = mint_with(
        "HS256",
        DEV_KID,
        "not-the-secret",
        &serde_json::json!({"sub": "alice", "exp": NOW + 60}),
    );
    let got = statuses(&ports, Class::Publish, 3, || {
        request(PUBLISH_2, "10.0.0.66", Some(&forged))
    });
    assert_eq!(
        got,
        [200, 200, 429],
        "the route refuses them; the limit counts them"
    );
    assert_eq!(ports.rate.penalised_entries(), ["publish|ip:10.0.0.66"]);
    let alice = mint(&serde_json::json!({"sub": "alice"}));
    let got = statuses(&ports, Class::Publish, 2, || {
        request(PUBLISH_2, "10.0.0.66", Some(&alice))
    });
    assert_eq!(
        got,
        [200, 200],
        "alice, even from that address, has her own count"
    );
}

#[test]
fn requests_without_a_token_count_by_address_and_fanouts_own_are_not_counted() {
    let ports = ports();
    let admin = "admin 1/s over 1s";
    let from = |ip: &'static str| move || request(admin, ip, None);
    assert_eq!(
        statuses(&ports, Class::Admin, 2, from("10.0.0.1")),
        [200, 429]
    );
    assert_eq!(statuses(&ports, Class::Admin, 1, from("10.0.0.2")), [200]);
    let signed = || {
        let mut req = request("subscribe 1/s over 1s", "10.0.0.1", None);
        req.extensions_mut().insert(GripVerified);
        req
    };
    assert_eq!(statuses(&ports, Class::Subscribe, 3, signed), [200; 3]);
    assert_eq!(
        ports.rate.entries(),
        ["admin|ip:10.0.0.1", "admin|ip:10.0.0.2"]
    );
}

#[test]
fn a_refusal_carries_retry_after_and_names_the_limit() {
    let ports = ports();
    let mut svc = GuardLayer::new(RateLimit::new(Class::Admin, ports.platform.clone())).layer(Echo);
    let make = || request("admin 1/s over 60s penalty 5m", "10.0.0.1", None);
    for _ in 0..60 {
        call(&mut svc, make()).expect("within the limit");
    }
    let err = call(&mut svc, make()).expect_err("over");
    assert_eq!(err.retry_after_secs(), Some(300));
    assert!(
        err.to_string().contains("admin allows 1/s over 60s"),
        "{err}"
    );
}
