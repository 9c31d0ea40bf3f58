//! `Router`: dispatches on the path with `matchit`, then on the method.
//!
//! The route table ([`Routes`]) holds no request state, so the app builds it once per
//! instance and a [`Router`] serves it with each request's context; a route holds a
//! function that builds its service ([`Build`]), and only the matched route's is built. An unknown path is
//! [`Error::NotFound`] (404); a known path with another method is
//! [`Error::MethodNotAllowed`] (405) carrying the `Allow` value, derived from the methods
//! the path serves (plus `OPTIONS`, which [`Cors`](crate::cors) answers on every path).
//! [`Routes::methods`] is the union of every route's methods, for the CORS preflight. Path parameters (e.g.
//! `{id}`) are written into request extensions as [`PathParams`].

use std::task::{Context, Poll};

use http::Method;
use tower_service::Service;

use crate::{Error, Ready, Request, Response};

/// A type-erased service as routes hold them.
pub type BoxService =
    Box<dyn Service<Request, Response = Response, Error = Error, Future = Ready> + Send>;

/// Boxes a service for a route.
pub fn boxed<S>(service: S) -> BoxService
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready> + Send + 'static,
{
    Box::new(service)
}

/// A handler written as a function, served as a [`Service`].
#[derive(Clone)]
pub struct HandlerFn<F>(pub(crate) F);

/// Serves `f` as a service: handlers stay plain functions of a request.
pub fn handler<F>(f: F) -> HandlerFn<F>
where
    F: FnMut(Request) -> Result<Response, Error>,
{
    HandlerFn(f)
}

impl<F> Service<Request> for HandlerFn<F>
where
    F: FnMut(Request) -> Result<Response, Error>,
{
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request) -> Ready {
        std::future::ready((self.0)(req))
    }
}

pub use pubsub_core::extensions::PathParams;

/// How a route's service is made: a plain function of the router's context (e.g. the
/// platform). Only the matched route's service is built, once per request, so a request
/// pays for its own layers, not for every route's.
pub type Build<C> = fn(&C) -> BoxService;

/// The services of one path, by method.
#[must_use]
pub struct MethodRouter<C> {
    handlers: Vec<(Method, Build<C>)>,
}

impl<C> Default for MethodRouter<C> {
    fn default() -> Self {
        Self {
            handlers: Vec::new(),
        }
    }
}

impl<C> MethodRouter<C> {
    /// An empty method table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `method` with the service `build` makes.
    pub fn on(mut self, method: Method, build: Build<C>) -> Self {
        self.handlers.push((method, build));
        self
    }

    /// The `Allow` value of the path.
    fn allow(&self) -> String {
        allow_list(self.handlers.iter().map(|(m, _)| m))
    }
}

/// `methods` in order, then `OPTIONS`: `GET, POST, OPTIONS`.
fn allow_list<'a>(methods: impl Iterator<Item = &'a Method>) -> String {
    let mut allow = String::new();
    for method in methods {
        allow.push_str(method.as_str());
        allow.push_str(", ");
    }
    allow.push_str("OPTIONS");
    allow
}

/// The route table: paths, each with its [`MethodRouter`]. It holds no request state
/// (patterns, indexes and builder functions only), so an app builds it once per instance
/// and keeps it for every request the instance serves (see [`Router`]).
#[must_use]
pub struct Routes<C> {
    /// Path → index into `tables` (the same tree type as the request log's, so the wasm
    /// carries matchit's code once).
    tree: matchit::Router<usize>,
    tables: Vec<MethodRouter<C>>,
    methods: Vec<Method>,
    patterns: Vec<&'static str>,
}

impl<C> Default for Routes<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C> Routes<C> {
    /// An empty route table.
    pub fn new() -> Self {
        Self {
            tree: matchit::Router::new(),
            tables: Vec::with_capacity(16),
            methods: Vec::with_capacity(4),
            patterns: Vec::with_capacity(16),
        }
    }

    /// Adds `path` (matchit syntax, e.g. `/admin/keys/{id}`).
    ///
    /// # Panics
    /// If `path` conflicts with a route already added: the table is static, so this is a
    /// programming error found by the first test that builds the pipeline.
    pub fn route(mut self, path: &'static str, methods: MethodRouter<C>) -> Self {
        for (method, _) in &methods.handlers {
            if !self.methods.contains(method) {
                self.methods.push(method.clone());
            }
        }
        if let Err(e) = self.tree.insert(path, self.tables.len()) {
            panic!("route {path:?} cannot be added: {e}");
        }
        self.tables.push(methods);
        self.patterns.push(path);
        self
    }

    /// Every route's path pattern, in the order added (`/admin/keys/{id}`).
    pub fn patterns(&self) -> &[&'static str] {
        &self.patterns
    }

    /// Every method some route serves, in the order first added, then `OPTIONS`.
    pub fn methods(&self) -> String {
        allow_list(self.methods.iter())
    }
}

/// How a request log names the route of a path without its parameters.
pub trait RoutePatterns: Sync {
    /// The pattern of the route `path` takes (`/admin/keys/{id}`), if any.
    fn pattern_of(&self, path: &str) -> Option<&'static str>;
}

impl<C> RoutePatterns for Routes<C> {
    fn pattern_of(&self, path: &str) -> Option<&'static str> {
        let matched = self.tree.at(path).ok()?;
        self.patterns.get(*matched.value).copied()
    }
}

/// See the module documentation: the [`Routes`] of the app, served with `context` (what
/// route services are built from, e.g. the platform).
#[must_use]
pub struct Router<C: 'static> {
    context: C,
    routes: &'static Routes<C>,
}

impl<C> Router<C> {
    /// Serves `routes` with services built from `context`.
    pub fn new(context: C, routes: &'static Routes<C>) -> Self {
        Self { context, routes }
    }

    /// The route table.
    pub fn routes(&self) -> &'static Routes<C> {
        self.routes
    }
}

impl<C> Service<Request> for Router<C> {
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Ready {
        let matched = match self.routes.tree.at(req.uri().path()) {
            Ok(matched) => matched,
            Err(matchit::MatchError::NotFound) => return std::future::ready(Err(Error::NotFound)),
        };
        let Some(methods) = self.routes.tables.get(*matched.value) else {
            return std::future::ready(Err(Error::NotFound));
        };
        let Some((_, build)) = methods.handlers.iter().find(|(m, _)| m == req.method()) else {
            return std::future::ready(Err(Error::MethodNotAllowed(methods.allow())));
        };
        let build = *build;
        if !matched.params.is_empty() {
            let params = matched
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            req.extensions_mut().insert(PathParams(params));
        }
        build(&self.context).call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    fn echo(_: &()) -> BoxService {
        boxed(Echo)
    }

    fn router() -> Router<()> {
        let routes = Routes::new()
            .route(
                "/events",
                MethodRouter::new()
                    .on(Method::GET, echo)
                    .on(Method::POST, echo),
            )
            .route(
                "/admin/keys/{id}",
                MethodRouter::new().on(Method::DELETE, echo),
            );
        Router::new((), Box::leak(Box::new(routes)))
    }

    #[test]
    fn paths_and_methods_are_dispatched() {
        let mut r = router();
        let status = |res: Result<Response, Error>| {
            res.map_or_else(|e| e.status().as_u16(), |r| r.status().as_u16())
        };
        assert_eq!(status(call(&mut r, get("/events"))), 200);
        assert_eq!(status(call(&mut r, get("/nope"))), 404);
        assert_eq!(status(call(&mut r, get("/events/x"))), 404);
        let err = call(&mut r, request_with("PUT", "/events")).expect_err("405");
        assert_eq!(err, Error::MethodNotAllowed("GET, POST, OPTIONS".into()));
        assert_eq!(r.routes().methods(), "GET, POST, DELETE, OPTIONS");
        assert_eq!(
            r.routes().pattern_of("/admin/keys/k9"),
            Some("/admin/keys/{id}")
        );
        assert_eq!(r.routes().pattern_of("/nope"), None);
    }

    #[test]
    fn path_parameters_reach_the_handler() {
        let mut r = router();
        let res = call(&mut r, request_with("DELETE", "/admin/keys/k1")).expect("routed");
        assert_eq!(res.headers()["x-param-id"], "k1");
    }
}
