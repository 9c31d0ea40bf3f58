//! Step 2 of a publish: the fan-out plan, the items that carry the message to wildcard
//! subscribers.
//!
//! Per topic, one item on the [`FilterEvent`](crate::audience::Rendering::FilterEvent)
//! channel (the SSE event with its topic, [`filter_sse_event`](crate::render::filter_sse_event),
//! and the MQTT 5 PUBLISH) and one on the [`Filter311`](crate::audience::Rendering::Filter311)
//! channel (the MQTT 3.1.1 PUBLISH) of every filter of at most `wildcard-max-levels`
//! levels (none when that is 0) that matches the topic and is registered as listened
//! ([`crate::audience::registry`]); when the registry is unknown, of every such filter
//! that could match ([`wildcard::filters_matching`]).
//!
//! For a topic with history, the SSE event carries `id: <tag>:<HistoryId>` and the
//! filter event items the GRIP `id` HistoryId.
//!
//! Every such item of a topic carries the same meta and formats, so they are serialized
//! once per topic (a [`Fragment`]) and copied into each item. The items of one publish may
//! take at most [`BUDGET_BYTES`] (each counted with its separator): a publication whose
//! wildcard delivery would need more is refused ([`PublishError::TooLarge`]) before
//! anything is stored or published. So the plan runs before the store, counting each
//! item's exact size ([`Fragment::len_on`]), and its items are written after the
//! message's own, straight into their requests ([`FanOut::write`]).

use super::error::PublishError;
use super::logged::{id_of, Logged};
use super::publication::Publication;
use super::rendered::Rendered;
use crate::audience::registry::Listening;
use crate::audience::{Feed, FILTER_PUBLICATION};
use crate::grip::{Batch, Formats, Fragment, HttpStream, WsMessage, REQUEST_BYTES};
use crate::render::filter_sse_event_with_id;
use crate::retained::EventId;
use crate::topic::wildcard;
use crate::Error;

/// The most bytes of wildcard items one publish may send (four full requests).
pub const BUDGET_BYTES: usize = 4 * REQUEST_BYTES;

/// The wildcard items of a publication, planned within [`BUDGET_BYTES`].
#[derive(Debug, Default)]
pub(super) struct FanOut {
    topics: Vec<TopicFanOut>,
    /// The bytes of the items, each with its separator.
    bytes: usize,
}

/// The wildcard items of one topic: its two fragments and the filter channels to send.
#[derive(Debug)]
struct TopicFanOut {
    v5: Fragment,
    v311: Fragment,
    /// Each filter channel with its feed: [`Feed::Filter`] gets `v5`, [`Feed::Filter311`]
    /// `v311`.
    channels: Vec<(Feed, String)>,
}

/// Plans the wildcard items of `messages`, filters of at most `max_levels` levels that
/// `listening` has listeners on, with the history ids of `logged`.
pub(super) fn plan(
    messages: &[Rendered<'_>],
    p: &Publication<'_>,
    max_levels: usize,
    listening: &Listening,
    logged: &[Option<Logged>],
) -> Result<FanOut, PublishError> {
    let mut fan_out = FanOut::default();
    if max_levels == 0 {
        return Ok(fan_out);
    }
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
        let channels = channels(m.topic, max_levels, listening);
        if channels.is_empty() {
            continue;
        }
        let id = id_of(logged, i);
        let grip_id = id.map(|id| id.to_string());
        let event_id = id.map(|id| EventId::single_history(m.topic, id).to_string());
        let sse = filter_sse_event_with_id(m.topic, p.payload, event_id.as_deref());
        let formats = |http_stream, packet| Formats {
            http_stream,
            ws_message: Some(WsMessage::ContentBase64(packet)),
        };
        let v5 = formats(Some(HttpStream::Content(&sse)), &m.v5_base64);
        let v5 = Fragment::with_id(grip_id.as_deref(), p.sender, &v5);
        let v311 = Fragment::new(p.sender, &formats(None, &m.v311_base64));
        for (feed, channel) in &channels {
            let fragment = if *feed == Feed::Filter { &v5 } else { &v311 };
            bytes += fragment.len_on(channel) + 1;
        }
        if bytes > BUDGET_BYTES {
            return Err(PublishError::TooLarge(Error::FanoutTooLarge {
                topic: m.topic.to_owned(),
                filters: channels.len().div_ceil(2),
                bytes,
                budget: BUDGET_BYTES,
            }));
        }
        fan_out.topics.push(TopicFanOut { v5, v311, channels });
    }
    fan_out.bytes = bytes;
    Ok(fan_out)
}

/// The filter channels a message to `topic` goes to: with an unknown registry, both
/// channels of every filter of at most `max_levels` levels that matches it; else the
/// registered channels of such filters.
fn channels(topic: &str, max_levels: usize, listening: &Listening) -> Vec<(Feed, String)> {
    match listening {
        Listening::Everything => {
            let levels = topic.split('/').count();
            let mut channels = Vec::with_capacity(2 * wildcard::count(levels, max_levels));
            wildcard::filters_matching(topic, max_levels, |filter| {
                for rendering in FILTER_PUBLICATION {
                    channels.push((rendering.feed(), rendering.channel(filter)));
                }
            });
            channels
        }
        Listening::Only(list) => list
            .iter()
            .filter_map(|r| {
                let filter = r.filter.as_ref()?;
                let deep = filter.as_str().split('/').count() <= max_levels;
                (deep && filter.matches(topic)).then(|| (r.feed, r.channel.clone()))
            })
            .collect(),
    }
}

impl FanOut {
    /// The bytes the planned items take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends the planned items to `batch`, in order.
    pub(super) fn write(&self, batch: &mut Batch) {
        for topic in &self.topics {
            for (feed, channel) in &topic.channels {
                let fragment = if *feed == Feed::Filter {
                    &topic.v5
                } else {
                    &topic.v311
                };
                batch.push_on(channel, fragment);
            }
        }
    }
}
