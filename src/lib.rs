//! Edge Pub/Sub: the wiring of the app. [`app`] builds the whole pipeline from a
//! [`Platform`]; the Compute entry point (`main.rs`) feeds it one request.
//!
//! ```text
//! Cors ─> ErrorMap ─> LoadConfig ─> RequestLog ─> VerifyGrip ─> ExtractAuth ─> [your layer] ─> Router
//! /events GET   RequireFeature(sse) ─> RateLimit(subscribe) ─> FanoutHandoff ─> Acl(query, read) ─> sse::subscribe
//! /events POST  RequireFeature(http-publish) ─> RateLimit(publish) ─> Acl(query, write) ─> publish::publish
//! /events/link/{grant} GET   as /events GET with FanoutOnly (403 without a verified Grip-Sig) instead of
//!               FanoutHandoff and Acl(link grant): the links Fanout requests on its own
//! /history GET  RequireFeature(sse) ─> RateLimit(subscribe) ─> Acl(query, read) ─> history::read
//! /mqtt GET     RequireFeature(mqtt) ─> RateLimit(subscribe) ─> FanoutHandoff ─> mqtt::get
//! /mqtt POST    RequireFeature(mqtt) ─> mqtt::websocket (Grip-Sig required; its own
//!               per-connection limit on PUBLISH packets, class mqtt-publish)
//! /admin/keys GET, POST, /admin/keys/{id} DELETE
//!               RequireFeature(admin) ─> RateLimit(admin) ─> AdminAuth ─> admin::{list, create, revoke}
//! / /demo.css /demo.js GET   RequireFeature(demo) ─> demo::serve
//! ```
//!
//! `Cors`, `ErrorMap` and `RequestLog` see or shape responses: each is a
//! [`Wrap`](pubsub_middleware::wrap::Wrap) served by [`WrapLayer`]. Every other arrow is a
//! [`Guard`](pubsub_middleware::guard::Guard) served by [`GuardLayer`]. To add a layer of your own, write a `Guard` (or a full [`Layer`] over
//! [`Router`] whose service has `Error = Error` and `Future = Ready`) and pass it to
//! [`app_with`] in `main.rs`. It runs after configuration, `Grip-Sig` and credentials are
//! known (see the README for an example).
//!
//! The Fastly side, compiled only for wasm32 (nothing else imports `fastly`):
//!
//! - `fastly_platform`: the Fastly implementations of the ports.
//! - `fastly_http`: the client request and response through the `fastly` handle API.

use std::convert::Infallible;
use std::sync::OnceLock;

use http::Method;
use tower_service::Service;

use pubsub_core::ports::Platform;
use pubsub_core::principal::Access;
use pubsub_core::rate_limit::Class;
use pubsub_handlers::{admin, demo, history, mercure, mqtt, publish, sse};
use pubsub_middleware::acl::{Acl, SelectorSource};
use pubsub_middleware::admin_auth::AdminAuth;
use pubsub_middleware::cors::Cors;
use pubsub_middleware::error_map::ErrorMap;
use pubsub_middleware::extract_auth::ExtractAuth;
use pubsub_middleware::feature::{Feature, RequireFeature};
use pubsub_middleware::guard::GuardLayer;
use pubsub_middleware::handoff::{FanoutHandoff, FanoutOnly};
use pubsub_middleware::load_config::LoadConfig;
use pubsub_middleware::rate_limit::RateLimit;
use pubsub_middleware::request_log::RequestLog;
use pubsub_middleware::router::{
    boxed, handler, BoxService, HandlerFn, MethodRouter, Router, Routes,
};
use pubsub_middleware::verify_grip::VerifyGrip;
use pubsub_middleware::wrap::WrapLayer;
use pubsub_middleware::{Error, Identity, Layer, Ready, Request, Response};

pub use pubsub_core as core;
pub use pubsub_middleware as middleware;

#[cfg(target_arch = "wasm32")]
pub mod fastly_http;
#[cfg(target_arch = "wasm32")]
pub mod fastly_platform;

/// Paths whose `GET` errors are answered as an SSE `stream-error` event.
pub const EVENT_STREAM_PATHS: &[&str] = &["/events"];

/// The route table: each method of a path names the function that builds its service
/// (its guards, then its handler) from the platform; only the matched one is built. It is
/// built by an instance's first request and kept for the others a reused instance serves
/// (it holds no request state: patterns, indexes and functions).
pub fn routes() -> &'static Routes<Platform> {
    static ROUTES: OnceLock<Routes<Platform>> = OnceLock::new();
    ROUTES.get_or_init(route_table)
}

fn route_table() -> Routes<Platform> {
    let routes = demo::ASSETS.iter().fold(Routes::new(), |routes, asset| {
        routes.route(asset.path, MethodRouter::new().on(Method::GET, demo_page))
    });
    routes
        .route(
            "/admin/keys",
            MethodRouter::new()
                .on(Method::GET, |p| admin_route(p, admin::list))
                .on(Method::POST, |p| admin_route(p, admin::create)),
        )
        .route(
            "/admin/keys/{id}",
            MethodRouter::new().on(Method::DELETE, |p| admin_route(p, admin::revoke)),
        )
        .route(
            "/events",
            MethodRouter::new()
                .on(Method::GET, |p| {
                    subscribe(p, SelectorSource::Query(Access::Read))
                })
                .on(Method::POST, publish_route),
        )
        // The links Fanout requests on its own to end or recover a stream (see `sse`).
        .route(
            "/events/link/{grant}",
            MethodRouter::new().on(Method::GET, |p| subscribe(p, SelectorSource::LinkGrant)),
        )
        .route(
            "/history",
            MethodRouter::new().on(Method::GET, history_route),
        )
        .route(
            "/mqtt",
            MethodRouter::new()
                .on(Method::GET, mqtt_get)
                .on(Method::POST, mqtt_post),
        )
        .route(
            mercure::PATH,
            MethodRouter::new()
                .on(Method::GET, mercure_subscribe)
                .on(Method::POST, mercure_publish),
        )
        .route(
            mercure::METADATA_PATH,
            MethodRouter::new().on(Method::GET, mercure_metadata),
        )
        // The link Fanout requests on its own to renew or end a Mercure stream.
        .route(
            "/.well-known/mercure/link/{link}",
            MethodRouter::new().on(Method::GET, mercure_link),
        )
}

type HandlerOf = fn(&Platform, Request) -> Result<Response, Error>;

fn feature(f: Feature) -> GuardLayer<RequireFeature> {
    GuardLayer::new(RequireFeature(f))
}

fn limit(platform: &Platform, class: Class) -> GuardLayer<RateLimit> {
    GuardLayer::new(RateLimit::new(class, platform.clone()))
}

fn acl(platform: &Platform, source: SelectorSource) -> GuardLayer<Acl> {
    GuardLayer::new(Acl::new(source, platform.clone()))
}

/// `f` served with the platform.
fn with(
    platform: &Platform,
    f: HandlerOf,
) -> HandlerFn<impl FnMut(Request) -> Result<Response, Error>> {
    let platform = platform.clone();
    handler(move |req| f(&platform, req))
}

// Each route says where its selectors come from and what credential covers them.
fn subscribe(platform: &Platform, source: SelectorSource) -> BoxService {
    let authorised = acl(platform, source).layer(with(platform, sse::subscribe));
    let held = through_fanout(source, authorised);
    boxed(feature(Feature::Sse).layer(limit(platform, Class::Subscribe).layer(held)))
}

fn publish_route(platform: &Platform) -> BoxService {
    let publish =
        acl(platform, SelectorSource::Query(Access::Write)).layer(with(platform, publish::publish));
    boxed(feature(Feature::HttpPublish).layer(limit(platform, Class::Publish).layer(publish)))
}

fn history_route(platform: &Platform) -> BoxService {
    let history =
        acl(platform, SelectorSource::Query(Access::Read)).layer(with(platform, history::read));
    boxed(feature(Feature::Sse).layer(limit(platform, Class::Subscribe).layer(history)))
}

fn mqtt_get(platform: &Platform) -> BoxService {
    let handed = GuardLayer::new(FanoutHandoff).layer(handler(mqtt::get));
    boxed(feature(Feature::Mqtt).layer(limit(platform, Class::Subscribe).layer(handed)))
}

/// Fanout speaks WebSocket-over-HTTP in POSTs it signs; an unsigned POST is refused by
/// the handler, never handed off.
fn mqtt_post(platform: &Platform) -> BoxService {
    boxed(feature(Feature::Mqtt).layer(with(platform, mqtt::websocket)))
}

// The Mercure hub answers 404 unless Config Store key `mercure` switches it on.
fn mercure_subscribe(platform: &Platform) -> BoxService {
    let handed = GuardLayer::new(FanoutHandoff).layer(with(platform, mercure::subscribe));
    boxed(limit(platform, Class::Subscribe).layer(handed))
}

fn mercure_publish(platform: &Platform) -> BoxService {
    boxed(limit(platform, Class::Publish).layer(with(platform, mercure::publish)))
}

fn mercure_metadata(_: &Platform) -> BoxService {
    boxed(handler(mercure::metadata))
}

fn mercure_link(platform: &Platform) -> BoxService {
    boxed(GuardLayer::new(FanoutOnly).layer(with(platform, mercure::link)))
}

fn admin_route(platform: &Platform, f: HandlerOf) -> BoxService {
    let authorised = GuardLayer::new(AdminAuth(platform.clone())).layer(with(platform, f));
    boxed(feature(Feature::Admin).layer(limit(platform, Class::Admin).layer(authorised)))
}

fn demo_page(_: &Platform) -> BoxService {
    boxed(feature(Feature::Demo).layer(handler(demo::serve)))
}

/// `authorised` behind the way its requests come through Fanout: a subscribe is handed
/// off when unsigned; a link is Fanout's own request, so one without a verified
/// `Grip-Sig` is refused, never handed off (a client holding its URL opens no stream).
fn through_fanout<S>(source: SelectorSource, authorised: S) -> BoxService
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready> + Send + 'static,
{
    match source {
        SelectorSource::LinkGrant => boxed(GuardLayer::new(FanoutOnly).layer(authorised)),
        SelectorSource::Query(_) => boxed(GuardLayer::new(FanoutHandoff).layer(authorised)),
    }
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
    L: Layer<Router<Platform>>,
    L::Service: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    let routes = routes();
    let cors = WrapLayer::new(Cors::new(&routes.methods()));
    let log = RequestLog::new(platform.clone(), routes, EVENT_STREAM_PATHS);
    let routed = layer.layer(Router::new(platform.clone(), routes));
    let authed = GuardLayer::new(ExtractAuth).layer(routed);
    let verified = GuardLayer::new(VerifyGrip(platform.clone())).layer(authed);
    let logged = WrapLayer::new(log).layer(verified);
    let configured = GuardLayer::new(LoadConfig(platform.config.clone())).layer(logged);
    cors.layer(WrapLayer::new(ErrorMap::new(EVENT_STREAM_PATHS)).layer(configured))
}

/// The Rust examples of the guides under `docs/`, compiled and run as doctests of this
/// crate (`tests/docs_facts.rs` checks that every guide with Rust examples is listed).
#[cfg(doctest)]
mod docs {
    #[doc = include_str!("../docs/middleware.md")]
    struct Middleware;
}
