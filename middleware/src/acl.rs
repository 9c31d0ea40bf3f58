//! `Acl`: per-route access control by topic.
//!
//! Reads: [`Credentials`] (from [`ExtractAuth`](crate::extract_auth)), or the
//! [`VerifiedToken`] an earlier layer ([`RateLimit`](crate::rate_limit)) made of them,
//! [`Config`] (from
//! [`LoadConfig`](crate::load_config); without it, 500), the `topic` query parameters, KV
//! store `keys`. For read access, a `{grant}` path parameter (route
//! `/events/link/{grant}`) instead of a token: the credential of a link Fanout requests on
//! its own ([`grant`]), checked with Secret Store entry `grant-key` and no store round
//! trip.
//! Writes: [`Principal`] and [`Topics`] (validated, in request order) into request
//! extensions.
//! Rejects: bad topics with 400; no token with 401; a token or grant that does not verify
//! or names an unknown key with 401; a token that lacks the access for any topic with 403; a key
//! store failure with 503.

use pubsub_core::extensions::{required, Credentials, PathParams, VerifiedToken};
use pubsub_core::grant;
use pubsub_core::ports::Platform;
use pubsub_core::tokens::{self, Access, Principal};
use pubsub_core::topics;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

pub use pubsub_core::extensions::Topics;

/// See the module documentation.
#[derive(Clone)]
pub struct Acl {
    access: Access,
    platform: Platform,
}

impl Acl {
    /// A guard requiring `access` to every requested topic.
    pub fn new(access: Access, platform: Platform) -> Self {
        Self { access, platform }
    }

    fn authorize(&self, req: &Request) -> Result<(Principal, Topics), Error> {
        let config = required::<Config>(req)?;
        let query = req.uri().query();
        let topics = match self.access {
            Access::Read => topics::subscriptions_from_query(
                query,
                config.max_topics,
                config.wildcard_max_levels,
            )?,
            Access::Write => topics::from_query(query, config.max_topics)?,
        };
        let now = self.platform.env.now();
        let grant = match self.access {
            Access::Read => req
                .extensions()
                .get::<PathParams>()
                .and_then(|p| p.get("grant"))
                .map(str::to_owned),
            Access::Write => None,
        };
        let principal = match grant {
            Some(grant) => {
                let key = self.platform.secrets.get(grant::SECRET).unwrap_or_default();
                grant::verify(&key, &grant, &topics, now)?
            }
            None => match req.extensions().get::<VerifiedToken>() {
                Some(VerifiedToken(principal)) => principal.clone(),
                None => {
                    let Credentials(token) = req
                        .extensions()
                        .get::<Credentials>()
                        .ok_or(Error::MissingCredentials)?;
                    tokens::verify_with(token, &*self.platform.kv, now, config)?
                }
            },
        };
        for topic in &topics {
            match self.access {
                Access::Read => principal.check_subscription(topic)?,
                Access::Write => principal.check(self.access, topic)?,
            }
        }
        Ok((principal, Topics(topics)))
    }
}

impl Guard for Acl {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let (principal, topics) = self.authorize(req)?;
        req.extensions_mut().insert(principal);
        req.extensions_mut().insert(topics);
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
        let mut svc = GuardLayer::new(Acl::new(access, platform)).layer(Echo);
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
        let g = grant::issue(b"g", &principal, &["a".to_owned()]).expect("grant");
        // The grant is the `{grant}` path parameter of `/events/link/{grant}`.
        let run = |access, uri: &str, grant: &str| {
            let mut svc = GuardLayer::new(Acl::new(access, platform.clone())).layer(Echo);
            let mut req = get(uri);
            req.extensions_mut()
                .insert(PathParams(vec![("grant".into(), grant.to_owned())]));
            call(&mut svc, req).map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16())
        };
        assert_eq!(run(Access::Read, "/e?topic=a", &g), 200);
        assert_eq!(run(Access::Read, "/e?topic=b", &g), 401);
        assert_eq!(run(Access::Write, "/e?topic=a", &g), 401);
        // A grant in the query is no credential.
        let mut svc = GuardLayer::new(Acl::new(Access::Read, platform.clone())).layer(Echo);
        let err = call(&mut svc, get(&format!("/e?topic=a&grant={g}"))).expect_err("query");
        assert_eq!(err, Error::MissingCredentials);
    }

    #[test]
    fn the_topics_and_principal_reach_the_handler() {
        let token = mint(&serde_json::json!({"x-fastly-read":["a","b"]}));
        let res = run(Access::Read, "/e?topic=b&topic=a", Some(token)).expect("allowed");
        assert_eq!(res.headers()["x-topics"], "b,a");
    }
}
