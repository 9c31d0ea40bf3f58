//! The hub's OAuth 2.0 Protected Resource Metadata (RFC 9728), as Mercure 1.0 asks: at
//! `/.well-known/oauth-protected-resource/.well-known/mercure`, the hub's resource
//! identifier (`audience` of key `mercure`, which 1.0 tokens' `aud` must hold), the
//! trusted issuers, the authorization detail type, the bearer method and the cookie. A
//! hub without an `audience` takes no 1.0 token and publishes no metadata (404).

use http::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::json;

use pubsub_core::claims::mercure::DETAIL_TYPE;
use pubsub_core::extensions::required;
use pubsub_core::{Config, Error, Request, Response, Result};

use super::hub;

/// The metadata's path.
pub const METADATA_PATH: &str = "/.well-known/oauth-protected-resource/.well-known/mercure";

/// Answers the metadata document.
pub fn metadata(req: Request) -> Result {
    let config = required::<Config>(&req)?;
    let hub = hub(config)?;
    let resource = hub.audience.as_deref().ok_or(Error::NotFound)?;
    let mut doc = json!({
        "resource": resource,
        "authorization_details_types_supported": [DETAIL_TYPE],
        "bearer_methods_supported": ["header"],
        "mercure_cookie": "__Secure-mercure_access_token",
    });
    if !hub.issuers.is_empty() {
        doc["authorization_servers"] = json!(hub.issuers);
    }
    let mut res = Response::new(doc.to_string().into_bytes());
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=300"));
    Ok(res)
}
