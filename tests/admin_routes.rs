//! The admin API through the whole pipeline on in-memory ports: route wiring, the
//! `admin` feature switch, `Fastly-Key` checks, and a key's life from creation to
//! revocation as seen by publish. The same flow on the real stack is `tests/e2e_admin.rs`.

#[path = "support/native.rs"]
mod native;

use std::sync::Arc;

use jsonwebtoken::{encode, EncodingKey, Header};
use native::*;
use pubsub_core::ports::memory::{MemoryMap, TestEnv};
use pubsub_core::ports::KvStore;
use pubsub_core::Response;

const ADMIN_TOKEN: &str = "test-admin-token";
const FASTLY_KEY: &str = "a-valid-fastly-api-token";
const PUBLISH_TOKEN: &str = "the-apps-publish-token";

/// The app with `admin-token` and `publish-token` secrets and a platform on which Fastly
/// says [`FASTLY_KEY`] may purge the service.
fn app() -> Native {
    app_where_fastly_accepts(FASTLY_KEY)
}

fn app_where_fastly_accepts(fastly_key: &str) -> Native {
    let mut app = Native::new();
    app.platform.secrets = Arc::new(MemoryMap::of(&[
        ("grip-sig-key", GRIP_KEY),
        ("admin-token", ADMIN_TOKEN),
        ("publish-token", PUBLISH_TOKEN),
    ]));
    let mut env = TestEnv::default();
    env.fastly_key = Some(fastly_key.into());
    app.platform.env = Arc::new(env);
    app
}

fn set_config(app: &Native, key: &str, value: &str) {
    app.config
        .0
        .lock()
        .expect("lock")
        .insert(key.into(), value.into());
}

fn send(app: &Native, method: &str, uri: &str, key: Option<&str>, body: &[u8]) -> Response {
    let mut req = request(method, uri);
    if let Some(key) = key {
        req = req.header("Fastly-Key", key);
    }
    app.send(req.body(body.to_vec()).expect("request"))
}

fn json(res: &Response) -> serde_json::Value {
    serde_json::from_slice(res.body()).unwrap_or_else(|e| panic!("{e}: {}", body(res)))
}

fn token_for(app: &Native, kid: &str, secret: &str, topic: &str) -> String {
    let header = Header {
        kid: Some(kid.into()),
        ..Header::default()
    };
    let claims = serde_json::json!({
        "x-fastly-read": [topic], "x-fastly-write": [topic], "exp": app.now() + 600,
    });
    encode(
        &header,
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("jwt")
}

#[test]
fn every_admin_route_checks_the_fastly_key_header() {
    let app = app();
    let cases = [
        ("POST", "/admin/keys", None, 401),
        ("POST", "/admin/keys", Some("wrong"), 401),
        ("GET", "/admin/keys", None, 401),
        ("GET", "/admin/keys", Some(""), 401),
        ("DELETE", "/admin/keys/abc", None, 401),
        ("DELETE", "/admin/keys/abc", Some("wrong"), 401),
        ("POST", "/admin/keys", Some(ADMIN_TOKEN), 200),
        ("GET", "/admin/keys", Some(ADMIN_TOKEN), 200),
        ("DELETE", "/admin/keys/abc", Some(ADMIN_TOKEN), 404),
        ("DELETE", "/admin/keys/a.b", Some(ADMIN_TOKEN), 400),
    ];
    for (method, uri, key, status) in cases {
        let res = send(&app, method, uri, key, b"");
        assert_eq!(
            res.status(),
            status,
            "{method} {uri} with {key:?}: {}",
            body(&res)
        );
    }
}

#[test]
fn a_fastly_api_token_is_an_admin_credential_only_when_admin_fastly_key_is_on() {
    let app = app();
    for (method, uri) in [("POST", "/admin/keys"), ("GET", "/admin/keys")] {
        let res = send(&app, method, uri, Some(FASTLY_KEY), b"");
        assert_eq!(
            res.status(),
            401,
            "{method} {uri} by default: {}",
            body(&res)
        );
    }
    set_config(&app, "admin-fastly-key", "true");
    for (method, uri) in [("POST", "/admin/keys"), ("GET", "/admin/keys")] {
        let res = send(&app, method, uri, Some(FASTLY_KEY), b"");
        assert_eq!(res.status(), 200, "{method} {uri} opted in: {}", body(&res));
    }
}

#[test]
fn the_publish_token_never_administers_even_when_fastly_accepts_it() {
    // The publish token may purge the service, so Fastly says it is valid for it.
    let app = app_where_fastly_accepts(PUBLISH_TOKEN);
    for opt_in in ["false", "true"] {
        set_config(&app, "admin-fastly-key", opt_in);
        let res = send(&app, "POST", "/admin/keys", Some(PUBLISH_TOKEN), b"");
        assert_eq!(
            res.status(),
            401,
            "admin-fastly-key {opt_in}: {}",
            body(&res)
        );
    }
    assert_eq!(
        app.kv.list("keys").map(|k| k.len()),
        Ok(1),
        "only the seeded key"
    );
}

#[test]
fn a_switched_off_admin_api_is_404_even_with_credentials() {
    let app = app();
    set_config(&app, "admin", "false");
    for (method, uri) in [
        ("POST", "/admin/keys"),
        ("GET", "/admin/keys"),
        ("DELETE", "/admin/keys/abc"),
    ] {
        let res = send(&app, method, uri, Some(ADMIN_TOKEN), b"");
        assert_eq!(res.status(), 404, "{method} {uri}");
    }
}

#[test]
fn other_methods_on_admin_paths_are_405_with_allow() {
    let app = app();
    let cases = [
        ("PUT", "/admin/keys", "GET, POST, OPTIONS"),
        ("DELETE", "/admin/keys", "GET, POST, OPTIONS"),
        ("GET", "/admin/keys/abc", "DELETE, OPTIONS"),
    ];
    for (method, uri, allow) in cases {
        let res = send(&app, method, uri, Some(ADMIN_TOKEN), b"");
        assert_eq!(res.status(), 405, "{method} {uri}");
        assert_eq!(res.headers()["allow"], allow, "{method} {uri}");
    }
}

#[test]
fn a_key_created_through_the_api_publishes_until_it_is_revoked() {
    let app = app();
    let created = send(&app, "POST", "/admin/keys", Some(ADMIN_TOKEN), b"");
    assert_eq!(created.status(), 200);
    assert_eq!(created.headers()["content-type"], "application/json");
    let created = json(&created);
    let id = created["id"].as_str().expect("id");
    let value = created["value"].as_str().expect("value");

    let listed = json(&send(&app, "GET", "/admin/keys", Some(ADMIN_TOKEN), b""));
    let ids: Vec<&str> = listed["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["id"].as_str())
        .collect();
    assert!(ids.contains(&id) && ids.contains(&KID), "{listed}");

    let token = token_for(&app, id, value, "news");
    let publish = |app: &Native| {
        app.send(
            request("POST", "/events?topic=news")
                .header("authorization", format!("Bearer {token}"))
                .body(b"hello".to_vec())
                .expect("request"),
        )
    };
    assert_eq!(publish(&app).status(), 200);
    assert_eq!(app.publisher.items().len(), 1);

    let revoked = send(
        &app,
        "DELETE",
        &format!("/admin/keys/{id}"),
        Some(ADMIN_TOKEN),
        b"",
    );
    assert_eq!(revoked.status(), 204);
    let items = app.publisher.items();
    assert_eq!(items.len(), 2, "the revocation was published");
    assert_eq!(items[1]["items"][0]["channel"], format!("k#{id}"));
    let refused = publish(&app);
    assert_eq!(refused.status(), 401, "{}", body(&refused));
    assert!(body(&refused).contains("unknown signing key"));
    assert_eq!(app.publisher.items().len(), 2, "nothing more was published");
}
