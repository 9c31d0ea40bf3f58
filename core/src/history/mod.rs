//! Message history: the recent messages of the topics a `history` rule names, kept in KV
//! store `messages` beside the retained slots, and read back after a position.
//!
//! The contract:
//! - Every message published to a topic with a rule (HTTP or MQTT, any QoS, retained or
//!   not, the Will too) gets a broker-assigned [`HistoryId`] (`id.rs`), ordered within
//!   the topic in the order subscribers receive the messages, and is appended
//!   ([`append`], one KV write under its own key) BEFORE anything of it is published; a
//!   failed append publishes nothing.
//! - A record (`record.rs`) keeps the payload (any bytes), the retain flag, its own
//!   expiry and the MQTT 5 properties. It lives until trimmed by count (about one append
//!   in 16 deletes the oldest beyond `max-count`) or by age (its KV TTL); readers also
//!   ignore all but the newest `max-count` and anything older than `max-age` or past
//!   its own expiry, so a reader never sees more than the rule keeps.
//! - [`read`] pages through one topic from a [`Position`], saying with a [`Gap`] when the
//!   position lies before what is held; an impossible position is a 400.
//! - [`head`] / [`set_head`] (`head.rs`): the newest id this POP appended to a topic, in
//!   its cache, which gives a live item its GRIP `prev-id`.
//! - [`mark`] (`marker.rs`): after an append, the topic's marker key, refreshed at most
//!   once per half `max-age` per POP, which [`topics_with_history`] lists to find the
//!   topics under a wildcard filter, one listing page of topics.
//! - Listings are eventually consistent: a message written but not yet listed is not
//!   returned now and is returned by a later read after the same position; once a
//!   message has been returned, a read after an earlier position returns it again until
//!   it is trimmed.

mod append;
mod head;
mod id;
mod listing;
mod marker;
mod read;
mod record;
mod scan;

pub use append::{
    append, trim, NewMessage, MIN_TTL_SECS, TRIM_DELETES_MAX, TRIM_EVERY, TRIM_EVERY_MAX,
};
pub use head::{head, set_head};
pub use id::{HistoryId, IdSequence, InvalidHistoryId, HISTORY_ID_LEN};
pub use listing::{held_ids, topics_with_history, LIST_PAGE, MAX_LIST_PAGES};
pub use marker::{
    mark, marker_fresh_secs, marker_key, marker_ttl_secs, FRESH_PREFIX, MARKER_PREFIX,
};
pub use pubsub_config::{HistoryRule, HistoryRules};
pub use read::{
    read, Gap, Page, Position, FULL_LISTING_MAX, FUTURE_SLACK_MS, LOOKUP_BATCH, REWIND_MAX,
};
pub use record::{key, topic_prefix, HistoryMessage};
pub(crate) use record::{parse_hex, push_hex};
pub use scan::MAX_WINDOWS;

#[cfg(test)]
mod tests;
