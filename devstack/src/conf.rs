//! Configuration files for one stack run.
//!
//! Three files are generated into the run directory:
//!
//! - `pushpin.conf`: a complete Pushpin 1.36 configuration. Every ZeroMQ socket is an
//!   `ipc://` socket inside the run directory (so parallel stacks never clash on ports),
//!   the runner starts its own zurl (Debian's defaults point at a system zurl that does not
//!   run), `accept_pushpin_route=true` lets Viceroy's `pushpin-route: self` header select
//!   the route, and the only TCP listeners are the proxy port and the publish port, both
//!   bound to 127.0.0.1 (`pushpin.rs`).
//! - `routes`: one line, `id=self 127.0.0.1:<viceroy port>,over_http` (`pushpin.rs`).
//! - `fastly.toml`: the repository's manifest with the `[local_server]` section patched:
//!   backend `api` points at Pushpin's publish port, Config Store `config` and Secret
//!   Store `secrets` are turned into inline form with the stack's settings and the
//!   caller's overrides applied, relative file paths become absolute, the KV stores
//!   `keys` and `messages` are guaranteed to exist, backend `self` points at Viceroy, and
//!   the Fastly CLI's `[local_server.pushpin]` section is dropped (`fastly.rs`, which
//!   reads the manifest's store definitions with `stores.rs`).
//!
//! Everything here is pure apart from reading the JSON files the manifest points at, so
//! it is unit-tested without starting any process.

mod fastly;
mod pushpin;
mod stores;

use std::io;
use std::path::{Path, PathBuf};

pub(crate) use fastly::{derive_fastly_toml, FastlySettings};
pub(crate) use pushpin::{pushpin_conf, routes, PushpinSettings};

/// Issuer Pushpin writes into `Grip-Sig` (`sig_iss`), given to the app as Config Store
/// key `grip-sig-iss`.
pub(crate) const SIG_ISS: &str = "pushpin";

/// Grip signing key used when the manifest's Secret Store has no `grip-sig-key`.
pub(crate) const FALLBACK_GRIP_KEY: &str = "local-grip-signing-key-change-me";

/// Path of Pushpin's HTTP publish endpoint (Config Store key `publish-path`).
pub(crate) const PUBLISH_PATH: &str = "/publish/";

/// Longest run-directory path that keeps every ipc socket path under the 108-byte
/// `sun_path` limit (the longest socket name Pushpin uses is about 40 bytes).
pub(crate) const MAX_RUN_DIR_LEN: usize = 60;

/// Resolves `path` against `base` when it is relative.
pub(crate) fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

fn path_string(path: &Path) -> io::Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| invalid_input(format!("path {} is not UTF-8", path.display())))
}

fn invalid_data(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

fn invalid_input(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}
