//! `RateLimit`: refuses callers over their route class's limit (Config Store
//! `rate-limits`), on Fastly's Edge Rate Limiting through the [`RateLimiter`] port.
//!
//! Reads: [`Config`] (the class's limit; without one the request passes untouched);
//! [`GripVerified`] (a request Fanout signed is its own call, not a client's: never
//! counted); [`Credentials`] (the token, for publish and subscribe); [`ClientIp`]; KV
//! store `keys`, to verify the token once it is known that its bearer is not penalised.
//! Writes: [`VerifiedToken`] when it verified the token, so that `Acl` does not verify it
//! again.
//! Rejects: with 429 ([`Error::OverLimit`], `Retry-After` = the penalty; an SSE subscribe
//! gets the `stream-error` form) a caller in the penalty box, before any store is read,
//! and a caller whose request goes over the limit, who is then penalised.
//!
//! Who the caller is ([`Caller`]): for publish and subscribe, the token's key id and
//! subject once the token verified (a penalty under the identity a token claims is
//! checked before verifying it); without a token, or with one that does not verify, the
//! client's address. Admin requests carry no token: the address. See
//! [`pubsub_core::rate_limit`] for the entries and what happens when the counter fails.

use pubsub_core::extensions::{required, ClientIp, Credentials, GripVerified, VerifiedToken};
use pubsub_core::ports::{Platform, RateLimiter};
use pubsub_core::rate_limit::{Caller, Class, Limiter};
use pubsub_core::tokens;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

/// See the module documentation.
#[derive(Clone)]
pub struct RateLimit {
    class: Class,
    platform: Platform,
}

impl RateLimit {
    /// A guard applying `class`'s limit.
    pub fn new(class: Class, platform: Platform) -> Self {
        Self { class, platform }
    }

    /// Counts `req` under its caller; `Err(OverLimit)` when the caller is penalised or
    /// goes over. Returns the token it verified, if it verified one.
    fn check(&self, limiter: &Limiter<'_>, req: &Request) -> Result<Option<VerifiedToken>, Error> {
        let address = Caller::ip(req.extensions().get::<ClientIp>().map(|ip| ip.0));
        let token = match self.class {
            Class::Publish | Class::Subscribe => req.extensions().get::<Credentials>(),
            Class::Admin | Class::MqttPublish => None,
        };
        let Some((Credentials(token), claimed)) =
            token.and_then(|c| Some((c, Caller::token(&c.0)?)))
        else {
            limiter.admit(&address)?;
            return Ok(None);
        };
        limiter.refuse_penalised(&claimed)?;
        let config = required::<Config>(req)?;
        let now = self.platform.env.now();
        match tokens::verify_with(token, &*self.platform.kv, now, config) {
            Ok(principal) => {
                limiter.count(&claimed)?;
                Ok(Some(VerifiedToken(principal)))
            }
            // The route refuses the token; its requests count against the address.
            Err(_) => limiter.admit(&address).map(|()| None),
        }
    }

    fn rate(&self) -> &dyn RateLimiter {
        &*self.platform.rate
    }
}

impl Guard for RateLimit {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let limits = &required::<Config>(req)?.rate_limits;
        let Some(limiter) = Limiter::new(self.rate(), self.class, limits) else {
            return Ok(Admit::Continue);
        };
        if req.extensions().get::<GripVerified>().is_some() {
            return Ok(Admit::Continue);
        }
        if let Some(verified) = self.check(&limiter, req)? {
            req.extensions_mut().insert(verified);
        }
        Ok(Admit::Continue)
    }
}

#[cfg(test)]
mod tests;
