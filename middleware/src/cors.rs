//! `Cors`: lets browser clients on other origins use the API.
//!
//! Reads: the request method.
//! Writes: `Access-Control-Allow-Origin: *` on every response.
//! Answers an `OPTIONS` preflight itself with 204 on every path, allowing every method of
//! the route table ([`Router::methods`](crate::router::Router::methods)) and
//! the request headers `Authorization`, `Content-Type` and `Last-Event-ID`. Tokens travel
//! in headers or the query, never in cookies, so no credentials mode is needed.

use std::convert::Infallible;

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use tower_service::Service;

use crate::wrap::Wrap;
use crate::{Ready, Request, Response};

/// See the module documentation; served by [`WrapLayer`](crate::wrap::WrapLayer).
#[derive(Clone, Debug)]
pub struct Cors {
    methods: HeaderValue,
}

impl Cors {
    /// Allows `methods` (e.g. `GET, POST, OPTIONS`) in preflights; a value that cannot be
    /// a header allows none.
    pub fn new(methods: &str) -> Self {
        let methods = HeaderValue::from_str(methods).unwrap_or(HeaderValue::from_static(""));
        Self { methods }
    }
}

/// The preflight answer, allowing `methods`.
pub fn preflight(methods: HeaderValue) -> Response {
    let mut res = Response::default();
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Content-Type, Last-Event-ID"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    res
}

impl<S> Wrap<S> for Cors
where
    S: Service<
        Request,
        Response = Response,
        Error = Infallible,
        Future = Ready<Response, Infallible>,
    >,
{
    type Error = Infallible;

    fn call(&self, inner: &mut S, req: Request) -> Result<Response, Infallible> {
        if req.method() == Method::OPTIONS {
            return Ok(preflight(self.methods.clone()));
        }
        let Ok(mut res) = inner.call(req).into_inner();
        res.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_map::ErrorMap;
    use crate::test_helpers::*;
    use crate::wrap::{WrapLayer, Wrapped};

    fn errors<S>(inner: S) -> Wrapped<S, ErrorMap> {
        WrapLayer::new(ErrorMap::new(&[])).layer(inner)
    }

    #[test]
    fn a_preflight_allows_the_headers_browsers_send() {
        let mut svc = WrapLayer::new(Cors::new("GET, POST, OPTIONS")).layer(errors(Echo));
        let Ok(res) = svc.call(request_with("OPTIONS", "/events")).into_inner();
        assert_eq!(res.status(), 204);
        assert_eq!(
            res.headers()[header::ACCESS_CONTROL_ALLOW_METHODS],
            "GET, POST, OPTIONS"
        );
        let allowed = res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("ascii");
        for h in ["Authorization", "Content-Type", "Last-Event-ID"] {
            assert!(allowed.contains(h), "{h}");
        }
    }

    #[test]
    fn every_response_allows_any_origin() {
        let mut svc = WrapLayer::new(Cors::new("GET")).layer(errors(Echo));
        let Ok(res) = svc.call(get("/events")).into_inner();
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}
