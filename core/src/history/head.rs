//! The *head* of a topic's history: the id of the newest message this POP appended to
//! it, kept in the POP's cache (never in KV: one write a second per key could not follow
//! a topic's rate).
//!
//! A publish reads the head to give the message's live item its GRIP `prev-id`, then
//! sets the head to the message's id. Fanout compares an item's `prev-id` with the last
//! id each stream saw on the channel: a stream that missed a message (published while it
//! was reconnecting, between the replay's listing and the moment Fanout attached it)
//! drops the item and asks the app, through its link, for what it lacks. A head that is
//! missing (expired, evicted, another POP) gives no `prev-id`: the item is delivered
//! unchecked, as without history. A wrong head (two POPs publishing to one topic at
//! once) only costs such recoveries; the replay they ask for is always read from KV.

use super::id::HistoryId;
use crate::ports::Environment;

/// The cache key of `topic`'s head.
fn key(topic: &str) -> String {
    let mut key = String::with_capacity(topic.len() + 3);
    key.push_str("hh/");
    key.push_str(topic);
    key
}

/// The id of the newest message this POP appended to `topic`, if it knows it.
pub fn head(env: &dyn Environment, topic: &str) -> Option<HistoryId> {
    let value = env.cache_get(&key(topic))?;
    std::str::from_utf8(&value).ok()?.parse().ok()
}

/// Records `id` as `topic`'s head for `ttl_secs` seconds (the rule's `max-age`).
pub fn set_head(env: &dyn Environment, topic: &str, id: HistoryId, ttl_secs: u32) {
    env.cache_put(&key(topic), id.to_string().as_bytes(), ttl_secs);
}
