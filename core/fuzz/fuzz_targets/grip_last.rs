//! Fuzz target for `Grip-Last` header values (`pubsub_core::grip_sig::last_ids`, what the SSE
//! handler reads a recovery request's headers with): it must never panic, every entry it
//! returns names a trimmed channel and an id without separators, entries written back in
//! the canonical quoted form read back the same, and an id is then read as a version as
//! the handler does.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::audience::feed;
use pubsub_core::grip_sig::last_ids;
use pubsub_core::retained::Version;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let entries: Vec<(&str, &str)> = last_ids(value).collect();
    for (channel, id) in &entries {
        assert!(!channel.is_empty());
        assert_eq!(channel.trim(), *channel);
        assert!(!channel.contains([',', ';']) && !id.contains([',', ';']));
        assert!(!id.starts_with('"') && !id.ends_with('"'));
        if let Ok(version) = id.parse::<Version>() {
            assert_eq!(version.to_string(), *id);
        }
        let _ = feed::parse(channel);
    }
    let written: Vec<String> = entries
        .iter()
        .map(|(channel, id)| format!("{channel}; last-id=\"{id}\""))
        .collect();
    let again: Vec<(&str, &str)> = written.iter().flat_map(|w| last_ids(w)).collect();
    assert_eq!(again, entries, "written entries read back differently");
    let joined = written.join(", ");
    assert_eq!(last_ids(&joined).collect::<Vec<_>>(), entries);
});
