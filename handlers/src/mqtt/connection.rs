//! One request's worth of work on an MQTT connection: the [`Connection`], how packets are
//! cut from the incoming bytes and dispatched, and how packets go back to the client.
//!
//! Each packet's handling lives with its concept: `connect.rs` (CONNECT, CONNACK),
//! `subscribe.rs` (SUBSCRIBE, UNSUBSCRIBE, retained delivery), `publish.rs` (PUBLISH,
//! PUBACK), `qos2.rs` (PUBREC, PUBREL, PUBCOMP), `will.rs` (the Will Message) and `liveness.rs` (keep alive, token expiry,
//! DISCONNECT and close). The choices the specifications leave open are documented there
//! (and in the README).
//!
//! The token is re-verified when a packet needs it (SUBSCRIBE, PUBLISH), once per request,
//! so a revoked key takes effect on live connections; its `exp` is checked on every request.

use pubsub_codec::mqtt::{self, DisconnectReasonCode, Packet, ProtocolVersion};
use pubsub_codec::wsevents;
use pubsub_core::ports::Platform;
use pubsub_core::principal::Principal;
use pubsub_core::tokens;
use pubsub_core::{Config, Error};

use super::retained::Delivery;
use super::session::Session;

/// With the `grip` WebSocket extension, a message from the app to the client must start
/// with this prefix (Fanout strips it); unprefixed messages are not delivered.
const MESSAGE_PREFIX: &[u8] = b"m:";

/// The largest MQTT packet the broker accepts, whatever `max-packet-bytes` says: an
/// incomplete packet (at most one byte less) waits in connection metadata as base64
/// (43,692 bytes), which keeps every metadata header well below the proxy's limits (see
/// `session.rs`).
pub const MAX_CARRIED_PACKET_BYTES: usize = 32_768;

/// One request's worth of work on a connection.
pub(crate) struct Connection<'a> {
    pub(super) platform: &'a Platform,
    pub(super) config: &'a Config,
    pub(super) connection_id: &'a str,
    pub(super) now: u64,
    pub(crate) session: Session,
    /// The response body: WebSocket-over-HTTP events.
    pub(crate) out: Vec<u8>,
    pub(crate) closed: bool,
    /// The token verified during this request, if it was needed.
    pub(super) principal: Option<Result<Principal, Error>>,
    /// The first bytes of a packet being refused (to read a CONNECT's protocol level).
    pub(super) in_flight: Vec<u8>,
    /// The retained messages of this request.
    pub(super) retained: Delivery,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(
        platform: &'a Platform,
        config: &'a Config,
        connection_id: &'a str,
        session: Session,
    ) -> Self {
        Self {
            platform,
            config,
            connection_id,
            now: platform.env.now(),
            session,
            out: Vec::new(),
            closed: false,
            principal: None,
            in_flight: Vec::new(),
            retained: Delivery::default(),
        }
    }

    /// The session to write back and the response body.
    pub(crate) fn finish(self) -> (Session, Vec<u8>) {
        (self.session, self.out)
    }

    pub(super) fn version(&self) -> ProtocolVersion {
        self.session.version.unwrap_or(ProtocolVersion::V5)
    }

    pub(super) fn send(&mut self, packet: &Packet) {
        let mut bytes =
            Vec::with_capacity(MESSAGE_PREFIX.len() + packet.encoded_len(self.version()));
        bytes.extend_from_slice(MESSAGE_PREFIX);
        if packet.encode(self.version(), &mut bytes).is_ok() {
            wsevents::write_binary(&mut self.out, &bytes);
        }
    }

    /// Sends raw packet bytes to the client.
    pub(super) fn send_raw(&mut self, packet: &[u8]) {
        let mut bytes = Vec::with_capacity(MESSAGE_PREFIX.len() + packet.len());
        bytes.extend_from_slice(MESSAGE_PREFIX);
        bytes.extend_from_slice(packet);
        wsevents::write_binary(&mut self.out, &bytes);
    }

    /// Sends Fanout a `subscribe` or `unsubscribe` control message for `channel`.
    pub(super) fn control(&mut self, kind: &str, channel: &str, skip_self: bool) {
        let json = if skip_self {
            serde_json::json!({"type": kind, "channel": channel, "filters": ["skip-self"]})
        } else {
            serde_json::json!({"type": kind, "channel": channel})
        };
        wsevents::control_message(&mut self.out, &json.to_string());
    }

    /// Decodes and handles every complete packet in `buffered + incoming`; keeps the rest.
    pub(crate) fn receive(&mut self, data: &[u8], had_buffer: bool) {
        let max = u32::try_from(self.max_packet_bytes()).unwrap_or(u32::MAX);
        let mut pos = 0;
        while !self.closed && pos < data.len() {
            match mqtt::frame_len(&data[pos..], max) {
                Ok(Some(len)) => {
                    self.packet(&data[pos..pos + len]);
                    pos += len;
                }
                Ok(None) => break,
                Err(e) => {
                    self.in_flight = data[pos..].iter().take(16).copied().collect();
                    self.refuse(&e);
                    break;
                }
            }
        }
        if pos > 0 && self.session.version.is_some() {
            self.session.seen = self.now;
            self.session.touch("mqtt-seen");
        }
        let rest = if self.closed { &[][..] } else { &data[pos..] };
        if had_buffer || !rest.is_empty() {
            self.session.buffer = rest.to_vec();
            self.session.touch("mqtt-buf");
        }
    }

    /// The largest packet accepted: `max-packet-bytes`, but at most
    /// [`MAX_CARRIED_PACKET_BYTES`], because the start of a packet that arrives in pieces
    /// waits in connection metadata (`mqtt-buf`).
    pub(super) fn max_packet_bytes(&self) -> usize {
        self.config.max_packet_bytes.min(MAX_CARRIED_PACKET_BYTES)
    }

    /// Answers a packet that cannot be decoded.
    fn refuse(&mut self, e: &mqtt::DecodeError) {
        match self.session.version {
            None => self.connack_failure(e),
            Some(_) => {
                let reason = DisconnectReasonCode::try_from(e.reason_code())
                    .unwrap_or(DisconnectReasonCode::ProtocolError);
                self.disconnect(reason, &e.to_string());
            }
        }
    }

    /// Handles one complete packet: a CONNECT first, then any packet of the session.
    fn packet(&mut self, bytes: &[u8]) {
        let Some(version) = self.session.version else {
            return self.first_packet(bytes);
        };
        let packet = match mqtt::decode(bytes, version) {
            Ok(packet) => packet,
            Err(e) => return self.refuse(&e),
        };
        match packet {
            Packet::Publish(p) => self.publish(p),
            Packet::PubRel(r) => self.pubrel(&r),
            Packet::Subscribe(s) => self.subscribe(s),
            Packet::Unsubscribe(u) => self.unsubscribe(u),
            Packet::PingReq => self.send_raw(&mqtt::PINGRESP_BYTES),
            Packet::Disconnect(d) => self.client_disconnect(&d),
            Packet::Auth(_) => self.disconnect(
                DisconnectReasonCode::ProtocolError,
                "enhanced authentication is not supported; send the token as the password",
            ),
            Packet::Connect(_) => self.disconnect(
                DisconnectReasonCode::ProtocolError,
                "[MQTT-3.1.0-2] a second CONNECT is a protocol error",
            ),
            other => {
                let text = format!("a client may not send {} here", other.packet_type().name());
                self.disconnect(DisconnectReasonCode::ProtocolError, &text);
            }
        }
    }

    /// The token of the connection, verified once per request.
    pub(super) fn principal(&mut self) -> Result<&Principal, Error> {
        if self.principal.is_none() {
            let token = self.session.token.clone().unwrap_or_default();
            self.principal = Some(tokens::verify_with(
                &token,
                &*self.platform.kv,
                self.now,
                self.config,
            ));
        }
        match self.principal.as_ref() {
            Some(Ok(p)) => Ok(p),
            Some(Err(e)) => Err(e.clone()),
            None => Err(Error::Internal("principal not computed".into())),
        }
    }
}
