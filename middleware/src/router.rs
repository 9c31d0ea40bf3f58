//! `Router`: dispatches on the path with `matchit`, then on the method.
//!
//! The route table is built once, when the pipeline is built; a route holds a function
//! that builds its service ([`Build`]), and only the matched route's is built. An unknown path is
//! [`Error::NotFound`] (404); a known path with another method is
//! [`Error::MethodNotAllowed`] (405) carrying the `Allow` value, derived from the methods
//! the path serves (plus `OPTIONS`, which [`Cors`](crate::cors) answers on every path).
//! [`Router::methods`] is the union of every route's methods, for the CORS preflight. Path parameters (e.g.
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

/// See the module documentation. `C` is what route services are built from.
#[must_use]
pub struct Router<C> {
    context: C,
    /// Path → index into `tables` (the same tree type as the request log's, so the wasm
    /// carries matchit's code once).
    routes: matchit::Router<usize>,
    tables: Vec<MethodRouter<C>>,
    methods: Vec<Method>,
    patterns: Vec<&'static str>,
}

impl<C> Router<C> {
    /// An empty route table whose services are built from `context`.
    pub fn new(context: C) -> Self {
        Self {
            context,
            routes: matchit::Router::new(),
            tables: Vec::with_capacity(16),
            // Room for the app's table without growing: a request builds it.
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
        if let Err(e) = self.routes.insert(path, self.tables.len()) {
            panic!("route {path:?} cannot be added: {e}");
        }
        self.tables.push(methods);
        self.patterns.push(path);
        self
    }

    /// Every route's path pattern, in the order added (`/admin/keys/{id}`): how a request
    /// log names a route without its parameters.
    pub fn patterns(&self) -> &[&'static str] {
        &self.patterns
    }

    /// Every method some route serves, in the order first added, then `OPTIONS`.
    pub fn methods(&self) -> String {
        allow_list(self.methods.iter())
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
        let matched = match self.routes.at(req.uri().path()) {
            Ok(matched) => matched,
            Err(matchit::MatchError::NotFound) => return std::future::ready(Err(Error::NotFound)),
        };
        let Some(methods) = self.tables.get(*matched.value) else {
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
        Router::new(())
            .route(
                "/events",
                MethodRouter::new()
                    .on(Method::GET, echo)
                    .on(Method::POST, echo),
            )
            .route(
                "/admin/keys/{id}",
                MethodRouter::new().on(Method::DELETE, echo),
            )
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
        assert_eq!(r.methods(), "GET, POST, DELETE, OPTIONS");
    }

    #[test]
    fn path_parameters_reach_the_handler() {
        let mut r = router();
        let res = call(&mut r, request_with("DELETE", "/admin/keys/k1")).expect("routed");
        assert_eq!(res.headers()["x-param-id"], "k1");
    }
}
