//! Which channels a Mercure subscription listens on ([`subscription`]), and which an
//! update goes to beside its topics' live channels ([`update`]).
//!
//! | selector | public updates | private updates |
//! |---|---|---|
//! | an exact topic `t` | `t`'s live channel (every message of `t`, from any protocol) | `mp#t`, when a subscribe grant matches `t` |
//! | `*`, a URI template, a URL pattern | `m#<name>` (registered) | `mp#<name>` (registered) when a grant is `*` or the same selector; for `*`, else `mp#` of each grant |
//!
//! A selector's name in a channel ([`selector_name`]) is `*`, `t:<template>` or
//! `p:<pattern>`, so that a publisher can parse it back ([`parse_selector_name`]).
//! Selectors with wildcard channels are registered as listened (see
//! [`crate::audience::registry`]), and a publish matches each registered one against its
//! update's topics. A subscription whose grants neither equal nor cover a non-exact
//! selector (a template selector with a narrower template grant, say) receives no private
//! updates through it: deciding whether one template covers another is not done.

use super::Update;
use crate::audience::registry::Listening;
use crate::audience::Feed;
use crate::claims::mercure::MercureGrants;
use crate::uri_match::{MatchKind, UriSelector};

/// The name of a non-exact selector in its channels; `None` for an exact one (it uses
/// its topic's channels).
pub fn selector_name(selector: &UriSelector) -> Option<String> {
    match selector {
        UriSelector::Any => Some("*".to_owned()),
        UriSelector::Exact(_) => None,
        UriSelector::Template(t) => Some(format!("t:{}", t.as_str())),
        UriSelector::Pattern(p) => Some(format!("p:{}", p.as_str())),
    }
}

/// The selector a channel name stands for, parsed as its subscriber's was (relative URL
/// patterns against `base`); `None` for a name [`selector_name`] never makes.
pub fn parse_selector_name(name: &str, base: Option<&str>) -> Option<UriSelector> {
    if name == "*" {
        return Some(UriSelector::Any);
    }
    let selector = match name.split_at_checked(2)? {
        ("t:", template) => UriSelector::parse_v0(template).ok()?,
        ("p:", pattern) => UriSelector::parse_v1(MatchKind::UrlPattern, pattern, base).ok()?,
        _ => return None,
    };
    (!matches!(selector, UriSelector::Exact(_))).then_some(selector)
}

/// Whether a subscription's `channel` must be registered as listened: a selector's
/// (public or private) channel, not an exact topic's.
pub fn registered_channel(channel: &str) -> bool {
    let name = match Feed::of_channel(channel) {
        Feed::Mercure => return true,
        Feed::MercurePrivate => &channel[3..],
        _ => return false,
    };
    name == "*" || name.starts_with("t:") || name.starts_with("p:")
}

/// The channels (with their feeds) a subscription to `selectors` listens on, with the
/// subscribe grants of its token, if any; each channel once.
pub fn subscription(
    selectors: &[UriSelector],
    grants: Option<&MercureGrants>,
) -> Vec<(Feed, String)> {
    let mut out: Vec<(Feed, String)> = Vec::new();
    let mut add = |feed: Feed, name: &str| {
        let channel = feed.channel(name);
        if !out.iter().any(|(_, c)| *c == channel) {
            out.push((feed, channel));
        }
    };
    for selector in selectors {
        match (selector, selector_name(selector)) {
            (UriSelector::Exact(topic), _) => add(Feed::Live, topic),
            (_, Some(name)) => add(Feed::Mercure, &name),
            _ => {}
        }
        let Some(grants) = grants else { continue };
        for name in private_names(selector, grants) {
            add(Feed::MercurePrivate, &name);
        }
    }
    out
}

/// The names of the private channels `selector` listens on under `grants`.
fn private_names(selector: &UriSelector, grants: &MercureGrants) -> Vec<String> {
    let covers = |g: &UriSelector| {
        matches!(g, UriSelector::Any) || g.as_str() == selector.as_str() && same_kind(g, selector)
    };
    match selector {
        UriSelector::Exact(topic) if grants.may_receive(&[topic]) => vec![topic.clone()],
        UriSelector::Exact(_) => Vec::new(),
        _ if grants.subscribe.iter().any(covers) => selector_name(selector).into_iter().collect(),
        UriSelector::Any => grants
            .subscribe
            .iter()
            .map(|g| match g {
                UriSelector::Exact(topic) => topic.clone(),
                other => selector_name(other).unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn same_kind(a: &UriSelector, b: &UriSelector) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// The channels `update` goes to beside its topics' live channels: public, the Mercure
/// channel of every registered selector that matches one of its topics; private, its
/// topics' private channels and those of the registered selectors that match. Names are
/// parsed with `base` (the hub's URL, for relative URL patterns).
pub fn update(update: &Update<'_>, listening: &Listening, base: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if update.private {
        let own = update
            .topic_names()
            .map(|t| Feed::MercurePrivate.channel(t));
        out.extend(own);
    }
    out.extend(registered(
        update.topic_names(),
        update.private,
        listening,
        base,
    ));
    out
}

/// The channels of the registered selectors (private ones when `private`) that match
/// one of `topics`. When the registry is unknown ([`Listening::Everything`]) there are
/// none: selectors cannot be enumerated.
pub fn registered<'a>(
    topics: impl Iterator<Item = &'a str> + Clone,
    private: bool,
    listening: &Listening,
    base: Option<&str>,
) -> Vec<String> {
    let feed = match private {
        true => Feed::MercurePrivate,
        false => Feed::Mercure,
    };
    let Listening::Only(list) = listening else {
        return Vec::new();
    };
    let matching =
        |name: &str| parse_selector_name(name, base).is_some_and(|s| s.matches_any(topics.clone()));
    list.iter()
        .filter(|r| r.feed == feed)
        .filter(|r| r.mercure.as_deref().is_some_and(matching))
        .map(|r| r.channel.clone())
        .collect()
}

#[cfg(test)]
mod tests;
