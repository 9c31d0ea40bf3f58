//! The Compute entry point: one request per WebAssembly instance.
//!
//! Converts the client request into an `http::Request`, runs it through
//! [`edge_pubsub::app`], and either sends the response or, when the app asks for it, hands
//! the request off to Fanout. Natively this binary only explains how to build it.

#[cfg(target_arch = "wasm32")]
fn main() {
    use pubsub_core::extensions::Handoff;
    use tower_service::Service as _;

    let mut client = fastly::Request::from_client();
    let request = match edge_pubsub::fastly_platform::to_http(&mut client) {
        Ok(request) => request,
        Err(refusal) => {
            edge_pubsub::fastly_platform::from_http(refusal).send_to_client();
            return;
        }
    };
    let platform = edge_pubsub::fastly_platform::platform(&client);
    let Ok(response) = edge_pubsub::app(platform).call(request).into_inner();
    if let Some(Handoff(backend)) = response.extensions().get::<Handoff>() {
        if let Err(e) = client.handoff_fanout(backend) {
            fastly::Response::from_status(502)
                .with_body_text_plain(&format!("Fanout handoff failed: {e}\n"))
                .send_to_client();
        }
        return;
    }
    edge_pubsub::fastly_platform::from_http(response).send_to_client();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!(
        "edge-pubsub runs on Fastly Compute: build it with \
         `cargo build --release --target wasm32-wasip1` and run it with scripts/run.sh"
    );
    std::process::exit(2);
}
