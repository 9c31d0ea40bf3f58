//! Step 2 of a publish: the fan-out plan, the items that carry the message to wildcard
//! subscribers.
//!
//! Per topic, one item on the [`Kind::Filter`] channel (the SSE event with its topic,
//! [`filter_sse_event`], and the MQTT 5 PUBLISH) and one on the [`Kind::Filter311`]
//! channel (the MQTT 3.1.1 PUBLISH) of every filter that matches the topic
//! ([`wildcard::filters_matching`], filters of at most `wildcard-max-levels` levels; none
//! when that is 0).
//!
//! Every such item of a topic carries the same meta and formats, so they are serialized
//! once per topic (a [`Fragment`]) and copied into each item. The items of one publish may
//! take at most [`BUDGET_BYTES`]: a publication whose wildcard delivery would need more is
//! refused ([`PublishError::TooLarge`]) before anything is stored or published, which is
//! why this step runs before the store.

use super::rendered::Rendered;
use super::{Publication, PublishError};
use crate::channel::Kind;
use crate::grip::{Batch, Budget, Formats, Fragment, HttpStream, WsMessage, BUDGET_BYTES};
use crate::render::filter_sse_event;
use crate::{wildcard, Error};

/// The wildcard items of `messages`, filters of at most `max_levels` levels.
pub(super) fn plan(
    messages: &[Rendered<'_>],
    p: &Publication<'_>,
    max_levels: usize,
) -> Result<Batch, PublishError> {
    let mut budget = Budget::new(BUDGET_BYTES);
    if max_levels == 0 {
        return Ok(budget.into_batch());
    }
    for m in messages {
        let sse = filter_sse_event(m.topic, p.payload);
        let v5 = Fragment::new(
            p.sender,
            &Formats {
                http_stream: Some(HttpStream::Content(&sse)),
                ws_message: Some(WsMessage::ContentBin(&m.mqtt_v5)),
            },
        );
        let v311 = Fragment::new(
            p.sender,
            &Formats {
                http_stream: None,
                ws_message: Some(WsMessage::ContentBin(&m.mqtt_v311)),
            },
        );
        let mut result = Ok(());
        wildcard::filters_matching(m.topic, max_levels, |filter| {
            if result.is_ok() {
                result = budget
                    .push_on(&Kind::Filter.of(filter), &v5)
                    .and_then(|()| budget.push_on(&Kind::Filter311.of(filter), &v311));
            }
        });
        result.map_err(|over| {
            PublishError::TooLarge(Error::FanoutTooLarge {
                topic: m.topic.to_owned(),
                filters: wildcard::count(m.topic.split('/').count(), max_levels),
                bytes: over.bytes,
            })
        })?;
    }
    Ok(budget.into_batch())
}
