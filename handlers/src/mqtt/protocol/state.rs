//! What the protocol core works on: the connection's [`State`] (its session, plus what
//! lives only for one request) and the [`Context`] it may read.
//!
//! The core reaches no platform. What a rule needs from a port comes through the
//! [`Ports`] the driver supplies in the context: token verification (asked at most once
//! per request for the session's token, and cached in the state), the random bytes of an
//! assigned client identifier, the registry of listened channels, and the per-connection
//! PUBLISH rate limit.

use pubsub_codec::mqtt::ProtocolVersion;
use pubsub_core::mqtt_session::Session;
use pubsub_core::principal::Principal;
use pubsub_core::{Config, Error};

/// The largest MQTT packet the broker accepts, whatever `max-packet-bytes` says: an
/// incomplete packet (at most one byte less) waits in connection metadata as base64
/// (43,692 bytes), which keeps every metadata header well below the proxy's limits.
pub const MAX_CARRIED_PACKET_BYTES: usize = 32_768;

/// The answers of the platform the core may ask for; the driver implements them.
pub(crate) trait Ports {
    /// Verifies `token` (signature, key, `exp`).
    fn verify(&self, token: &str) -> Result<Principal, Error>;
    /// Eight random bytes, if the platform has them.
    fn random(&self) -> Option<[u8; 8]>;
    /// Registers `channel` of a registered feed as listened
    /// (`pubsub_core::audience::registry`).
    fn register(&self, channel: &str) -> Result<(), Error>;
    /// Counts a PUBLISH against the connection's rate limit: `Err` is the refusal's text.
    fn admit_publish(&self) -> Result<(), String>;
}

/// What one request's packets are handled against.
pub(crate) struct Context<'a> {
    /// Seconds since the epoch.
    pub(crate) now: u64,
    pub(crate) config: &'a Config,
    /// Fanout's `Connection-Id`: the sender of the connection's publications.
    pub(crate) connection_id: &'a str,
    pub(crate) ports: &'a dyn Ports,
}

impl Context<'_> {
    /// The largest packet accepted: `max-packet-bytes`, but at most
    /// [`MAX_CARRIED_PACKET_BYTES`], because the start of a packet that arrives in pieces
    /// waits in connection metadata.
    pub(crate) fn max_packet_bytes(&self) -> usize {
        self.config.max_packet_bytes.min(MAX_CARRIED_PACKET_BYTES)
    }
}

/// The connection during one request.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// What the connection metadata holds; the driver writes its changes back.
    pub(crate) session: Session,
    /// Whether the connection ended in this request.
    pub(crate) closed: bool,
    /// The session token as verified during this request, once needed.
    pub(crate) principal: Option<Result<Principal, Error>>,
    /// The first bytes of a packet being refused (to read a CONNECT's protocol level).
    pub(crate) in_flight: Vec<u8>,
    /// PUBLISH packets handled in this request (`budget.rs`).
    pub(crate) publishes: usize,
    /// Other packets of the session handled in this request (`budget.rs`).
    pub(crate) control: usize,
}

impl State {
    pub(crate) fn new(session: Session) -> Self {
        Self {
            session,
            ..Self::default()
        }
    }

    /// The session's protocol version; MQTT 5 before CONNECT.
    pub(crate) fn version(&self) -> ProtocolVersion {
        self.session.version.unwrap_or(ProtocolVersion::V5)
    }

    /// The session token's principal, verified once per request.
    pub(crate) fn principal(&mut self, ctx: &Context) -> Result<&Principal, Error> {
        let token = self.session.token.as_deref().unwrap_or_default();
        let verified = self
            .principal
            .get_or_insert_with(|| ctx.ports.verify(token));
        verified.as_ref().map_err(Clone::clone)
    }
}
