//! `ExtractAuth`: finds the bearer token of the request, without verifying it.
//!
//! Reads: `Authorization: Bearer <token>`, else the `auth` query parameter.
//! Writes: [`Credentials`] into request extensions when a token is present.
//! Rejects: an `Authorization` header that is not a Bearer token, with 401. A missing
//! token is not rejected here: only routes that need one (see [`Acl`](crate::acl)) do.

use pubsub_core::topic::query::query_value;

use crate::guard::{Admit, Guard};
use crate::{Error, Request};

pub use pubsub_core::extensions::Credentials;

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtractAuth;

/// The token of `req`, if any.
pub fn extract(req: &Request) -> Result<Option<Credentials>, Error> {
    if let Some(value) = req.headers().get(http::header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(Error::InvalidToken(
                "the Authorization header must be `Bearer <token>`".into(),
            ));
        }
        return Ok(Some(Credentials(token.to_owned())));
    }
    Ok(query_value(req.uri().query(), "auth")?
        .filter(|t| !t.is_empty())
        .map(Credentials))
}

impl Guard for ExtractAuth {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        if let Some(credentials) = extract(req)? {
            req.extensions_mut().insert(credentials);
        }
        Ok(Admit::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    fn token_of(req: http::request::Builder) -> Result<Option<String>, u16> {
        let req = req.body(Vec::new()).expect("request");
        extract(&req)
            .map(|c| c.map(|c| c.0))
            .map_err(|e| e.status().as_u16())
    }

    #[test]
    fn tokens_are_found_in_header_or_query() {
        let cases = [
            (
                request("GET", "/e").header("authorization", "Bearer abc"),
                Ok(Some("abc")),
            ),
            (
                request("GET", "/e").header("authorization", "bearer  abc "),
                Ok(Some("abc")),
            ),
            (request("GET", "/e?topic=a&auth=q%2Dt"), Ok(Some("q-t"))),
            (
                request("GET", "/e?auth=q").header("authorization", "Bearer h"),
                Ok(Some("h")),
            ),
            (request("GET", "/e?auth="), Ok(None)),
            (request("GET", "/e"), Ok(None)),
            (
                request("GET", "/e").header("authorization", "Basic abc"),
                Err(401),
            ),
            (
                request("GET", "/e").header("authorization", "Bearer"),
                Err(401),
            ),
        ];
        for (req, want) in cases {
            let want = want.map(|t| t.map(str::to_owned));
            assert_eq!(token_of(req), want);
        }
    }
}
