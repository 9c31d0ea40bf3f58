//! Step 4 of a publish: the items that carry the message on its topics' own channels.
//!
//! Every item carries the publication's sender (`meta.sender`, for MQTT's No Local).
//!
//! A live message (not retained), per topic: the SSE event and the MQTT 5 PUBLISH on the
//! topic's live channel (one item, so SSE and MQTT 5 subscribers get the same message),
//! the MQTT 3.1.1 PUBLISH on [`Rendering::Mqtt311`] when some 3.1.1 client listens on topic
//! names ([`ANY_311`]), and the MQTT 5 PUBLISH again on [`Rendering::Mqtt5AsPublished`]
//! when that channel is registered as listened ([`crate::audience::registry`]; as for
//! every [`Rendering::Mqtt311`] and [`Rendering::Mqtt5AsPublished`] item below). The SSE event is the same for every topic, so it is rendered
//! once.
//!
//! A retained message, per topic: the SSE event (with `id:` [`EventId::single`]) alone on
//! [`Rendering::SequencedEvent`], with GRIP `id` = the new version and `prev-id` = the replaced one;
//! then the MQTT 5 and 3.1.1 packets on the live and [`Rendering::Mqtt311`] channels without
//! the SSE format (SSE subscribers of the live channel get the event through the retained
//! channel), and the MQTT 5 packet with RETAIN set on [`Rendering::Mqtt5AsPublished`].
//!
//! A topic with history: its SSE event's `id:` is [`EventId::single_history`], and its live
//! [`Rendering::Event`] item carries the GRIP `id` = the HistoryId and `prev-id` = the
//! topic's previous head (see [`crate::history::head`]), so that topic's live event is
//! rendered for it alone. A retained message of such a topic sends its SSE event on the
//! live channel in that chain (not on the retained channel), so a stream sees every
//! message of the topic in one sequence. Topics without history are rendered as above.

use super::logged::{id_of, prev_of, Logged};
use super::publication::Publication;
use super::rendered::Rendered;
use super::Own;
use std::borrow::Cow;

use crate::audience::registry::{Listening, ANY_311};
use crate::audience::{feed, publication, Feed, Rendering};
use crate::grip::{Batch, Formats, HttpStream, Item, WsMessage};
use crate::history::HistoryId;
use crate::render::sse_event;
use crate::retained::{EventId, Stored};

/// About how many bytes the own items of `messages` take.
pub(super) fn estimate(messages: &[Rendered<'_>], p: &Publication<'_>) -> usize {
    // Per topic: the SSE event, three packets as base64, the JSON around them.
    let packets: usize = messages
        .iter()
        .map(|m| 2 * m.mqtt_v5.len() + m.mqtt_v311.len())
        .sum();
    messages.len() * (p.payload.len() + 512) + packets.div_ceil(3) * 4
}

/// Appends the items of `messages` on their own channels to `batch`: live ones when
/// `own.stored` is empty, else retained ones (one [`Stored`] per message, in order);
/// with the history ids of `own.logged`.
pub(super) fn own_items(
    batch: &mut Batch,
    messages: &[Rendered<'_>],
    p: &Publication<'_>,
    own: &Own<'_>,
) {
    let Own {
        stored,
        logged,
        listening,
        sse,
    } = *own;
    if stored.is_empty() {
        live(batch, messages, p, (logged, sse), listening);
    } else {
        for (i, (m, stored)) in messages.iter().zip(stored).enumerate() {
            let history = id_of(logged, i).map(|id| (id, prev_of(logged, i)));
            let sender = p.sender;
            retained(batch, m, p.payload, sender, stored, history, listening);
        }
    }
}

/// Whether `rendering` of a message goes to `channel`: always, unless its feed is sent
/// only to registered listeners ([`Feed::registered`]) and `channel` has none, or it is
/// the 3.1.1 rendering and no 3.1.1 client listens on topic names ([`ANY_311`]).
fn wanted(rendering: Rendering, channel: &str, listening: &Listening) -> bool {
    match rendering.feed() {
        Feed::Mqtt311 => listening.listens(ANY_311),
        feed => !feed.registered() || listening.listens(channel),
    }
}

/// The live items of `messages`: per topic, the table's renderings of a live publication
/// ([`publication`]`(false)`) on their channels.
fn live(
    batch: &mut Batch,
    messages: &[Rendered<'_>],
    p: &Publication<'_>,
    (logged, given): (&[Option<Logged>], Option<&str>),
    listening: &Listening,
) {
    let shared = match given {
        Some(sse) => std::borrow::Cow::Borrowed(sse),
        None => std::borrow::Cow::Owned(sse_event(p.payload, None)),
    };
    for (i, m) in messages.iter().enumerate() {
        let history = id_of(logged, i);
        let grip_id = history.map(|id| id.to_string());
        let prev_id = prev_of(logged, i).map(|id| id.to_string());
        let own = history.filter(|_| given.is_none()).map(|id| {
            let event_id = EventId::single_history(m.topic, id).to_string();
            sse_event(p.payload, Some(&event_id))
        });
        let sse = own.as_deref().unwrap_or(&shared);
        for &rendering in publication(false) {
            let (http_stream, packet) = match rendering {
                Rendering::Event => (Some(HttpStream::Content(sse)), &m.v5_base64),
                Rendering::Mqtt311 => (None, &m.v311_base64),
                _ => (None, &m.v5_base64),
            };
            let channel = channel(rendering, m.topic);
            if !wanted(rendering, &channel, listening) {
                continue;
            }
            let mut item = item(
                &channel,
                p.sender,
                http_stream,
                WsMessage::ContentBase64(packet),
            );
            if rendering == Rendering::Event {
                item.id = grip_id.as_deref();
                item.prev_id = prev_id.as_deref();
            }
            batch.push(&item);
        }
    }
}

/// The retained items of one message: the table's renderings of a retained publication
/// ([`publication`]`(true)`) on their channels, the SSE event in the topic's version
/// sequence. A topic with history (`history`: the message's id and the topic's previous
/// head) instead sends the SSE event on its live channel in the history sequence, so
/// its live stream's `prev-id` chain has every message.
fn retained(
    batch: &mut Batch,
    m: &Rendered<'_>,
    payload: &[u8],
    sender: Option<&str>,
    stored: &Stored,
    history: Option<(HistoryId, Option<HistoryId>)>,
    listening: &Listening,
) {
    let version = stored.version.to_string();
    let previous = stored.previous.to_string();
    let event_id = match history {
        Some((id, _)) => EventId::single_history(m.topic, id),
        None => EventId::single(m.topic, stored.version),
    }
    .to_string();
    let sse = sse_event(payload, Some(&event_id));
    let history_ids = history.map(|(id, prev)| (id.to_string(), prev.map(|p| p.to_string())));
    // Retain As Published: the same MQTT 5 packet with RETAIN set.
    let mut as_published = m.mqtt_v5.clone();
    if let Some(first) = as_published.first_mut() {
        *first |= 1;
    }
    for &rendering in publication(true) {
        let channel = channel(rendering, m.topic);
        if !wanted(rendering, &channel, listening) {
            continue;
        }
        let packet = match rendering {
            Rendering::SequencedEvent if history_ids.is_some() => continue,
            Rendering::SequencedEvent => {
                batch.push(&Item {
                    channel: &channel,
                    id: Some(&version),
                    prev_id: Some(&previous),
                    sender,
                    formats: Formats {
                        http_stream: Some(HttpStream::Content(&sse)),
                        ws_message: None,
                    },
                });
                continue;
            }
            Rendering::Mqtt311 => WsMessage::ContentBase64(&m.v311_base64),
            Rendering::Mqtt5AsPublished => WsMessage::ContentBin(&as_published),
            _ => WsMessage::ContentBase64(&m.v5_base64),
        };
        let mut item = item(&channel, sender, None, packet);
        if let (Feed::Live, Some((id, prev))) = (rendering.feed(), &history_ids) {
            item.formats.http_stream = Some(HttpStream::Content(&sse));
            item.id = Some(id);
            item.prev_id = prev.as_deref();
        }
        batch.push(&item);
    }
}

/// Appends one item per channel of `channels` carrying only the SSE event `sse`: a
/// Mercure update's (or another protocol's message's) rendering for Mercure channels.
pub(super) fn mercure_items(batch: &mut Batch, channels: &[String], sse: &str) {
    for channel in channels {
        let formats = Formats {
            http_stream: Some(HttpStream::Content(sse)),
            ws_message: None,
        };
        batch.push(&Item {
            channel,
            id: None,
            prev_id: None,
            sender: None,
            formats,
        });
    }
}

/// The channel of `rendering` for `topic`; the live channel without a copy when the
/// topic needs no escaping.
fn channel(rendering: Rendering, topic: &str) -> Cow<'_, str> {
    match rendering.feed() {
        Feed::Live => feed::live(topic),
        _ => Cow::Owned(rendering.channel(topic)),
    }
}

/// An item without ids on `channel` carrying `packet` to WebSocket (MQTT) subscribers
/// and, when given, `http_stream` to HTTP-stream subscribers.
fn item<'a>(
    channel: &'a str,
    sender: Option<&'a str>,
    http_stream: Option<HttpStream<'a>>,
    packet: WsMessage<'a>,
) -> Item<'a> {
    Item {
        channel,
        id: None,
        prev_id: None,
        sender,
        formats: Formats {
            http_stream,
            ws_message: Some(packet),
        },
    }
}
