//! `Cors`: lets browser clients on other origins use the API.
//!
//! Reads: the request method.
//! Writes: `Access-Control-Allow-Origin: *` on every response.
//! Answers an `OPTIONS` preflight itself with 204, allowing the methods the API uses and
//! the request headers `Authorization`, `Content-Type` and `Last-Event-ID`. Tokens travel
//! in headers or the query, never in cookies, so no credentials mode is needed.

use std::convert::Infallible;
use std::task::{Context, Poll};

use http::header::{self, HeaderValue};
use http::{Method, StatusCode};
use tower_service::Service;

use crate::{Layer, Ready, Request, Response};

/// Builds [`Cors`].
#[derive(Clone, Copy, Debug, Default)]
#[must_use]
pub struct CorsLayer;

impl<S> Layer<S> for CorsLayer {
    type Service = Cors<S>;
    fn layer(&self, inner: S) -> Cors<S> {
        Cors { inner }
    }
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct Cors<S> {
    inner: S,
}

/// The preflight answer.
pub fn preflight() -> Response {
    let mut res = Response::default();
    *res.status_mut() = StatusCode::NO_CONTENT;
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, DELETE, OPTIONS"),
    );
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

impl<S> Service<Request> for Cors<S>
where
    S: Service<
        Request,
        Response = Response,
        Error = Infallible,
        Future = Ready<Response, Infallible>,
    >,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Ready<Response, Infallible>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Ready<Response, Infallible> {
        if req.method() == Method::OPTIONS {
            return std::future::ready(Ok(preflight()));
        }
        let Ok(mut res) = self.inner.call(req).into_inner();
        res.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        std::future::ready(Ok(res))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    #[test]
    fn a_preflight_allows_the_headers_browsers_send() {
        let mut svc = CorsLayer.layer(Infallibly(Echo));
        let Ok(res) = svc.call(request_with("OPTIONS", "/events")).into_inner();
        assert_eq!(res.status(), 204);
        let allowed = res.headers()[header::ACCESS_CONTROL_ALLOW_HEADERS]
            .to_str()
            .expect("ascii");
        for h in ["Authorization", "Content-Type", "Last-Event-ID"] {
            assert!(allowed.contains(h), "{h}");
        }
    }

    #[test]
    fn every_response_allows_any_origin() {
        let mut svc = CorsLayer.layer(Infallibly(Echo));
        let Ok(res) = svc.call(get("/events")).into_inner();
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    }
}
