//! `RequireFeature`: serves a route only when its feature is switched on.
//!
//! Reads: [`Config`] (from [`LoadConfig`](crate::load_config)); without it, 500.
//! Writes: nothing.
//! Rejects: a request to a switched-off feature with 404 ([`Error::Disabled`]), as if the
//! route did not exist.

use pubsub_core::extensions::required;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

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
    /// `demo`: the demo page.
    Demo,
}

impl Feature {
    /// Whether `config` switches this feature on.
    pub fn enabled(self, config: &Config) -> bool {
        match self {
            Self::Sse => config.sse,
            Self::HttpPublish => config.http_publish,
            Self::Mqtt => config.mqtt,
            Self::Admin => config.admin,
            Self::Demo => config.demo,
        }
    }

    /// The Config Store key of the feature.
    pub fn key(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::HttpPublish => "http-publish",
            Self::Mqtt => "mqtt",
            Self::Admin => "admin",
            Self::Demo => "demo",
        }
    }
}

/// See the module documentation.
#[derive(Clone, Copy, Debug)]
pub struct RequireFeature(pub Feature);

impl Guard for RequireFeature {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        if self.0.enabled(required::<Config>(req)?) {
            Ok(Admit::Continue)
        } else {
            Err(Error::Disabled(self.0.key()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;

    #[test]
    fn a_disabled_feature_answers_404() {
        let mut svc = GuardLayer::new(RequireFeature(Feature::Mqtt)).layer(Echo);
        let mut req = get("/mqtt");
        if let Some(c) = req.extensions_mut().get_mut::<Config>() {
            c.mqtt = false;
        }
        let err = call(&mut svc, req).expect_err("disabled");
        assert_eq!(err.status(), 404);
        assert!(call(&mut svc, get("/mqtt")).is_ok());
        let unconfigured = Request::default();
        assert_eq!(
            call(&mut svc, unconfigured)
                .expect_err("no config")
                .status(),
            500
        );
    }
}
