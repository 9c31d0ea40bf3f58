//! The publish API down (the relay in front of Pushpin's publish port switched off), and
//! back.

use super::*;

#[test]
fn with_the_publish_api_down_publishes_fail_and_durable_subscribers_still_converge() {
    let stack = shared();
    let app = stack.app_url();
    let topic = Topic::new("api-down");
    let durable = Sse::subscribe_at(&app, &topic.durable(), &[]);
    let plain = Sse::subscribe_at(&app, &topic.path, &[]);
    let mqtt = topic.mqtt5(&app);
    topic.retain(&app, "one");
    assert_eq!(message(&durable, WAIT).0, "one");
    assert_eq!(message(&plain, WAIT).0, "one");
    assert_eq!(mqtt_message(&mqtt), "one");

    let log = stack
        .publish_requests()
        .expect("the stack has a publish relay");
    let reached = log.len();
    stack.set_publish_api(false).expect("switch off");
    let failed_at = Instant::now();
    publishes_fail(&app, &topic);
    assert_eq!(log.len(), reached, "no publish got through the relay");
    // The retained message is stored all the same: a new durable subscriber gets it now.
    let late = Sse::subscribe_at(&app, &topic.durable(), &[]);
    assert_eq!(message(&late, WAIT).0, "two");
    // The durable subscriber gets it at its next recovery, which needs no publish API.
    let bound = Duration::from_secs(RECOVERY_SECS + 3);
    assert_eq!(message(&durable, bound).0, "two");
    let took = failed_at.elapsed();
    eprintln!("the durable subscriber got the stored message {took:?} after the failed publish");
    assert!(took < bound, "{took:?}");

    stack.set_publish_api(true).expect("switch on");
    topic.retain(&app, "three");
    // The plain SSE and the MQTT subscriber never got "two" nor the lost live messages:
    // the next message they get is "three".
    for sse in [&durable, &late, &plain] {
        assert_eq!(message(sse, WAIT).0, "three");
    }
    assert_eq!(mqtt_message(&mqtt), "three");
}

/// With the publish API down: HTTP publishes answer 502 (a retained one says it was
/// stored), an MQTT 5 QoS 1 PUBLISH gets PUBACK 0x80 and an MQTT 3.1.1 one is closed.
fn publishes_fail(app: &str, topic: &Topic) {
    let stored = topic.publish(app, "&retain=true", "two");
    assert_error(
        &stored,
        502,
        &[
            "publish failed: the message was stored as the retained message (version ",
            "but not delivered live: publish API unreachable",
        ],
    );
    eprintln!(
        "retained publish with the API down: {}",
        stored.text().trim()
    );
    let live = topic.publish(app, "", "lost");
    assert_error(&live, 502, &["publish failed: publish API unreachable"]);
    let v5 = Mqtt::connect_with(options_at(app, &unique("p5"), &topic.token)).expect("connects");
    v5.client
        .publish(&topic.name, QoS::AtLeastOnce, false, "lost-v5")
        .expect("publish");
    let error = mqtt_error(&v5);
    assert!(error.contains("'UnspecifiedError'"), "PUBACK 0x80: {error}");
    let v311 = topic.mqtt311(app);
    v311.client
        .publish(&topic.name, rumqttc::QoS::AtLeastOnce, false, "lost-v311")
        .expect("publish");
    assert!(v311.closed_within(END_BOUND), "the 3.1.1 connection closed");
}
