//! `pubsub-dev`: runs Edge Pub/Sub locally (Viceroy + Pushpin) in the foreground.
//!
//! Ports: app 7676, Pushpin publish 5561, Pushpin HTTP 7999; override with
//! `PUBSUB_APP_PORT`, `PUBSUB_PUBLISH_PORT`, `PUBSUB_PROXY_PORT`. `PUBSUB_WASM` selects
//! another wasm file. Prints a link to the demo page with a token for topic `demo` in its
//! fragment, the URLs, the dev signing key, the token and example commands, then runs
//! until Ctrl-C. Config Store key `history` is `# 1000 1h`: every topic keeps history;
//! `mercure` is `on; anonymous; default-kid dev` with the local origin as the 1.0 tokens'
//! issuer and audience: the Mercure hub is on.
//!
//! Ctrl-C kills this process (no signal handler: that would need `unsafe` or another
//! crate). Viceroy and Pushpin still stop cleanly: each runs under a wrapper that ignores
//! SIGINT and watches a pipe from this process; when this process dies the pipe closes and
//! the wrapper sends SIGTERM to its service and waits for it (Pushpin's runner then stops
//! its own children), and the run directory is removed. If Viceroy or Pushpin exits on its
//! own, this process reports it with the tail of its log, stops the other and exits 1.

use std::io;
use std::process::ExitCode;
use std::time::Duration;

use pubsub_devstack::{mint_token, Stack, StackOptions, DEV_KEY_ID, DEV_KEY_SECRET};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pubsub-dev: {e}");
            ExitCode::FAILURE
        }
    }
}

fn port(var: &str, default: u16) -> io::Result<u16> {
    match std::env::var(var) {
        Ok(v) => v.trim().parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{var}={v:?} is not a port number"),
            )
        }),
        Err(_) => Ok(default),
    }
}

/// The stack's options: the ports and wasm of the environment, and every topic keeping
/// history (so the tour and the demo page show resumable streams).
fn options() -> io::Result<StackOptions> {
    let app_port = port("PUBSUB_APP_PORT", 7676)?;
    // The hub's 1.0 checks name the local origin, so Mercure's own examples work as is.
    let origin = format!("http://127.0.0.1:{app_port}");
    let mercure = format!(
        "on; anonymous; default-kid dev; issuers {origin}; audience {origin}/.well-known/mercure"
    );
    let mut opts = StackOptions {
        app_port: Some(app_port),
        publish_port: Some(port("PUBSUB_PUBLISH_PORT", 5561)?),
        proxy_port: Some(port("PUBSUB_PROXY_PORT", 7999)?),
        quiet: false,
        config: vec![
            ("history".into(), "# 1000 1h".into()),
            // The Mercure hub, for Mercure's own clients with the dev key.
            ("mercure".into(), mercure),
        ],
        ..StackOptions::default()
    };
    if let Some(wasm) = std::env::var_os("PUBSUB_WASM") {
        opts.wasm = wasm.into();
    }
    Ok(opts)
}

fn run() -> io::Result<()> {
    let opts = options()?;
    eprintln!(
        "pubsub-dev: starting Pushpin and Viceroy ({})",
        opts.wasm.display()
    );
    let mut stack = Stack::start(opts)?;
    let app = stack.app_url();
    let token = mint_token(
        DEV_KEY_ID,
        DEV_KEY_SECRET.as_bytes(),
        &["demo"],
        &["demo"],
        24 * 60 * 60,
    );
    println!(
        "\n\
         Edge Pub/Sub is running.\n\
         \n\
         \x20 Demo page:             {app}/#token={token}\n\
         \x20                        (open it in a browser; the token is for topic demo)\n\
         \n\
         \x20 App (Viceroy):         {app}\n\
         \x20 Publish API (Pushpin): {publish}\n\
         \x20 Pushpin HTTP:          http://127.0.0.1:{proxy} (Viceroy hands off to it)\n\
         \x20 Logs and configs:      {run_dir}\n\
         \n\
         \x20 Dev signing key id:    {DEV_KEY_ID}\n\
         \x20 Dev signing secret:    {DEV_KEY_SECRET} (HS256; the HMAC key is these UTF-8 bytes)\n\
         \n\
         \x20 Token (read+write on topic demo, valid 24 h):\n\
         \x20   {token}\n\
         \n\
         \x20 Subscribe:\n\
         \x20   curl -N \"{app}/events?topic=demo&auth={token}\"\n\
         \x20 Publish:\n\
         \x20   curl -X POST -d 'hello' -H \"Authorization: Bearer {token}\" \"{app}/events?topic=demo\"\n\
         \n\
         Press Ctrl-C to stop.\n",
        publish = stack.publish_url(),
        proxy = stack.proxy_port(),
        run_dir = stack.run_dir().display(),
    );
    loop {
        std::thread::sleep(Duration::from_millis(500));
        if let Err(e) = stack.check_running() {
            stack.stop();
            return Err(e);
        }
    }
}
