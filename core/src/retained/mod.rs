//! Retained messages: the last retained message of each topic, kept in KV store
//! [`STORE`] (`messages`), with a [`Version`] that only grows.
//!
//! # Slots
//!
//! Each topic that ever had a retained message owns one KV item, its *slot*, under
//! [`key`]`(topic)`: `t/` followed by the lowercase hex of the topic's UTF-8 bytes (at most
//! 2 + 2 × 256 = 514 bytes, only `[0-9a-f/t]`, so it meets every Fastly KV key rule: no
//! `.`/`..`, no control characters, none of `[]*?#`, no `.well-known/acme-challenge/`
//! prefix, at most 1024 bytes).
//!
//! The value is one JSON object (`format` 1):
//!
//! ```json
//! {"format":1,"version":"0000691c2a5e-000000000002","stored_at":1763715678,
//!  "expires_at":1763715738,"payload":"aGVsbG8=","mqtt":{"content_type":"text/plain"}}
//! ```
//!
//! `payload` is the standard base64 of the message; it is absent in a *tombstone*, which an
//! empty retained payload writes (MQTT semantics: the retained message is cleared). A
//! tombstone keeps the slot, so its version sequence goes on. `expires_at` (seconds since
//! the Unix epoch) is present when the message was published with a TTL; `mqtt` holds the
//! MQTT v5 properties to forward ([`MqttProps`]) when the publisher was an MQTT client;
//! `history_id` the same message's id in its topic's history when the topic keeps one
//! ([`store_linked`]), so a resume from a history position knows it covers the message.
//!
//! A topic without a slot is read from a record of Fastly's original app, if it has one
//! (`r:<topic>`, version and expiry in the KV metadata; see `legacy`): its version is
//! [`Version`] epoch 0, below every slot's. The write that creates the slot continues
//! from that version (the new slot's `previous`) and deletes the old record.
//!
//! # Versions
//!
//! A [`Version`] is `<epoch>-<sequence>`, two 12-digit lowercase hex numbers (25 ASCII
//! characters, so versions compare as strings and are safe in an SSE `id:` line, a
//! `Last-Event-ID` header and a GRIP `prev-id`). The epoch is the time (seconds) at which
//! the slot was created; the sequence counts writes from 1. [`Version::ZERO`] stands for
//! "no slot": it is the previous version of the write that creates a slot, and what a
//! subscriber of a topic without a slot has seen.
//!
//! Every write reads the slot, computes the next version and writes with compare-and-swap
//! on the KV item's generation (or "only if absent" when creating the slot). A write that
//! loses the race reads again, up to [`MAX_ATTEMPTS`] times, then fails with 503
//! ([`Error::StoreUnavailable`](crate::Error::StoreUnavailable)). So concurrent publishers never lose an update, every
//! successful write gets a distinct version, and versions never go backwards. A write the
//! store refuses for rate (Fastly KV takes one write per second per key) is not a lost
//! race: [`store`] gives up at once with 429
//! ([`Error::RateLimited`](crate::Error::RateLimited), retry after [`RETRY_AFTER_SECS`]). [`store`]
//! returns the new version and the one it replaced, which the publish item carries as its
//! GRIP `id` and `prev-id`.
//!
//! # Expiry
//!
//! A message's TTL is enforced when it is read: [`read`] and [`load`] never return an
//! expired message. The KV item itself gets a TTL only when its content can expire:
//! message TTL + [`SLOT_GRACE_SECS`] (30 days) for a message with a TTL, and
//! [`SLOT_GRACE_SECS`] for a tombstone; a message without TTL keeps its slot forever. So the
//! version sequence survives the message's expiry by 30 days, and when a slot does
//! disappear, the slot created after it starts a new epoch, later than the old one, so
//! versions still only grow.
//!
//! # Channels
//!
//! Retained messages travel to SSE subscribers on their own Fanout channel,
//! [`Feed::Retained`](crate::audience::Feed::Retained) (`r#` + the topic's live channel), where every item is in the
//! version sequence (`id` = version, `prev-id` = previous version). Live messages that are
//! not retained carry no ids and stay on the topic's live channel, so a durable
//! subscriber's `prev-id` check never trips on them. `#` never occurs in a live channel
//! name (it is percent-encoded there), so the two kinds of channels cannot collide.
//!
//! # Event ids
//!
//! An SSE event's `id:` is an [`EventId`]: comma-separated `<tag>:<version>` entries,
//! where the tag is [`topic_tag`], the 16-hex-digit FNV-1a 64 hash of the topic. A live
//! event names its own topic only (one published item is shared by every subscriber); the
//! events a durable subscribe answers with name every topic of the request they cover.
//! [`EventId::parse`] also takes the original app's ids (`<topic>:<generation>-<seq>`
//! entries), as "seen write `seq`" of each topic they name.

mod event_id;
mod legacy;
mod listing;
mod mqtt_props;
mod slot;
mod version;

pub use event_id::{topic_tag, EventId, EVENT_ID_MAX_ENTRIES};
pub use listing::{topics_matching, LIST_PAGE};
pub use mqtt_props::MqttProps;
pub use slot::{
    key, load, read, store, store_linked, NewRetained, Retained, Slot, Stored, MAX_ATTEMPTS,
    RETRY_AFTER_SECS, SLOT_GRACE_SECS, STORE,
};
pub use version::{InvalidVersion, Version};
