use super::*;
use crate::test_helpers::*;

#[test]
fn times_are_rfc3339_utc_with_milliseconds() {
    assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        rfc3339_millis(951_782_400_000_000),
        "2000-02-29T00:00:00.000Z"
    );
    assert_eq!(
        rfc3339_millis(1_800_000_000_123_456),
        "2027-01-15T08:00:00.123Z"
    );
    assert_eq!(
        rfc3339_millis(4_102_444_799_999_999),
        "2099-12-31T23:59:59.999Z"
    );
}

#[test]
fn a_request_gives_its_method_route_topics_and_key_id_but_no_token() {
    let token = mint(&serde_json::json!({"sub": "alice"}));
    let req = request(
        "POST",
        &format!("/events?topic=a&topic=b&auth={token}&x=topic"),
    )
    .header("grip-sig", "whatever")
    .body(b"the payload".to_vec())
    .unwrap();
    let line = Line::of_request(&req, Some("/events".into()), 1_800_000_000_000_000);
    let json = line.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["method"], "POST");
    assert_eq!(value["route"], "/events");
    assert_eq!(value["topics"], 2);
    assert_eq!(value["kid"], DEV_KID);
    assert_eq!(value["grip"], true);
    assert_eq!(value["time"], "2027-01-15T08:00:00.000Z");
    for secret in [token.as_str(), "payload", "alice", "whatever"] {
        assert!(!json.contains(secret), "{secret} leaked into {json}");
    }
    assert!(!json.contains('\n'));
}

/// WebSocket-over-HTTP events with these MQTT packets, one BINARY event each.
fn events(packets: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    wsevents::write_open(&mut body);
    for p in packets {
        wsevents::write_binary(&mut body, p);
    }
    body
}

const PINGREQ: &[u8] = &[0xc0, 0];
const DISCONNECT: &[u8] = &[0xe0, 0];

#[test]
fn an_mqtt_batch_gives_its_packet_types_both_ways() {
    // A PUBLISH whose first 3 bytes came in the previous request (carried as base64).
    let publish = [0x30, 5, 0, 1, b't', b'h', b'i'];
    let body = events(&[&publish[3..], PINGREQ, PINGREQ, &[0x30, 9, 0]]);
    let token = mint(&serde_json::json!({}));
    let req = request("POST", "/mqtt")
        .header("content-type", "application/websocket-events")
        .header("connection-id", "c-1")
        .header("meta-mqtt-buf", BASE64.encode(&publish[..3]))
        .header("meta-mqtt-token", &token)
        .body(body)
        .unwrap();
    let mut line = Line::of_request(&req, Some("/mqtt".into()), 0);
    let mut answer = Vec::new();
    wsevents::write_binary(&mut answer, &[b"m:".as_slice(), &[0xd0, 0]].concat());
    wsevents::write_binary(&mut answer, &[b"m:".as_slice(), &[0xd0, 0]].concat());
    wsevents::control_message(&mut answer, r#"{"type":"subscribe","channel":"x"}"#);
    wsevents::write_binary(&mut answer, &[b"m:".as_slice(), DISCONNECT].concat());
    line.answer(&Ok(Response::new(answer)), 200, 40);
    let value: serde_json::Value = serde_json::from_str(&line.to_json()).expect("JSON");
    assert_eq!(value["connection"], "c-1");
    assert_eq!(value["kid"], DEV_KID);
    assert_eq!(
        value["mqtt_in"],
        serde_json::json!({"PUBLISH": 1, "PINGREQ": 2, "partial": 1})
    );
    assert_eq!(
        value["mqtt_out"],
        serde_json::json!({"PINGRESP": 2, "DISCONNECT": 1})
    );
    assert_eq!(
        (value["status"].as_u64(), value["duration_us"].as_u64()),
        (Some(200), Some(40))
    );
    assert!(!line.to_json().contains(&token) && !line.to_json().contains("thi"));
}

#[test]
fn a_malformed_key_id_or_a_long_connection_id_cannot_make_a_line_long() {
    let forged = mint_with("HS256", &"k".repeat(5000), "x", &serde_json::json!({}));
    let req = request("POST", "/mqtt")
        .header("content-type", "application/websocket-events")
        .header("connection-id", "c".repeat(5000))
        .header("authorization", format!("Bearer {forged}"))
        .body(Vec::new())
        .unwrap();
    let line = Line::of_request(&req, Some("/mqtt".into()), 0);
    assert_eq!(line.kid, None);
    assert_eq!(line.connection.as_deref().map(str::len), Some(64));
    assert!(line.to_json().len() < 300, "{}", line.to_json());
}

#[test]
fn an_error_gives_its_condition_and_an_unknown_path_no_route() {
    let req = request("GET", "/secret/path?auth=x")
        .body(Vec::new())
        .unwrap();
    let mut line = Line::of_request(&req, None, 0);
    line.answer(&Err(Error::NotFound), 404, 5);
    let json = line.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(value["route"], serde_json::Value::Null);
    assert_eq!(value["error"], "not-found");
    assert_eq!(value["status"], 404);
    assert!(value.get("topics").is_none() && value.get("mqtt_in").is_none());
    assert!(value.get("handoff").is_none());
    line.answer(&Ok(pubsub_core::extensions::handoff_response()), 200, 5);
    assert!(line.to_json().contains(r#""handoff":true"#));
    assert!(!json.contains("secret"));
    let garbage = [0xff, 0xff, 0xff, 0xff, 0xff];
    let mut counts = PacketCounts::new();
    count_packets(&[0x00, 0], &mut counts);
    count_packets(&garbage, &mut counts);
    assert_eq!(
        counts,
        PacketCounts::from([("reserved", 1), ("malformed", 1)])
    );
}
