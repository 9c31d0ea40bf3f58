//! GRIP publish bodies: the typed [`Item`] the publish API takes, its one serializer, and
//! the [`Batch`] that packs items into request bodies within Fanout's limit.
//!
//! - [`Item`] (in `item.rs`): channel, optional `id` / `prev-id`, optional `meta.sender`,
//!   and the `http-stream` / `ws-message` formats (content or `close`). [`Item::write`] is
//!   the only code that writes item JSON; a [`Fragment`] holds the serialized meta and
//!   formats that many items share (a message's wildcard items).
//! - [`Batch`] (in `batch.rs`): request bodies `{"items":[…]}` of at most
//!   [`REQUEST_BYTES`], as few as possible, items in order.
//! - [`revocation_requests`]: the items that end the connections of a revoked key.
//!
//! Nothing here can produce an empty body: serializing cannot fail, and a batch holds
//! only requests with at least one item. Which items a message produces is the publish
//! use case's (`crate::publish`); what their formats contain is `crate::render`'s.

mod batch;
mod item;
mod revoke;

pub use batch::{Batch, REQUEST_BYTES};
pub use item::{Formats, Fragment, HttpStream, Item, WsMessage};
pub use revoke::{revocation_requests, REVOKED_CLOSE_CODE};
