//! `Acl`: per-route access control by topic.
//!
//! Each route says where its selectors come from and which credential must cover them
//! ([`SelectorSource`]); the layer knows no path or parameter of its own.
//!
//! Reads: [`Config`] (from [`LoadConfig`](crate::load_config); without it, 500), the
//! `topic` query parameters (topic names to write, or selectors to read: names or
//! filters within `wildcard-max-levels`), and the credential: [`Credentials`] (from
//! [`ExtractAuth`](crate::extract_auth)) or the [`VerifiedToken`] an earlier layer
//! ([`RateLimit`](crate::rate_limit)) made of them, checked against KV store `keys`; or,
//! for [`SelectorSource::LinkGrant`], path parameter `{grant}`: the credential of a link
//! Fanout requests on its own ([`grant`]), checked with Secret Store entry `grant-key`
//! and its key's presence in KV store `keys`, which only ever grants reading.
//! Writes: [`Principal`], and [`Topics`] (writing) or [`Selectors`] (reading), parsed
//! once, in request order, into request extensions.
//! Rejects: bad topics with 400; no token with 401; a token or grant that does not verify
//! or names an unknown key with 401; a credential that lacks the access for any topic
//! with 403; a key store failure with 503.

use pubsub_core::extensions::{required, Credentials, PathParams, VerifiedToken};
use pubsub_core::grant;
use pubsub_core::ports::Platform;
use pubsub_core::principal::{Access, Principal};
use pubsub_core::tokens;
use pubsub_core::topic::query;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

pub use pubsub_core::extensions::{Selectors, Topics};

/// Where a route's selectors come from, and which credential must cover them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectorSource {
    /// The `topic` query parameters, covered by the request's token: topic names for
    /// [`Access::Write`], selectors for [`Access::Read`].
    Query(Access),
    /// The `topic` query parameters as selectors, covered by the grant in path parameter
    /// `{grant}` (read access only).
    LinkGrant,
}

/// See the module documentation.
#[derive(Clone)]
pub struct Acl {
    source: SelectorSource,
    platform: Platform,
}

/// What the route may go on with.
enum Admitted {
    Write(Principal, Topics),
    Read(Principal, Selectors),
}

impl Acl {
    /// A guard requiring the credential of `source` to cover every requested topic.
    pub fn new(source: SelectorSource, platform: Platform) -> Self {
        Self { source, platform }
    }

    fn authorize(&self, req: &Request) -> Result<Admitted, Error> {
        let config = required::<Config>(req)?;
        let q = req.uri().query();
        let now = self.platform.env.now();
        if self.source == SelectorSource::Query(Access::Write) {
            let topics = query::topics(q, config.max_topics)?;
            let principal = self.token(req, config, now)?;
            for topic in &topics {
                principal.check_topic(Access::Write, topic)?;
            }
            return Ok(Admitted::Write(principal, Topics(topics)));
        }
        let selectors = query::selectors(q, config.max_topics, config.wildcard_max_levels)?;
        let principal = match self.source {
            SelectorSource::LinkGrant => {
                let grant = req
                    .extensions()
                    .get::<PathParams>()
                    .and_then(|p| p.get("grant"))
                    .ok_or(Error::MissingCredentials)?;
                let key = self.platform.secrets.get(grant::SECRET).unwrap_or_default();
                grant::verify(&key, grant, &selectors, now, &*self.platform.kv)?
            }
            SelectorSource::Query(_) => self.token(req, config, now)?,
        };
        for selector in &selectors {
            principal.check(Access::Read, selector)?;
        }
        Ok(Admitted::Read(principal, Selectors(selectors)))
    }

    /// The principal of the request's token.
    fn token(&self, req: &Request, config: &Config, now: u64) -> Result<Principal, Error> {
        if let Some(VerifiedToken(principal)) = req.extensions().get::<VerifiedToken>() {
            return Ok(principal.clone());
        }
        let Credentials(token) = req
            .extensions()
            .get::<Credentials>()
            .ok_or(Error::MissingCredentials)?;
        tokens::verify_with(token, &*self.platform.kv, now, config)
    }
}

impl Guard for Acl {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        match self.authorize(req)? {
            Admitted::Write(principal, topics) => {
                let extensions = req.extensions_mut();
                extensions.insert(principal);
                extensions.insert(topics);
            }
            Admitted::Read(principal, selectors) => {
                let extensions = req.extensions_mut();
                extensions.insert(principal);
                extensions.insert(selectors);
            }
        }
        Ok(Admit::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;

    fn run(access: Access, uri: &str, token: Option<String>) -> Result<Response, Error> {
        let (platform, ..) = platform();
        let acl = Acl::new(SelectorSource::Query(access), platform);
        let mut svc = GuardLayer::new(acl).layer(Echo);
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
    fn a_grant_authorises_reading_its_topics_and_never_publishing() {
        let (mut platform, ..) = platform();
        let secrets = pubsub_core::ports::memory::MemoryMap::of(&[("grant-key", "g")]);
        platform.secrets = std::sync::Arc::new(secrets);
        let principal = Principal {
            exp: Some(NOW + 100),
            kid: DEV_KID.into(),
            ..Principal::default()
        };
        let a = pubsub_core::topic::Selector::subscription("a".into(), 6).expect("a");
        let g = grant::issue(b"g", &principal, &[a], NOW, 600)
            .expect("grant")
            .text;
        // The grant is the `{grant}` path parameter of `/events/link/{grant}`.
        let run = |source, uri: &str, grant: &str| {
            let mut svc = GuardLayer::new(Acl::new(source, platform.clone())).layer(Echo);
            let mut req = get(uri);
            req.extensions_mut()
                .insert(PathParams(vec![("grant".into(), grant.to_owned())]));
            call(&mut svc, req).map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16())
        };
        assert_eq!(run(SelectorSource::LinkGrant, "/e?topic=a", &g), 200);
        assert_eq!(run(SelectorSource::LinkGrant, "/e?topic=b", &g), 401);
        assert_eq!(
            run(SelectorSource::Query(Access::Read), "/e?topic=a", &g),
            401
        );
        assert_eq!(
            run(SelectorSource::Query(Access::Write), "/e?topic=a", &g),
            401
        );
        // A grant in the query is no credential.
        let acl = Acl::new(SelectorSource::Query(Access::Read), platform.clone());
        let mut svc = GuardLayer::new(acl).layer(Echo);
        let err = call(&mut svc, get(&format!("/e?topic=a&grant={g}"))).expect_err("query");
        assert_eq!(err, Error::MissingCredentials);
        // Once its key is revoked, the grant is refused.
        platform
            .kv
            .delete(pubsub_core::keys::STORE, DEV_KID)
            .expect("revoked");
        assert_eq!(run(SelectorSource::LinkGrant, "/e?topic=a", &g), 401);
    }

    #[test]
    fn the_topics_and_principal_reach_the_handler() {
        let token = mint(&serde_json::json!({"x-fastly-read":["a/#","b"]}));
        let res = run(Access::Read, "/e?topic=b&topic=a/%2B", Some(token)).expect("allowed");
        assert_eq!(res.headers()["x-selectors"], "b,a/+");
        let token = mint(&serde_json::json!({"x-fastly-write":["a"]}));
        let res = run(Access::Write, "/e?topic=a", Some(token)).expect("allowed");
        assert_eq!(res.headers()["x-topics"], "a");
    }
}
