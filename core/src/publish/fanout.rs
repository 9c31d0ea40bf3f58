//! Step 2 of a publish: the fan-out plan, the items that carry the message to wildcard
//! subscribers.
//!
//! Per topic, one item on the [`Rendering::FilterEvent`] channel (the SSE event with its topic,
//! [`filter_sse_event`], and the MQTT 5 PUBLISH) and one on the [`Rendering::Filter311`]
//! channel (the MQTT 3.1.1 PUBLISH) of every filter that matches the topic
//! ([`wildcard::filters_matching`], filters of at most `wildcard-max-levels` levels; none
//! when that is 0).
//!
//! For a topic with history, the SSE event carries `id: <tag>:<HistoryId>` and the
//! [`Rendering::FilterEvent`] items the GRIP `id` HistoryId.
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
use crate::audience::Rendering;
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

/// The wildcard items of one topic: its two fragments and the channels of each filter.
#[derive(Debug)]
struct TopicFanOut {
    v5: Fragment,
    v311: Fragment,
    /// Per matching filter, its [`Rendering::FilterEvent`] and [`Rendering::Filter311`] channels.
    channels: Vec<(String, String)>,
}

/// Plans the wildcard items of `messages`, filters of at most `max_levels` levels, with
/// the history ids of `logged`.
pub(super) fn plan(
    messages: &[Rendered<'_>],
    p: &Publication<'_>,
    max_levels: usize,
    logged: &[Option<Logged>],
) -> Result<FanOut, PublishError> {
    let mut fan_out = FanOut::default();
    if max_levels == 0 {
        return Ok(fan_out);
    }
    let mut bytes = 0;
    for (i, m) in messages.iter().enumerate() {
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
        let levels = m.topic.split('/').count();
        let mut channels = Vec::with_capacity(wildcard::count(levels, max_levels));
        wildcard::filters_matching(m.topic, max_levels, |filter| {
            if bytes <= BUDGET_BYTES {
                let pair = (
                    Rendering::FilterEvent.channel(filter),
                    Rendering::Filter311.channel(filter),
                );
                bytes += v5.len_on(&pair.0) + v311.len_on(&pair.1) + 2;
                channels.push(pair);
            }
        });
        if bytes > BUDGET_BYTES {
            return Err(PublishError::TooLarge(Error::FanoutTooLarge {
                topic: m.topic.to_owned(),
                filters: wildcard::count(levels, max_levels),
                bytes,
                budget: BUDGET_BYTES,
            }));
        }
        fan_out.topics.push(TopicFanOut { v5, v311, channels });
    }
    fan_out.bytes = bytes;
    Ok(fan_out)
}

impl FanOut {
    /// The bytes the planned items take.
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends the planned items to `batch`, in order.
    pub(super) fn write(&self, batch: &mut Batch) {
        for topic in &self.topics {
            for (v5, v311) in &topic.channels {
                batch.push_on(v5, &topic.v5);
                batch.push_on(v311, &topic.v311);
            }
        }
    }
}
