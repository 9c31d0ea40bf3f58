//! `RequireFeature`: serves a route only when its feature is switched on.
//!
//! Reads: [`Config`] (from [`LoadConfig`](crate::load_config)).
//! Writes: nothing.
//! Rejects: a request to a switched-off feature with 404 ([`Error::Disabled`]), as if the
//! route did not exist.

use std::task::{Context, Poll};

use tower_service::Service;

use crate::{Config, Error, Layer, Ready, Request, Response};

/// A feature that the Config Store can switch off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// `sse`: SSE subscribe.
    Sse,
    /// `http-publish`: HTTP publish.
    HttpPublish,
    /// `mqtt`: MQTT over WebSocket.
    Mqtt,
    /// `admin`: the admin API.
    Admin,
}

impl Feature {
    /// Whether `config` switches this feature on.
    pub fn enabled(self, config: &Config) -> bool {
        match self {
            Self::Sse => config.sse,
            Self::HttpPublish => config.http_publish,
            Self::Mqtt => config.mqtt,
            Self::Admin => config.admin,
        }
    }

    /// The Config Store key of the feature.
    pub fn key(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::HttpPublish => "http-publish",
            Self::Mqtt => "mqtt",
            Self::Admin => "admin",
        }
    }
}

/// Builds [`RequireFeature`].
#[derive(Clone, Copy, Debug)]
#[must_use]
pub struct RequireFeatureLayer(pub Feature);

impl<S> Layer<S> for RequireFeatureLayer {
    type Service = RequireFeature<S>;
    fn layer(&self, inner: S) -> RequireFeature<S> {
        RequireFeature {
            inner,
            feature: self.0,
        }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct RequireFeature<S> {
    inner: S,
    feature: Feature,
}

impl<S> Service<Request> for RequireFeature<S>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Ready {
        let config = req
            .extensions()
            .get::<Config>()
            .expect("LoadConfig runs before RequireFeature");
        if self.feature.enabled(config) {
            self.inner.call(req)
        } else {
            std::future::ready(Err(Error::Disabled(self.feature.key())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn a_disabled_feature_answers_404() {
        let mut svc = RequireFeatureLayer(Feature::Mqtt).layer(Echo);
        let mut req = get("/mqtt");
        if let Some(c) = req.extensions_mut().get_mut::<Config>() {
            c.mqtt = false;
        }
        let err = call(&mut svc, req).expect_err("disabled");
        assert_eq!(err.status(), 404);
        assert!(call(&mut svc, get("/mqtt")).is_ok());
    }
}
