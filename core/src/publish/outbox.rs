//! [`Outbox`]: the publications of one request, sent together in as few publish API
//! calls as their items fit in, each publication with its own outcome.
//!
//! Each [`Outbox::add`] runs steps 1 to 4 of a publish at once (render, fan-out plan,
//! store, items): so a retained message is stored before anything of it is published, and
//! a publication refused there (too large, not stored, rate limited) is refused alone.
//! Its items follow those of the publications added before it, so the order of one
//! client's messages holds across calls. [`Outbox::send`] then sends every request in
//! order, each one publish API call, and answers one outcome per publication added, in
//! order: a publication fails exactly when a request holding any of its items failed
//! (a failed call does not stop the later ones, as separate publishes would not).
//!
//! An outbox whose items fill more than one request is [`Outbox::full`]: its owner sends
//! it then, so that what waits in memory stays about one request plus one publication.
//! [`Outbox::take`] hands over what waits and keeps the request's history
//! [`IdSequence`], so the history ids of one request keep growing across sends.

use std::ops::Range;

use super::error::PublishError;
use super::publication::{Publication, Published};
use super::{prepare, Rendering};
use crate::audience::registry;
use crate::grip::Batch;
use crate::history::IdSequence;
use crate::ports::{Platform, Publisher};
use crate::Config;

/// Publications waiting to be sent together.
#[derive(Debug, Default)]
pub struct Outbox {
    batch: Batch,
    /// Per publication added, in order: refused at once, or queued.
    entries: Vec<Result<Queued, PublishError>>,
    /// The history ids of the request's publications.
    ids: IdSequence,
    /// The registry of listened channels, loaded once for the request's publications.
    registry: registry::Loaded,
}

/// A publication whose items are in the batch.
#[derive(Debug)]
struct Queued {
    /// Its items, by number in the batch.
    items: Range<usize>,
    /// What its store step stored.
    published: Published,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many publications wait.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no publication waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the items fill more than one request: time to send.
    pub fn full(&self) -> bool {
        self.batch.len() > 1
    }

    /// What waits, to send; this outbox is left empty but keeps its history ids going.
    pub fn take(&mut self) -> Outbox {
        Outbox {
            batch: std::mem::take(&mut self.batch),
            entries: std::mem::take(&mut self.entries),
            ids: self.ids,
            registry: registry::Loaded::default(),
        }
    }

    /// Renders, plans and stores `p` (a retained one is stored now), and queues its items.
    pub fn add(&mut self, platform: &Platform, config: &Config, p: &Publication<'_>) {
        let first = self.batch.items();
        let listening = self.registry.get(&*platform.kv, &*platform.env);
        let rendering = Rendering {
            sse: None,
            listening,
        };
        let prepared = prepare(
            platform,
            config,
            p,
            &mut self.batch,
            &mut self.ids,
            &rendering,
        );
        let entry = prepared.map(|(published, _)| Queued {
            items: first..self.batch.items(),
            published,
        });
        self.entries.push(entry);
    }

    /// Sends the queued items, one publish API call per request, and answers the outcome
    /// of each publication added, in order.
    pub fn send(
        self,
        publisher: &dyn Publisher,
        config: &Config,
    ) -> Vec<Result<Published, PublishError>> {
        let mut failed: Vec<(Range<usize>, String)> = Vec::new();
        let mut start = 0;
        let counts = self.batch.items_per_request().to_vec();
        for (body, count) in self.batch.into_requests().into_iter().zip(counts) {
            if let Err(why) = publisher.publish(config, body) {
                failed.push((start..start + count, why));
            }
            start += count;
        }
        self.entries
            .into_iter()
            .map(|entry| {
                let Queued { items, published } = entry?;
                let failure = failed
                    .iter()
                    .find(|(request, _)| request.start < items.end && items.start < request.end);
                match failure {
                    None => Ok(published),
                    Some((_, why)) => Err(PublishError::NotDelivered {
                        stored: published.stored,
                        reason: why.clone(),
                    }),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::ports::memory::InMemory;
    use crate::topic::TopicName;

    /// Records each call and fails the calls numbered in `failing` (from 0).
    struct Calls {
        failing: Vec<usize>,
        bodies: Mutex<Vec<Vec<u8>>>,
    }

    impl Publisher for Calls {
        fn publish(&self, _config: &Config, body: Vec<u8>) -> Result<(), String> {
            let mut bodies = self.bodies.lock().expect("lock");
            let n = bodies.len();
            bodies.push(body);
            match self.failing.contains(&n) {
                true => Err(format!("call {n} failed")),
                false => Ok(()),
            }
        }
    }

    fn add_all(outbox: &mut Outbox, ports: &InMemory, config: &Config, payloads: &[Vec<u8>]) {
        let topic = [TopicName::parse("t").expect("topic")];
        for payload in payloads {
            let p = Publication {
                topics: &topic,
                payload,
                retain: false,
                ttl_secs: None,
                mqtt: None,
                sender: Some("c"),
            };
            outbox.add(&ports.platform, config, &p);
        }
    }

    #[test]
    fn many_small_publications_go_out_in_one_call() {
        let (ports, config) = (InMemory::new(), Config::default());
        let mut outbox = Outbox::new();
        add_all(&mut outbox, &ports, &config, &vec![b"x".to_vec(); 150]);
        assert_eq!(outbox.len(), 150);
        let calls = Calls {
            failing: vec![],
            bodies: Mutex::default(),
        };
        let outcomes = outbox.send(&calls, &config);
        assert_eq!(outcomes.len(), 150);
        assert!(outcomes.iter().all(Result::is_ok));
        assert_eq!(calls.bodies.lock().expect("lock").len(), 1, "one call");
    }

    #[test]
    fn a_failed_call_fails_exactly_the_publications_with_items_in_it() {
        let (ports, mut config) = (InMemory::new(), Config::default());
        config.wildcard_max_levels = 0;
        // About 1.25 MB of items each: the second straddles the first two requests.
        let big = vec![b'x'; 250_000];
        let mut outbox = Outbox::new();
        add_all(&mut outbox, &ports, &config, &[b"a".to_vec(), big.clone()]);
        add_all(&mut outbox, &ports, &config, &[big.clone(), big]);
        assert!(outbox.full());
        let calls = Calls {
            failing: vec![0],
            bodies: Mutex::default(),
        };
        let outcomes = outbox.send(&calls, &config);
        let n = calls.bodies.lock().expect("lock").len();
        assert!(n >= 3, "{n} calls");
        let ok: Vec<bool> = outcomes.iter().map(Result::is_ok).collect();
        assert_eq!(ok, [false, false, true, true]);
        assert!(matches!(
            &outcomes[0],
            Err(PublishError::NotDelivered { reason, .. }) if reason == "call 0 failed"
        ));
    }
}
