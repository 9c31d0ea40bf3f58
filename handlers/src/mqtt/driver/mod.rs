//! The WebSocket-over-HTTP driver of the MQTT protocol core: the only part of `/mqtt`
//! that reaches the platform.
//!
//! One request: the session read from metadata becomes the core's `State`; the events
//! are folded in order ([`Batch`]); the MQTT bytes of all BINARY events (after the
//! partial packet carried in `mqtt-buf`) are cut into packets with `frame_len` and handed
//! to the core one by one, and each step's effects are executed at once
//! (`execute.rs`, with `forward.rs` for a publication and `retained.rs` for retained
//! messages, `ports.rs` for what the core may ask). What remains of an incomplete packet
//! is carried to the next request. The answer is the events written, the session to
//! write back, and the `Keep-Alive-Interval`.
//!
//! Packets before a CLOSE are handled before it (a DISCONNECT then a close is a normal
//! end, not a lost connection); events after the end event are ignored.

mod execute;
mod forward;
mod ports;
pub(super) mod retained;
mod wire;

use pubsub_codec::mqtt;
use pubsub_codec::wsevents::{self, Event};
use pubsub_core::mqtt_session::Session;
use pubsub_core::ports::Platform;
use pubsub_core::{Config, Error};

use super::protocol::liveness::{self, MIN_CALLBACK_SECS};
use super::protocol::{self, ending, retained as checks, Context, State};
use execute::Answer;
use ports::PlatformPorts;

/// What one request's events came to.
pub(super) struct Outcome {
    /// The session to write back.
    pub(super) session: Session,
    /// The response body: WebSocket-over-HTTP events.
    pub(super) body: Vec<u8>,
    /// Whether this request opened the WebSocket.
    pub(super) opened: bool,
    /// When Fanout should call again if the client stays silent; `None` once closed.
    pub(super) interval: Option<u64>,
}

/// Runs one request of connection `connection_id` on `session`.
pub(super) fn run(
    platform: &Platform,
    config: &Config,
    connection_id: &str,
    session: Session,
    events: &[Event],
    offers_mqtt: bool,
) -> Result<Outcome, Error> {
    let now = platform.env.now();
    let ports = PlatformPorts {
        platform,
        config,
        now,
        connection_id,
    };
    let ctx = Context {
        now,
        config,
        connection_id,
        ports: &ports,
    };
    let batch = Batch::new(platform, session, offers_mqtt);
    let batch = events
        .iter()
        .try_fold(batch, |batch, event| batch.event(event, &ctx))?;
    Ok(batch.finish(&ctx))
}

/// How the events of a request end the connection, if one does.
#[derive(Clone, Copy)]
enum End {
    /// A text message: not MQTT.
    Text,
    /// The client closed the WebSocket, with this status code if it gave one.
    Close(Option<u16>),
    /// The connection was lost.
    Disconnect,
}

/// One request's events folded in order.
struct Batch<'a> {
    state: State,
    answer: Answer<'a>,
    /// Whether the handshake offered the `mqtt` subprotocol.
    offers_mqtt: bool,
    /// Whether this request opened the WebSocket.
    opened: bool,
    /// The carried partial packet, then every BINARY event's bytes.
    incoming: Vec<u8>,
    /// Whether the session carried a partial packet into this request.
    had_buffer: bool,
    end: Option<End>,
}

impl<'a> Batch<'a> {
    fn new(platform: &'a Platform, mut session: Session, offers_mqtt: bool) -> Self {
        let incoming = std::mem::take(&mut session.buffer);
        Self {
            state: State::new(session),
            answer: Answer::new(platform),
            offers_mqtt,
            opened: false,
            had_buffer: !incoming.is_empty(),
            incoming,
            end: None,
        }
    }

    /// Takes in one event; OPEN without the `mqtt` subprotocol fails the request.
    fn event(mut self, event: &Event, ctx: &Context) -> Result<Self, Error> {
        if self.end.is_some() {
            return Ok(self);
        }
        let out = &mut self.answer.out;
        match event {
            Event::Open => {
                if !self.offers_mqtt {
                    return Err(Error::BadRequest(
                        "the WebSocket must offer the `mqtt` subprotocol".into(),
                    ));
                }
                self.opened = true;
                liveness::opened(&mut self.state, ctx);
                wsevents::write_open(out);
            }
            Event::Binary(bytes) => self.incoming.extend_from_slice(bytes),
            Event::Ping(data) => wsevents::write_pong(out, data),
            Event::Pong(_) => {}
            Event::Text(_) => self.end = Some(End::Text),
            Event::Close(code, _) => self.end = Some(End::Close(*code)),
            Event::Disconnect => self.end = Some(End::Disconnect),
        }
        Ok(self)
    }

    /// Handles the liveness checks, the gathered packets and the end event.
    fn finish(mut self, ctx: &Context) -> Outcome {
        let fx = liveness::check(&mut self.state, ctx);
        self.answer.run(&mut self.state, ctx, fx);
        if !self.opened {
            let fx = checks::recheck(&mut self.state, ctx);
            self.answer.run(&mut self.state, ctx, fx);
        }
        let incoming = std::mem::take(&mut self.incoming);
        self.receive(&incoming, ctx);
        let state = &mut self.state;
        let fx = match self.end {
            // [MQTT-6.0.0-1]: MQTT travels in binary data frames only.
            Some(End::Text) => ending::broker_closed(state, ctx, 1003),
            Some(End::Close(code)) => ending::client_closed(state, ctx, code),
            Some(End::Disconnect) => ending::connection_lost(state, ctx),
            None => Vec::new(),
        };
        self.answer.run(state, ctx, fx);
        self.answer.flush(state, ctx);
        let interval = liveness::callback_interval(state, ctx).map(|secs| {
            if self.answer.delivery.deferred {
                MIN_CALLBACK_SECS
            } else {
                secs
            }
        });
        Outcome {
            session: self.state.session,
            body: self.answer.out,
            opened: self.opened,
            interval,
        }
    }

    /// Hands every complete packet of `data` to the core; carries the rest.
    fn receive(&mut self, data: &[u8], ctx: &Context) {
        let max = u32::try_from(ctx.max_packet_bytes()).unwrap_or(u32::MAX);
        let state = &mut self.state;
        let mut pos = 0;
        while !state.closed && pos < data.len() {
            let fx = match mqtt::frame_len(&data[pos..], max) {
                Ok(Some(len)) => {
                    let fx = protocol::handle(state, &data[pos..pos + len], ctx);
                    pos += len;
                    fx
                }
                Ok(None) => break,
                Err(e) => {
                    let fx = protocol::refuse(state, &data[pos..], &e, ctx);
                    self.answer.run(state, ctx, fx);
                    break;
                }
            };
            self.answer.run(state, ctx, fx);
        }
        liveness::seen(state, ctx, pos > 0);
        let rest = if state.closed { &[][..] } else { &data[pos..] };
        if self.had_buffer || !rest.is_empty() {
            state.session.buffer = rest.to_vec();
        }
    }
}
