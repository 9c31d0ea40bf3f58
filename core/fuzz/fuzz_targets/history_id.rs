//! Fuzz target for history ids and the stream positions that carry them: `HistoryId`
//! parsing and `EventId::parse` (entries holding history ids and retained versions) must
//! never panic; a history id prints back to the very text it was read from and keeps the
//! order of its text; an event id prints to text that parses to the same value, and its
//! history entries are the ones `history`/`latest_history` report.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::history::{HistoryId, HISTORY_ID_LEN};
use pubsub_core::retained::EventId;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mid = text.len() / 2;
    let (left, right) = match text.is_char_boundary(mid) {
        true => text.split_at(mid),
        false => (text, ""),
    };
    let parsed: Vec<Option<HistoryId>> = [text, left, right]
        .iter()
        .map(|part| match part.parse::<HistoryId>() {
            Ok(id) => {
                assert_eq!(id.to_string(), *part, "a history id prints as it was read");
                assert_eq!(part.len(), HISTORY_ID_LEN);
                Some(id)
            }
            Err(err) => {
                assert!(!err.to_string().is_empty());
                None
            }
        })
        .collect();
    if let (Some(a), Some(b)) = (parsed[1], parsed[2]) {
        assert_eq!(a.cmp(&b), left.cmp(right), "ids order like their text");
    }

    match EventId::parse(text) {
        Ok(id) => {
            let printed = id.to_string();
            let again = EventId::parse(&printed).expect("a printed event id parses");
            assert_eq!(again, id, "the round trip changed the event id");
            assert_eq!(again.to_string(), printed);
            let latest = printed
                .split(',')
                .filter_map(|entry| entry.split_once(':'))
                .filter_map(|(_, value)| value.parse::<HistoryId>().ok())
                .max();
            assert_eq!(id.latest_history(), latest);
        }
        Err(err) => {
            assert_eq!(err.status(), 400);
            let _ = err.to_string();
        }
    }
});
