//! The Compute entry point: serves the client request, then, while the platform hands it
//! more, further requests in the same instance (reusable sandboxes, `fastly::http::serve`).
//!
//! Each request is converted into an `http::Request`, run through a pipeline built for it
//! alone ([`edge_pubsub::app`] over a fresh [`fastly_platform::platform`]), and answered
//! or, when the app asks for it, handed off to Fanout. Nothing of one request reaches the
//! next: the pipeline, the ports (with their lazily opened stores and the `Fastly-Key`
//! verdict of their own request) and the configuration are built anew for each, and the
//! app keeps no global state; what lasts (KV, the cache's `Grip-Sig` memo) lives in
//! platform services, as with one request per instance.
//!
//! An instance serves at most [`MAX_REQUESTS`] requests and waits at most [`NEXT_WAIT`]
//! for the next one (the platform may end it sooner), which bounds what one instance's
//! CPU, memory and wall time can add up to. Natively this binary only explains how to
//! build it.

#[cfg(target_arch = "wasm32")]
use edge_pubsub::fastly_platform;

/// The most requests one instance serves, the first included.
#[cfg(target_arch = "wasm32")]
const MAX_REQUESTS: usize = 16;

/// How long an instance waits for its next request before it ends.
#[cfg(target_arch = "wasm32")]
const NEXT_WAIT: std::time::Duration = std::time::Duration::from_millis(1000);

#[cfg(target_arch = "wasm32")]
fn main() {
    use fastly::http::serve::{NextRequestOptions, RequestPromise};

    let (client, body) = fastly::handle::client_request_and_body();
    serve(client, body);
    let options = NextRequestOptions::from_timeout(NEXT_WAIT);
    for _ in 1..MAX_REQUESTS {
        // Any error (the wait timed out, the platform ends the session) ends the instance.
        let Ok(promise) = RequestPromise::new(&options) else {
            return;
        };
        let Ok(next) = promise.wait() else {
            return;
        };
        let (client, Some(body)) = next.into_handles() else {
            return;
        };
        serve(client, body);
    }
}

/// Serves one client request through a pipeline of its own.
#[cfg(target_arch = "wasm32")]
fn serve(mut client: fastly::handle::RequestHandle, body: fastly::handle::BodyHandle) {
    use edge_pubsub::fastly_http;
    use pubsub_core::extensions::Handoff;
    use tower_service::Service as _;

    let request = match fastly_http::to_http(&client, body) {
        Ok(request) => request,
        Err(refusal) => return fastly_http::send(refusal),
    };
    let platform = fastly_platform::platform(&client, &request);
    let Ok(response) = edge_pubsub::app(platform).call(request).into_inner();
    if let Some(Handoff(backend)) = response.extensions().get::<Handoff>() {
        if let Err(e) = client.handoff_fanout(backend) {
            let mut failed =
                http::Response::new(format!("Fanout handoff failed: {e}\n").into_bytes());
            *failed.status_mut() = http::StatusCode::BAD_GATEWAY;
            failed.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            fastly_http::send(failed);
        }
        return;
    }
    fastly_http::send(response);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "edge-pubsub runs on Fastly Compute: build it with \
         `cargo build --release --target wasm32-wasip1` and run it with scripts/run.sh"
    );
    std::process::exit(2);
}
