//! `ErrorMap`: the one place where an [`Error`] becomes a response.
//!
//! Reads: the request method, path and `Accept` header (to choose the error's form).
//! Writes: the [`Error`] itself into the response extensions, for logging.
//! Never fails: its error type is [`Infallible`].
//!
//! Forms:
//! - Plain: the error's status, `text/plain`, one line saying what was wrong. 405 carries
//!   `Allow`, 429 `Retry-After`. An internal error's body stays generic; the detail is in
//!   the extension.
//! - Event stream, for `GET` on a subscribe path (`/events`): a `text/event-stream` body
//!   with one `event: stream-error` whose data is `{"condition":…,"text":…}`, then the
//!   stream ends. A browser `EventSource` only reads bodies of 200 responses, so when the
//!   request accepts `text/event-stream` (every `EventSource` does) the status is 200, as
//!   with Fastly's original app; so does a link Fanout requests on its own
//!   (`/events/link/<grant>` with a `Grip-Sig`: Fanout writes a 200 body to the stream,
//!   then ends it; a link request without one is a client's and gets its real status). Other clients (curl,
//!   scripts) get the real status code with the same body.

use std::convert::Infallible;

use http::header::{HeaderValue, ACCEPT, ALLOW, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{Method, StatusCode};
use tower_service::Service;

use crate::wrap::Wrap;
use crate::{Error, Ready, Request, Response};

/// See the module documentation; served by [`WrapLayer`](crate::wrap::WrapLayer).
#[derive(Clone, Copy, Debug)]
pub struct ErrorMap {
    event_stream_paths: &'static [&'static str],
}

impl ErrorMap {
    /// Answers errors of `GET` requests to `event_stream_paths` as SSE.
    pub fn new(event_stream_paths: &'static [&'static str]) -> Self {
        Self { event_stream_paths }
    }
}

/// How an error is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorForm {
    /// Status code and a one-line text body.
    Plain,
    /// A `stream-error` event, with status 200 when `ok_status` is set.
    EventStream {
        /// Answer 200 so an `EventSource` reads the event.
        ok_status: bool,
    },
}

impl ErrorForm {
    /// The form for `req` given the subscribe paths.
    pub fn of(req: &Request, event_stream_paths: &[&str]) -> Self {
        let path = req.uri().path();
        // A link Fanout requests on its own (`<subscribe path>/link/<grant>`) must answer
        // 200 for Fanout to write the event to the stream before ending it.
        let link = event_stream_paths.iter().any(|p| {
            path.strip_prefix(p)
                .is_some_and(|rest| rest.starts_with("/link/"))
        });
        if req.method() != Method::GET || !(link || event_stream_paths.contains(&path)) {
            return Self::Plain;
        }
        let event_source = req
            .headers()
            .get_all(ACCEPT)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.contains("text/event-stream")));
        // Only a link that claims to come from Fanout (it carries a `Grip-Sig`) gets the
        // 200: an unsigned one is a client's, refused with its real status.
        let from_fanout = link && req.headers().contains_key("grip-sig");
        Self::EventStream {
            ok_status: event_source || from_fanout,
        }
    }
}

/// The status `error` is answered with in `form`.
pub fn status_of(error: &Error, form: ErrorForm) -> StatusCode {
    match form {
        ErrorForm::EventStream { ok_status: true } => StatusCode::OK,
        _ => error.status(),
    }
}

/// Renders `error` in `form`.
pub fn error_response(error: Error, form: ErrorForm) -> Response {
    let text = match error {
        Error::Internal(_) => "internal error".to_owned(),
        ref e => e.to_string(),
    };
    let (content_type, body) = match form {
        ErrorForm::Plain => ("text/plain; charset=utf-8", text + "\n"),
        ErrorForm::EventStream { .. } => {
            let data = serde_json::json!({ "condition": error.condition(), "text": text });
            (
                "text/event-stream",
                format!("event: stream-error\ndata: {data}\n\n"),
            )
        }
    };
    let status = status_of(&error, form);
    let mut res = Response::new(body.into_bytes());
    *res.status_mut() = status;
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Error::MethodNotAllowed(allow) = &error {
        if let Ok(allow) = HeaderValue::from_str(allow) {
            res.headers_mut().insert(ALLOW, allow);
        }
    }
    // RFC 6750: what a bearer-token client needs to tell a missing token from a bad one.
    let challenge = match &error {
        Error::MissingCredentials | Error::MissingToken(_) => Some("Bearer realm=\"edge-pubsub\""),
        Error::InvalidToken(_) | Error::UnknownKey(_) => {
            Some("Bearer realm=\"edge-pubsub\", error=\"invalid_token\"")
        }
        Error::Forbidden { .. } => {
            Some("Bearer realm=\"edge-pubsub\", error=\"insufficient_scope\"")
        }
        _ => None,
    };
    if let Some(challenge) = challenge {
        res.headers_mut()
            .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    }
    if let Some(secs) = error.retry_after_secs() {
        res.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    res.extensions_mut().insert(error);
    res
}

impl<S> Wrap<S> for ErrorMap
where
    S: Service<Request, Response = Response, Error = Error, Future = Ready>,
{
    type Error = Infallible;

    fn call(&self, inner: &mut S, req: Request) -> Result<Response, Infallible> {
        let form = ErrorForm::of(&req, self.event_stream_paths);
        Ok(inner
            .call(req)
            .into_inner()
            .unwrap_or_else(|error| error_response(error, form)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_helpers::*;

    fn render(error: Error, req: Request) -> Response {
        error_response(error, ErrorForm::of(&req, &["/events"]))
    }

    #[test]
    fn plain_errors_carry_status_and_one_line() {
        let res = render(Error::PayloadTooLarge(10), request_with("POST", "/events"));
        assert_eq!(res.status(), 413);
        assert_eq!(body_text(&res), "message is larger than 10 bytes\n");
    }

    #[test]
    fn token_refusals_carry_a_bearer_challenge() {
        let cases = [
            (
                Error::MissingCredentials,
                401,
                "Bearer realm=\"edge-pubsub\"",
            ),
            (
                Error::InvalidToken("expired".into()),
                401,
                "Bearer realm=\"edge-pubsub\", error=\"invalid_token\"",
            ),
            (
                Error::Forbidden {
                    access: "write",
                    topic: "t".into(),
                },
                403,
                "Bearer realm=\"edge-pubsub\", error=\"insufficient_scope\"",
            ),
        ];
        for (error, status, challenge) in cases {
            let res = render(error, request_with("POST", "/events"));
            assert_eq!(res.status(), status);
            assert_eq!(res.headers()[WWW_AUTHENTICATE], challenge);
        }
        let res = render(Error::NotFound, request_with("GET", "/x"));
        assert!(res.headers().get(WWW_AUTHENTICATE).is_none());
    }

    #[test]
    fn a_405_names_the_allowed_methods() {
        let res = render(
            Error::MethodNotAllowed("GET, POST".into()),
            request_with("PUT", "/events"),
        );
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()[ALLOW], "GET, POST");
    }

    #[test]
    fn a_rate_limited_write_is_a_429_with_retry_after_in_either_form() {
        let limited = || Error::RateLimited {
            what: "the retained message of topic \"a\"".into(),
            retry_after_secs: 1,
        };
        let res = render(limited(), request_with("POST", "/events"));
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[RETRY_AFTER], "1");
        assert_eq!(
            body_text(&res),
            "too many writes to the retained message of topic \"a\": the store takes one \
             per second; retry after 1 s\n"
        );
        let res = render(limited(), get("/events"));
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[RETRY_AFTER], "1");
        assert!(body_text(&res).contains("\"condition\":\"too-many-requests\""));
    }

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let res = render(Error::Internal("secret detail".into()), get("/x"));
        assert_eq!(res.status(), 500);
        assert!(!body_text(&res).contains("secret"));
        assert!(res.extensions().get::<Error>().is_some());
    }

    #[test]
    fn an_event_source_gets_a_readable_stream_error_with_status_200() {
        let mut req = get("/events");
        req.headers_mut()
            .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let res = render(Error::MissingCredentials, req);
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()[CONTENT_TYPE], "text/event-stream");
        let body = body_text(&res);
        assert!(body.starts_with("event: stream-error\ndata: {\"condition\":\"unauthorized\""));
        assert!(body.ends_with("\n\n"));
    }

    #[test]
    fn a_link_request_gets_its_stream_error_with_status_200() {
        let mut req = get("/events/link/x?topic=a");
        req.headers_mut()
            .insert("grip-sig", http::HeaderValue::from_static("sig"));
        let res = render(Error::MissingCredentials, req);
        assert_eq!(res.status(), 200);
        assert!(body_text(&res).starts_with("event: stream-error\n"));
        // Without a Grip-Sig it is not Fanout's: the real status.
        let res = render(Error::MissingCredentials, get("/events/link/x?topic=a"));
        assert_eq!(res.status(), 401);
    }

    #[test]
    fn other_subscribers_get_the_real_status_with_the_same_event() {
        let res = render(
            Error::Forbidden {
                access: "read",
                topic: "t".into(),
            },
            get("/events"),
        );
        assert_eq!(res.status(), 403);
        assert!(body_text(&res).contains("\"condition\":\"forbidden\""));
    }
}
