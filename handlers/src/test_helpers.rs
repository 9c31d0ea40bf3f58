//! Helpers shared by this crate's unit tests.
#![allow(unreachable_pub, missing_docs)]

use std::sync::Arc;

use pubsub_core::extensions::{Selectors, Topics};
use pubsub_core::ports::memory::*;
use pubsub_core::ports::Platform;
use pubsub_core::principal::Principal;
use pubsub_core::topic::Selector;
use pubsub_core::{Config, Request};

/// The Secret Store's `grant-key` in these tests.
pub const GRANT_KEY: &str = "grant-test-key";

pub fn platform() -> (Platform, Arc<RecordingPublisher>) {
    let ports = InMemory::with_secrets(&[("grant-key", GRANT_KEY)]);
    // These tests look at the whole fan-out, whoever is subscribed.
    pubsub_core::audience::registry::listen_everywhere(&*ports.env);
    (ports.platform, ports.publisher)
}

fn build(method: &str, uri: &str, body: &[u8]) -> Request {
    let mut req = http::Request::builder()
        .method(method)
        .uri(uri)
        .body(body.to_vec())
        .unwrap();
    req.extensions_mut().insert(Config::default());
    req
}

pub fn get(uri: &str) -> Request {
    build("GET", uri, b"")
}

pub fn post(uri: &str, body: &[u8]) -> Request {
    build("POST", uri, body)
}

/// `req` as `Acl` leaves it: with its selectors (and, as topic names, those that are
/// names), and a token of key `k1` (no `exp`) that may read them.
pub fn with_topics(mut req: Request, topics: &[&str]) -> Request {
    let parse = |t: &&str| Selector::subscription((*t).to_owned(), 6).expect(t);
    let selectors: Vec<Selector> = topics.iter().map(parse).collect();
    let names = selectors.iter().filter_map(|s| match s {
        Selector::Name(name) => Some(name.clone()),
        Selector::Filter(_) => None,
    });
    req.extensions_mut().insert(Topics(names.collect()));
    req.extensions_mut().insert(Principal {
        read: selectors.clone(),
        kid: "k1".into(),
        ..Principal::default()
    });
    req.extensions_mut().insert(Selectors(selectors));
    req
}

/// The principal `with_topics` put in `req`.
pub fn principal_mut(req: &mut Request) -> &mut Principal {
    req.extensions_mut()
        .get_mut::<Principal>()
        .expect("with_topics inserts a principal")
}
