//! The one publish use case: a [`Publication`] from any protocol goes out to every kind of
//! subscriber of its topics, and comes back as a typed outcome.
//!
//! [`publish`] runs these steps, in this order, each in its own file:
//!
//! 1. render (`rendered.rs`): the MQTT 5 and 3.1.1 packets per topic;
//! 2. fan-out plan (`fanout.rs`): the wildcard items of the filters registered as
//!    listened ([`registry`]), refused over [`BUDGET_BYTES`]
//!    ([`PublishError::TooLarge`]) before anything is stored or published;
//! 3. store (`store`): with `retain`, each topic's retained message, topic by topic
//!    ([`PublishError::RateLimited`], [`PublishError::NotStored`]; nothing is published),
//!    then the message's record in the history of each topic that keeps one
//!    (`logged.rs`: the [`HistoryId`](crate::history::HistoryId), assigned before step 2
//!    because the SSE events carry it; [`PublishError::NotStored`]);
//! 4. items (`items.rs`): the items on the topics' own channels, live or retained;
//! 5. send (`send`): the own items, then the wildcard items, packed into as few
//!    requests as Fanout's limit allows ([`Batch`]), each request one publish API call
//!    ([`PublishError::NotDelivered`] at the first that fails).
//!
//! [`Outbox`] runs steps 1 to 4 for each publication of one MQTT request and then sends
//! them all together, in as few requests as their items fit in.
//!
//! Topics with history: every SSE rendering of the message (the live event, the retained
//! event, the wildcard events) carries `id: <tag>:<HistoryId>` ([`EventId::single_history`]
//! (crate::retained::EventId::single_history)) and its item the GRIP `id` HistoryId, but
//! a retained event keeps its version and previous version as GRIP `id`/`prev-id`.
//! Topics without a rule are published exactly as if history did not exist.
//!
//! On success, [`Published`] carries the stored versions (retained only) and the history
//! ids. Handlers parse their protocol into a [`Publication`] and map the outcome to a
//! status or reason code.

mod error;
mod fanout;
mod items;
mod logged;
mod outbox;
mod publication;
mod rendered;

pub use error::PublishError;
pub use fanout::BUDGET_BYTES;
pub use outbox::Outbox;
pub use publication::{Publication, Published};

use crate::audience::registry::{self, Listening};
use crate::grip::Batch;
use crate::history::IdSequence;
use crate::mercure::{self, Update};
use crate::ports::{Platform, Publisher};
use crate::render;
use crate::retained::{self, NewRetained, Stored};
use crate::Config;
use logged::Logged;

/// Publishes `p` through `platform`'s KV store (retained messages), clock and publisher.
pub fn publish(
    platform: &Platform,
    config: &Config,
    p: &Publication<'_>,
) -> Result<Published, PublishError> {
    let mut batch = Batch::new();
    let listening = registry::load(&*platform.kv, &*platform.env);
    let own = Rendering {
        sse: None,
        listening: &listening,
    };
    let mut ids = IdSequence::new();
    let (published, own_requests) = prepare(platform, config, p, &mut batch, &mut ids, &own)?;
    send_all(&*platform.publisher, config, batch, own_requests, published)
}

/// Publishes a Mercure `update` ([`crate::mercure`]): a public one as a publication of its
/// topics whose SSE rendering is its Mercure event, then to the Mercure channels of the
/// registered selectors that match it; a private one only to private channels (its
/// topics' and the matching registered selectors'). `base` is the hub's URL.
pub fn publish_mercure(
    platform: &Platform,
    config: &Config,
    update: &Update<'_>,
    base: Option<&str>,
) -> Result<Published, PublishError> {
    let listening = registry::load(&*platform.kv, &*platform.env);
    let event = mercure::event::render(update);
    let mut batch = Batch::new();
    let mut published = Published::default();
    if !update.private {
        let p = Publication {
            topics: update.topics,
            payload: update.data.as_bytes(),
            retain: false,
            ttl_secs: None,
            mqtt: None,
            sender: None,
        };
        let own = Rendering {
            sse: Some(&event),
            listening: &listening,
        };
        (published, _) = prepare(
            platform,
            config,
            &p,
            &mut batch,
            &mut IdSequence::new(),
            &own,
        )?;
    }
    let own_requests = batch.len();
    items::mercure_items(
        &mut batch,
        &mercure::channels::update(update, &listening, base),
        &event,
    );
    send_all(&*platform.publisher, config, batch, own_requests, published)
}

/// Sends `batch` ([`send`]); a failure reports what `published` stored.
fn send_all(
    publisher: &dyn Publisher,
    config: &Config,
    batch: Batch,
    own_requests: usize,
    published: Published,
) -> Result<Published, PublishError> {
    send(publisher, config, batch, own_requests).map_err(|reason| PublishError::NotDelivered {
        stored: published.stored.clone(),
        reason,
    })?;
    Ok(published)
}

/// How a publication's items are rendered beyond its own data: an SSE event that
/// replaces the usual one (a Mercure update's), and who listens on the registered feeds.
struct Rendering<'a> {
    sse: Option<&'a str>,
    listening: &'a Listening,
}

/// Steps 1 to 4 of [`publish`]: renders, plans and stores `p` (history ids from `ids`),
/// then appends its own items and its wildcard items to `batch`. Answers what was stored
/// and how many requests of `batch` then hold own items.
fn prepare(
    platform: &Platform,
    config: &Config,
    p: &Publication<'_>,
    batch: &mut Batch,
    ids: &mut IdSequence,
    rendering: &Rendering<'_>,
) -> Result<(Published, usize), PublishError> {
    let messages = rendered::render(p)?;
    let mut logged = logged::assign(platform, &config.history, p, ids)?;
    let listening = rendering.listening;
    let max_levels = config.wildcard_max_levels;
    let wildcard = fanout::plan(&messages, p, max_levels, listening, &logged)?;
    let stored = store(platform, p, &logged)?;
    logged::append(platform, p, &mut logged)?;
    let own = Own {
        stored: &stored,
        logged: &logged,
        listening,
        sse: rendering.sse,
    };
    let own_requests = write(batch, &messages, p, &own, &wildcard);
    if config.mercure.as_ref().is_some_and(|m| m.on) && rendering.sse.is_none() {
        // Other protocols' messages reach the Mercure selectors that match them.
        let names = p.topics.iter().map(crate::topic::TopicName::as_str);
        let base = None;
        let channels = mercure::channels::registered(names, false, listening, base);
        if !channels.is_empty() {
            let sse = render::sse_event(p.payload, None);
            items::mercure_items(batch, &channels, &sse);
        }
    }
    let history = logged::published(p, &logged);
    Ok((Published { stored, history }, own_requests))
}

/// The request bodies [`publish`] sends for `p` as a live (not retained) publication
/// when `listening` is the registry, without sending them: what a measuring tool counts.
pub fn live_requests(
    p: &Publication<'_>,
    config: &Config,
    listening: &Listening,
) -> Result<Vec<Vec<u8>>, PublishError> {
    let messages = rendered::render(p)?;
    let wildcard = fanout::plan(&messages, p, config.wildcard_max_levels, listening, &[])?;
    let mut batch = Batch::new();
    let own = Own {
        stored: &[],
        logged: &[],
        listening,
        sse: None,
    };
    write(&mut batch, &messages, p, &own, &wildcard);
    Ok(batch.into_requests())
}

/// What decides a publication's own items: the retained messages stored (none for a
/// live one), the history ids, and who listens on the registered feeds.
#[derive(Clone, Copy)]
struct Own<'a> {
    stored: &'a [Stored],
    logged: &'a [Option<Logged>],
    listening: &'a Listening,
    /// The SSE event of every own item instead of the message's usual one.
    sse: Option<&'a str>,
}

/// Appends the own items of `messages` (retained when `own.stored` is not empty) and then
/// the `wildcard` items to `batch`; answers how many requests then hold own items.
fn write(
    batch: &mut Batch,
    messages: &[rendered::Rendered<'_>],
    p: &Publication<'_>,
    own: &Own<'_>,
    wildcard: &fanout::FanOut,
) -> usize {
    batch.reserve(items::estimate(messages, p) + wildcard.bytes());
    items::own_items(batch, messages, p, own);
    let own_requests = batch.len();
    wildcard.write(batch);
    own_requests
}

/// Stores `p` as the retained message of each of its topics, in order (nothing without
/// `retain`), linked to its history id where the topic keeps history.
fn store(
    platform: &Platform,
    p: &Publication<'_>,
    logged: &[Option<Logged>],
) -> Result<Vec<Stored>, PublishError> {
    if !p.retain {
        return Ok(Vec::new());
    }
    let now = platform.env.now();
    p.topics
        .iter()
        .enumerate()
        .map(|(i, topic)| {
            let new = NewRetained {
                payload: p.payload,
                ttl_secs: p.ttl_secs,
                mqtt: p.mqtt.clone(),
            };
            let history_id = logged::id_of(logged, i);
            retained::store_linked(&*platform.kv, now, topic, new, history_id).map_err(
                |e| match e {
                    crate::Error::RateLimited { .. } => PublishError::RateLimited(e),
                    e => PublishError::NotStored(e),
                },
            )
        })
        .collect()
}

/// Sends the requests of `batch` in order; `Err` carries the first failure's reason,
/// saying when the message reached its topics' subscribers (the first `own_requests`
/// requests) but not every wildcard subscription.
fn send(
    publisher: &dyn Publisher,
    config: &Config,
    batch: Batch,
    own_requests: usize,
) -> Result<(), String> {
    for (i, body) in batch.into_requests().into_iter().enumerate() {
        publisher
            .publish(config, body)
            .map_err(|why| match i < own_requests {
                true => why,
                false => format!(
                "delivered to the topic's subscribers but not to every wildcard subscription: {why}"
            ),
            })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
