//! [`Batch`]: packs items into as few publish request bodies as Fanout's limit allows.
//!
//! Every request is `{"items":[…]}` and at most [`REQUEST_BYTES`] long (Fanout refuses a
//! bigger body); each is a backend round trip, the largest cost of a small publish, so
//! each item goes into the last request unless it would take it over the limit, and then
//! starts the next one. Items keep their order across requests, and each is written once,
//! straight into its request (moved only when it starts a new one).
//!
//! Invariants: every request holds at least one item and is a complete JSON object at all
//! times, so a batch never yields an empty body; an item is never split (one larger than
//! [`REQUEST_BYTES`] goes alone in its request, and Fanout refuses it).

use super::item::{Fragment, Item};

/// The largest publish request body: Fanout refuses a bigger one.
pub const REQUEST_BYTES: usize = 1_000_000;

const HEAD: &str = "{\"items\":[";
const TAIL: &str = "]}";

/// Publish request bodies being filled, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Batch {
    requests: Vec<String>,
    /// How many items each request holds.
    items: Vec<usize>,
    /// Bytes still expected, reserved as new requests start.
    expected: usize,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch expecting about `bytes` of items: its requests reserve room for
    /// them as they start, so that filling them does not copy what they hold.
    pub fn with_capacity(bytes: usize) -> Self {
        Self {
            expected: bytes,
            ..Self::default()
        }
    }

    /// Expects about `bytes` more of items (see [`Batch::with_capacity`]).
    pub fn reserve(&mut self, bytes: usize) {
        self.expected = self.expected.saturating_add(bytes);
    }

    /// How many items the batch holds: the next item is item number `items()`.
    pub fn items(&self) -> usize {
        self.items.iter().sum()
    }

    /// Per request, in order, how many items it holds.
    pub fn items_per_request(&self) -> &[usize] {
        &self.items
    }

    /// Appends `item`.
    pub fn push(&mut self, item: &Item<'_>) {
        self.add(|out| item.write(out));
    }

    /// Appends the item on `channel` that carries `fragment`.
    pub fn push_on(&mut self, channel: &str, fragment: &Fragment) {
        self.add(|out| fragment.write_on(channel, out));
    }

    /// How many requests the batch holds.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether the batch holds no item.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// The request bodies.
    pub fn into_requests(self) -> Vec<Vec<u8>> {
        self.requests.into_iter().map(String::into_bytes).collect()
    }

    /// The request bodies of `items`, in order: a short fixed set of items (a
    /// revocation's, a takeover's) packed as [`Batch::push`] packs any.
    pub fn requests_of(items: &[Item<'_>]) -> Vec<Vec<u8>> {
        let mut batch = Self::new();
        for item in items {
            batch.push(item);
        }
        batch.into_requests()
    }

    /// Writes one item with `write` into the last request, or into a new one when it
    /// does not fit there.
    fn add(&mut self, write: impl FnOnce(&mut String)) {
        let Some(mut body) = self.requests.pop() else {
            let mut body = self.start();
            write(&mut body);
            body.push_str(TAIL);
            self.requests.push(body);
            self.items.push(1);
            return;
        };
        body.truncate(body.len() - TAIL.len());
        body.push(',');
        let start = body.len();
        write(&mut body);
        if body.len() + TAIL.len() > REQUEST_BYTES {
            // The item starts the next request.
            let mut next = self.start();
            next.push_str(&body[start..]);
            next.push_str(TAIL);
            body.truncate(start - 1);
            body.push_str(TAIL);
            self.requests.push(body);
            self.requests.push(next);
            self.items.push(1);
        } else {
            body.push_str(TAIL);
            self.requests.push(body);
            if let Some(last) = self.items.last_mut() {
                *last += 1;
            }
        }
    }

    /// A new request, `{"items":[`, with room for what is still expected.
    fn start(&mut self) -> String {
        let room = self.expected.min(REQUEST_BYTES);
        self.expected -= room;
        let mut body = String::with_capacity(room.max(HEAD.len() + TAIL.len()));
        body.push_str(HEAD);
        body
    }
}

#[cfg(test)]
mod tests {
    use super::super::item::{Formats, WsMessage};
    use super::*;

    fn item<'a>(channel: &'a str, bytes: &'a [u8]) -> Item<'a> {
        Item {
            channel,
            id: None,
            prev_id: None,
            sender: None,
            formats: Formats {
                http_stream: None,
                ws_message: Some(WsMessage::ContentBin(bytes)),
            },
        }
    }

    fn channels(requests: &[Vec<u8>]) -> Vec<String> {
        requests
            .iter()
            .flat_map(|body| {
                let v: serde_json::Value = serde_json::from_slice(body).expect("json body");
                v["items"].as_array().expect("items").clone()
            })
            .map(|item| item["channel"].as_str().expect("channel").to_owned())
            .collect()
    }

    #[test]
    fn items_share_a_request_until_the_next_would_go_over_the_limit() {
        let big = vec![0; 300_000];
        let mut batch = Batch::new();
        let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        for name in &names {
            batch.push(&item(name, &big));
        }
        let requests = batch.into_requests();
        // 400,000 bytes of base64 per item: two fit in a request, a third does not.
        assert_eq!(requests.len(), 5);
        assert!(requests
            .iter()
            .all(|r| r.len() <= REQUEST_BYTES && r.len() > 800_000));
        assert_eq!(channels(&requests), names, "every item once, in order");
    }

    #[test]
    fn a_request_fills_up_to_exactly_the_limit() {
        let mut batch = Batch::new();
        batch.push(&item("a", b""));
        let one = batch.clone().into_requests()[0].len();
        // `{"items":[` + n items + n-1 commas + `]}`: n items fit, n + 1 do not.
        let per = one - HEAD.len() - TAIL.len() + 1;
        let n = (REQUEST_BYTES - HEAD.len() - TAIL.len() + 1) / per;
        for _ in 1..n {
            batch.push(&item("a", b""));
        }
        assert_eq!(batch.len(), 1);
        batch.push(&item("a", b""));
        assert_eq!(batch.len(), 2);
        let requests = batch.into_requests();
        assert!(requests[0].len() <= REQUEST_BYTES);
        assert!(requests[0].len() + per > REQUEST_BYTES);
        assert_eq!(channels(&requests).len(), n + 1);
    }

    #[test]
    fn shared_fragments_and_items_pack_alike() {
        let big = vec![0; 600_000];
        let fragment = Fragment::new(None, &item("", &big).formats);
        let mut batch = Batch::new();
        batch.push(&item("own", b"x"));
        batch.push_on("w1", &fragment);
        batch.push_on("w2", &fragment);
        batch.push(&item("w3", b"z"));
        let requests = batch.into_requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(channels(&requests), ["own", "w1", "w2", "w3"]);
    }

    #[test]
    fn an_empty_batch_sends_no_body_and_an_oversized_item_goes_alone() {
        assert!(Batch::new().into_requests().is_empty(), "no items, no body");
        let huge = vec![0; REQUEST_BYTES];
        let mut batch = Batch::new();
        batch.push(&item("a", b"x"));
        batch.push(&item("huge", &huge));
        batch.push(&item("b", b"x"));
        let requests = batch.into_requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(channels(&requests), ["a", "huge", "b"]);
    }

    #[test]
    fn the_batch_counts_the_items_of_each_request() {
        let big = vec![0; 600_000];
        let mut batch = Batch::new();
        assert_eq!(batch.items(), 0);
        batch.push(&item("a", b"x"));
        batch.push(&item("b", &big));
        batch.push(&item("c", &big));
        batch.push(&item("d", b"x"));
        assert_eq!(batch.items_per_request(), [2, 2]);
        assert_eq!(batch.items(), 4);
    }
}
