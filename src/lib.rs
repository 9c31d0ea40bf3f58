//! Edge Pub/Sub: the wiring of the app. [`app`] builds the whole pipeline from a
//! [`Platform`]; the Compute entry point (`main.rs`) feeds it one request.
//!
//! ```text
//! Cors ─> ErrorMap ─> LoadConfig ─> VerifyGrip ─> ExtractAuth ─> [your layer] ─> Router
//! /events GET   RequireFeature(sse) ─> FanoutHandoff ─> Acl(read) ─> sse::subscribe
//! /events POST  RequireFeature(http-publish) ─> Acl(write) ─> publish::publish
//! /mqtt GET     RequireFeature(mqtt) ─> FanoutHandoff ─> mqtt::get
//! /mqtt POST    RequireFeature(mqtt) ─> mqtt::websocket (Grip-Sig required)
//! /admin/keys GET, POST, /admin/keys/{id} DELETE
//!               RequireFeature(admin) ─> AdminAuth ─> admin::{list, create, revoke}
//! ```
//!
//! To add a layer of your own, write a [`Layer`] over [`Router`] whose service has
//! `Error = Error` and `Future = Ready`, and pass it to [`app_with`] in `main.rs`. It runs
//! after configuration, `Grip-Sig` and credentials are known (see the README for an
//! example).

use std::convert::Infallible;

use http::Method;
use tower_service::Service;

use pubsub_handlers::{admin, mqtt, publish, sse};
use pubsub_middleware::acl::AclLayer;
use pubsub_middleware::admin_auth::AdminAuthLayer;
use pubsub_middleware::cors::CorsLayer;
use pubsub_middleware::error_map::ErrorMapLayer;
use pubsub_middleware::extract_auth::ExtractAuthLayer;
use pubsub_middleware::feature::{Feature, RequireFeatureLayer};
use pubsub_middleware::handoff::FanoutHandoffLayer;
use pubsub_middleware::load_config::LoadConfigLayer;
use pubsub_middleware::ports::Platform;
use pubsub_middleware::router::{boxed, handler, MethodRouter, Router};
use pubsub_middleware::tokens::Access;
use pubsub_middleware::verify_grip::VerifyGripLayer;
use pubsub_middleware::{Error, Identity, Layer, Ready, Request, Response};

pub use pubsub_middleware as middleware;

#[cfg(target_arch = "wasm32")]
pub mod fastly_platform;

/// Paths whose `GET` errors are answered as an SSE `stream-error` event.
pub const EVENT_STREAM_PATHS: &[&str] = &["/events"];

/// The route table.
pub fn routes(platform: &Platform) -> Router {
    let read = AclLayer::new(Access::Read, platform.clone());
    let write = AclLayer::new(Access::Write, platform.clone());
    let sse_platform = platform.clone();
    let subscribe = RequireFeatureLayer(Feature::Sse).layer(
        FanoutHandoffLayer
            .layer(read.layer(handler(move |req| sse::subscribe(&sse_platform, req)))),
    );
    let publisher = platform.clone();
    let publish = RequireFeatureLayer(Feature::HttpPublish)
        .layer(write.layer(handler(move |req| publish::publish(&publisher, req))));
    let mqtt_get =
        RequireFeatureLayer(Feature::Mqtt).layer(FanoutHandoffLayer.layer(handler(mqtt::get)));
    let ws = platform.clone();
    // Fanout speaks WebSocket-over-HTTP in POSTs it signs; an unsigned POST is refused
    // by the handler, never handed off.
    let mqtt_post =
        RequireFeatureLayer(Feature::Mqtt).layer(handler(move |req| mqtt::websocket(&ws, req)));
    let admin_auth = AdminAuthLayer::new(platform.clone());
    let admin_route = |f: fn(&Platform, Request) -> Result<Response, Error>| {
        let platform = platform.clone();
        boxed(
            RequireFeatureLayer(Feature::Admin)
                .layer(admin_auth.layer(handler(move |req| f(&platform, req)))),
        )
    };
    Router::new()
        .route(
            "/admin/keys",
            MethodRouter::new("GET, POST, OPTIONS")
                .on(Method::GET, admin_route(admin::list))
                .on(Method::POST, admin_route(admin::create)),
        )
        .route(
            "/admin/keys/{id}",
            MethodRouter::new("DELETE, OPTIONS").on(Method::DELETE, admin_route(admin::revoke)),
        )
        .route(
            "/events",
            MethodRouter::new("GET, POST, OPTIONS")
                .on(Method::GET, boxed(subscribe))
                .on(Method::POST, boxed(publish)),
        )
        .route(
            "/mqtt",
            MethodRouter::new("GET, POST, OPTIONS")
                .on(Method::GET, boxed(mqtt_get))
                .on(Method::POST, boxed(mqtt_post)),
        )
}

/// The whole app.
pub fn app(
    platform: Platform,
) -> impl Service<Request, Response = Response, Error = Infallible, Future = Ready<Response, Infallible>>
{
    app_with(platform, Identity)
}

/// The whole app with `layer` wrapped around the router.
pub fn app_with<L>(
    platform: Platform,
    layer: L,
) -> impl Service<Request, Response = Response, Error = Infallible, Future = Ready<Response, Infallible>>
where
    L: Layer<Router>,
    L::Service: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    let routed = layer.layer(routes(&platform));
    let authed = ExtractAuthLayer.layer(routed);
    let verified = VerifyGripLayer::new(platform.clone()).layer(authed);
    let configured = LoadConfigLayer::new(platform.config.clone()).layer(verified);
    CorsLayer.layer(ErrorMapLayer::new(EVENT_STREAM_PATHS).layer(configured))
}
