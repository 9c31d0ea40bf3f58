//! The session schema: a trip through metadata, the computed changes, corrupt values.

use pubsub_codec::mqtt::RetainHandling;

use super::*;

fn full() -> Session {
    Session {
        version: Some(ProtocolVersion::V5),
        token: Some("tok".into()),
        exp: Some(99),
        keep_alive: 30,
        seen: 12,
        subs: vec![
            Sub {
                channel: "a%2Cb".into(),
                no_local: true,
                retain_as_published: false,
                retain_handling: RetainHandling::DoNotSend,
                check: Some("0000691c2a5e-000000000002".parse().expect("version")),
            },
            Sub {
                channel: "c".into(),
                no_local: false,
                retain_as_published: true,
                retain_handling: RetainHandling::SendAtSubscribe,
                check: None,
            },
        ],
        buffer: vec![0x10, 0xff],
        will: Some(vec![0x30, 3, 0, 1, b'w']),
        qos2: vec![NonZeroU16::MIN, NonZeroU16::MAX],
    }
}

/// The request headers a proxy sends after applying `changes`.
fn applied(changes: Vec<(&'static str, String)>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in changes {
        let name = name.replace("set-meta-", "meta-");
        headers.insert(
            http::HeaderName::try_from(name).expect("name"),
            value.parse().expect("value"),
        );
    }
    headers
}

#[test]
fn the_state_survives_a_trip_through_metadata() {
    let s = full();
    let headers = applied(s.changes(&Session::default()));
    assert_eq!(headers.len(), Field::ALL.len());
    assert_eq!(Session::from_headers(&headers).expect("parsed"), s);
}

#[test]
fn only_the_fields_that_differ_from_the_session_read_are_written() {
    let original = full();
    let mut s = original.clone();
    assert!(s.changes(&original).is_empty());
    s.seen = 13;
    s.qos2.clear();
    s.will = None;
    assert_eq!(
        s.changes(&original),
        [
            ("set-meta-mqtt-seen", "13".to_owned()),
            ("set-meta-mqtt-will", String::new()),
            ("set-meta-mqtt-qos2", String::new()),
        ]
    );
}

#[test]
fn every_field_has_one_meta_and_one_set_meta_name() {
    for field in Field::ALL {
        assert_eq!(field.meta(), format!("meta-{}", field.name()));
        assert_eq!(field.set_meta(), format!("set-meta-{}", field.name()));
    }
    let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Field::ALL.len());
}

#[test]
fn a_subscriptions_topic_is_its_channel_unescaped() {
    let sub = |channel: &str| Sub {
        channel: channel.into(),
        no_local: false,
        retain_as_published: false,
        retain_handling: RetainHandling::SendAtSubscribe,
        check: None,
    };
    assert_eq!(sub("a+b%2Cc%25").topic(), "a+b,c%");
    assert_eq!(sub("v4#x%C3%A9").topic(), "xé");
    assert_eq!(sub("a#x").topic(), "x");
}

#[test]
fn corrupt_metadata_is_a_clear_error() {
    let mut headers = HeaderMap::new();
    headers.insert("meta-mqtt-v", "7".parse().expect("value"));
    let err = Session::from_headers(&headers).expect_err("corrupt");
    assert!(err.to_string().contains("mqtt-v"));
}

#[test]
fn qos2_identifiers_survive_a_trip_through_metadata_and_fit_their_bound() {
    // 64 identifiers: the Receive Maximum the handler announces.
    let ids: Vec<NonZeroU16> = (0..64)
        .filter_map(|i| NonZeroU16::new(u16::MAX - i))
        .collect();
    let text = encode_ids(&ids);
    assert!(text.len() <= 383, "{}", text.len());
    assert_eq!(decode_ids(&text), Some(ids));
    assert_eq!(decode_ids("1,0"), None);
    assert_eq!(decode_ids("1,x"), None);
}

#[test]
fn each_field_keeps_its_wire_text_so_open_connections_still_parse() {
    let s = full();
    let text: Vec<(&str, String)> = Field::ALL
        .iter()
        .map(|&f| (f.meta(), s.encode(f)))
        .collect();
    assert_eq!(
        text,
        [
            ("meta-mqtt-v", "5".to_owned()),
            ("meta-mqtt-token", "tok".to_owned()),
            ("meta-mqtt-exp", "99".to_owned()),
            ("meta-mqtt-ka", "30".to_owned()),
            ("meta-mqtt-seen", "12".to_owned()),
            (
                "meta-mqtt-subs",
                "9a%2Cb|0000691c2a5e-000000000002,2c".to_owned()
            ),
            ("meta-mqtt-buf", "EP8=".to_owned()),
            ("meta-mqtt-will", "MAMAAXc=".to_owned()),
            ("meta-mqtt-qos2", "1,65535".to_owned()),
        ]
    );
}
