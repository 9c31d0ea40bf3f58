//! The JWT verifier's findings from the differential fuzzing (`core/fuzz` `jwt_diff`), on
//! the real stack (Pushpin + Viceroy): a token whose header has `crit` is refused with 401
//! on publish and subscribe (RFC 7515 §4.1.11: we understand no extension), while the same
//! claims without `crit`, signed with the same key, are accepted.

#[path = "support/e2e.rs"]
mod e2e;

use e2e::*;
use jsonwebtoken::{encode, EncodingKey, Header};
use pubsub_devstack::{DEV_KEY_ID, DEV_KEY_SECRET};

fn dev_token_with_crit(topic: &str, crit: Option<Vec<String>>) -> String {
    let header = Header {
        kid: Some(DEV_KEY_ID.into()),
        crit,
        ..Header::default()
    };
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 600;
    let claims = serde_json::json!({
        "x-fastly-read": [topic], "x-fastly-write": [topic], "exp": exp,
    });
    encode(
        &header,
        &claims,
        &EncodingKey::from_secret(DEV_KEY_SECRET.as_bytes()),
    )
    .expect("jwt")
}

#[test]
fn a_token_with_crit_is_refused_on_publish_and_subscribe() {
    stack();
    let topic = unique("crit");
    let plain = dev_token_with_crit(&topic, None);
    assert_eq!(publish(&topic, b"x", &plain).status, 200);
    let crit = dev_token_with_crit(&topic, Some(vec!["exp".into()]));
    let published = publish(&topic, b"x", &crit);
    assert_eq!(published.status, 401, "{}", published.text());
    assert!(published.text().contains("crit"), "{}", published.text());
    let subscribed = send(
        "GET",
        &format!("/events?topic={}", enc(&topic)),
        &[("authorization", &format!("Bearer {crit}"))],
        b"",
    );
    assert_eq!(subscribed.status, 401, "{}", subscribed.text());
}
