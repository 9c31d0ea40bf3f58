//! `GET /.well-known/mercure`: a Mercure subscription, held by Fanout as an SSE stream.
//!
//! Selectors: 0.x `topic=` (exact, an RFC 6570 URI template, or `*`) and 1.0 `match=` /
//! `match_exact=` (exact) and `match_urlpattern=` (a URL pattern); any other parameter in
//! the reserved `match` namespace is refused, other parameters are ignored. With a token
//! (see `auth.rs`), private updates its subscribe grants cover arrive too, and the stream
//! ends at the token's `exp` and when its key is revoked; without one, only public
//! updates, and only when the hub allows anonymous subscribers (else 401). The channels
//! are those of `pubsub_core::mercure::channels`; the non-exact ones are registered as
//! listened before the stream is held, and again by the stream's link
//! (`/.well-known/mercure/link/<link>`), which Fanout requests by the registry's refresh
//! interval and at the token's expiry.

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};

use pubsub_core::audience::{registry, Audience};
use pubsub_core::claims::mercure::Dialect;
use pubsub_core::extensions::required;
use pubsub_core::grant;
use pubsub_core::mercure::channels::{self, subscription};
use pubsub_core::mercure::link::{self, Link};
use pubsub_core::ports::Platform;
use pubsub_core::topic::query::{percent_decode, query_values};
use pubsub_core::uri_match::{MatchKind, UriSelector};
use pubsub_core::{Config, Error, Request, Response, Result};

use super::{auth, hub, PATH};

/// The most selectors of one subscription.
const MAX_SELECTORS: usize = 32;

/// What Fanout sends on a silent stream: an SSE comment, every 30 seconds.
const KEEP_ALIVE: &str = ":\\n\\n; format=cstring; timeout=30";

/// Holds a Mercure subscription's stream.
pub fn subscribe(platform: &Platform, req: Request) -> Result {
    let config = required::<Config>(&req)?;
    let hub = hub(config)?;
    let selectors = selectors(req.uri().query().unwrap_or_default())?;
    let grants = match auth::located(&req, hub, true)? {
        Some((token, found)) => {
            let grants = auth::verify(platform, hub, &token)?;
            if found == auth::Found::Query && grants.dialect == Dialect::V1 {
                return Err(Error::InvalidToken(
                    "a Mercure 1.0 token may not travel in the URL: send it in `Authorization` \
                     or the `__Secure-mercure_access_token` cookie"
                        .into(),
                ));
            }
            Some(grants)
        }
        None if hub.anonymous => None,
        None => return Err(auth::missing()),
    };
    let mut channels: Vec<String> = subscription(&selectors, grants.as_ref())
        .into_iter()
        .map(|(_, channel)| channel)
        .collect();
    let (exp, kid) = match &grants {
        Some(g) => {
            channels.push(Audience::Sse.key_channel(&g.kid));
            (g.exp, g.kid.clone())
        }
        None => (None, String::new()),
    };
    let link = Link { exp, until: 0, kid };
    hold(platform, config, link, &channels)
}

/// Fanout's own request of a stream's link: the stream held again on its channels (its
/// registrations renewed), or ended once its token expired or its key was revoked.
pub fn link(platform: &Platform, req: Request) -> Result {
    let config = required::<Config>(&req)?;
    hub(config)?;
    let text = req.uri().path().rsplit('/').next().unwrap_or_default();
    let channels: Vec<String> = query_values(req.uri().query(), "c").collect::<Result<_, _>>()?;
    let key = platform.secrets.get(grant::SECRET).unwrap_or_default();
    match link::verify(&key, text, &channels, platform.env.now(), &*platform.kv)? {
        Ok(link) => hold(platform, config, link, &channels),
        Err(_) => Ok(event_stream(Response::new(Vec::new()))),
    }
}

/// The selectors of a subscribe query.
fn selectors(query: &str) -> Result<Vec<UriSelector>, Error> {
    let bad = |what: String| Error::BadRequest(what);
    let mut selectors = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value).ok_or_else(|| bad(format!("`{name}` is not UTF-8")))?;
        let parsed = match (name, MatchKind::from_param(name)) {
            ("topic", _) => UriSelector::parse_v0(&value),
            (_, Some(kind)) => UriSelector::parse_v1(kind, &value, None),
            _ if MatchKind::is_reserved(name) => {
                return Err(bad(format!("unknown matcher parameter `{name}`")))
            }
            _ => continue,
        };
        selectors.push(parsed.map_err(|e| bad(format!("`{name}={value}`: {e}")))?);
    }
    if selectors.is_empty() {
        return Err(bad(
            "a Mercure subscription needs a `topic` or `match` selector".into(),
        ));
    }
    if selectors.len() > MAX_SELECTORS {
        return Err(bad(format!("at most {MAX_SELECTORS} selectors")));
    }
    Ok(selectors)
}

/// Registers `channels`' registered ones, then holds the stream on them with a link due
/// at the refresh interval or the token's expiry, whichever comes first.
fn hold(platform: &Platform, config: &Config, mut link: Link, channels: &[String]) -> Result {
    let refresh = registry::refresh_secs(config);
    for channel in channels {
        if channels::registered_channel(channel) {
            registry::register(&*platform.kv, &*platform.env, refresh, channel)?;
        }
    }
    let now = platform.env.now();
    let due = now.saturating_add(u64::from(refresh));
    link.until = link.exp.map_or(due, |exp| exp.min(due));
    let key = platform.secrets.get(grant::SECRET).unwrap_or_default();
    let text = link::issue(&key, &link, channels)?;
    let mut uri = format!("{PATH}/link/{text}");
    for (i, channel) in channels.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        uri.push_str("c=");
        uri.push_str(&encode(channel));
    }
    let timeout = link.until.saturating_sub(now).max(1);
    let header = |value: String| {
        HeaderValue::try_from(value).map_err(|e| Error::Internal(format!("hold header: {e}")))
    };
    let mut res = event_stream(Response::new(Vec::new()));
    let h = res.headers_mut();
    h.insert("grip-hold", HeaderValue::from_static("stream"));
    h.insert("grip-channel", header(channels.join(", "))?);
    h.insert("grip-keep-alive", HeaderValue::from_static(KEEP_ALIVE));
    h.insert(
        "grip-link",
        header(format!("<{uri}>; rel=next; timeout={timeout}"))?,
    );
    Ok(res)
}

fn event_stream(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// `channel` percent-encoded for a query value (channels hold `%`, `#` and `:`).
fn encode(channel: &str) -> String {
    let mut out = String::with_capacity(channel.len() + 8);
    for b in channel.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
