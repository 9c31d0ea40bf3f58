//! Fuzz target for SSE event ids and retained-slot versions: `EventId::parse` and
//! `Version::from_str` must never panic, and whatever parses must print back to text that
//! parses to the same value (for a version, to the very same text).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::retained::{EventId, Version, EVENT_ID_MAX_ENTRIES};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    match text.parse::<Version>() {
        Ok(version) => assert_eq!(version.to_string(), text, "a version prints as it was read"),
        Err(err) => {
            let _ = err.to_string();
        }
    }

    match EventId::parse(text) {
        Ok(id) => {
            let printed = id.to_string();
            let again = EventId::parse(&printed).expect("a printed event id parses");
            assert_eq!(again, id, "the round trip changed the event id");
            assert_eq!(again.to_string(), printed);
            assert!(printed.split(',').count() <= EVENT_ID_MAX_ENTRIES);
            assert_eq!(id.is_empty(), text.is_empty());
        }
        Err(err) => {
            assert_eq!(err.status(), 400);
            let _ = err.to_string();
        }
    }
});
