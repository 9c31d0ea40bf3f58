//! The Mercure hub on the real stack (Pushpin + Viceroy running the release wasm), with a
//! stack of its own: Config Store `mercure` = `on; anonymous; default-kid dev`, 0.x
//! tokens signed with the dev key (with and without `kid`), real SSE clients.
//!
//! - A form POST publishes an update: `200 text/plain` with its id; an anonymous
//!   subscriber of the exact topic gets its event with `id:`, `event:` and every line
//!   of its data; a URI template subscriber gets it when the template matches, not else.
//! - A private update reaches only a subscriber whose subscribe grants cover its topic.
//! - One broker: an `/events` stream of the topic gets a Mercure update, and a Mercure
//!   template subscriber gets what `POST /events` publishes.
//! - 1.0 access tokens (`typ: at+jwt`, `authorization_details`) publish and receive
//!   private updates (cookie `__Secure-mercure_access_token`); one in the URL is refused,
//!   as is one for another audience.
//! - Bad input: no token (401), a topic the token may not publish (403), no topic, `*`,
//!   a reserved topic, a bad `retry`, a body that is not a form (400), a subscription
//!   without a selector (400).

#[path = "support/e2e.rs"]
mod e2e;

use std::time::Duration;

use e2e::{enc, send_to, stack_with, unique, Reply, Sse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pubsub_devstack::{dev_token, Stack, DEV_KEY_ID, DEV_KEY_SECRET};
use serde_json::json;

const HUB: &str = "/.well-known/mercure";

/// The issuer and audience of the stack's 1.0 tokens.
const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "https://hub.example/.well-known/mercure";

fn stack() -> &'static Stack {
    stack_with(&[(
        "mercure",
        "on; anonymous; default-kid dev; issuers https://issuer.example; \
         audience https://hub.example/.well-known/mercure",
    )])
}

/// A Mercure 1.0 access token (`typ: at+jwt`) of the dev key granting `actions` on
/// `topics`.
fn access_token(actions: &[&str], topics: &[&str]) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(DEV_KEY_ID.to_owned());
    let matchers: Vec<_> = topics.iter().map(|t| json!({ "match": t })).collect();
    let detail = json!({
        "type": "https://mercure.rocks/authorization-detail",
        "actions": actions,
        "topics": matchers,
    });
    let claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "exp": pubsub_token::now_secs() + 600,
        "authorization_details": [detail],
    });
    let key = EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

/// A Mercure 0.x token of the dev key (`kid` in its header when `with_kid`).
fn token(publish: &[&str], subscribe: &[&str], with_kid: bool) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = with_kid.then(|| DEV_KEY_ID.to_owned());
    let exp = pubsub_token::now_secs() + 600;
    let claims = json!({"mercure": {"publish": publish, "subscribe": subscribe}, "exp": exp});
    let key = EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes());
    jsonwebtoken::encode(&header, &claims, &key).expect("signed")
}

fn form(pairs: &[(&str, &str)]) -> String {
    let pairs: Vec<String> = pairs
        .iter()
        .map(|(n, v)| format!("{n}={}", enc(v)))
        .collect();
    pairs.join("&")
}

fn post(token: Option<&str>, body: &str) -> Reply {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth));
    }
    send_to(&stack().app_url(), "POST", HUB, &headers, body.as_bytes())
}

fn subscribe(query: &str, headers: &[(&str, &str)]) -> Sse {
    let sse = Sse::open_at(&stack().app_url(), &format!("{HUB}?{query}"), headers);
    assert_eq!(sse.status, 200, "subscribe {query}");
    assert_eq!(sse.content_type, "text/event-stream");
    sse
}

fn quiet(sse: &Sse) -> bool {
    sse.next_within(Duration::from_millis(700)).is_none()
}

#[test]
fn a_form_post_reaches_exact_and_template_subscribers_with_its_id_type_and_lines() {
    let base = format!("https://example.com/{}", unique("books"));
    let topic = format!("{base}/1");
    let exact = subscribe(&format!("topic={}", enc(&topic)), &[]);
    let template = subscribe(&format!("topic={}", enc(&format!("{base}/{{id}}"))), &[]);
    let other = subscribe(
        &format!("topic={}", enc("https://example.com/none/{id}")),
        &[],
    );
    let publisher = token(&["*"], &[], false);
    let body = form(&[
        ("topic", &topic),
        ("data", "first\n\n  indented"),
        ("type", "book"),
        ("id", "book-1-v1"),
        ("retry", "2500"),
    ]);
    let r = post(Some(&publisher), &body);
    assert_eq!((r.status, r.text()), (200, "book-1-v1".to_owned()));
    for sse in [&exact, &template] {
        let ev = sse.next().expect("the update");
        assert_eq!(ev.id.as_deref(), Some("book-1-v1"));
        assert_eq!(ev.event, "book");
        assert_eq!(ev.data, "first\n\n  indented");
    }
    assert!(quiet(&other), "a template that does not match gets nothing");
    // Without an id the hub makes one; with a `kid` the token verifies as well.
    let r = post(
        Some(&token(&[&topic], &[], true)),
        &form(&[("topic", &topic), ("data", "x")]),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let id = r.text();
    assert!(id.starts_with("urn:uuid:") && id.len() == 45, "{id}");
    assert_eq!(exact.next().expect("the second").id, Some(id));
}

#[test]
fn a_private_update_reaches_only_subscribers_whose_grants_cover_it() {
    let topic = format!("https://example.com/{}", unique("secret"));
    let anonymous = subscribe(&format!("topic={}", enc(&topic)), &[]);
    let reader = token(&[], &[&topic], false);
    let cookie = format!("mercureAuthorization={reader}");
    let allowed = subscribe(&format!("topic={}", enc(&topic)), &[("Cookie", &cookie)]);
    let elsewhere = token(&[], &["https://example.com/other"], false);
    let auth = format!("Bearer {elsewhere}");
    let denied = subscribe(
        &format!("topic={}", enc(&topic)),
        &[("Authorization", &auth)],
    );
    let body = form(&[
        ("topic", &topic),
        ("data", "for your eyes"),
        ("private", "on"),
    ]);
    assert_eq!(post(Some(&token(&["*"], &[], false)), &body).status, 200);
    assert_eq!(
        allowed.next().expect("the private update").data,
        "for your eyes"
    );
    assert!(quiet(&anonymous) && quiet(&denied));
}

#[test]
fn mercure_1_0_tokens_publish_and_receive_private_updates_and_never_travel_in_the_url() {
    let topic = format!("https://example.com/{}", unique("v1"));
    let reader = access_token(&["subscribe"], &[&topic]);
    let cookie = format!("__Secure-mercure_access_token={reader}");
    let query = format!("match={}", enc(&topic));
    let allowed = subscribe(&query, &[("Cookie", &cookie)]);
    let publisher = access_token(&["publish"], &["*"]);
    let body = form(&[("topic", &topic), ("data", "1.0"), ("private", "")]);
    let r = post(Some(&publisher), &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(allowed.next().expect("the private update").data, "1.0");
    // 1.0 forbids tokens in URLs: in the `authorization` parameter it is refused.
    let path = format!("{HUB}?{query}&authorization={reader}");
    let r = send_to(&stack().app_url(), "GET", &path, &[], b"");
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(
        r.text().contains("may not travel in the URL"),
        "{}",
        r.text()
    );
    // A 1.0 token for another audience is refused, naming it.
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let claims =
        json!({"iss": ISSUER, "aud": "https://elsewhere", "exp": pubsub_token::now_secs() + 60});
    let key = EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes());
    let other = jsonwebtoken::encode(&header, &claims, &key).expect("signed");
    let r = post(Some(&other), &body);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.text().contains("aud"), "{}", r.text());
    // The RFC 9728 metadata names the audience and the issuer.
    let path = "/.well-known/oauth-protected-resource/.well-known/mercure";
    let r = send_to(&stack().app_url(), "GET", path, &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let doc: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    assert_eq!(doc["resource"], AUDIENCE);
    assert_eq!(doc["authorization_servers"], json!([ISSUER]));
    assert_eq!(doc["mercure_cookie"], "__Secure-mercure_access_token");
    // A missing token gets a challenge without an error code, as 1.0 requires.
    let r = send_to(
        &stack().app_url(),
        "POST",
        HUB,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"edge-pubsub\"")
    );
}

#[test]
fn mercure_updates_and_events_publishes_are_one_broker() {
    let name = unique("shared");
    let topic = format!("https://example.com/{name}/1");
    let events = Sse::subscribe_at(
        &stack().app_url(),
        &format!(
            "/events?topic={}&auth={}",
            enc(&topic),
            dev_token(&[&topic], &[])
        ),
        &[],
    );
    let template = subscribe(
        &format!(
            "topic={}",
            enc(&format!("https://example.com/{name}/{{n}}"))
        ),
        &[],
    );
    let body = form(&[("topic", &topic), ("data", "from mercure")]);
    assert_eq!(post(Some(&token(&["*"], &[], false)), &body).status, 200);
    assert_eq!(events.next().expect("on /events").data, "from mercure");
    assert_eq!(template.next().expect("on the hub").data, "from mercure");
    let auth = format!("Bearer {}", dev_token(&[], &[&topic]));
    let path = format!("/events?topic={}", enc(&topic));
    let sent = send_to(
        &stack().app_url(),
        "POST",
        &path,
        &[("Authorization", &auth)],
        b"from http",
    );
    assert_eq!(sent.status, 200, "{}", sent.text());
    let ev = template.next().expect("an HTTP publish on the hub");
    assert_eq!(
        (ev.event.as_str(), ev.data.as_str()),
        ("message", "from http")
    );
}

#[test]
fn bad_publishes_and_subscriptions_get_specific_errors() {
    let topic = "https://example.com/errors";
    let publisher = token(&[topic], &[], false);
    let cases: [(Option<&str>, String, u16, &str); 7] = [
        (None, form(&[("topic", topic)]), 401, "token"),
        (
            Some(&publisher),
            form(&[("topic", "https://example.com/x")]),
            403,
            "https://example.com/x",
        ),
        (
            Some(&publisher),
            form(&[("data", "x")]),
            400,
            "needs a `topic`",
        ),
        (Some(&publisher), form(&[("topic", "*")]), 400, "reserved"),
        (
            Some(&publisher),
            form(&[("topic", "/.well-known/mercure/subscriptions/x")]),
            400,
            "reserved",
        ),
        (
            Some(&publisher),
            form(&[("topic", topic), ("retry", "soon")]),
            400,
            "retry",
        ),
        (
            Some(&publisher),
            form(&[("topic", topic), ("id", "#1")]),
            400,
            "`id`",
        ),
    ];
    for (token, body, status, says) in cases {
        let r = post(token, &body);
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(r.text().contains(says), "{body}: {}", r.text());
    }
    let auth = format!("Bearer {publisher}");
    let r = send_to(
        &stack().app_url(),
        "POST",
        HUB,
        &[("Authorization", &auth)],
        b"topic=x",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("form"), "{}", r.text());
    let r = send_to(
        &stack().app_url(),
        "GET",
        &format!("{HUB}?lastEventID=1"),
        &[],
        b"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("selector"), "{}", r.text());
    let r = send_to(
        &stack().app_url(),
        "GET",
        &format!("{HUB}?match_regex=a"),
        &[],
        b"",
    );
    assert_eq!(r.status, 400, "{}", r.text());
}
