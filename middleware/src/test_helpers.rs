//! Helpers shared by this crate's unit tests.
#![allow(unreachable_pub, missing_docs)]

use tower_service::Service;

use crate::router::HandlerFn;
use pubsub_core::extensions::{GripVerified, PathParams, Selectors, Topics};

pub use crate::{Config, Error, Layer, Ready, Request, Response};
pub use pubsub_core::test_util::*;

pub fn request(method: &str, uri: &str) -> http::request::Builder {
    http::Request::builder().method(method).uri(uri)
}

pub fn request_with(method: &str, uri: &str) -> Request {
    with_config(request(method, uri).body(Vec::new()).unwrap())
}

pub fn get(uri: &str) -> Request {
    request_with("GET", uri)
}

pub fn with_config(mut req: Request) -> Request {
    req.extensions_mut().insert(Config::default());
    req
}

pub fn call<S>(svc: &mut S, req: Request) -> Result<Response, Error>
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    svc.call(req).into_inner()
}

pub fn body_text(res: &Response) -> String {
    String::from_utf8(res.body().clone()).unwrap()
}

/// The handler behind [`Echo`]: answers 200 and reports in headers what the request
/// carried.
pub fn echo(req: Request) -> Result<Response, Error> {
    let mut res = http::Response::builder().header(
        "x-grip-verified",
        req.extensions().get::<GripVerified>().is_some().to_string(),
    );
    res = res.header(
        "x-saw-meta",
        req.headers().contains_key("meta-user").to_string(),
    );
    if let Some(c) = req.extensions().get::<Config>() {
        res = res.header("x-max-topics", c.max_topics.to_string());
    }
    if let Some(Topics(t)) = req.extensions().get::<Topics>() {
        let names: Vec<&str> = t.iter().map(|t| t.as_str()).collect();
        res = res.header("x-topics", names.join(","));
    }
    if let Some(Selectors(s)) = req.extensions().get::<Selectors>() {
        let selectors: Vec<&str> = s.iter().map(|s| s.as_str()).collect();
        res = res.header("x-selectors", selectors.join(","));
    }
    if let Some(p) = req.extensions().get::<PathParams>() {
        for (k, v) in &p.0 {
            res = res.header(format!("x-param-{k}"), v);
        }
    }
    Ok(res.body(Vec::new()).unwrap())
}

/// A service answering with [`echo`].
#[allow(non_upper_case_globals)]
pub const Echo: HandlerFn<fn(Request) -> Result<Response, Error>> = HandlerFn(echo);
