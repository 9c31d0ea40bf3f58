//! The rate limit and request log layers in the whole pipeline, on in-memory ports (the
//! local stack's Edge Rate Limiting never limits: `tests/e2e_layers.rs`).

#[path = "support/native.rs"]
mod native;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;

use native::*;
use pubsub_core::extensions::{ClientIp, Handoff};
use pubsub_core::{Request, Response};

const FROM: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

/// `req` as the Compute adapter hands it over, from [`FROM`].
fn from_client(req: http::request::Builder) -> Request {
    let mut req = req.body(Vec::new()).expect("req");
    req.extensions_mut().insert(ClientIp(FROM));
    req
}

fn publish(app: &Native, token: &str, payload: &[u8]) -> Response {
    let mut req = from_client(
        request("POST", "/events?topic=a").header("authorization", format!("Bearer {token}")),
    );
    *req.body_mut() = payload.to_vec();
    app.send(req)
}

#[test]
fn a_publisher_over_its_limit_gets_429_with_retry_after_until_the_penalty_ends() {
    let app = Native::new();
    app.set("rate-limits", "publish 2/s over 1s penalty 3m");
    let token = app.token(&[], &["a"]);
    assert_eq!(publish(&app, &token, b"1").status(), 200);
    assert_eq!(publish(&app, &token, b"2").status(), 200);
    let refused = publish(&app, &token, b"3");
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "180");
    assert_eq!(
        body(&refused),
        "too many requests: publish allows 2/s over 1s per caller, then refuses the caller \
         for 3 min; retry after 180 s\n"
    );
    // Penalised: refused without reading a store (a store read would be a 503 now).
    app.kv.fail.store(true, Ordering::Relaxed);
    assert_eq!(publish(&app, &token, b"4").status(), 429);
    app.kv.fail.store(false, Ordering::Relaxed);
    app.env.now.fetch_add(179, Ordering::Relaxed);
    assert_eq!(publish(&app, &token, b"5").status(), 429);
    app.env.now.fetch_add(1, Ordering::Relaxed);
    assert_eq!(publish(&app, &app.token(&[], &["a"]), b"6").status(), 200);
    assert_eq!(
        app.publisher.items().len(),
        3,
        "refused messages are not published"
    );
    // Other classes are not limited.
    let subscribe = from_client(request("GET", "/events?topic=a"));
    assert!(app.send(subscribe).extensions().get::<Handoff>().is_some());
}

#[test]
fn a_subscriber_over_its_limit_gets_a_stream_error_before_the_handoff() {
    let app = Native::new();
    app.set("rate-limits", "subscribe 1/s over 1s");
    let token = app.token(&["a"], &[]);
    let subscribe = |accept: &str| {
        let uri = format!("/events?topic=a&auth={token}");
        app.send(from_client(request("GET", &uri).header("accept", accept)))
    };
    assert!(subscribe("*/*").extensions().get::<Handoff>().is_some());
    let curl = subscribe("*/*");
    assert_eq!(curl.status(), 429);
    assert_eq!(curl.headers()["retry-after"], "60");
    let event_source = subscribe("text/event-stream");
    assert_eq!(
        event_source.status(),
        200,
        "an EventSource reads only a 200"
    );
    assert_eq!(event_source.headers()["content-type"], "text/event-stream");
    assert!(body(&event_source)
        .starts_with("event: stream-error\ndata: {\"condition\":\"too-many-requests\""));
    // The MQTT hand-shake is the same class, counted by address (no token).
    app.env.now.fetch_add(61, Ordering::Relaxed);
    let mqtt = || app.send(from_client(request("GET", "/mqtt")));
    assert!(mqtt().extensions().get::<Handoff>().is_some());
    assert_eq!(mqtt().status(), 429);
    assert_eq!(
        app.rate.penalised_entries(),
        ["subscribe|ip:203.0.113.7"],
        "the token's penalty is over; the address's is not"
    );
}

#[test]
fn an_admin_caller_over_its_limit_is_refused_before_its_credential_is_checked() {
    let app = Native::new();
    app.set("rate-limits", "admin 1/s over 1s penalty 1m");
    let list = || {
        let req = request("GET", "/admin/keys").header("fastly-key", "wrong");
        app.send(from_client(req)).status().as_u16()
    };
    assert_eq!((list(), list(), list()), (401, 429, 429));
}

#[test]
fn a_bad_setting_of_either_layer_is_a_500_naming_its_key() {
    for (key, value) in [
        ("rate-limits", "publish 20/minute"),
        ("request-log", "stdout"),
    ] {
        let app = Native::new();
        app.set(key, value);
        let res = app.send(from_client(request("GET", "/events?topic=a")));
        assert_eq!(res.status(), 500, "{key}");
        assert!(body(&res).contains(&format!("`{key}`")) && body(&res).contains(value));
    }
}

#[test]
fn every_request_gets_a_log_line_without_tokens_secrets_or_payloads() {
    let app = Native::new();
    app.set("request-log", "requests");
    let token = app.token(&[], &["a"]);
    assert_eq!(publish(&app, &token, b"the-payload").status(), 200);
    let admin = request("GET", "/admin/keys").header("fastly-key", "an-admin-secret");
    assert_eq!(app.send(from_client(admin)).status(), 401);
    let link = format!("/events/link/the-grant-itself?topic=a&auth={token}");
    let signed = request("GET", &link).header("grip-sig", app.grip_sig(GRIP_KEY));
    app.send(from_client(signed));
    let lines = app.log.lines();
    assert_eq!(lines.len(), 3);
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|(endpoint, line)| {
            assert_eq!(endpoint, "requests");
            serde_json::from_str(line).expect("one JSON object per line")
        })
        .collect();
    assert_eq!(parsed[0]["route"], "/events");
    assert_eq!(
        (parsed[0]["status"].as_u64(), parsed[0]["topics"].as_u64()),
        (Some(200), Some(1))
    );
    assert_eq!(parsed[0]["kid"], KID);
    assert_eq!(
        (parsed[1]["route"].as_str(), parsed[1]["error"].as_str()),
        (Some("/admin/keys"), Some("unauthorized"))
    );
    assert_eq!(
        (parsed[2]["route"].as_str(), parsed[2]["grip"].as_bool()),
        (Some("/events/link/{grant}"), Some(true))
    );
    let grip_sig = app.grip_sig(GRIP_KEY);
    for line in lines.iter().map(|(_, l)| l) {
        for secret in [
            &token,
            "the-payload",
            "an-admin-secret",
            "the-grant-itself",
            &grip_sig,
            GRIP_KEY,
        ] {
            assert!(!line.contains(secret), "{secret} in {line}");
        }
        for field in ["time", "method", "route", "status", "duration_us", "grip"] {
            assert!(
                line.contains(&format!("\"{field}\":")),
                "{field} missing from {line}"
            );
        }
    }
}
