//! The registry of listened channels: which wildcard filters, and which topics with a
//! Retain As Published subscription, someone is subscribed to, so that a publish sends
//! items only to those channels instead of to every channel that could have a listener.
//!
//! Three feeds are *registered* ([`Feed::registered`]): [`Feed::Filter`],
//! [`Feed::Filter311`] and [`Feed::AsPublished`]. Every subscription that listens on one
//! of their channels registers it ([`register`]) before it is answered (the SSE hold, the
//! SUBACK) and again on the connection's later requests. [`Feed::Mqtt311`] is registered
//! as a whole: every MQTT 3.1.1 subscription to a topic name registers [`ANY_311`], "some
//! 3.1.1 client listens on topic names". A publish loads the registry once ([`load`]) and
//! sends the items of those feeds only to registered channels (3.1.1 items only when
//! [`ANY_311`] is registered); the other feeds (live, retained) are always sent. So a
//! publish to a topic that no wildcard or Retain As Published subscription covers is one
//! item on a service without 3.1.1 topic subscribers (the live channel, with the SSE event
//! and the MQTT 5 PUBLISH) and two with them (and the 3.1.1 channel), and its cost grows
//! with the filters actually subscribed, not with the topic's depth.
//!
//! Storage: one KV item per channel, `sr/<hex of the channel>` in store `messages` (its
//! value, one byte, is never read), with a TTL of three refresh intervals
//! ([`refresh_secs`]: `link-grant-max-age`, at least an hour). A registration writes it
//! only when this POP's cache does not say it did within one interval, so a filter costs
//! one KV write per POP per interval however many subscribe to it. Every SSE stream asks
//! the app again within one interval (its link is due at the grant's max age) and every
//! MQTT connection does (the app's callback interval is at most an hour), so a channel
//! with a listener never expires; one without listeners goes after three intervals at
//! most (until then its items are sent as before, to nobody).
//!
//! Loading: the list of registered channels is kept in this POP's cache for
//! [`LIST_CACHE_SECS`]; when absent it is one KV listing of `sr/`. A registration adds
//! its channel to the cached list at once, so publishers at the same POP send to it from
//! the subscription's answer on. When the listing fails, or holds more than
//! [`MAX_CHANNELS`] channels, the publish falls back to every channel that could match
//! ([`Listening::Everything`], the behaviour without a registry).
//!
//! What changes against sending to every possible channel: a new wildcard (or Retain As
//! Published) channel gets the messages of publishers at *other* POPs only once KV has
//! propagated its registration there and their cached list has expired: in production up
//! to KV's propagation delay (about a minute) plus [`LIST_CACHE_SECS`]. Locally, and for
//! publishers at the subscriber's POP, it gets every message published after its answer,
//! except in one race: a publisher at the same POP that listed KV just before the
//! registration and writes the cache just after it hides the channel for up to
//! [`LIST_CACHE_SECS`]. A topic with history closes such a gap for SSE subscribers that
//! resume (`Last-Event-ID`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::history::{parse_hex, push_hex};
use crate::ports::{Environment, InsertOptions, KvError, KvStore};
use crate::retained::STORE;
use crate::topic::Filter;
use crate::{Config, Error};

use super::feed::{self, Feed};

/// The key prefix of every registered channel.
pub const PREFIX: &str = "sr/";

/// The POP-cache key of the list of registered channels.
const LIST_KEY: &str = "sr-list";

/// The POP-cache key prefix saying this POP registered a channel lately.
const FRESH_PREFIX: &str = "sr-fresh/";

/// How long a POP keeps the list of registered channels, in seconds.
pub const LIST_CACHE_SECS: u32 = 10;

/// The most registered channels a publish reads; with more, it sends to every channel
/// that could match.
pub const MAX_CHANNELS: usize = 1_000;

/// The shortest refresh interval, in seconds: an MQTT connection's longest callback
/// interval, an hour.
pub const MIN_REFRESH_SECS: u32 = 3_600;

/// The registered name that says some MQTT 3.1.1 subscription to a topic name exists:
/// the [`Feed::Mqtt311`] channel of the empty topic, which no topic has.
pub const ANY_311: &str = "v4#";

/// The value of a cached list that stands for "too many: send everything".
const EVERYTHING: &[u8] = b"*";

/// The stored value of a registration (never read).
const VALUE: &[u8] = b"1";

/// How many registrations this instance made: a request that keeps the registry it
/// loaded ([`Loaded`]) loads it again when this moved.
static REGISTRATIONS: AtomicU64 = AtomicU64::new(0);

/// The registry as loaded once for several publications of one request, loaded again
/// after a registration of this instance (a SUBSCRIBE before a PUBLISH in one request).
#[derive(Debug, Default)]
pub struct Loaded {
    loaded: Option<(u64, Listening)>,
}

impl Loaded {
    /// The registry: the one loaded before, unless a registration happened since.
    pub fn get(&mut self, kv: &dyn KvStore, env: &dyn Environment) -> &Listening {
        let now = REGISTRATIONS.load(Ordering::Relaxed);
        if self.loaded.as_ref().is_none_or(|(at, _)| *at != now) {
            self.loaded = Some((now, load(kv, env)));
        }
        match &self.loaded {
            Some((_, listening)) => listening,
            None => &Listening::Everything,
        }
    }
}

/// Who listens on the registered feeds, as one publish sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listening {
    /// Unknown: send to every channel that could have a listener.
    Everything,
    /// These channels of registered feeds, and no other.
    Only(Vec<Registered>),
}

/// One registered channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    /// Its feed.
    pub feed: Feed,
    /// The channel's name.
    pub channel: String,
    /// For the filter feeds, the filter.
    pub filter: Option<Filter>,
    /// For the Mercure feeds, the selector's name in its channel
    /// ([`crate::mercure::channels::selector_name`]).
    pub mercure: Option<String>,
}

impl Listening {
    /// Whether `channel` of a registered feed (or [`ANY_311`]) has a listener.
    pub fn listens(&self, channel: &str) -> bool {
        match self {
            Self::Everything => true,
            Self::Only(list) => list.iter().any(|r| r.channel == channel),
        }
    }
}

/// The refresh interval of registrations under `config`, in seconds.
pub fn refresh_secs(config: &Config) -> u32 {
    config.link_grant_max_age.max(MIN_REFRESH_SECS)
}

/// The registry as this POP sees it: the cached list, else one KV listing (then cached).
pub fn load(kv: &dyn KvStore, env: &dyn Environment) -> Listening {
    let list = match env.cache_get(LIST_KEY) {
        Some(list) => list,
        None => {
            let Ok(list) = list_store(kv) else {
                return Listening::Everything;
            };
            env.cache_put(LIST_KEY, &list, LIST_CACHE_SECS);
            list
        }
    };
    parse_list(&list)
}

/// The cached form of the registry, read from KV: the channels one per line, or
/// [`EVERYTHING`] when there are more than [`MAX_CHANNELS`].
fn list_store(kv: &dyn KvStore) -> Result<Vec<u8>, KvError> {
    let limit = u32::try_from(MAX_CHANNELS + 1).unwrap_or(u32::MAX);
    let keys = kv.list_prefix(STORE, PREFIX, limit)?;
    if keys.len() > MAX_CHANNELS {
        return Ok(EVERYTHING.to_vec());
    }
    let mut list = String::new();
    for channel in keys
        .iter()
        .filter_map(|k| parse_hex(k.strip_prefix(PREFIX)?))
    {
        list.push_str(&channel);
        list.push('\n');
    }
    Ok(list.into_bytes())
}

/// Reads a cached list; lines that name no registered channel are skipped.
fn parse_list(list: &[u8]) -> Listening {
    if list == EVERYTHING {
        return Listening::Everything;
    }
    let Ok(text) = std::str::from_utf8(list) else {
        return Listening::Everything;
    };
    let entries = text.lines().filter_map(entry).collect();
    Listening::Only(entries)
}

fn entry(channel: &str) -> Option<Registered> {
    if channel == ANY_311 {
        return Some(Registered {
            feed: Feed::Mqtt311,
            channel: channel.to_owned(),
            filter: None,
            mercure: None,
        });
    }
    let (feed, name) = feed::parse(channel)?;
    let (filter, mercure) = match feed {
        Feed::Filter | Feed::Filter311 => (Some(name.parse::<Filter>().ok()?), None),
        Feed::AsPublished => (None, None),
        Feed::Mercure | Feed::MercurePrivate => (None, Some(name)),
        _ => return None,
    };
    Some(Registered {
        feed,
        channel: channel.to_owned(),
        filter,
        mercure,
    })
}

/// Registers `channel` (of a registered feed, or [`ANY_311`]) for `refresh` seconds, unless this POP did
/// within that time, and adds it to this POP's cached list. A refusal for rate means
/// another subscriber wrote it within the second and counts as written.
pub fn register(
    kv: &dyn KvStore,
    env: &dyn Environment,
    refresh: u32,
    channel: &str,
) -> Result<(), Error> {
    let mut fresh = String::with_capacity(FRESH_PREFIX.len() + channel.len());
    fresh.push_str(FRESH_PREFIX);
    fresh.push_str(channel);
    if env.cached(&fresh) {
        return Ok(());
    }
    let mut key = String::with_capacity(PREFIX.len() + 2 * channel.len());
    key.push_str(PREFIX);
    push_hex(&mut key, channel);
    let options = InsertOptions {
        ttl_secs: Some(refresh.saturating_mul(3)),
        ..InsertOptions::default()
    };
    match kv.insert(STORE, &key, VALUE, options) {
        Ok(()) | Err(KvError::RateLimited) => {}
        Err(why) => {
            let why = format!("registering subscription channel `{channel}`: {why}");
            return Err(Error::StoreUnavailable(why));
        }
    }
    env.cache(&fresh, refresh);
    REGISTRATIONS.fetch_add(1, Ordering::Relaxed);
    if let Some(mut list) = env.cache_get(LIST_KEY) {
        let known = list.as_slice() == EVERYTHING
            || list.split(|&b| b == b'\n').any(|l| l == channel.as_bytes());
        if !known {
            list.extend_from_slice(channel.as_bytes());
            list.push(b'\n');
            env.cache_put(LIST_KEY, &list, LIST_CACHE_SECS);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;

/// Makes this POP take every channel of the registered feeds as listened for a long while,
/// as when its listing holds too many: for tests and tools that look at the unfiltered
/// fan-out.
pub fn listen_everywhere(env: &dyn Environment) {
    env.cache_put(LIST_KEY, EVERYTHING, 1_000_000);
}
