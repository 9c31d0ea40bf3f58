//! Helpers shared by this crate's unit tests.
#![allow(unreachable_pub, missing_docs)]

use std::sync::Arc;

use pubsub_core::extensions::Topics;
use pubsub_core::ports::memory::*;
use pubsub_core::ports::Platform;
use pubsub_core::{Config, Request};

pub fn platform() -> (Platform, Arc<RecordingPublisher>) {
    let ports = InMemory::new();
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

pub fn with_topics(mut req: Request, topics: &[&str]) -> Request {
    req.extensions_mut()
        .insert(Topics(topics.iter().map(|t| (*t).to_owned()).collect()));
    req
}
