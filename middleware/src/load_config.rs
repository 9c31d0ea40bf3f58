//! `LoadConfig`: reads and validates the Config Store once per request.
//!
//! Reads: Config Store `config` through the [`ConfigSource`] port.
//! Writes: the validated [`Config`] into request extensions.
//! Rejects: an invalid value with 500 ([`Error::Config`]), whose body names the key and
//! the value so the operator can fix it.

use std::sync::Arc;

use pubsub_core::ports::ConfigSource;

use crate::guard::{Admit, Guard};
use crate::{Config, Error, Request};

/// See the module documentation.
#[derive(Clone)]
pub struct LoadConfig(pub Arc<dyn ConfigSource>);

impl Guard for LoadConfig {
    fn admit(&self, req: &mut Request) -> Result<Admit, Error> {
        let config = Config::load(|key| self.0.get(key))?;
        req.extensions_mut().insert(config);
        Ok(Admit::Continue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::GuardLayer;
    use crate::test_helpers::*;
    use pubsub_core::ports::memory::MemoryMap;

    #[test]
    fn the_validated_config_reaches_the_inner_service() {
        let source = Arc::new(MemoryMap::of(&[("max-topics", "3")]));
        let mut svc = GuardLayer::new(LoadConfig(source)).layer(Echo);
        let res = call(&mut svc, get("/x")).expect("ok");
        assert_eq!(res.headers()["x-max-topics"], "3");
    }

    #[test]
    fn a_bad_value_is_a_500_naming_key_and_value() {
        let source = Arc::new(MemoryMap::of(&[("sse", "maybe")]));
        let mut svc = GuardLayer::new(LoadConfig(source)).layer(Echo);
        let err = call(&mut svc, get("/x")).expect_err("bad config");
        assert_eq!(err.status(), 500);
        let text = err.to_string();
        assert!(text.contains("`sse`") && text.contains("maybe"), "{text}");
    }
}
