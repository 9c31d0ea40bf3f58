//! The effect executor: runs the protocol core's effects in order against the platform
//! and the answer body, feeding the outcome of a publish or a retained delivery back to
//! the core (whose further effects run at once, before the next effect).

use pubsub_codec::wsevents;
use pubsub_core::ports::Platform;

use super::forward::forward;
use super::retained::{Delivery, Target};
use super::wire;
use crate::mqtt::protocol::{self, Context, Effect, Effects, State};

/// The answer of one request as it is written.
pub(super) struct Answer<'a> {
    pub(super) platform: &'a Platform,
    /// The response body: WebSocket-over-HTTP events.
    pub(super) out: Vec<u8>,
    pub(super) delivery: Delivery,
}

impl<'a> Answer<'a> {
    pub(super) fn new(platform: &'a Platform) -> Self {
        Self {
            platform,
            out: Vec::new(),
            delivery: Delivery::default(),
        }
    }

    /// Executes `fx` in order.
    pub(super) fn run(&mut self, state: &mut State, ctx: &Context, fx: Effects) {
        for effect in fx {
            self.execute(state, ctx, effect);
        }
    }

    fn execute(&mut self, state: &mut State, ctx: &Context, effect: Effect) {
        let out = &mut self.out;
        match effect {
            Effect::Send { packet, version } => wire::packet(out, &packet, version),
            Effect::SendRaw(bytes) => wire::raw(out, &bytes),
            Effect::Listen { channel, skip_self } => {
                wire::listen(out, "subscribe", &channel, skip_self);
            }
            Effect::Unlisten(channel) => wire::listen(out, "unsubscribe", &channel, false),
            Effect::IdentifyAs(user) => wire::identify_as(out, &user),
            Effect::Close(code) => wsevents::write_close(out, code),
            Effect::Publish { publication, ack } => {
                let outcome = forward(self.platform, ctx.config, &publication);
                let fx = protocol::on_published(state, ctx, ack, outcome);
                self.run(state, ctx, fx);
            }
            Effect::DeliverRetained { topic, after, then } => {
                let mut to = target(self.platform, &mut self.out, state, ctx);
                let delivered = self.delivery.send(&mut to, &topic, after);
                protocol::on_retained(state, &topic, then, delivered);
            }
            Effect::DeliverFilterRetained(filter) => {
                let mut to = target(self.platform, &mut self.out, state, ctx);
                self.delivery.send_filter(&mut to, ctx.config, &filter);
            }
        }
    }
}

/// Where a retained delivery reads (the KV store) and writes (the answer).
fn target<'t>(
    platform: &'t Platform,
    out: &'t mut Vec<u8>,
    state: &State,
    ctx: &Context,
) -> Target<'t> {
    Target {
        kv: &*platform.kv,
        now: ctx.now,
        version: state.version(),
        out,
    }
}
