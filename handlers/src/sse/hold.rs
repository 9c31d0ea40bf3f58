//! The stream hold: the channels a stream listens on (those of
//! [`Audience::Sse`] for each selector, and for its key) and the `Grip-Link` Fanout
//! requests on its own (with an app-issued grant, at the token's expiry, the grant's
//! max age or the durable recovery interval, whichever comes first).

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

use pubsub_core::audience::{registry, Audience, Feed};
use pubsub_core::grant;
use pubsub_core::ports::Platform;
use pubsub_core::principal::LEEWAY_SECS;
use pubsub_core::retained::{EventId, Version};
use pubsub_core::topic::Selector;
use pubsub_core::{Config, Error, Response, Result};

use super::{KEEP_ALIVE, LINK_PREFIX, MAX_LINK_TIMEOUT_SECS};

/// The key that signs link grants (empty when the Secret Store has none: issuing then
/// fails, naming the entry).
pub(super) fn grant_key(platform: &Platform) -> Vec<u8> {
    platform.secrets.get(grant::SECRET).unwrap_or_default()
}

/// The `timeout` of a stream's `Grip-Link`, in seconds: Fanout requests the link once it
/// has passed (Pushpin 1.36 and later: once, unless every channel of the stream carried a
/// message in the meantime, which the key channel never does, so traffic cannot delay
/// it). A plain stream (`recovery` is `None`) is asked again when its token has expired
/// (`exp` plus the leeway) or its grant is due (`until`, at most Config Store
/// `link-grant-max-age` away), whichever comes first; a durable one also at least every
/// `recovery` seconds (Config Store `durable-recovery-interval`). Every stream has a
/// link, so no grant outlives its max age.
pub(super) fn link_timeout(exp: Option<u64>, until: u64, now: u64, recovery: Option<u64>) -> u64 {
    let until_expiry = exp.map(|exp| exp.saturating_add(LEEWAY_SECS).saturating_sub(now));
    let until_due = until.saturating_sub(now);
    until_expiry
        .into_iter()
        .chain(recovery)
        .fold(until_due, u64::min)
        .clamp(1, MAX_LINK_TIMEOUT_SECS)
}

/// The link of a stream: its grant, and when Fanout requests it.
pub(super) struct Link {
    pub(super) grant: String,
    pub(super) timeout: u64,
}

/// A stream hold: the channels of `selectors` and of the key `kid`, and the link.
pub(super) struct Hold<'a> {
    pub(super) selectors: &'a [Selector],
    pub(super) kid: &'a str,
    pub(super) durable: bool,
    pub(super) link: Link,
}

impl Hold<'_> {
    /// Registers the stream's channels of registered feeds (its wildcard filters) as
    /// listened, before it is held and on every later request of it (its link), so
    /// publishers send to them (`pubsub_core::audience::registry`).
    pub(super) fn register(&self, platform: &Platform, config: &Config) -> Result<(), Error> {
        let refresh = registry::refresh_secs(config);
        for selector in self.selectors {
            for (feed, channel) in Audience::Sse.channels(selector) {
                if feed.registered() {
                    registry::register(&*platform.kv, &*platform.env, refresh, &channel)?;
                }
            }
        }
        Ok(())
    }

    /// The answer holding the stream, starting with `body`. With `versions` (durable, one
    /// per selector), each retained channel is held at its topic's version.
    pub(super) fn answer(
        &self,
        versions: Option<&[Version]>,
        history: Option<&EventId>,
        body: Vec<u8>,
    ) -> Result {
        let header = |value: String, what: &str| {
            HeaderValue::try_from(value).map_err(|e| Error::Internal(format!("{what} header: {e}")))
        };
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("grip-hold", HeaderValue::from_static("stream"));
        let channels = self.channels(versions, history);
        h.insert("grip-channel", header(channels, "channel")?);
        h.insert("grip-keep-alive", HeaderValue::from_static(KEEP_ALIVE));
        let timeout = self.link.timeout;
        let value = format!("<{}>; rel=next; timeout={timeout}", self.link_uri());
        h.insert("grip-link", header(value, "link")?);
        Ok(res)
    }

    /// A page of a replay with more to come: not held, so Fanout asks for the next page
    /// (the link, with the position reached in `replay=`) as soon as it has sent `body`.
    pub(super) fn next_page(&self, cursor: &EventId, body: Vec<u8>) -> Result {
        let mut res = Response::new(body);
        let h = res.headers_mut();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        let mut uri = self.link_uri();
        uri.push_str("&replay=");
        percent_encode(&cursor.to_string(), &mut uri);
        let value = HeaderValue::try_from(format!("<{uri}>; rel=next"))
            .map_err(|e| Error::Internal(format!("link header: {e}")))?;
        h.insert("grip-link", value);
        Ok(res)
    }

    /// The channels, each retained one at its version in `versions` (durable), each live
    /// one of a history topic named in `history` at that id.
    fn channels(&self, versions: Option<&[Version]>, history: Option<&EventId>) -> String {
        let mut channels = String::new();
        for (i, selector) in self.selectors.iter().enumerate() {
            let history_id = history.and_then(|h| h.history(selector.as_str()));
            for (feed, channel) in Audience::Sse.channels(selector) {
                channels.push_str(&channel);
                let version = versions.and_then(|v| v.get(i));
                let prev_id = match (feed, version, history_id) {
                    (Feed::Retained, Some(version), _) => Some(version.to_string()),
                    (Feed::Live, _, Some(id)) => Some(id.to_string()),
                    _ => None,
                };
                if let Some(prev_id) = prev_id {
                    channels.push_str("; prev-id=");
                    channels.push_str(&prev_id);
                }
                channels.push_str(", ");
            }
        }
        channels.push_str(&Audience::Sse.key_channel(self.kid));
        channels
    }

    /// `/events/link/<grant>` with the topics and `durable=true` when durable, every value
    /// percent-encoded (so `,` and `;` in a topic cannot break the `Grip-Link` header).
    ///
    /// The grant is in the path, not the query, because Pushpin shares concurrent link
    /// requests whose path and `Grip-Last` headers are equal, whatever their query
    /// (`auto-share` in its handler): with the grant in the path, only streams of the same
    /// token and topics can ever share an answer.
    fn link_uri(&self) -> String {
        let mut uri = String::from(LINK_PREFIX);
        percent_encode(&self.link.grant, &mut uri);
        let mut separator = '?';
        for selector in self.selectors {
            uri.push(separator);
            uri.push_str("topic=");
            percent_encode(selector.as_str(), &mut uri);
            separator = '&';
        }
        if self.durable {
            uri.push_str("&durable=true");
        }
        uri
    }
}

/// Appends `value` to `out` with every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded.
pub(super) fn percent_encode(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}
