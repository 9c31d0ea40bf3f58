//! [`Batch`]: packs items into as few publish request bodies as Fanout's limit allows.
//!
//! Every request is `{"items":[…]}` and at most [`REQUEST_BYTES`] long (Fanout refuses a
//! bigger body); each is a backend round trip, the largest cost of a small publish, so
//! items fill the last request until the next one would not fit. Items keep their order
//! across requests. A [`Budget`] is a batch whose items (each counted with its
//! separator) stay within a number of bytes: it refuses an item that would go over,
//! leaving the batch as it was ([`OverBudget`]).
//!
//! Invariants: every request holds at least one item and is a complete JSON object at all
//! times, so a batch never yields an empty body; an item is never split (one larger than
//! [`REQUEST_BYTES`] goes alone in its request, and Fanout refuses it).

use super::item::{Fragment, Item};

/// The largest publish request body: Fanout refuses a bigger one.
pub const REQUEST_BYTES: usize = 1_000_000;

/// The most bytes of wildcard items one publish may send (four full requests).
pub const BUDGET_BYTES: usize = 4 * REQUEST_BYTES;

const HEAD: &str = "{\"items\":[";
const TAIL: &str = "]}";

/// An item would take a [`Budget`] over its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverBudget {
    /// The bytes the items would have taken with it.
    pub bytes: usize,
}

/// Publish request bodies being filled, in order.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    requests: Vec<String>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `item`.
    pub fn push(&mut self, item: &Item<'_>) {
        self.add(|out| item.write(out), |_| true);
    }

    /// How many requests the batch holds.
    pub fn len(&self) -> usize {
        self.requests.len()
    }

    /// Whether the batch holds no item.
    pub fn is_empty(&self) -> bool {
        self.requests.is_empty()
    }

    /// Appends the items of `later` after these: its first request joins the last one
    /// here when both fit in one, its other requests follow as they are.
    pub fn append(&mut self, later: Batch) {
        let mut later = later.requests.into_iter();
        let Some(first) = later.next() else {
            return;
        };
        match (self.requests.last_mut(), first.strip_prefix(HEAD)) {
            (Some(last), Some(rest)) if last.len() - TAIL.len() + 1 + rest.len() <= REQUEST_BYTES => {
                last.truncate(last.len() - TAIL.len());
                last.push(',');
                last.push_str(rest);
            }
            _ => self.requests.push(first),
        }
        self.requests.extend(later);
    }

    /// The request bodies.
    pub fn into_requests(self) -> Vec<Vec<u8>> {
        self.requests.into_iter().map(String::into_bytes).collect()
    }

    /// Writes one item with `write` into the last request, or into a new one when it does
    /// not fit there, if `accept` takes its length (with its separator); `false`, and the
    /// batch unchanged, when it does not.
    fn add(&mut self, write: impl FnOnce(&mut String), accept: impl FnOnce(usize) -> bool) -> bool {
        let reopened = self.requests.pop();
        let fresh = reopened.is_none();
        let mut body = match reopened {
            Some(mut body) => {
                body.truncate(body.len() - TAIL.len());
                body.push(',');
                body
            }
            None => String::from(HEAD),
        };
        let start = body.len();
        write(&mut body);
        if !accept(body.len() - start + 1) {
            if !fresh {
                body.truncate(start - 1);
                body.push_str(TAIL);
                self.requests.push(body);
            }
            return false;
        }
        if !fresh && body.len() + TAIL.len() > REQUEST_BYTES {
            // The item starts the next request.
            let mut next = String::with_capacity(HEAD.len() + body.len() - start + TAIL.len());
            next.push_str(HEAD);
            next.push_str(&body[start..]);
            body.truncate(start - 1);
            body.push_str(TAIL);
            self.requests.push(body);
            body = next;
        }
        body.push_str(TAIL);
        self.requests.push(body);
        true
    }
}

/// A [`Batch`] whose items may take at most a given number of bytes in all, each counted
/// with its separator.
#[derive(Clone, Debug)]
pub struct Budget {
    batch: Batch,
    used: usize,
    limit: usize,
}

impl Budget {
    /// An empty batch whose items may take at most `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            batch: Batch::new(),
            used: 0,
            limit,
        }
    }

    /// Appends the item on `channel` that carries `fragment`, unless that would go over
    /// the limit (then nothing changes).
    pub fn push_on(&mut self, channel: &str, fragment: &Fragment) -> Result<(), OverBudget> {
        let mut used = self.used;
        let accept = |len| {
            used += len;
            used <= self.limit
        };
        if self.batch.add(|out| fragment.write_on(channel, out), accept) {
            self.used = used;
            Ok(())
        } else {
            Err(OverBudget { bytes: used })
        }
    }

    /// The batch of the items taken.
    pub fn into_batch(self) -> Batch {
        self.batch
    }
}

#[cfg(test)]
mod tests {
    use super::super::item::{Formats, WsMessage};
    use super::*;

    fn item(channel: &str, bytes: &'static [u8]) -> Item<'_> {
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
        static BIG: [u8; 300_000] = [0; 300_000];
        let mut batch = Batch::new();
        let names: Vec<String> = (0..10).map(|i| format!("c{i}")).collect();
        for name in &names {
            batch.push(&item(name, &BIG));
        }
        let requests = batch.into_requests();
        // 400,000 bytes of base64 per item: two fit in a request, a third does not.
        assert_eq!(requests.len(), 5);
        assert!(requests.iter().all(|r| r.len() <= REQUEST_BYTES && r.len() > 800_000));
        assert_eq!(channels(&requests), names, "every item once, in order");
    }

    #[test]
    fn a_request_fills_up_to_exactly_the_limit() {
        let mut batch = Batch::new();
        batch.push(&item("a", b""));
        let one = batch.clone().into_requests()[0].len();
        // `{"items":[` + n items + n-1 commas + `]}`: find n for which the limit is hit.
        let per = one - HEAD.len() - TAIL.len() + 1;
        let n = (REQUEST_BYTES - HEAD.len() - TAIL.len() + 1) / per;
        for _ in 1..n {
            batch.push(&item("a", b""));
        }
        assert_eq!(batch.len(), 1);
        batch.push(&item("a", b""));
        assert_eq!(batch.len(), 2);
        assert!(batch.into_requests().iter().all(|r| r.len() <= REQUEST_BYTES));
    }

    #[test]
    fn an_item_over_the_budget_is_refused_and_leaves_the_batch_unchanged() {
        let small = Fragment::new(None, &item("", b"x").formats);
        let big = Fragment::new(None, &item("", &[0; 60]).formats);
        let mut budget = Budget::new(100);
        budget.push_on("a", &small).expect("fits");
        let before = budget.clone().into_batch().into_requests();
        let err = budget.push_on("b", &big).expect_err("over");
        assert!(err.bytes > 100, "{err:?}");
        assert_eq!(budget.clone().into_batch().into_requests(), before);
        budget.push_on("c", &small).expect("still fits");
        assert_eq!(channels(&budget.into_batch().into_requests()), ["a", "c"]);
        let mut tiny = Budget::new(10);
        assert!(tiny.push_on("a", &small).is_err());
        assert!(tiny.into_batch().is_empty());
    }

    #[test]
    fn appended_items_join_the_last_request_when_they_fit() {
        static BIG: [u8; 600_000] = [0; 600_000];
        let mut own = Batch::new();
        own.push(&item("own", b"x"));
        let mut later = Batch::new();
        later.push(&item("w1", b"y"));
        own.append(later);
        assert_eq!(own.len(), 1);
        let mut big = Batch::new();
        big.push(&item("w2", &BIG));
        big.push(&item("w3", b"z"));
        own.append(big);
        let requests = own.into_requests();
        assert_eq!(requests.len(), 2);
        assert_eq!(channels(&requests), ["own", "w1", "w2", "w3"]);
        assert!(Batch::new().into_requests().is_empty(), "no items, no body");
    }
}
