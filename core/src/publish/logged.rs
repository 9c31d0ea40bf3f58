//! The history of a publication: which of its topics keep history, the one
//! [`HistoryId`] the message gets in them, and the append of its records (part of the
//! store step).
//!
//! A publication gets its id only when at least one of its topics has a `history` rule
//! (no clock or random read otherwise), from the request's [`IdSequence`], so the
//! messages of one request are strictly ordered. Every topic with a rule holds the
//! message under that same id. The append runs after the retained slots are written
//! (a slot refused for rate then leaves no history record of a message never
//! published) and before anything is sent; a failed append is
//! [`PublishError::NotStored`]. Each append then refreshes the topic's marker
//! ([`history::mark`]: at most once per half `max-age` per POP, never failing the publish)
//! and moves the topic's head in the POP cache.

use pubsub_config::{HistoryRule, HistoryRules};

use super::error::PublishError;
use super::publication::Publication;
use crate::history::{self, HistoryId, IdSequence, NewMessage};
use crate::ports::Platform;
use crate::topic::TopicName;

/// A topic's part in the history: its rule and the message's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Logged {
    pub(super) rule: HistoryRule,
    pub(super) id: HistoryId,
    /// The topic's [head](history::head) before this message: its live item's `prev-id`.
    pub(super) prev: Option<HistoryId>,
}

/// Per topic of `p`, in order, its [`Logged`] when it keeps history: the message's id,
/// after every such topic's head (so a topic's ids follow the order of its publishes at
/// this POP), and the head it follows.
pub(super) fn assign(
    platform: &Platform,
    rules: &HistoryRules,
    p: &Publication<'_>,
    ids: &mut IdSequence,
) -> Result<Vec<Option<Logged>>, PublishError> {
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let topic_rules: Vec<Option<HistoryRule>> =
        p.topics.iter().map(|t| rules.rule_for(t)).collect();
    if topic_rules.iter().all(Option::is_none) {
        return Ok(Vec::new());
    }
    // Each topic's head: its live item's `prev-id`, and what the new id must follow.
    let heads: Vec<Option<HistoryId>> = p
        .topics
        .iter()
        .zip(&topic_rules)
        .map(|(topic, rule)| rule.and_then(|_| history::head(&*platform.env, topic)))
        .collect();
    if let Some(newest) = heads.iter().flatten().max() {
        ids.after(*newest);
    }
    let id = ids.next(&*platform.env).map_err(PublishError::NotStored)?;
    Ok(topic_rules
        .into_iter()
        .zip(heads)
        .map(|(rule, prev)| rule.map(|rule| Logged { rule, id, prev }))
        .collect())
}

/// The history id of topic number `i`, if it keeps history.
pub(super) fn id_of(logged: &[Option<Logged>], i: usize) -> Option<HistoryId> {
    logged.get(i).copied().flatten().map(|l| l.id)
}

/// Appends `p` to the history of each topic that keeps one, in order, refreshing its
/// marker and moving the head to the message.
pub(super) fn append(
    platform: &Platform,
    p: &Publication<'_>,
    logged: &mut [Option<Logged>],
) -> Result<(), PublishError> {
    let env = &*platform.env;
    for (topic, logged) in p.topics.iter().zip(logged) {
        let Some(Logged { rule, id, .. }) = logged else {
            continue;
        };
        let message = NewMessage {
            id: *id,
            payload: p.payload,
            retain: p.retain,
            ttl_secs: p.ttl_secs,
            mqtt: p.mqtt.as_ref(),
        };
        history::append(&*platform.kv, *rule, topic, &message).map_err(PublishError::NotStored)?;
        history::mark(&*platform.kv, env, *rule, topic);
        history::set_head(env, topic, *id, rule.max_age_secs);
    }
    Ok(())
}

/// The previous head of topic number `i` (its live item's `prev-id`), if known.
pub(super) fn prev_of(logged: &[Option<Logged>], i: usize) -> Option<HistoryId> {
    logged.get(i).copied().flatten().and_then(|l| l.prev)
}

/// The topics of `p` that keep history, each with the message's id there.
pub(super) fn published(
    p: &Publication<'_>,
    logged: &[Option<Logged>],
) -> Vec<(TopicName, HistoryId)> {
    p.topics
        .iter()
        .zip(logged)
        .filter_map(|(topic, l)| Some((topic.clone(), (*l)?.id)))
        .collect()
}
