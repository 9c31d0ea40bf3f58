//! The effect executor: runs the protocol core's effects in order against the platform
//! and the answer body, feeding the outcome of a publish or a retained delivery back to
//! the core (whose further effects run at once, before the next effect).
//!
//! Publications are not sent one by one: each `Effect::Publish` is queued in the
//! request's `Outbox` (a retained one stored at once), and the queue is sent, in as few
//! publish API calls as its items fit in, before any other effect runs, when it fills a
//! request, and at the end of the request ([`Answer::flush`]). So the order of what the
//! client sees is unchanged (every acknowledgement comes after its message's call, and
//! before anything that followed the message), and a run of PUBLISH packets costs one
//! call per megabyte of items instead of one call each. When an outcome closes the
//! connection (MQTT 3.1.1 has no negative acknowledgement), the later outcomes of the
//! same send are not answered.

use pubsub_codec::wsevents;
use pubsub_core::ports::Platform;
use pubsub_core::publish::Outbox;

use super::forward;
use super::retained::{Delivery, Target};
use super::wire;
use crate::mqtt::protocol::effects::Ack;
use crate::mqtt::protocol::{self, Context, Effect, Effects, State};

/// The answer of one request as it is written.
pub(super) struct Answer<'a> {
    pub(super) platform: &'a Platform,
    /// The response body: WebSocket-over-HTTP events.
    pub(super) out: Vec<u8>,
    pub(super) delivery: Delivery,
    /// The publications queued and not sent yet, with what to answer for each.
    outbox: Outbox,
    acks: Vec<Ack>,
}

impl<'a> Answer<'a> {
    pub(super) fn new(platform: &'a Platform) -> Self {
        Self {
            platform,
            out: Vec::new(),
            delivery: Delivery::default(),
            outbox: Outbox::new(),
            acks: Vec::new(),
        }
    }

    /// Executes `fx` in order.
    pub(super) fn run(&mut self, state: &mut State, ctx: &Context, fx: Effects) {
        for effect in fx {
            self.execute(state, ctx, effect);
        }
    }

    /// Sends the queued publications and feeds each outcome back to the core, in order.
    pub(super) fn flush(&mut self, state: &mut State, ctx: &Context) {
        if self.outbox.is_empty() {
            return;
        }
        let outbox = self.outbox.take();
        let acks = std::mem::take(&mut self.acks);
        let outcomes = outbox.send(&*self.platform.publisher, ctx.config);
        let open = !state.closed;
        for (ack, sent) in acks.into_iter().zip(outcomes) {
            if open && state.closed {
                break;
            }
            let fx = protocol::on_published(state, ctx, ack, forward::outcome(sent));
            self.run(state, ctx, fx);
        }
    }

    fn execute(&mut self, state: &mut State, ctx: &Context, effect: Effect) {
        if let Effect::Publish { publication, ack } = effect {
            forward::queue(&mut self.outbox, self.platform, ctx.config, &publication);
            self.acks.push(ack);
            if self.outbox.full() {
                self.flush(state, ctx);
            }
            return;
        }
        self.flush(state, ctx);
        let out = &mut self.out;
        match effect {
            Effect::Send { packet, version } => wire::packet(out, &packet, version),
            Effect::SendRaw(bytes) => wire::raw(out, &bytes),
            Effect::Listen { channel, skip_self } => {
                wire::listen(out, "subscribe", &channel, skip_self);
            }
            Effect::Unlisten(channel) => wire::listen(out, "unsubscribe", &channel, false),
            Effect::IdentifyAs(user) => wire::identify_as(out, &user),
            Effect::TakeOver(bodies) => {
                for body in bodies {
                    // Best effort: the new connection is accepted whatever the publish
                    // API answers (an older one then ends at its own next deadline).
                    let _ = self.platform.publisher.publish(ctx.config, body);
                }
            }
            Effect::Close(code) => wsevents::write_close(out, code),
            // Queued above.
            Effect::Publish { .. } => {}
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
