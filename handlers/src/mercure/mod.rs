//! The Mercure hub at `/.well-known/mercure` (Config Store key `mercure`; see
//! `docs/mercure.md`): `POST` publishes an update ([`publish`]), `GET` subscribes
//! ([`subscribe`]), and `GET /.well-known/mercure/link/<link>` is the link Fanout requests
//! on its own to keep a stream's registrations alive and to end it at its token's expiry
//! ([`link`]); its RFC 9728 metadata is at [`METADATA_PATH`] ([`metadata`]). The core of it (updates, events, channels, links) is `pubsub_core::mercure`.

mod auth;
mod discovery;
mod publish;
mod subscribe;

pub use discovery::{metadata, METADATA_PATH};
pub use publish::publish;
pub use subscribe::{link, subscribe};

use pubsub_core::config::mercure::Mercure;
use pubsub_core::{Config, Error};

/// The hub's path.
pub const PATH: &str = "/.well-known/mercure";

/// The hub's settings, when it is on; else the path is not found.
fn hub(config: &Config) -> Result<&Mercure, Error> {
    config
        .mercure
        .as_ref()
        .filter(|m| m.on)
        .ok_or(Error::NotFound)
}
