//! The Compute entry point: one request per WebAssembly instance.
//!
//! Converts the client request into an `http::Request`, runs it through
//! [`edge_pubsub::app`], and either sends the response or, when the app asks for it, hands
//! the request off to Fanout. Natively this binary only explains how to build it.

#[cfg(target_arch = "wasm32")]
fn main() {
    use edge_pubsub::{fastly_http, fastly_platform};
    use pubsub_core::extensions::Handoff;
    use tower_service::Service as _;

    let (mut client, body) = fastly::handle::client_request_and_body();
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
