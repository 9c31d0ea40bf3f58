//! Fuzz target for Mercure selectors: `UriSelector::parse_v0` / `parse_v1` (URI
//! templates, URL patterns with a base, exact) and `matches` must never panic; a selector
//! prints back as written; `*` selects everything; an exact selector selects exactly
//! itself; a template selects its own text; a 0.x selector is refused only over the
//! bounds. A fourth field, when it is JSON, is read as 1.0 authorization details.
//!
//! The input is NUL-separated: selector, topic, base URL, details JSON. The first byte of
//! the selector field picks the dialect (its low bits), the rest is the selector.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pubsub_core::claims::mercure::V1Claims;
use pubsub_core::uri_match::{MatchKind, UriSelector, MAX_SELECTOR_LEN};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut fields = text.split('\0');
    let head = fields.next().unwrap_or("");
    let topic = fields.next().unwrap_or("");
    let base = fields.next().filter(|b| !b.is_empty());
    let details = fields.next();
    let mut chars = head.chars();
    let pick = chars.next().map_or(0, |c| c as u32 % 3);
    let selector = chars.as_str();
    let parsed = match pick {
        0 => UriSelector::parse_v0(selector),
        1 => UriSelector::parse_v1(MatchKind::Exact, selector, base),
        _ => UriSelector::parse_v1(MatchKind::UrlPattern, selector, base),
    };
    match parsed {
        Ok(sel) => {
            assert_eq!(sel.as_str(), selector);
            let hit = sel.matches(topic);
            let _ = sel.matches(selector);
            match &sel {
                UriSelector::Any => assert!(hit),
                UriSelector::Exact(s) => assert_eq!(hit, s == topic),
                UriSelector::Template(t) => assert!(t.matches(selector)),
                UriSelector::Pattern(_) => {}
            }
        }
        Err(e) => {
            let _ = e.to_string();
            if pick < 2 {
                // Only the bounds refuse a 0.x or exact selector.
                assert!(
                    selector.is_empty() || selector.len() > MAX_SELECTOR_LEN || pick == 0,
                    "{selector:?}: {e}"
                );
            }
        }
    }
    if let Some(json) = details {
        if let Ok(claims) = serde_json::from_str::<V1Claims>(json) {
            if let Ok(grants) = claims.into_grants("k".into(), base) {
                let _ = grants.may_publish(topic);
                let _ = grants.may_receive(&[topic]);
                let _ = grants.payload_for(selector);
            }
        }
    }
});
