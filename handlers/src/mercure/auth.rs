//! A Mercure request's token: where it is looked for, and what verifies it.
//!
//! In order: `Authorization: Bearer <token>`; the cookie `mercureAuthorization` (0.x) or
//! `__Secure-mercure_access_token` (1.0); for a subscribe only, the `authorization` query
//! parameter (0.x; 1.0 forbids tokens in URLs, and a 1.0 token found there is refused by
//! its verification as any other: the query is read only when 0.x tokens are accepted).
//! Tokens are verified by `pubsub_core::tokens::mercure` against the key store, with the
//! rules of Config Store key `mercure`.

use http::header::{AUTHORIZATION, COOKIE};

use pubsub_core::claims::mercure::MercureGrants;
use pubsub_core::config::mercure::Mercure;
use pubsub_core::ports::Platform;
use pubsub_core::tokens::mercure::{verify_mercure, MercureTokenRules};
use pubsub_core::topic::query;
use pubsub_core::{Error, Request};

/// The cookie names of a token, 0.x then 1.0.
const COOKIES: [&str; 2] = ["mercureAuthorization", "__Secure-mercure_access_token"];

/// Where a token was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// `Authorization` or a cookie.
    Header,
    /// The `authorization` query parameter (0.x tokens only).
    Query,
}

/// The token of `req`, if it carries one; `query` allows the `authorization` parameter.
pub(crate) fn token(req: &Request, hub: &Mercure, query: bool) -> Result<Option<String>, Error> {
    Ok(located(req, hub, query)?.map(|(token, _)| token))
}

/// [`token`], with where it was found.
pub(crate) fn located(
    req: &Request,
    hub: &Mercure,
    query: bool,
) -> Result<Option<(String, Found)>, Error> {
    let header = |token: Option<String>| Ok(token.map(|t| (t, Found::Header)));
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        let value = value.to_str().unwrap_or_default();
        return match value.strip_prefix("Bearer ") {
            Some(token) if !token.trim().is_empty() => header(Some(token.trim().to_owned())),
            _ => Err(Error::InvalidToken(
                "the Authorization header is not `Bearer <token>`".into(),
            )),
        };
    }
    for value in req.headers().get_all(COOKIE) {
        let pairs = value.to_str().unwrap_or_default().split(';');
        for (name, token) in pairs.filter_map(|p| p.trim().split_once('=')) {
            if COOKIES.contains(&name) && !token.is_empty() {
                return header(Some(token.to_owned()));
            }
        }
    }
    if query && hub.allow_v0 {
        let found = query::query_value(req.uri().query(), "authorization")?;
        return Ok(found.map(|t| (t, Found::Query)));
    }
    Ok(None)
}

/// The refusal of a request without a token, naming where a Mercure token goes.
pub(crate) fn missing() -> Error {
    Error::MissingToken(
        "`Authorization: Bearer <token>` or the `mercureAuthorization` (0.x) or \
         `__Secure-mercure_access_token` (1.0) cookie",
    )
}

/// Verifies `token` under `hub`'s rules, with the keys of `platform`.
pub(crate) fn verify(
    platform: &Platform,
    hub: &Mercure,
    token: &str,
) -> Result<MercureGrants, Error> {
    let rules = MercureTokenRules {
        default_kid: hub.default_kid.clone(),
        issuers: hub.issuers.clone(),
        audience: hub.audience.clone(),
        allow_v0: hub.allow_v0,
        allow_v1: hub.allow_v1,
        base: None,
    };
    verify_mercure(token, &*platform.kv, platform.env.now(), &rules)
}
