use super::*;
use crate::claims::mercure::{Dialect, DETAIL_TYPE};
use crate::test_util::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const HUB: &str = "https://hub.example.com/.well-known/mercure";
const ISS: &str = "https://app.example.com";

fn rules() -> MercureTokenRules {
    MercureTokenRules {
        default_kid: Some(DEV_KID.into()),
        issuers: vec![ISS.into()],
        audience: Some(HUB.into()),
        allow_v0: true,
        allow_v1: true,
        base: Some(HUB.into()),
    }
}

/// An HS256 token with exactly this header and these claims, signed with `secret`.
fn signed(header: &Value, claims: &Value, secret: &str) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

fn v1_claims(details: Value) -> Value {
    json!({"iss": ISS, "aud": HUB, "sub": "s", "exp": NOW + 600, "authorization_details": details})
}

fn v1(details: Value) -> String {
    signed(
        &json!({"alg":"HS256","typ":"at+jwt","kid":DEV_KID}),
        &v1_claims(details),
        DEV_SECRET,
    )
}

fn detail(actions: Value, topics: Value) -> Value {
    json!({"type": DETAIL_TYPE, "actions": actions, "topics": topics})
}

#[test]
fn a_v0_token_of_mercures_docs_verifies_without_kid_or_exp() {
    let kv = kv_with_dev_key();
    let token = signed(
        &json!({"alg":"HS256"}),
        &json!({"mercure": {"publish": ["*"], "subscribe": ["https://e.com/books/{id}"], "payload": {"u": 1}}}),
        DEV_SECRET,
    );
    let g = verify_mercure(&token, &kv, NOW, &rules()).expect("valid");
    assert_eq!(
        (g.dialect, g.kid.as_str(), g.exp),
        (Dialect::V0, DEV_KID, None)
    );
    assert!(g.may_publish("anything"));
    assert!(g.may_receive(&["https://e.com/books/1"]) && !g.may_receive(&["https://e.com/x"]));
    assert_eq!(g.payload_for("whatever"), Some(&json!({"u": 1})));
}

#[test]
fn a_v1_token_grants_its_details() {
    let kv = kv_with_dev_key();
    let token = v1(json!([
        {"type": "other", "whatever": 1},
        detail(json!(["subscribe", "future-action"]), json!([{"match": "https://e.com/books/:id", "match_type": "urlpattern"}])),
        detail(json!(["publish"]), json!([{"match": "https://e.com/books/1"}, {"match": "/local/:x", "match_type": "urlpattern"}])),
        {"type": DETAIL_TYPE, "actions": ["subscribe"], "topics": [{"match": "*"}], "payload": {"p": 2}},
    ]));
    let g = verify_mercure(&token, &kv, NOW, &rules()).expect("valid");
    assert_eq!(
        (g.dialect, g.exp, g.sub.as_deref()),
        (Dialect::V1, Some(NOW + 600), Some("s"))
    );
    assert!(g.may_publish("https://e.com/books/1") && !g.may_publish("https://e.com/books/2"));
    assert!(g.may_publish("https://hub.example.com/local/7"));
    assert_eq!(
        g.first_unpublishable(&["https://e.com/books/1", "x"]),
        Some("x")
    );
    assert!(g.may_receive(&["x", "https://e.com/books/2"]));
    assert_eq!(
        g.payload_for("https://e.com/books/:id"),
        Some(&json!({"p": 2}))
    );
}

#[test]
fn forged_and_misused_tokens_get_a_precise_refusal() {
    let kv = kv_with_dev_key();
    let ok = json!([detail(json!(["subscribe"]), json!([{"match": "a"}]))]);
    let h1 = json!({"alg":"HS256","typ":"at+jwt","kid":DEV_KID});
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = v1_claims(ok.clone());
        f(&mut c);
        signed(&h1, &c, DEV_SECRET)
    };
    let det = |d: Value| v1(json!([d]));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong secret",
            signed(&h1, &v1_claims(ok.clone()), "other"),
            "signature does not verify",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#),
                URL_SAFE_NO_PAD.encode(v1_claims(ok.clone()).to_string())
            ),
            "only verifies HS256",
        ),
        (
            "own jwk",
            signed(
                &json!({"alg":"HS256","typ":"at+jwt","jwk":{"kty":"oct","k":"eA"}}),
                &v1_claims(ok.clone()),
                "x",
            ),
            "signature does not verify",
        ),
        (
            "jku",
            signed(
                &json!({"alg":"HS256","typ":"at+jwt","jku":"https://evil/jwks"}),
                &v1_claims(ok.clone()),
                "evil",
            ),
            "signature does not verify",
        ),
        (
            "crit",
            signed(
                &json!({"alg":"HS256","typ":"at+jwt","crit":["x"]}),
                &v1_claims(ok.clone()),
                DEV_SECRET,
            ),
            "crit",
        ),
        ("expired", with(&|c| c["exp"] = json!(NOW - 61)), "expired"),
        (
            "no exp",
            with(&|c| {
                c.as_object_mut().map(|o| o.remove("exp"));
            }),
            "no `exp`",
        ),
        (
            "nbf ahead",
            with(&|c| c["nbf"] = json!(NOW + 61)),
            "not valid yet",
        ),
        (
            "wrong iss",
            with(&|c| c["iss"] = json!("https://evil")),
            "not trusted",
        ),
        (
            "no iss",
            with(&|c| {
                c.as_object_mut().map(|o| o.remove("iss"));
            }),
            "no `iss`",
        ),
        (
            "wrong aud",
            with(&|c| c["aud"] = json!(["https://other/hub"])),
            "`aud` does not contain",
        ),
        (
            "aud a number",
            with(&|c| c["aud"] = json!(5)),
            "`aud` does not contain",
        ),
        (
            "no actions",
            det(json!({"type": DETAIL_TYPE, "topics": [{"match": "a"}]})),
            "authorization_details[0]: `actions` is missing",
        ),
        (
            "empty actions",
            det(detail(json!([]), json!([{"match": "a"}]))),
            "`actions` is empty",
        ),
        (
            "non-string action",
            det(detail(json!([1]), json!([{"match": "a"}]))),
            "not a string",
        ),
        (
            "empty topics",
            det(detail(json!(["subscribe"]), json!([]))),
            "`topics` is empty",
        ),
        (
            "topic a string",
            det(detail(json!(["subscribe"]), json!(["a"]))),
            "topics[0]: not an object",
        ),
        (
            "unknown match_type",
            det(detail(
                json!(["subscribe"]),
                json!([{"match": "a", "match_type": "regex"}]),
            )),
            "\"regex\" is not supported",
        ),
        (
            "bad pattern",
            det(detail(
                json!(["subscribe"]),
                json!([{"match": "/a/(b(c))", "match_type": "urlpattern"}]),
            )),
            "capturing",
        ),
        (
            "payload not object",
            det(
                json!({"type": DETAIL_TYPE, "actions": ["subscribe"], "topics": [{"match": "a"}], "payload": 3}),
            ),
            "`payload` is not an object",
        ),
        (
            "too many details",
            v1(Value::Array(vec![
                detail(
                    json!(["subscribe"]),
                    json!([{"match": "a"}])
                );
                33
            ])),
            "more than 32",
        ),
        (
            "v0 expired",
            signed(
                &json!({"alg":"HS256"}),
                &json!({"exp": NOW - 61}),
                DEV_SECRET,
            ),
            "expired",
        ),
        (
            "v0 selector too long",
            signed(
                &json!({"alg":"HS256"}),
                &json!({"mercure": {"subscribe": ["a".repeat(2000)]}}),
                DEV_SECRET,
            ),
            "mercure.subscribe",
        ),
        (
            "v0 wrong shape",
            signed(
                &json!({"alg":"HS256"}),
                &json!({"mercure": {"subscribe": "a"}}),
                DEV_SECRET,
            ),
            "`mercure.subscribe` is not an array of strings",
        ),
    ];
    for (name, token, want) in cases {
        let err = verify_mercure(&token, &kv, NOW, &rules()).expect_err(name);
        assert_eq!(err.status().as_u16(), 401, "{name}: {err}");
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
}

#[test]
fn the_rules_choose_dialects_and_keys() {
    let kv = kv_with_dev_key();
    let v0 = signed(&json!({"alg":"HS256"}), &json!({}), DEV_SECRET);
    let v1_token = v1(json!([]));
    let only_v1 = MercureTokenRules {
        allow_v0: false,
        ..rules()
    };
    let err = verify_mercure(&v0, &kv, NOW, &only_v1).expect_err("v0 off");
    assert!(err.to_string().contains("not \"at+jwt\""), "{err}");
    let only_v0 = MercureTokenRules {
        allow_v1: false,
        ..rules()
    };
    let err = verify_mercure(&v1_token, &kv, NOW, &only_v0).expect_err("v1 off");
    assert!(err.to_string().contains("1.0 tokens"), "{err}");
    let no_default = MercureTokenRules {
        default_kid: None,
        ..rules()
    };
    let err = verify_mercure(&v0, &kv, NOW, &no_default).expect_err("no kid");
    assert!(err.to_string().contains("no `kid`"), "{err}");
    let unknown = signed(&json!({"alg":"HS256","kid":"nope"}), &json!({}), DEV_SECRET);
    let err = verify_mercure(&unknown, &kv, NOW, &rules()).expect_err("unknown key");
    assert_eq!(err.status().as_u16(), 401);
    let app_typ = signed(
        &json!({"alg":"HS256","typ":"Application/AT+JWT","kid":DEV_KID}),
        &v1_claims(json!([])),
        DEV_SECRET,
    );
    assert_eq!(
        verify_mercure(&app_typ, &kv, NOW, &only_v1)
            .map(|g| g.dialect)
            .ok(),
        Some(Dialect::V1)
    );
    kv.fail.store(true, std::sync::atomic::Ordering::Relaxed);
    let err = verify_mercure(&v0, &kv, NOW, &rules()).expect_err("store down");
    assert_eq!(err.status().as_u16(), 503);
}
