//! The values layers leave in a request for later layers and handlers, and typed
//! accessors for them.
//!
//! Each type is inserted by exactly one layer. A handler reads it with [`required`]: a
//! missing value means the pipeline was wired wrongly (a layer left out or in the wrong
//! order), which is answered as [`Error::Internal`] (500) naming the missing layer, never
//! a panic: on wasm a panic aborts the instance without an answer.

use crate::{Error, Request};

/// A value one layer puts into the request for the ones after it.
pub trait Extension: Clone + Send + Sync + 'static {
    /// What the value is, for the error when it is missing.
    const NAME: &'static str;
    /// The layer that inserts it.
    const LAYER: &'static str;
}

/// The value of type `T` that an earlier layer left in `req`.
pub fn required<T: Extension>(req: &Request) -> Result<&T, Error> {
    req.extensions().get::<T>().ok_or_else(missing::<T>)
}

/// Takes the value of type `T` out of `req` (for handlers that consume it).
pub fn take<T: Extension>(req: &mut Request) -> Result<T, Error> {
    req.extensions_mut().remove::<T>().ok_or_else(missing::<T>)
}

fn missing<T: Extension>() -> Error {
    Error::Internal(format!(
        "{} missing from the request: the {} layer must run before this",
        T::NAME,
        T::LAYER
    ))
}

impl Extension for crate::Config {
    const NAME: &'static str = "the configuration";
    const LAYER: &'static str = "LoadConfig";
}

/// The raw token presented with the request (inserted by `ExtractAuth`; absent when the
/// request carries none, so it is read with `extensions().get`, not [`required`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials(pub String);

/// The address the request came from, as the platform saw it (inserted by the Compute
/// adapter; absent in tests that do not set it). Never taken from a header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub std::net::IpAddr);

/// The request's token ([`Credentials`]), already verified by an earlier layer
/// (`RateLimit`, which needs to know who the caller is), so that `Acl` does not verify it
/// a second time. Absent when no layer verified it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedToken(pub crate::principal::Principal);

/// Proof that the request came through the GRIP proxy: its `Grip-Sig` verified
/// (inserted by `VerifyGrip`; absent on a first, unsigned request).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GripVerified;

/// The topic names a publish goes to, validated, in request order (inserted by `Acl` on
/// a route that writes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics(pub Vec<crate::topic::TopicName>);

impl Extension for Topics {
    const NAME: &'static str = "the topic list";
    const LAYER: &'static str = "Acl";
}

/// The selectors a subscribe asks for, parsed once, in request order (inserted by `Acl`
/// on a route that reads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selectors(pub Vec<crate::topic::Selector>);

impl Extension for Selectors {
    const NAME: &'static str = "the selector list";
    const LAYER: &'static str = "Acl";
}

impl Extension for crate::principal::Principal {
    const NAME: &'static str = "the verified token";
    const LAYER: &'static str = "Acl";
}

/// Proof that `AdminAuth` admitted the request, and with which credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminAuthorized {
    /// A Fastly API token valid for this service.
    FastlyKey,
    /// The Secret Store entry `admin-token`.
    AdminToken,
}

impl Extension for AdminAuthorized {
    const NAME: &'static str = "the admin credential";
    const LAYER: &'static str = "AdminAuth";
}

/// Parameters captured from the path, in pattern order (inserted by the router).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathParams(pub Vec<(String, String)>);

impl PathParams {
    /// The value captured for `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Extension for PathParams {
    const NAME: &'static str = "the path parameters";
    const LAYER: &'static str = "Router";
}

/// Response extension: hand the request off to Fanout through this backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handoff(pub &'static str);

/// The backend through which Fanout reaches this service again.
pub const SELF_BACKEND: &str = "self";

/// The response that asks the Compute adapter to hand the request off to Fanout.
pub fn handoff_response() -> crate::Response {
    let mut res = crate::Response::default();
    res.extensions_mut().insert(Handoff(SELF_BACKEND));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_extension_is_a_500_naming_the_layer() {
        let req = Request::default();
        let err = required::<Topics>(&req).expect_err("missing");
        assert_eq!(err.status(), 500);
        assert!(err.to_string().contains("the Acl layer"), "{err}");
        let mut req = req;
        let topics = Topics(vec![crate::topic::TopicName::parse("a").expect("a topic")]);
        req.extensions_mut().insert(topics.clone());
        assert_eq!(take::<Topics>(&mut req), Ok(topics));
    }
}
