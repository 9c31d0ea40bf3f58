//! Fuzz target for the WebSocket-over-HTTP event codec: parsing must never
//! panic, and a parsed body written back out must parse to the same events.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_codec::wsevents;

fuzz_target!(|data: &[u8]| {
    let parsed = wsevents::parse(data);
    let streamed: Vec<_> = wsevents::events(data).collect();
    match parsed {
        Ok(events) => {
            assert!(streamed.iter().all(Result::is_ok));
            let mut body = Vec::new();
            for event in &events {
                wsevents::write_event(&mut body, event);
            }
            let again = wsevents::parse(&body).expect("written events parse");
            assert_eq!(again, events, "the round trip changed the events");
        }
        Err(err) => {
            assert_eq!(streamed.last(), Some(&Err(err.clone())));
            let _ = err.to_string();
        }
    }
});
