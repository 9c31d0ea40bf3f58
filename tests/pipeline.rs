//! The whole pipeline on in-memory ports: routing, CORS, configuration, Grip-Sig,
//! tokens, and a user's own layer (the rate limit and request log layers:
//! `tests/layers.rs`). The same behaviour through Pushpin + Viceroy is in
//! `tests/e2e_*.rs`.

#[path = "support/native.rs"]
mod native;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use native::*;
use pubsub_core::extensions::Handoff;
use pubsub_core::ports::KvStore;
use pubsub_core::{Error, Request};
use pubsub_middleware::guard::{Admit, Guard, GuardLayer};
use tower_service::Service;

#[test]
fn an_unknown_path_is_404_and_a_wrong_method_is_405_with_allow() {
    let app = Native::new();
    let res = app.send(request("GET", "/nope").body(vec![]).expect("req"));
    assert_eq!(res.status(), 404);
    let res = app.send(request("PUT", "/events?topic=a").body(vec![]).expect("req"));
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "GET, POST, OPTIONS");
}

#[test]
fn a_cors_preflight_is_answered_without_a_token() {
    let app = Native::new();
    let res = app.send(request("OPTIONS", "/events").body(vec![]).expect("req"));
    assert_eq!(res.status(), 204);
    assert!(res.headers()["access-control-allow-headers"]
        .to_str()
        .is_ok_and(|h| h.contains("Last-Event-ID")));
}

#[test]
fn an_unsigned_subscribe_is_handed_off_to_fanout() {
    let app = Native::new();
    let res = app.send(request("GET", "/events?topic=a").body(vec![]).expect("req"));
    assert_eq!(res.extensions().get::<Handoff>(), Some(&Handoff("self")));
}

#[test]
fn a_signed_subscribe_with_a_token_in_the_query_holds_a_stream() {
    let app = Native::new();
    let uri = format!(
        "/events?topic=a&topic=b&auth={}",
        app.token(&["a", "b"], &[])
    );
    let res = app.send(
        request("GET", &uri)
            .header("grip-sig", app.grip_sig(GRIP_KEY))
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(res.status(), 200, "{}", body(&res));
    // Each topic, its retained channel, and the signing key's channel (for revocation).
    assert_eq!(res.headers()["grip-channel"], "a, r#a, b, r#b, k#k1");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
}

#[test]
fn a_forged_grip_sig_is_refused_before_anything_else() {
    let app = Native::new();
    let uri = format!("/events?topic=a&auth={}", app.token(&["a"], &[]));
    let res = app.send(
        request("GET", &uri)
            .header("grip-sig", app.grip_sig("not-the-key"))
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(res.status(), 403);
    assert!(body(&res).contains("Grip-Sig"));
}

#[test]
fn publish_answers_401_403_413_and_200() {
    let app = Native::new();
    let post = |token: Option<String>, body: Vec<u8>| {
        let mut req = request("POST", "/events?topic=a");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        app.send(req.body(body).expect("req")).status().as_u16()
    };
    assert_eq!(post(None, b"x".to_vec()), 401);
    assert_eq!(post(Some(app.token(&["a"], &[])), b"x".to_vec()), 403);
    assert_eq!(post(Some(app.token(&[], &["a"])), vec![0; 32_513]), 413);
    assert_eq!(post(Some(app.token(&[], &["a"])), b"x".to_vec()), 200);
    assert_eq!(app.publisher.items().len(), 1);
}

#[test]
fn a_bad_config_value_is_a_500_naming_it() {
    let app = Native::new();
    app.config
        .0
        .lock()
        .expect("lock")
        .insert("max-topics".into(), "many".into());
    let res = app.send(
        request("POST", "/events?topic=a")
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(res.status(), 500);
    assert!(body(&res).contains("max-topics") && body(&res).contains("many"));
}

#[test]
fn a_disabled_feature_is_404() {
    let app = Native::new();
    app.config
        .0
        .lock()
        .expect("lock")
        .insert("http-publish".into(), "false".into());
    let token = app.token(&[], &["a"]);
    let res = app.send(
        request("POST", &format!("/events?topic=a&auth={token}"))
            .body(b"x".to_vec())
            .expect("req"),
    );
    assert_eq!(res.status(), 404);
    assert!(app.publisher.items().is_empty());
}

#[test]
fn the_demo_page_is_served_without_a_token_until_switched_off() {
    let app = Native::new();
    for path in ["/", "/demo.css", "/demo.js"] {
        let res = app.send(request("GET", path).body(vec![]).expect("req"));
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers().contains_key("content-security-policy"),
            "{path}"
        );
    }
    let res = app.send(request("POST", "/").body(vec![]).expect("req"));
    assert_eq!(res.status(), 405);
    app.config
        .0
        .lock()
        .expect("lock")
        .insert("demo".into(), "false".into());
    for path in ["/", "/demo.css", "/demo.js"] {
        let res = app.send(request("GET", path).body(vec![]).expect("req"));
        assert_eq!(res.status(), 404, "{path}");
    }
}

#[test]
fn an_unknown_kid_is_401_and_a_key_store_failure_is_503() {
    let app = Native::new();
    let token = app.token(&[], &["a"]);
    app.kv.delete("keys", KID).expect("delete");
    let req = || {
        request("POST", &format!("/events?topic=a&auth={token}"))
            .body(b"x".to_vec())
            .expect("req")
    };
    assert_eq!(app.send(req()).status(), 401);
    app.kv.fail.store(true, Ordering::Relaxed);
    assert_eq!(app.send(req()).status(), 503);
}

#[test]
fn a_token_without_exp_is_refused_with_401() {
    let app = Native::new();
    let token = app.token_with(&serde_json::json!({"x-fastly-read":["a"],"x-fastly-write":["a"]}));
    let publish = app.send(
        request("POST", "/events?topic=a")
            .header("authorization", format!("Bearer {token}"))
            .body(b"x".to_vec())
            .expect("req"),
    );
    assert_eq!(publish.status(), 401);
    assert!(
        body(&publish).contains("token has no exp claim"),
        "{}",
        body(&publish)
    );
    let subscribe = app.send(
        request("GET", &format!("/events?topic=a&auth={token}"))
            .header("grip-sig", app.grip_sig(GRIP_KEY))
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(subscribe.status(), 401);
    assert!(
        body(&subscribe).contains("token has no exp claim"),
        "{}",
        body(&subscribe)
    );
    assert!(app.publisher.items().is_empty());
}

#[test]
fn a_malformed_key_record_refuses_tokens_signed_with_its_text() {
    let app = Native::new();
    // Read as a bare secret, this record would be an HS256 key anyone could sign with.
    let record = r#"{"kind":"ES256","public":"-----BEGIN PUBLIC KEY-----"}"#;
    app.kv
        .insert("keys", KID, record.as_bytes(), Default::default())
        .expect("seed");
    let claims = serde_json::json!({"x-fastly-write":["a"], "exp": app.now() + 60});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(KID.into());
    let forged = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(record.as_bytes()),
    )
    .expect("jwt");
    let res = app.send(
        request("POST", "/events?topic=a")
            .header("authorization", format!("Bearer {forged}"))
            .body(b"x".to_vec())
            .expect("req"),
    );
    assert_eq!(res.status(), 401);
    assert!(
        body(&res).contains(&format!("signing key {KID:?} is unusable")),
        "{}",
        body(&res)
    );
    assert!(app.publisher.items().is_empty());
}

#[test]
fn a_grip_sig_without_exp_is_refused_with_403() {
    let app = Native::new();
    let uri = format!("/events?topic=a&auth={}", app.token(&["a"], &[]));
    let sig = app.grip_sig_with(GRIP_KEY, &serde_json::json!({ "iss": "pushpin" }));
    let res = app.send(
        request("GET", &uri)
            .header("grip-sig", sig)
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(res.status(), 403, "{}", body(&res));
    assert!(body(&res).contains("exp"), "{}", body(&res));
}

#[test]
fn an_empty_grip_sig_key_is_a_500_naming_the_setting() {
    let mut app = Native::new();
    app.platform.secrets = Arc::new(pubsub_core::ports::memory::MemoryMap::of(&[(
        "grip-sig-key",
        "",
    )]));
    // Signed with the empty key: without the check it would verify.
    let uri = format!("/events?topic=a&auth={}", app.token(&["a"], &[]));
    let res = app.send(
        request("GET", &uri)
            .header("grip-sig", app.grip_sig(""))
            .body(vec![])
            .expect("req"),
    );
    assert_eq!(res.status(), 500, "{}", body(&res));
    assert!(body(&res).contains("grip-sig-key"), "{}", body(&res));
}

/// The README's example of a user's own layer: publishes must be JSON.
#[derive(Clone)]
struct JsonOnly;

impl Guard for JsonOnly {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let publish = req.method() == http::Method::POST && req.uri().path() == "/events";
        if publish && serde_json::from_slice::<serde_json::Value>(req.body()).is_err() {
            return Err(Error::BadRequest("messages must be JSON".into()));
        }
        Ok(Admit::Continue)
    }
}

#[test]
fn a_users_own_layer_runs_without_touching_the_handlers() {
    let app = Native::new();
    let mut svc = edge_pubsub::app_with(app.platform.clone(), GuardLayer::new(JsonOnly));
    let token = app.token(&[], &["a"]);
    let publish = |body: &[u8]| {
        request("POST", "/events?topic=a")
            .header("authorization", format!("Bearer {token}"))
            .body(body.to_vec())
            .expect("req")
    };
    let Ok(json) = svc.call(publish(br#"{"t":21.5}"#)).into_inner();
    assert_eq!(json.status(), 200);
    let Ok(text) = svc.call(publish(b"21.5 degrees")).into_inner();
    assert_eq!(
        (text.status().as_u16(), body(&text).as_str()),
        (400, "messages must be JSON\n")
    );
    let subscribe = request("GET", "/events?topic=a").body(vec![]).expect("req");
    let Ok(handoff) = svc.call(subscribe).into_inner();
    assert!(handoff.extensions().get::<Handoff>().is_some());
    assert_eq!(app.publisher.items().len(), 1);
}

#[test]
fn an_unsigned_mqtt_upgrade_is_handed_off_but_an_unsigned_websocket_events_post_is_refused() {
    let app = Native::new();
    let upgrade = app.send(request("GET", "/mqtt").body(vec![]).expect("req"));
    assert_eq!(
        upgrade.extensions().get::<Handoff>(),
        Some(&Handoff("self"))
    );
    let forged = app.send(
        request("POST", "/mqtt")
            .header("content-type", "application/websocket-events")
            .header("meta-mqtt-v", "5")
            .body(b"OPEN\r\n".to_vec())
            .expect("req"),
    );
    assert_eq!(forged.status(), 403);
    assert!(forged.extensions().get::<Handoff>().is_none());
}

#[test]
fn a_second_retained_publish_within_a_second_is_429_with_retry_after_and_not_published() {
    use pubsub_core::ports::memory::{RateLimitedKv, TestEnv};
    // Fastly KV's one write per second per key, which Viceroy does not enforce.
    let mut app = Native::new();
    let clock = Arc::new(TestEnv::default());
    app.platform.env = clock.clone();
    app.platform.kv = Arc::new(RateLimitedKv::new(app.platform.kv.clone(), clock.clone()));
    let token = app.token(&[], &["a"]);
    let retain = |payload: &[u8]| {
        app.send(
            request("POST", "/events?topic=a&retain=true")
                .header("authorization", format!("Bearer {token}"))
                .body(payload.to_vec())
                .expect("req"),
        )
    };
    assert_eq!(retain(b"first").status(), 200);
    let res = retain(b"second");
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "1");
    assert_eq!(
        body(&res),
        "too many writes to the retained message of topic \"a\": the store takes one per \
         second; retry after 1 s\n"
    );
    assert_eq!(app.publisher.items().len(), 1, "nothing more published");
    let stored = pubsub_core::retained::load(&*app.platform.kv, app.now(), "a")
        .expect("read")
        .expect("present");
    assert_eq!(stored.payload, b"first");
    clock.now.fetch_add(1, Ordering::Relaxed);
    assert_eq!(retain(b"second").status(), 200);
    assert_eq!(app.publisher.items().len(), 2);
}

#[test]
fn a_pattern_claim_authorises_the_topics_it_matches_and_a_wildcard_topic_is_400() {
    let app = Native::new();
    let token = app.token(&["sensors/+/temp"], &["sensors/+/temp", "a/#/b"]);
    let send = |method: &str, topic: &str| {
        let uri = format!("/events?topic={topic}&auth={token}");
        let res = app.send(
            request(method, &uri)
                .header("grip-sig", app.grip_sig(GRIP_KEY))
                .body(b"21.5".to_vec())
                .expect("req"),
        );
        (res.status().as_u16(), body(&res))
    };
    assert_eq!(send("POST", "sensors/1/temp").0, 200);
    assert_eq!(send("POST", "sensors/1/hum").0, 403);
    assert_eq!(send("POST", "sensors/1/temp/x").0, 403);
    // A malformed claim matches nothing, itself included, and the others still count.
    assert_eq!(send("POST", "a/x/b").0, 403);
    assert_eq!(app.publisher.items().len(), 1);
    let (status, text) = send("GET", "sensors/1/temp");
    assert_eq!(status, 200, "{text}");
    assert_eq!(send("GET", "sensors/1/hum").0, 403);
    let (status, text) = send("POST", "sensors/%2B/temp");
    assert_eq!(status, 400);
    assert!(text.contains("topic names cannot contain"), "{text}");
    // A subscription may be a filter the read claims cover.
    let (status, text) = send("GET", "sensors/%2B/temp");
    assert_eq!(status, 200, "{text}");
    let (status, text) = send("GET", "sensors/%23");
    assert_eq!(
        status, 403,
        "`sensors/+/temp` does not cover `sensors/#`: {text}"
    );
    let (status, text) = send("GET", "sensors/a%23");
    assert_eq!(status, 400);
    assert!(text.contains("`#` must be a whole level"), "{text}");
}
