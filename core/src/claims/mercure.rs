//! The claims of Mercure tokens, both dialects, read into [`MercureGrants`]: the publish
//! and subscribe selectors ([`UriSelector`], parsed once), the payloads attached to
//! subscriptions, `exp`, `sub` and the key id.
//!
//! - **0.x**: claim `mercure`, an object with `publish` and `subscribe` (arrays of 0.x
//!   selectors: `*`, URI templates, exact strings) and `payload` (any JSON, attached to
//!   every subscription). A token without `mercure` grants nothing. `exp` is optional (the
//!   tokens of Mercure's 0.x docs have none) but honoured when present.
//! - **1.0** (header `typ` `at+jwt` or `application/at+jwt`, case-insensitively): `iss`
//!   one of the trusted issuers, `aud` (a string or an array) containing the hub's
//!   resource identifier, `exp` required, and `authorization_details`: entries of other
//!   types are ignored; each entry of type `https://mercure.rocks/authorization-detail`
//!   must have a non-empty `actions` array of strings (`publish`, `subscribe`; unknown
//!   actions grant nothing) and a non-empty `topics` array of `{"match": …,
//!   "match_type": "exact" | "urlpattern"}` objects (exact by default, `*` every topic),
//!   and may have a `payload` object. Any fault in a Mercure entry refuses the whole
//!   token (the draft forbids partial acceptance), naming the entry.
//!
//! Bounds: at most [`MAX_DETAILS`] authorization details and [`MAX_SELECTORS`]
//! selectors in all per token; each selector within [`crate::uri_match`]'s bounds.

use serde_json::Value;

use crate::uri_match::UriSelector;

mod v1;

/// The `type` of a Mercure authorization detail.
pub const DETAIL_TYPE: &str = "https://mercure.rocks/authorization-detail";
/// The most authorization details a 1.0 token may carry.
pub const MAX_DETAILS: usize = 32;
/// The most selectors (publish and subscribe together) a token may carry.
pub const MAX_SELECTORS: usize = 128;

/// The dialect a token was read in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Mercure 0.x: the `mercure` claim.
    V0,
    /// Mercure 1.0: an `at+jwt` access token with `authorization_details`.
    V1,
}

/// A payload attached to the subscriptions some selectors select (1.0: a `subscribe`
/// detail's `payload`; 0.x: `mercure.payload`, for every subscription).
#[derive(Clone, Debug)]
pub struct SubscribePayload {
    /// The detail's topic selectors.
    pub topics: Vec<UriSelector>,
    /// The payload.
    pub payload: Value,
}

/// What a verified Mercure token grants.
#[derive(Clone, Debug)]
pub struct MercureGrants {
    /// The dialect of the token.
    pub dialect: Dialect,
    /// The key that verified it.
    pub kid: String,
    /// Expiry, seconds since the epoch (always present in 1.0).
    pub exp: Option<u64>,
    /// The subject, if any.
    pub sub: Option<String>,
    /// Selectors of the topics the bearer may publish to.
    pub publish: Vec<UriSelector>,
    /// Selectors of the topics the bearer may receive private updates of.
    pub subscribe: Vec<UriSelector>,
    /// Payloads for subscriptions, first match wins.
    pub payloads: Vec<SubscribePayload>,
}

impl MercureGrants {
    /// Whether the bearer may publish an update to `topic`; an update needs this of
    /// every one of its topics.
    pub fn may_publish(&self, topic: &str) -> bool {
        self.publish.iter().any(|s| s.matches(topic))
    }

    /// The first of `topics` the bearer may not publish to, if any.
    pub fn first_unpublishable<'a>(&self, topics: &[&'a str]) -> Option<&'a str> {
        topics.iter().copied().find(|t| !self.may_publish(t))
    }

    /// Whether the bearer may receive a private update of these topics (canonical and
    /// alternates): some subscribe selector matches one of them.
    pub fn may_receive(&self, topics: &[&str]) -> bool {
        self.subscribe
            .iter()
            .any(|s| topics.iter().any(|t| s.matches(t)))
    }

    /// The payload of a subscription whose matcher is `matcher` (the query parameter's
    /// value, matched as if it were a topic): the first payload whose selectors match it.
    pub fn payload_for(&self, matcher: &str) -> Option<&Value> {
        self.payloads
            .iter()
            .find(|p| p.topics.iter().any(|s| s.matches(matcher)))
            .map(|p| &p.payload)
    }
}

/// Whether a header `typ` is the 1.0 access-token type.
pub fn is_access_token_typ(typ: Option<&str>) -> bool {
    typ.is_some_and(|t| {
        let t = match t.get(..12) {
            Some(head) if head.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        };
        t.eq_ignore_ascii_case("at+jwt")
    })
}

/// The payload of a 0.x token, as written.
#[derive(Debug, Default)]
pub struct V0Claims {
    /// The `mercure` claim.
    pub mercure: Option<V0Mercure>,
    /// Expiry.
    pub exp: Option<u64>,
    /// Not-before.
    pub nbf: Option<u64>,
    /// Subject.
    pub sub: Option<String>,
}

/// The 0.x `mercure` claim.
#[derive(Debug, Default)]
pub struct V0Mercure {
    /// Publish selectors.
    pub publish: Vec<String>,
    /// Subscribe selectors.
    pub subscribe: Vec<String>,
    /// A payload for every subscription.
    pub payload: Option<Value>,
}

/// The payload of a 1.0 token, as written.
#[derive(Debug)]
pub struct V1Claims {
    /// Issuer.
    pub iss: Option<String>,
    /// Audience: a string or an array of strings (see [`audience_contains`]).
    pub aud: Option<Value>,
    /// Expiry.
    pub exp: Option<u64>,
    /// Not-before.
    pub nbf: Option<u64>,
    /// Subject.
    pub sub: Option<String>,
    /// RFC 9396 authorization details (any JSON: checked entry by entry).
    pub authorization_details: Option<Vec<Value>>,
}

// The claims are read from one `serde_json::Value` by hand rather than derived: the
// derived deserializers cost the module about 10 KB, the `Value` reader is linked anyway.
// A field that is absent or `null` is `None` (empty for a list); any other type is an
// error naming the field, as serde's would be.

/// Field `name` of `object`, unless absent or `null`.
fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object.get(name).filter(|v| !v.is_null())
}

fn wrong(name: &str, what: &str) -> String {
    format!("the claim `{name}` is not {what}")
}

fn opt_u64(object: &Value, name: &str) -> Result<Option<u64>, String> {
    field(object, name)
        .map(|v| {
            v.as_u64()
                .ok_or_else(|| wrong(name, "a non-negative integer"))
        })
        .transpose()
}

fn opt_string(object: &Value, name: &str) -> Result<Option<String>, String> {
    field(object, name)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| wrong(name, "a string"))
        })
        .transpose()
}

/// Field `name` of `object` as a list of strings; errors name it `label`.
fn strings(object: &Value, name: &str, label: &str) -> Result<Vec<String>, String> {
    let Some(list) = field(object, name) else {
        return Ok(Vec::new());
    };
    let not_strings = || wrong(label, "an array of strings");
    let items = list.as_array().ok_or_else(not_strings)?;
    items
        .iter()
        .map(|v| v.as_str().map(str::to_owned).ok_or_else(not_strings))
        .collect()
}

fn object<'a>(v: &'a Value, name: &str) -> Result<&'a Value, String> {
    match v.is_object() {
        true => Ok(v),
        false => Err(wrong(name, "an object")),
    }
}

impl V0Claims {
    /// Reads a 0.x payload.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let v = object(v, "payload")?;
        let mercure = field(v, "mercure")
            .map(|m| {
                let m = object(m, "mercure")?;
                Ok::<_, String>(V0Mercure {
                    publish: strings(m, "publish", "mercure.publish")?,
                    subscribe: strings(m, "subscribe", "mercure.subscribe")?,
                    payload: field(m, "payload").cloned(),
                })
            })
            .transpose()?;
        Ok(Self {
            mercure,
            exp: opt_u64(v, "exp")?,
            nbf: opt_u64(v, "nbf")?,
            sub: opt_string(v, "sub")?,
        })
    }
}

impl V1Claims {
    /// Reads a 1.0 payload.
    pub fn from_value(v: &Value) -> Result<Self, String> {
        let v = object(v, "payload")?;
        let details = field(v, "authorization_details")
            .map(|d| {
                d.as_array()
                    .cloned()
                    .ok_or_else(|| wrong("authorization_details", "an array"))
            })
            .transpose()?;
        Ok(Self {
            iss: opt_string(v, "iss")?,
            aud: field(v, "aud").cloned(),
            exp: opt_u64(v, "exp")?,
            nbf: opt_u64(v, "nbf")?,
            sub: opt_string(v, "sub")?,
            authorization_details: details,
        })
    }
}

/// Whether an `aud` claim (a string, or an array of strings) names `id`. Read from
/// JSON by hand rather than as an untagged enum, which would cost the module serde's
/// buffering machinery.
pub fn audience_contains(aud: &Value, id: &str) -> bool {
    match aud {
        Value::String(a) => a == id,
        Value::Array(all) => all.iter().any(|a| a.as_str() == Some(id)),
        _ => false,
    }
}

impl V0Claims {
    /// The grants of a 0.x token verified by key `kid`; `Err` names a selector over the
    /// bounds.
    pub fn into_grants(self, kid: String) -> Result<MercureGrants, String> {
        let m = self.mercure.unwrap_or_default();
        if m.publish.len() + m.subscribe.len() > MAX_SELECTORS {
            return Err(format!(
                "the `mercure` claim has more than {MAX_SELECTORS} selectors"
            ));
        }
        let parse = |list: Vec<String>, name: &str| {
            list.iter()
                .map(|s| UriSelector::parse_v0(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("`mercure.{name}` has an unusable selector: {e}"))
        };
        let publish = parse(m.publish, "publish")?;
        let subscribe = parse(m.subscribe, "subscribe")?;
        let payloads = m
            .payload
            .map(|payload| SubscribePayload {
                topics: vec![UriSelector::Any],
                payload,
            })
            .into_iter()
            .collect();
        Ok(MercureGrants {
            dialect: Dialect::V0,
            kid,
            exp: self.exp,
            sub: self.sub,
            publish,
            subscribe,
            payloads,
        })
    }
}
