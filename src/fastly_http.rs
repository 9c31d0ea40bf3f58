//! The client request into an `http::Request`, and an `http::Response` out to the client,
//! through the `fastly` crate's handle API. Compiled only for wasm32.
//!
//! Handles, not `fastly::Request` / `fastly::Response`: those keep a lazy copy of every
//! header (an index map of reference-counted names and values) and a buffered body
//! writer, which the app, holding its own `http` types, would only copy again. Every
//! request pays for this conversion, so it reads each header once, straight into the
//! `HeaderMap`, and the body with one buffer sized by `Content-Length`.

use std::io::Read as _;

use fastly::error::BufferSizeError;
use fastly::handle::{BodyHandle, RequestHandle, ResponseHandle};
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Uri};

use pubsub_core::extensions::ClientIp;
use pubsub_core::limits;
use pubsub_core::{Error, Request, Response};
use pubsub_middleware::error_map::{error_response, ErrorForm};

/// First buffer sizes for a header name, a header value, the method and the URL (those of
/// the `fastly` crate); when one is too small the host says how much it needs.
const NAME_BUF: usize = 128;
const VALUE_BUF: usize = 4096;
const METHOD_BUF: usize = 8;
const URL_BUF: usize = 4096;

/// No header, method or URL the platform lets through is longer (Compute: headers
/// 128 KB, URL 8 KB); a host asking for more is refused rather than trusted.
const MAX_BUF: usize = 256 * 1024;

/// Moves the client request into an `http::Request` (the body is read; `client` keeps
/// everything else, so it can still be handed off).
///
/// A body larger than [`limits::MAX_REQUEST_BODY_BYTES`] is refused with 413: by its
/// `Content-Length` before any of it is read, or, without that header, after reading one
/// byte past the cap. The answer is the response to send.
pub fn to_http(client: &RequestHandle, body: BodyHandle) -> Result<Request, Response> {
    let cap = limits::MAX_REQUEST_BODY_BYTES;
    let headers = headers(client).map_err(refusal)?;
    limits::check_declared_length(&headers, cap).map_err(refusal)?;
    let body = read_body(body, &headers, cap).map_err(refusal)?;
    limits::check_read_length(body.len(), cap).map_err(refusal)?;
    let method = sized(METHOD_BUF, |n| client.get_method(n)).map_err(refusal)?;
    let url = sized(URL_BUF, |n| client.get_url(n)).map_err(refusal)?;
    let target = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.headers_mut() = headers;
    *request.uri_mut() = target
        .parse()
        .unwrap_or_else(|_| Uri::from_static("/-invalid-request-"));
    if let Some(ip) = client.client_ip_addr() {
        request.extensions_mut().insert(ClientIp(ip));
    }
    Ok(request)
}

/// Every header of the client request, in the host's order.
fn headers(client: &RequestHandle) -> Result<HeaderMap, Error> {
    let names = sized(NAME_BUF, |n| {
        client.get_header_names(n).collect::<Result<Vec<_>, _>>()
    })?;
    let mut headers = HeaderMap::with_capacity(names.len());
    for name in names {
        let values = sized(VALUE_BUF, |n| {
            client
                .get_header_values(&name, n)
                .collect::<Result<Vec<_>, _>>()
        })?;
        for value in values {
            headers.append(name.clone(), value);
        }
    }
    Ok(headers)
}

/// Calls `read` with a buffer of `first` bytes, then, while the host answers that it needs
/// more, with the size it asks for (up to [`MAX_BUF`]).
fn sized<T>(
    first: usize,
    mut read: impl FnMut(usize) -> Result<T, BufferSizeError>,
) -> Result<T, Error> {
    let mut size = first;
    loop {
        match read(size) {
            Ok(value) => return Ok(value),
            Err(e) if e.needed_buf_size > size && e.needed_buf_size <= MAX_BUF => {
                size = e.needed_buf_size;
            }
            Err(e) => {
                return Err(Error::BadRequest(format!(
                    "a request header or the URL is too long ({} bytes)",
                    e.needed_buf_size
                )))
            }
        }
    }
}

/// Reads at most `cap + 1` bytes of `body`: enough to tell that it goes on past the cap.
/// One allocation of the declared length (already checked against the cap) when there is
/// one.
fn read_body(body: BodyHandle, headers: &HeaderMap, cap: usize) -> Result<Vec<u8>, Error> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(declared.min(cap));
    let limit = u64::try_from(cap).map_or(u64::MAX, |c| c.saturating_add(1));
    body.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::BadRequest(format!("cannot read the body: {e}")))?;
    Ok(bytes)
}

/// The answer to a request the adapter refuses before the pipeline sees it: rendered
/// like every other error (plain text), and readable by browsers on other origins, as the
/// `Cors` layer would make it.
fn refusal(error: Error) -> Response {
    let mut response = error_response(error, ErrorForm::Plain);
    response.headers_mut().insert(
        http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        http::HeaderValue::from_static("*"),
    );
    response
}

/// Sends `response` to the client.
pub fn send(response: Response) {
    let (parts, body) = response.into_parts();
    let mut out = ResponseHandle::new();
    out.set_status(parts.status);
    for (name, value) in &parts.headers {
        out.append_header(name, value);
    }
    out.send_to_client(BodyHandle::from(body.as_slice()));
}
