//! SSE subscribe and HTTP publish through the real stack: Viceroy runs the wasm app,
//! Pushpin holds the streams, real HTTP clients on loopback.

#[path = "support/e2e.rs"]
mod e2e;

use base64::Engine as _;
use e2e::*;

#[test]
fn a_subscriber_of_two_topics_receives_a_publish_on_each() {
    let (a, b) = (unique("a"), unique("b"));
    let t = token(&[&a, &b], &[&a, &b]);
    let sse = Sse::subscribe(&format!(
        "/events?topic={}&topic={}&auth={t}",
        enc(&a),
        enc(&b)
    ));
    assert_eq!(sse.content_type, "text/event-stream");
    assert_eq!(publish(&a, b"to a", &t).status, 200);
    assert_eq!(publish(&b, b"to b", &t).status, 200);
    let got: Vec<String> = (0..2)
        .map(|_| sse.next().expect("a message").data)
        .collect();
    assert_eq!(got, ["to a", "to b"]);
}

#[test]
fn a_binary_payload_arrives_as_message_base64_with_the_same_bytes() {
    let topic = unique("bin");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    let payload: Vec<u8> = (0..=255u8).rev().collect();
    assert_eq!(publish(&topic, &payload, &t).status, 200);
    let ev = sse.next().expect("message");
    assert_eq!(ev.event, "message-base64");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(ev.data)
        .expect("base64");
    assert_eq!(decoded, payload);
}

#[test]
fn a_multi_line_message_arrives_intact() {
    let topic = unique("lines");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    assert_eq!(
        publish(&topic, b"one\ntwo\r\nthree\n\nfive", &t).status,
        200
    );
    let ev = sse.next().expect("message");
    assert_eq!(ev.event, "message");
    assert_eq!(ev.data, "one\ntwo\nthree\n\nfive");
}

#[test]
fn the_token_works_in_the_authorization_header_too() {
    let topic = unique("hdr");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::open(
        &format!("/events?topic={}", enc(&topic)),
        &[("Authorization", &format!("Bearer {t}"))],
    );
    assert_eq!(sse.status, 200);
    assert_eq!(sse.next().expect("open").event, "stream-open");
    let q = send(
        "POST",
        &format!("/events?topic={}&auth={t}", enc(&topic)),
        &[],
        b"via query",
    );
    assert_eq!(q.status, 200, "{}", q.text());
    assert_eq!(sse.next().expect("message").data, "via query");
}

#[test]
fn subscribe_errors_are_stream_error_events() {
    let topic = unique("err");
    let other = token(&["something-else"], &[]);
    // A browser EventSource: status 200 so it reads the event.
    let es = Sse::open(
        &format!("/events?topic={}&auth={other}", enc(&topic)),
        &[("Accept", "text/event-stream")],
    );
    assert_eq!(es.status, 200);
    let ev = es.next().expect("stream-error");
    assert_eq!(ev.event, "stream-error");
    let data: serde_json::Value = serde_json::from_str(&ev.data).expect("json");
    assert_eq!(data["condition"], "forbidden");
    assert!(
        es.next_within(std::time::Duration::from_secs(2)).is_none(),
        "stream ends"
    );
    // curl and friends: the real status, same event.
    let curl = Sse::open(&format!("/events?topic={}", enc(&topic)), &[]);
    assert_eq!(curl.status, 401);
    assert_eq!(curl.next().expect("stream-error").event, "stream-error");
}

#[test]
fn http_errors_have_the_right_status_and_a_one_line_reason() {
    let topic = unique("codes");
    let reader = token(&[&topic], &[]);
    let writer = token(&[], &[&topic]);
    let path = format!("/events?topic={}", enc(&topic));
    let bearer = |t: &str| format!("Bearer {t}");
    type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, Vec<u8>, u16);
    let cases: Vec<Case<'_>> = vec![
        ("POST", path.clone(), vec![], b"x".to_vec(), 401),
        (
            "POST",
            path.clone(),
            vec![("Authorization", bearer("garbage"))],
            b"x".to_vec(),
            401,
        ),
        (
            "POST",
            path.clone(),
            vec![("Authorization", bearer(&reader))],
            b"x".to_vec(),
            403,
        ),
        (
            "POST",
            path.clone(),
            vec![("Authorization", bearer(&writer))],
            vec![b'x'; 32_513],
            413,
        ),
        (
            "POST",
            "/events".into(),
            vec![("Authorization", bearer(&writer))],
            b"x".to_vec(),
            400,
        ),
        ("GET", "/nothing-here".into(), vec![], vec![], 404),
        ("PUT", path.clone(), vec![], b"x".to_vec(), 405),
        (
            "POST",
            path,
            vec![("Authorization", bearer(&writer))],
            vec![b'x'; 32_512],
            200,
        ),
    ];
    for (method, uri, headers, body, status) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let r = send(method, &uri, &headers, &body);
        assert_eq!(r.status, status, "{method} {uri}: {}", r.text());
        if status == 405 {
            assert_eq!(r.header("allow"), Some("GET, POST, OPTIONS"));
        }
        if status != 200 {
            assert_eq!(r.text().trim_end().lines().count(), 1, "{}", r.text());
        }
    }
}

#[test]
fn a_forged_grip_sig_sent_straight_to_the_app_is_refused() {
    let topic = unique("forged");
    // Signed with the wrong key; the claims would otherwise pass.
    let forged = pubsub_devstack::mint_token("x", b"not-the-pushpin-key", &[], &[], 60);
    let r = send(
        "GET",
        &format!("/events?topic={}", enc(&topic)),
        &[("Grip-Sig", &forged)],
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.header("grip-hold").is_none());
    assert!(r.text().contains("Grip-Sig"));
}

#[test]
fn a_pattern_claim_token_publishes_and_subscribes_to_the_topics_it_matches() {
    let base = unique("sensors");
    let (temp, hum) = (format!("{base}/1/temp"), format!("{base}/1/hum"));
    let claim = format!("{base}/+/temp");
    let t = token(&[&claim], &[&claim]);
    let path = |topic: &str| format!("/events?topic={}&auth={t}", enc(topic));
    let sse = Sse::subscribe(&path(&temp));
    assert_eq!(publish(&temp, b"21.5", &t).status, 200);
    assert_eq!(sse.next().expect("message").data, "21.5");
    assert_eq!(publish(&hum, b"40", &t).status, 403);
    assert_eq!(Sse::open(&path(&hum), &[]).status, 403);
    // A topic name cannot hold a wildcard; a subscription to a filter the claim covers
    // receives the messages of every topic it matches, each with its topic.
    let r = publish(&claim, b"x", &t);
    assert_eq!(r.status, 400);
    assert!(
        r.text().contains("topic names cannot contain"),
        "{}",
        r.text()
    );
    let wild = Sse::subscribe(&path(&claim));
    assert_eq!(publish(&temp, b"22", &t).status, 200);
    let ev = wild.next().expect("filter message");
    assert_eq!(ev.event, "message");
    let data: serde_json::Value = serde_json::from_str(&ev.data).expect("JSON");
    assert_eq!(data, serde_json::json!({"topic": temp, "data": "22"}));
    // Wider than the claim: refused.
    let wider = Sse::open(&path(&format!("{base}/#")), &[]);
    assert_eq!(wider.status, 403);
}
