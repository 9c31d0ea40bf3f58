//! `Router`: dispatches on the path with `matchit`, then on the method.
//!
//! The route table is built once, when the pipeline is built. An unknown path is
//! [`Error::NotFound`] (404); a known path with another method is
//! [`Error::MethodNotAllowed`] (405) carrying the `Allow` value. Path parameters (e.g.
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
pub struct HandlerFn<F>(F);

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

/// Parameters captured from the path, in pattern order.
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

/// The services of one path, by method.
#[derive(Default)]
#[must_use]
pub struct MethodRouter {
    handlers: Vec<(Method, BoxService)>,
    allow: &'static str,
}

impl MethodRouter {
    /// An empty method table; `allow` is the `Allow` header value for a wrong method
    /// (it must list exactly the methods added).
    pub fn new(allow: &'static str) -> Self {
        Self {
            handlers: Vec::new(),
            allow,
        }
    }

    /// Serves `method` with `service`.
    pub fn on(mut self, method: Method, service: BoxService) -> Self {
        debug_assert!(self.allow.contains(method.as_str()));
        self.handlers.push((method, service));
        self
    }
}

/// See the module documentation.
#[derive(Default)]
#[must_use]
pub struct Router {
    routes: matchit::Router<MethodRouter>,
}

impl Router {
    /// An empty route table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `path` (matchit syntax, e.g. `/admin/keys/{id}`).
    ///
    /// # Panics
    /// If `path` conflicts with a route already added: the table is static, so this is a
    /// programming error found by the first test that builds the pipeline.
    pub fn route(mut self, path: &str, methods: MethodRouter) -> Self {
        if let Err(e) = self.routes.insert(path, methods) {
            panic!("route {path:?} cannot be added: {e}");
        }
        self
    }
}

impl Service<Request> for Router {
    type Response = Response;
    type Error = Error;
    type Future = Ready;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Ready {
        let path = req.uri().path().to_owned();
        let matched = match self.routes.at_mut(&path) {
            Ok(matched) => matched,
            Err(matchit::MatchError::NotFound) => return std::future::ready(Err(Error::NotFound)),
        };
        let methods = matched.value;
        let Some((_, service)) = methods.handlers.iter_mut().find(|(m, _)| m == req.method())
        else {
            return std::future::ready(Err(Error::MethodNotAllowed(methods.allow)));
        };
        if !matched.params.is_empty() {
            let params = matched
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            req.extensions_mut().insert(PathParams(params));
        }
        service.call(req)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    fn router() -> Router {
        Router::new()
            .route(
                "/events",
                MethodRouter::new("GET, POST")
                    .on(Method::GET, boxed(Echo))
                    .on(Method::POST, boxed(Echo)),
            )
            .route(
                "/admin/keys/{id}",
                MethodRouter::new("DELETE").on(Method::DELETE, boxed(Echo)),
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
        assert_eq!(err, Error::MethodNotAllowed("GET, POST"));
    }

    #[test]
    fn path_parameters_reach_the_handler() {
        let mut r = router();
        let res = call(&mut r, request_with("DELETE", "/admin/keys/k1")).expect("routed");
        assert_eq!(res.headers()["x-param-id"], "k1");
    }
}
