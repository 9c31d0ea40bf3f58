//! `LoadConfig`: reads and validates the Config Store once per request.
//!
//! Reads: Config Store `config` through the [`ConfigSource`] port.
//! Writes: the validated [`Config`] into request extensions.
//! Rejects: an invalid value with 500 ([`Error::Config`]), whose body names the key and
//! the value so the operator can fix it.

use std::sync::Arc;
use std::task::{Context, Poll};

use tower_service::Service;

use crate::ports::ConfigSource;
use crate::{Config, Error, Layer, Ready, Request, Response};

/// Builds [`LoadConfig`].
#[derive(Clone)]
#[must_use]
pub struct LoadConfigLayer {
    source: Arc<dyn ConfigSource>,
}

impl LoadConfigLayer {
    /// A layer reading from `source`.
    pub fn new(source: Arc<dyn ConfigSource>) -> Self {
        Self { source }
    }
}

impl<S> Layer<S> for LoadConfigLayer {
    type Service = LoadConfig<S>;
    fn layer(&self, inner: S) -> LoadConfig<S> {
        LoadConfig {
            inner,
            source: self.source.clone(),
        }
    }
}

/// See the module documentation.
#[derive(Clone)]
pub struct LoadConfig<S> {
    inner: S,
    source: Arc<dyn ConfigSource>,
}

impl<S> Service<Request> for LoadConfig<S>
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
        match Config::load(|key| self.source.get(key)) {
            Ok(config) => {
                req.extensions_mut().insert(config);
                self.inner.call(req)
            }
            Err(e) => std::future::ready(Err(e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::MemoryMap;
    use crate::test_helpers::*;

    #[test]
    fn the_validated_config_reaches_the_inner_service() {
        let source = Arc::new(MemoryMap::of(&[("max-topics", "3")]));
        let mut svc = LoadConfigLayer::new(source).layer(Echo);
        let res = call(&mut svc, get("/x")).expect("ok");
        assert_eq!(res.headers()["x-max-topics"], "3");
    }

    #[test]
    fn a_bad_value_is_a_500_naming_key_and_value() {
        let source = Arc::new(MemoryMap::of(&[("sse", "maybe")]));
        let mut svc = LoadConfigLayer::new(source).layer(Echo);
        let err = call(&mut svc, get("/x")).expect_err("bad config");
        assert_eq!(err.status(), 500);
        let text = err.to_string();
        assert!(text.contains("`sse`") && text.contains("maybe"), "{text}");
    }
}
