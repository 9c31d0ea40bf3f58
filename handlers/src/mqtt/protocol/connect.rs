//! CONNECT and CONNACK: the first packet of a connection, the token it carries as its
//! password, and the CONNACK that accepts or refuses it.
//!
//! Sessions are not persisted: CONNACK's Session Present is always 0. CONNACK tells the
//! client what the broker does not support (topic aliases, wildcard and shared
//! subscriptions, subscription identifiers), the largest packet it accepts
//! (`max-packet-bytes`, at most `MAX_CARRIED_PACKET_BYTES`) and how many QoS 2
//! publications may await PUBREL (Receive Maximum, `RECEIVE_MAXIMUM`). It carries no
//! Maximum QoS: publishers may use QoS 2 (`qos2.rs`).
//!
//! An MQTT 5 CONNACK also sets Server Keep Alive to the Config Store's
//! `mqtt-server-keep-alive` (default 300 s; 0: not sent), which the client must use
//! instead of its own [MQTT-3.2.2-21], and the broker enforces it. No keep alive but 0
//! is honoured below `mqtt-limits`' `min-keep-alive` ([`honoured_keep_alive`]): MQTT 5
//! is told so in Server Keep Alive; an MQTT 3.1.1 client cannot be told, and the broker's
//! deadlines (and so Fanout's callbacks) follow the floor instead of the client. An accepted connection also listens on its key's channel
//! (the key channel of its `Audience`), where revoking the key publishes its end, and,
//! unless its client id was assigned, on its client id's channel, where a later CONNECT
//! with the same client id and identity publishes the takeover
//! (`pubsub_core::mqtt_session::takeover`) before listening there itself.

use std::num::{NonZeroU16, NonZeroU32};

use pubsub_codec::mqtt::{self, ConnAck, Connect, ConnectReasonCode, Packet, ProtocolVersion};
use pubsub_core::audience::Audience;
use pubsub_core::mqtt_session::takeover;
use pubsub_core::principal::Principal;
use pubsub_core::Error;

use super::effects::{Effect, Effects};
use super::ending::close;
use super::qos2::RECEIVE_MAXIMUM;
use super::state::{Context, State};
use super::will::will_packet;

/// The longest token (CONNECT password) a connection accepts: it waits in connection
/// metadata (`mqtt-token`) for the life of the connection. Longer: CONNACK "bad user name
/// or password" (v5 0x86, 3.1.1 0x04).
pub const MAX_TOKEN_BYTES: usize = 8_192;

/// Refuses a CONNECT that cannot be decoded (its first bytes are in `state.in_flight`),
/// in the form its protocol level reads, and closes.
pub(super) fn connack_failure(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    e: &mqtt::DecodeError,
) {
    if connect_level(&state.in_flight) == Some(5) {
        if let Ok(code) = ConnectReasonCode::try_from(e.reason_code()) {
            state.session.version = Some(ProtocolVersion::V5);
            connack_refusal(state, fx, code, e.to_string());
        }
    } else if let Some(code) = e.connack_return_code_v311() {
        // 3.1.1 CONNACK: type 2, length 2, no session present, the return code.
        fx.push(Effect::SendRaw(vec![0x20, 0x02, 0x00, code]));
    }
    close(state, ctx, fx, 1002);
}

/// Answers a CONNECT: a CONNACK that starts the session, or one that refuses it when
/// the token does not verify or the Will is not acceptable.
pub(super) fn connect(state: &mut State, ctx: &Context, fx: &mut Effects, c: Connect) {
    state.session.version = Some(c.protocol);
    let token = c
        .password
        .as_deref()
        .and_then(|p| std::str::from_utf8(p).ok())
        .unwrap_or("");
    let principal = match verify_token(ctx, token) {
        Ok(p) => p,
        Err((code, text)) => return refuse_connect(state, ctx, fx, code, text),
    };
    let will = c
        .will
        .as_ref()
        .map(|w| will_packet(w, &principal, ctx.config));
    let will = match will.transpose() {
        Ok(will) => will,
        Err((code, text)) => return refuse_connect(state, ctx, fx, code, text),
    };
    let (ack, keep_alive) = accepted(ctx, &c);
    let owner = (!c.client_id.is_empty()).then(|| takeover::identity(&principal));
    if let Some(owner) = &owner {
        // [MQTT-3.1.4-3]: the older connection of this client id ends, before this one
        // listens on the client id's channel.
        let bodies = takeover::takeover_requests(owner, &c.client_id, ctx.connection_id);
        fx.push(Effect::TakeOver(bodies));
    }
    let packet = Packet::ConnAck(ack);
    fx.push(Effect::Send {
        packet,
        version: c.protocol,
    });
    let session = &mut state.session;
    if will.is_some() {
        session.will = will;
    }
    session.token = Some(token.to_owned());
    session.exp = principal.exp;
    session.keep_alive = keep_alive;
    let channel = Audience::mqtt(c.protocol, false).key_channel(&principal.kid);
    fx.push(Effect::Listen {
        channel,
        skip_self: false,
    });
    if let Some(owner) = &owner {
        let channel = takeover::channel(c.protocol, owner, &c.client_id);
        fx.push(Effect::Listen {
            channel,
            skip_self: true,
        });
    }
    state.principal = Some(Ok(principal));
    // No Local: Pushpin's `skip-self` filter compares a publish's `sender` with the
    // subscription's `user` metadata, which its handler only learns from a set-meta
    // control message (Set-Meta-* headers reach the proxy only).
    fx.push(Effect::IdentifyAs(ctx.connection_id.to_owned()));
}

/// The CONNACK of an accepted CONNECT, and the keep alive the session keeps (MQTT 5 is
/// told it in Server Keep Alive when it differs from the client's or the server sets one).
fn accepted(ctx: &Context, c: &Connect) -> (ConnAck, u16) {
    let mut ack = connack(ctx, c.client_id.is_empty());
    let keep_alive = honoured_keep_alive(c.protocol, c.keep_alive, ctx.config);
    let server_set = ctx.config.mqtt_server_keep_alive > 0;
    if c.protocol == ProtocolVersion::V5 && (server_set || keep_alive != c.keep_alive) {
        ack.properties.server_keep_alive = Some(keep_alive);
    }
    (ack, keep_alive)
}

/// The principal of the CONNECT password, or the CONNACK refusal.
fn verify_token(ctx: &Context, token: &str) -> Result<Principal, (ConnectReasonCode, String)> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err((
            ConnectReasonCode::BadUserNameOrPassword,
            format!(
                "the token is {} bytes; a connection carries at most {MAX_TOKEN_BYTES}",
                token.len()
            ),
        ));
    }
    let verified = if token.is_empty() {
        Err(Error::MissingCredentials)
    } else {
        ctx.ports.verify(token)
    };
    verified.map_err(|e| {
        let code = match e {
            Error::StoreUnavailable(_) => ConnectReasonCode::ServerUnavailable,
            _ => ConnectReasonCode::NotAuthorized,
        };
        (code, e.to_string())
    })
}

/// The keep alive the broker holds a client asking for `client` seconds to: MQTT 5's
/// `mqtt-server-keep-alive` when set, else the client's; but never less than
/// `mqtt-limits`' `min-keep-alive` unless it is 0 (no keep alive). An MQTT 5 CONNACK
/// announces it (Server Keep Alive) when it is not the client's; a 3.1.1 client is not
/// told, and the broker's own deadlines follow it.
pub(super) fn honoured_keep_alive(
    protocol: ProtocolVersion,
    client: u16,
    config: &pubsub_core::Config,
) -> u16 {
    let asked = match (protocol, config.mqtt_server_keep_alive) {
        (ProtocolVersion::V5, secs) if secs > 0 => secs,
        _ => client,
    };
    match asked {
        0 => 0,
        secs => secs.max(config.mqtt_limits.min_keep_alive),
    }
}

/// The CONNACK of an accepted CONNECT: what the broker supports, and a client
/// identifier when the client sent none.
fn connack(ctx: &Context, assign_client_id: bool) -> ConnAck {
    let mut ack = ConnAck::new(ConnectReasonCode::Success);
    if assign_client_id {
        if let Some(random) = ctx.ports.random() {
            let id: String = random.iter().map(|b| format!("{b:02x}")).collect();
            ack.properties.assigned_client_identifier = Some(format!("auto-{id}"));
        }
    }
    let p = &mut ack.properties;
    p.receive_maximum = NonZeroU16::new(RECEIVE_MAXIMUM);
    p.retain_available = Some(true);
    p.maximum_packet_size =
        NonZeroU32::new(u32::try_from(ctx.max_packet_bytes()).unwrap_or(u32::MAX));
    p.topic_alias_maximum = Some(0);
    // Absent means available [MQTT-3.2.2.3.14]; said only when turned off.
    p.wildcard_subscription_available = (ctx.config.wildcard_max_levels == 0).then_some(false);
    p.shared_subscription_available = Some(false);
    p.subscription_identifiers_available = Some(false);
    ack
}

/// Refuses a decoded CONNECT with `code` and closes the connection.
fn refuse_connect(
    state: &mut State,
    ctx: &Context,
    fx: &mut Effects,
    code: ConnectReasonCode,
    text: String,
) {
    connack_refusal(state, fx, code, text);
    close(state, ctx, fx, 1008);
}

/// Sends a refusing CONNACK in the connection's protocol version; the connection is
/// left without a session.
fn connack_refusal(state: &mut State, fx: &mut Effects, code: ConnectReasonCode, text: String) {
    let mut ack = ConnAck::new(code);
    ack.properties.reason_string = Some(text);
    fx.push(Effect::Send {
        packet: Packet::ConnAck(ack),
        version: state.version(),
    });
    state.session.version = None;
}

/// The protocol level byte of a CONNECT packet, if it can be read.
fn connect_level(bytes: &[u8]) -> Option<u8> {
    // Fixed header: type byte and a Variable Byte Integer of up to 4 bytes.
    let vbi = bytes.get(1..)?.iter().position(|b| b & 0x80 == 0)? + 1;
    // Protocol name: 2-byte length (4) and "MQTT", then the level.
    bytes.get(1 + vbi + 6).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_level_is_read_from_a_connect_prefix() {
        assert_eq!(
            connect_level(&[0x10, 0x10, 0, 4, b'M', b'Q', b'T', b'T', 5]),
            Some(5)
        );
        assert_eq!(
            connect_level(&[0x10, 0x80, 0x01, 0, 4, b'M', b'Q', b'T', b'T', 4]),
            Some(4)
        );
        assert_eq!(connect_level(&[0x10]), None);
    }
}
