//! Link grants and captured `Grip-Sig`s on the real stack (Pushpin + Viceroy running the
//! release wasm), with a stack of its own: tokens without `exp` allowed, a link grant max
//! age of [`MAX_AGE`] seconds, and a relay that records what Pushpin sends the app.
//!
//! - A link grant dies with its key: once the key is revoked, Fanout's own link request
//!   gets the `stream-error`, never a new hold.
//! - A link request without a `Grip-Sig` (a client holding the link's URL) is refused with
//!   403 and never handed off, so it opens no stream.
//! - A grant of a token without `exp` is bounded by the max age, and the link's answer
//!   re-issues one: the stream goes on past the first grant. A grant with `exp` 0 (the
//!   old for-ever form, or `until` 0) is refused.
//! - A `Connection-Id` over 64 bytes or not ASCII gets a normal answer.
//! - A captured `Grip-Sig` (Pushpin's carries `iss` and `exp` only, an hour ahead) can be
//!   replayed on any request until it expires: it opens no stream without a token, and a
//!   forged session's `Meta-mqtt-exp` does not keep an expired token alive.

#[path = "support/e2e.rs"]
mod e2e;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use e2e::{enc, send_to, unique, Reply, Sse};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use pubsub_devstack::{Stack, StackOptions, DEV_KEY_ID, DEV_KEY_SECRET};
use serde_json::{json, Value};

const ADMIN_TOKEN: &str = "local-admin-token";

/// The stack's `link-grant-max-age`, in seconds.
const MAX_AGE: u64 = 10;

fn grants_stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let config = [
            ("allow-tokens-without-exp", "true".to_owned()),
            ("link-grant-max-age", MAX_AGE.to_string()),
        ];
        Stack::start(StackOptions {
            quiet: std::env::var_os("PUBSUB_STACK_LOGS").is_none(),
            config: config
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            count_app_requests: true,
            ..StackOptions::default()
        })
        .unwrap_or_else(|e| panic!("cannot start the local stack: {e}"))
    })
}

fn app() -> String {
    grants_stack().app_url()
}

fn now() -> u64 {
    pubsub_token::now_secs()
}

fn send(method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    send_to(&app(), method, path, headers, b"")
}

/// A new HS256 key made through the admin API: its id and secret.
fn new_key() -> (String, String) {
    let created = send("POST", "/admin/keys", &[("Fastly-Key", ADMIN_TOKEN)]);
    assert_eq!(created.status, 200, "{}", created.text());
    let json: Value = serde_json::from_slice(&created.body).expect("json");
    let field = |name: &str| json[name].as_str().expect(name).to_owned();
    (field("id"), field("value"))
}

fn hs256(kid: Option<&str>, secret: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    let key = EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&header, claims, &key).expect("signed")
}

/// A token of key `kid` that reads and writes `topic` and never expires.
fn token_without_exp(kid: &str, secret: &str, topic: &str) -> String {
    let claims = json!({"x-fastly-read": [topic], "x-fastly-write": [topic]});
    hs256(Some(kid), secret, &claims)
}

/// A `Grip-Sig` as the stack's Pushpin signs it.
fn grip_sig() -> String {
    let claims = json!({"iss": "pushpin", "exp": now() + 60});
    hs256(None, grants_stack().grip_key(), &claims)
}

/// The link of the hold the app answers a signed subscribe to `path` with.
fn link_of(path: &str, token: &str) -> String {
    let sig = grip_sig();
    let bearer = format!("Bearer {token}");
    let held = send(
        "GET",
        path,
        &[("Grip-Sig", &sig), ("Authorization", &bearer)],
    );
    assert_eq!(held.header("grip-hold"), Some("stream"), "{}", held.text());
    let link = held.header("grip-link").expect("a Grip-Link");
    let uri = link.strip_prefix('<').and_then(|l| l.split_once('>'));
    uri.map(|(uri, _)| uri.to_owned()).expect(link)
}

#[test]
fn a_link_grant_dies_with_its_key() {
    let (kid, secret) = new_key();
    let topic = unique("grant-revoked");
    let token = token_without_exp(&kid, &secret, &topic);
    let path = format!("/events?topic={}&durable=true", enc(&topic));
    let link = link_of(&path, &token);
    let sig = grip_sig();
    let held = send("GET", &link, &[("Grip-Sig", &sig)]);
    assert_eq!(held.header("grip-hold"), Some("stream"), "{}", held.text());

    let revoked = send(
        "DELETE",
        &format!("/admin/keys/{kid}"),
        &[("Fastly-Key", ADMIN_TOKEN)],
    );
    assert!(revoked.status < 300, "{}", revoked.text());
    // Fanout's own request for the link: the stream-error (200, so Fanout writes it).
    let refused = send("GET", &link, &[("Grip-Sig", &sig)]);
    assert_eq!(refused.header("grip-hold"), None, "{}", refused.text());
    assert_eq!(refused.status, 200);
    let text = refused.text();
    assert!(
        text.starts_with("event: stream-error\n") && text.contains("unknown signing key"),
        "{text}"
    );
}

#[test]
fn an_unsigned_link_request_is_refused_and_opens_no_stream() {
    let (kid, secret) = new_key();
    let topic = unique("grant-unsigned");
    let token = token_without_exp(&kid, &secret, &topic);
    let link = link_of(
        &format!("/events?topic={}&durable=true", enc(&topic)),
        &token,
    );
    // A client holding the link's URL: refused at once, never handed off to Fanout (which
    // would hold it: a stream of 200 with no end).
    let refused = send("GET", &link, &[]);
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(
        refused.text(),
        "event: stream-error\ndata: {\"condition\":\"forbidden\",\"text\":\"Grip-Sig \
         rejected: this link is requested by Fanout only, and the request carries no \
         Grip-Sig\"}\n\n"
    );
}

#[test]
fn a_grant_of_a_token_without_exp_is_bounded_and_renewed_by_its_link() {
    let (kid, secret) = new_key();
    let topic = unique("grant-renewed");
    let token = token_without_exp(&kid, &secret, &topic);
    let path = format!("/events?topic={}", enc(&topic));
    let link = link_of(&path, &token);
    let grant = link.strip_prefix("/events/link/").expect(&link);
    let until: u64 = grant
        .split('.')
        .nth(1)
        .and_then(|u| u.parse().ok())
        .expect(grant);
    assert!(until <= now() + MAX_AGE, "{grant}");

    // The real flow: the stream outlives its first grant, its link answered with a new one.
    let started = Instant::now();
    let sse = Sse::subscribe_at(&app(), &format!("{path}&auth={token}"), &[]);
    std::thread::sleep(Duration::from_secs(MAX_AGE + 3));
    let links = grants_stack().app_requests().expect("relay").snapshot();
    let renewals = links
        .iter()
        .filter(|r| r.at >= started && r.target.starts_with("/events/link/"))
        .filter(|r| r.target.contains(&enc(&topic)))
        .count();
    assert!(renewals >= 1, "Fanout requested no link: {links:?}");
    let published = send_to(
        &app(),
        "POST",
        &format!("{path}&auth={token}"),
        &[],
        b"after the first grant",
    );
    assert_eq!(published.status, 200, "{}", published.text());
    let event = sse.next().expect("the message");
    assert_eq!(
        (event.event.as_str(), event.data.as_str()),
        ("message", "after the first grant")
    );
}

/// The claims of the `Grip-Sig` Pushpin sent the app with its latest request.
fn captured_grip_sig() -> (String, Value) {
    let topic = unique("grip-capture");
    let token = pubsub_devstack::dev_token(&[&topic], &[]);
    let sse = Sse::subscribe_at(&app(), &format!("/events?topic={topic}&auth={token}"), &[]);
    drop(sse);
    let requests = grants_stack().app_requests().expect("relay").snapshot();
    let sig = requests
        .iter()
        .rev()
        .find_map(|r| r.grip_sig.clone())
        .expect("Pushpin signs its requests");
    let payload = sig.split('.').nth(1).expect("a JWT");
    let claims = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    (sig, serde_json::from_slice(&claims).expect("JSON claims"))
}

#[test]
fn a_captured_grip_sig_names_no_request_and_replays_until_it_expires_but_grants_nothing() {
    let (sig, claims) = captured_grip_sig();
    let names: Vec<&str> = claims
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(names, ["exp", "iss"], "{claims}");
    let lifetime = claims["exp"].as_u64().expect("exp").saturating_sub(now());
    assert!((3_500..=3_600).contains(&lifetime), "{claims}");

    // Replayed on another request: no token, no stream.
    let topic = unique("grip-replay");
    let res = send(
        "GET",
        &format!("/events?topic={topic}"),
        &[("Grip-Sig", &sig)],
    );
    assert_eq!(
        (res.status, res.header("grip-hold")),
        (401, None),
        "{}",
        res.text()
    );
    // A link with a forged grant: the grant is checked whatever signs the request.
    let forged = format!("/events/link/0.9999999999.{DEV_KEY_ID}.AAAA?topic={topic}");
    let res = send("GET", &forged, &[("Grip-Sig", &sig)]);
    assert!(
        res.text().contains("grant does not verify"),
        "{}",
        res.text()
    );
    assert_eq!(res.header("grip-hold"), None);
}

#[test]
fn a_forged_session_exp_does_not_keep_an_expired_token_alive() {
    let expired = hs256(
        Some(DEV_KEY_ID),
        DEV_KEY_SECRET,
        &json!({"x-fastly-read": ["a"], "exp": now() - 3_600}),
    );
    let (sig, far, seen) = (grip_sig(), (now() + 86_400).to_string(), now().to_string());
    // A PINGREQ on a session whose metadata claims the token lives another day.
    let res = send_to(
        &app(),
        "POST",
        "/mqtt",
        &[
            ("Grip-Sig", &sig),
            ("Content-Type", "application/websocket-events"),
            ("Connection-Id", "forged-session"),
            ("Meta-Mqtt-V", "5"),
            ("Meta-Mqtt-Token", &expired),
            ("Meta-Mqtt-Exp", &far),
            ("Meta-Mqtt-Ka", "60"),
            ("Meta-Mqtt-Seen", &seen),
        ],
        b"BINARY 2\r\n\xc0\x00\r\n",
    );
    assert_eq!(res.status, 200, "{}", res.text());
    let body = res.body;
    let pingresp = body.windows(2).any(|w| w == [0xd0, 0x00]);
    assert!(!pingresp, "a PINGRESP: {}", String::from_utf8_lossy(&body));
    // DISCONNECT (0xE0), Not authorized (0x87), then the WebSocket close.
    let disconnect = body.windows(3).any(|w| w[0] == 0xe0 && w[2] == 0x87);
    let text = String::from_utf8_lossy(&body);
    assert!(disconnect && text.contains("CLOSE"), "{text}");
    assert!(text.contains("the token has expired"), "{text}");
}

/// Sends an HTTP/1.1 request written byte by byte (a header value `ureq` refuses to send,
/// such as one that is not ASCII) to the app; the status and body.
fn send_raw(head: &[u8], body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let addr = app().trim_start_matches("http://").to_owned();
    let mut tcp = std::net::TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let length = format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    tcp.write_all(&[head, length.as_bytes(), body].concat())
        .expect("write");
    let mut answer = Vec::new();
    let _ = tcp.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.as_bytes().to_vec());
    (status, body.unwrap_or_default())
}

#[test]
fn connection_ids_longer_than_64_bytes_or_not_ascii_get_a_normal_answer() {
    let long = "c".repeat(300).into_bytes();
    let not_ascii = b"conn-\xff\xfe-\xc3\xa9".to_vec();
    for id in [long, not_ascii] {
        let head = [
            b"POST /mqtt HTTP/1.1\r\nHost: app\r\nGrip-Sig: ".as_slice(),
            grip_sig().as_bytes(),
            b"\r\nContent-Type: application/websocket-events\r\n",
            b"Sec-WebSocket-Protocol: mqtt\r\nConnection-Id: ",
            &id,
            b"\r\n",
        ]
        .concat();
        let (status, body) = send_raw(&head, b"OPEN\r\n");
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{}: {text}", String::from_utf8_lossy(&id));
        assert!(text.contains("OPEN\r\n"), "{text}");
    }
}

/// The stack's Secret Store `grant-key` (from `fastly.toml`), to forge grants with.
const LOCAL_GRANT_KEY: &str = "local-grant-key-change-me";

/// A grant text `<fields>.<mac>` whose MAC is taken over `input` with the local key.
fn forged_grant(fields: &str, input: &[u8]) -> String {
    let key = EncodingKey::from_secret(LOCAL_GRANT_KEY.as_bytes());
    let mac = jsonwebtoken::crypto::sign(input, &key, Algorithm::HS256).expect("mac");
    format!("{fields}.{mac}")
}

#[test]
fn a_grant_with_exp_0_is_never_a_grant_for_ever() {
    let topic = unique("grant-exp0");
    let link = |grant: &str| format!("/events/link/{grant}?topic={}", enc(&topic));
    let signed = |grant: &str| send("GET", &link(grant), &[("Grip-Sig", &grip_sig())]);
    let t = topic.as_bytes();
    // The grant of a token without `exp` as it used to be (`<exp>.<kid>.<mac>`, exp 0:
    // valid for ever): refused.
    let old = [
        b"edge-pubsub grant 1\0".as_slice(),
        b"0\0",
        DEV_KEY_ID.as_bytes(),
        b"\0",
        t,
    ];
    let res = signed(&forged_grant(&format!("0.{DEV_KEY_ID}"), &old.concat()));
    assert_eq!(res.header("grip-hold"), None, "{}", res.text());
    assert!(
        res.text().contains("the link's grant does not verify"),
        "{}",
        res.text()
    );
    // Today's form with exp 0 and `until` 0: expired.
    let zero = [
        b"edge-pubsub grant 2\0".as_slice(),
        b"0\0",
        b"0\0",
        DEV_KEY_ID.as_bytes(),
        b"\0",
        t,
    ];
    let res = signed(&forged_grant(&format!("0.0.{DEV_KEY_ID}"), &zero.concat()));
    assert_eq!(res.header("grip-hold"), None, "{}", res.text());
    assert!(
        res.text().contains("the link's grant has expired"),
        "{}",
        res.text()
    );
    // Exp 0 with an `until` in reach: held, and the answer's grant is due by then again.
    let until = (now() + MAX_AGE).to_string();
    let fields = format!("0.{until}.{DEV_KEY_ID}");
    let input = [
        b"edge-pubsub grant 2\0".as_slice(),
        b"0\0",
        until.as_bytes(),
        b"\0",
        DEV_KEY_ID.as_bytes(),
        b"\0",
        t,
    ];
    let res = signed(&forged_grant(&fields, &input.concat()));
    assert_eq!(res.header("grip-hold"), Some("stream"), "{}", res.text());
    let next = res.header("grip-link").expect("a fresh link");
    assert!(next.ends_with(&format!("timeout={MAX_AGE}")), "{next}");
}
