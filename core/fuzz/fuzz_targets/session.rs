//! Fuzz target for the MQTT session in connection metadata: `Session::from_headers` over
//! fuzzed `Meta-*` headers must never panic, and a decoded session must round-trip.
//!
//! The input is lines `<index><value>`: the first byte picks one of the schema's header
//! names ([`Field::ALL`], or a name of the fuzzer's when out of range), the rest of the line
//! is its value. For every session that decodes: compared with itself it has no
//! `Set-Meta-*` change; written back as headers (each field's [`Session::encode`]) it
//! decodes to the same session; and the changes from the empty session, applied as
//! `Set-Meta-*` headers would be, give the same session again.

#![no_main]

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use pubsub_core::mqtt_session::{Field, Session};

fn headers(data: &[u8]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some((&pick, value)) = line.split_first() else {
            continue;
        };
        let name = match Field::ALL.get(usize::from(pick)) {
            Some(field) => HeaderName::from_static(field.meta()),
            None => match value
                .split(|&b| b == b'=')
                .next()
                .map(HeaderName::from_bytes)
            {
                Some(Ok(name)) => name,
                _ => continue,
            },
        };
        if let Ok(value) = HeaderValue::from_bytes(value) {
            map.append(name, value);
        }
    }
    map
}

fn encoded(session: &Session, fields: impl Iterator<Item = (&'static str, String)>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in fields {
        let name = name.trim_start_matches("set-");
        let value = HeaderValue::from_str(&value).expect("an encoded field is a header value");
        map.insert(HeaderName::from_static(name), value);
    }
    let _ = session;
    map
}

fuzz_target!(|data: &[u8]| {
    let Ok(session) = Session::from_headers(&headers(data)) else {
        return;
    };
    assert!(
        session.changes(&session).is_empty(),
        "no change must write nothing"
    );
    let all = Field::ALL.iter().map(|&f| (f.meta(), session.encode(f)));
    let again = Session::from_headers(&encoded(&session, all)).expect("re-encoded decodes");
    assert_eq!(again, session, "encode then decode");
    let changes = session.changes(&Session::default());
    let applied =
        Session::from_headers(&encoded(&session, changes.into_iter())).expect("changes decode");
    assert_eq!(applied, session, "changes from empty");
    assert!(again.changes(&session).is_empty());
});
