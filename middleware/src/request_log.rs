//! `RequestLog`: one JSON line per request to the real-time log endpoint named in Config
//! Store `request-log` (Viceroy prints it to stdout), for a sample of requests.
//!
//! Reads: [`Config`] (`request-log`: the endpoint and the sample; without it the request
//! passes untouched and nothing is read); the request's method, path (matched against the
//! route table), `topic` parameters, token (only its `kid`), `Grip-Sig` (whether present),
//! and for WebSocket-over-HTTP the `Connection-Id`, the carried partial packet and the
//! body's MQTT packet types; the answer's status (as [`ErrorMap`](crate::error_map)
//! renders an error), its error condition and the MQTT packet types it sends.
//! Writes: the line, through the [`LogSink`](pubsub_core::ports::LogSink) port; nothing
//! into the request.
//! Rejects: nothing; a line that cannot be written is lost, never the request.
//!
//! A line: `{"time":"2026-11-29T23:59:01.123Z","method":"POST","route":"/events",
//! "status":200,"duration_us":812,"topics":1,"kid":"dev","grip":false}`, plus
//! `connection`, `mqtt_in`, `mqtt_out` (packets by type) for an MQTT batch and `error`
//! (the condition) for an error. Never a token, a secret, a path parameter or a message
//! payload: see `line.rs`.
//!
//! It sits right after `LoadConfig`, so it sees every request that has a configuration,
//! including those the later layers refuse (a forged `Grip-Sig`, a malformed
//! `Authorization`). CORS preflights (answered before) and requests whose configuration
//! is invalid (a 500 before any setting can be read) are not logged.

mod line;

use tower_service::Service;

use pubsub_core::config::request_log::SAMPLE_WHOLE;
use pubsub_core::extensions::required;
use pubsub_core::ports::Platform;

use crate::error_map::{status_of, ErrorForm};
use crate::router::RoutePatterns;
use crate::wrap::Wrap;
use crate::{Config, Error, Ready, Request, Response};

/// See the module documentation; served by [`WrapLayer`](crate::wrap::WrapLayer).
#[derive(Clone)]
pub struct RequestLog {
    platform: Platform,
    routes: &'static dyn RoutePatterns,
    event_stream_paths: &'static [&'static str],
}

impl RequestLog {
    /// Logs through `platform`, naming routes by `routes` (the route table, see
    /// [`Routes`](crate::router::Routes)); errors of `GET` requests to
    /// `event_stream_paths` are rendered as SSE (as `ErrorMap` is told).
    pub fn new(
        platform: Platform,
        routes: &'static dyn RoutePatterns,
        event_stream_paths: &'static [&'static str],
    ) -> Self {
        Self {
            platform,
            routes,
            event_stream_paths,
        }
    }

    /// The pattern of the route `path` takes: the route table is matched again only for a
    /// request that is logged.
    fn route_of(&self, path: &str) -> Option<String> {
        self.routes.pattern_of(path).map(str::to_owned)
    }

    /// Whether this request is in the sample of `ppm` millionths.
    fn sampled(&self, ppm: u32) -> bool {
        if ppm >= SAMPLE_WHOLE {
            return true;
        }
        let mut bytes = [0; 4];
        self.platform.env.random(&mut bytes).is_ok()
            && u32::from_le_bytes(bytes) % SAMPLE_WHOLE < ppm
    }
}

impl<S> Wrap<S> for RequestLog
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Error = Error;

    fn call(&self, inner: &mut S, req: Request) -> Result<Response, Error> {
        let log = required::<Config>(&req).map(|c| c.request_log.as_ref());
        let Ok(Some(log)) = log else {
            return inner.call(req).into_inner();
        };
        if !self.sampled(log.sample_ppm) {
            return inner.call(req).into_inner();
        }
        let endpoint = log.endpoint.clone();
        let env = &self.platform.env;
        let start = env.now_micros();
        let route = self.route_of(req.uri().path());
        let mut line = line::Line::of_request(&req, route, start);
        let form = ErrorForm::of(&req, self.event_stream_paths);
        let result = inner.call(req).into_inner();
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => status_of(e, form),
        };
        let elapsed = env.now_micros().saturating_sub(start);
        line.answer(&result, status.as_u16(), elapsed);
        self.platform.log.write(&endpoint, &line.to_json());
        result
    }
}

#[cfg(test)]
mod tests;
