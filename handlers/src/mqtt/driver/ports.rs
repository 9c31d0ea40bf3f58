//! The protocol core's [`Ports`] on the platform: token verification against KV store
//! `keys`, the environment's randomness, the registry of listened channels
//! (`pubsub_core::audience::registry`), and the per-connection PUBLISH rate limit
//! (class `mqtt-publish` of Config Store `rate-limits`, counted under Fanout's
//! `Connection-Id` on the `RateLimiter` port, see `pubsub_core::rate_limit`).

use pubsub_core::audience::registry;
use pubsub_core::ports::Platform;
use pubsub_core::principal::Principal;
use pubsub_core::rate_limit::{Caller, Class, Limiter};
use pubsub_core::tokens;
use pubsub_core::{Config, Error};

use crate::mqtt::protocol::state::Ports;

/// The ports of one request.
pub(super) struct PlatformPorts<'a> {
    pub(super) platform: &'a Platform,
    pub(super) config: &'a Config,
    pub(super) now: u64,
    pub(super) connection_id: &'a str,
}

impl Ports for PlatformPorts<'_> {
    fn verify(&self, token: &str) -> Result<Principal, Error> {
        tokens::verify_with(token, &*self.platform.kv, self.now, self.config)
    }

    fn random(&self) -> Option<[u8; 8]> {
        let mut random = [0u8; 8];
        self.platform.env.random(&mut random).ok().map(|()| random)
    }

    fn register(&self, channel: &str) -> Result<(), Error> {
        let refresh = registry::refresh_secs(self.config);
        registry::register(&*self.platform.kv, &*self.platform.env, refresh, channel)
    }

    fn admit_publish(&self) -> Result<(), String> {
        let limits = &self.config.rate_limits;
        let Some(limiter) = Limiter::new(&*self.platform.rate, Class::MqttPublish, limits) else {
            return Ok(());
        };
        limiter
            .admit(&Caller::connection(self.connection_id))
            .map_err(|refusal| refusal.to_string())
    }
}
