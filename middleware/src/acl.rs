//! `Acl`: per-route access control by topic.
//!
//! Reads: [`Credentials`] (from [`ExtractAuth`](crate::extract_auth)), [`Config`] (from
//! [`LoadConfig`](crate::load_config)), the `topic` query parameters, KV store `keys`.
//! Writes: [`Principal`] and [`Topics`] (validated, in request order) into request
//! extensions.
//! Rejects: bad topics with 400; no token with 401; a token that does not verify or names
//! an unknown key with 401; a token that lacks the access for any topic with 403; a key
//! store failure with 503.

use std::task::{Context, Poll};

use tower_service::Service;

use crate::extract_auth::Credentials;
use crate::ports::Platform;
use crate::tokens::{self, Access, Principal};
use crate::{topics, Config, Error, Layer, Ready, Request, Response};

/// The topics of the request, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics(pub Vec<String>);

/// Builds [`Acl`].
#[derive(Clone)]
#[must_use]
pub struct AclLayer {
    access: Access,
    platform: Platform,
}

impl AclLayer {
    /// A layer requiring `access` to every requested topic.
    pub fn new(access: Access, platform: Platform) -> Self {
        Self { access, platform }
    }
}

impl<S> Layer<S> for AclLayer {
    type Service = Acl<S>;
    fn layer(&self, inner: S) -> Acl<S> {
        Acl {
            inner,
            access: self.access,
            platform: self.platform.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Clone)]
pub struct Acl<S> {
    inner: S,
    access: Access,
    platform: Platform,
}

impl<S> Acl<S> {
    fn authorize(&self, req: &Request) -> Result<(Principal, Topics), Error> {
        let config = req
            .extensions()
            .get::<Config>()
            .expect("LoadConfig runs before Acl");
        let topics = topics::from_query(req.uri().query(), config.max_topics)?;
        let Credentials(token) = req
            .extensions()
            .get::<Credentials>()
            .ok_or(Error::MissingCredentials)?;
        let principal = tokens::verify(token, &*self.platform.kv, self.platform.env.now())?;
        for topic in &topics {
            principal.check(self.access, topic)?;
        }
        Ok((principal, Topics(topics)))
    }
}

impl<S> Service<Request> for Acl<S>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Ready {
        match self.authorize(&req) {
            Ok((principal, topics)) => {
                req.extensions_mut().insert(principal);
                req.extensions_mut().insert(topics);
                self.inner.call(req)
            }
            Err(e) => std::future::ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    fn run(access: Access, uri: &str, token: Option<String>) -> Result<Response, Error> {
        let (platform, ..) = platform();
        let mut svc = AclLayer::new(access, platform).layer(Echo);
        let mut req = get(uri);
        if let Some(t) = token {
            req.extensions_mut().insert(Credentials(t));
        }
        call(&mut svc, req)
    }

    #[test]
    fn access_is_checked_for_every_topic() {
        let token = || {
            Some(mint(
                &serde_json::json!({"x-fastly-read":["a","b"],"x-fastly-write":["a"]}),
            ))
        };
        let cases: [(Access, &str, Option<String>, u16); 7] = [
            (Access::Read, "/e?topic=a&topic=b", token(), 200),
            (Access::Read, "/e?topic=a&topic=c", token(), 403),
            (Access::Write, "/e?topic=a", token(), 200),
            (Access::Write, "/e?topic=b", token(), 403),
            (Access::Read, "/e?topic=a", None, 401),
            (Access::Read, "/e", token(), 400),
            (Access::Read, "/e?topic=a", Some("junk".into()), 401),
        ];
        for (access, uri, token, status) in cases {
            let got = run(access, uri, token)
                .map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16());
            assert_eq!(got, status, "{access:?} {uri}");
        }
    }

    #[test]
    fn the_topics_and_principal_reach_the_handler() {
        let token = mint(&serde_json::json!({"x-fastly-read":["a","b"]}));
        let res = run(Access::Read, "/e?topic=b&topic=a", Some(token)).expect("allowed");
        assert_eq!(res.headers()["x-topics"], "b,a");
    }
}
