//! How a connection stays alive and how it ends: the CONNECT deadline, the token's expiry
//! and the MQTT keep alive, checked on every request; the client's DISCONNECT; closing the
//! WebSocket.
//!
//! Fanout calls the app when the client sends something, and otherwise after the
//! `Keep-Alive-Interval` of the last answer ([`Connection::callback_interval`]): the
//! moment the next deadline passes (CONNECT deadline, keep alive timeout, or token
//! expiry plus leeway), at least [`MIN_CALLBACK_SECS`] (Fanout's floor) and at most
//! [`MAX_CALLBACK_SECS`] away. So an idle, healthy connection costs its client's
//! PINGREQs and nothing more; a dead one is closed within one callback of its deadline.
//! An answer that held a retained message back (see `retained.rs`) asks for the next call
//! in [`MIN_CALLBACK_SECS`].
//!
//! The CONNECT deadline is the Config Store's `mqtt-connect-deadline` (default 30 s).
//! Fanout never calls back sooner than 20 s, so a client that sends nothing at all is
//! closed after 20 s even with a shorter deadline; one that sends part of a CONNECT is
//! closed at its first request after the deadline.

use pubsub_codec::mqtt::{Disconnect, DisconnectReasonCode, Packet, ProtocolVersion};
use pubsub_codec::wsevents;
use pubsub_core::principal::{Principal, LEEWAY_SECS};

use super::connection::Connection;

/// Fanout's shortest `Keep-Alive-Interval` (Pushpin raises anything shorter to 20 s).
pub const MIN_CALLBACK_SECS: u64 = 20;

/// The longest `Keep-Alive-Interval` the app asks for, when no deadline is nearer.
pub const MAX_CALLBACK_SECS: u64 = 3_600;

impl Connection<'_> {
    /// Before any packet: the CONNECT deadline, the token's expiry and the keep alive.
    pub(crate) fn check_liveness(&mut self) {
        if self.closed {
            return;
        }
        if self.session.version.is_none() {
            let opened = self.session.seen;
            if opened > 0 && self.now.saturating_sub(opened) >= self.connect_deadline() {
                self.close(1008);
            }
            return;
        }
        if self.token_expired() {
            self.disconnect(DisconnectReasonCode::NotAuthorized, "the token has expired");
            return;
        }
        if keep_alive_expired(self.session.seen, self.now, self.session.keep_alive) {
            self.disconnect(DisconnectReasonCode::KeepAliveTimeout, "keep alive timeout");
        }
    }

    /// Seconds until Fanout should call the app although the client is silent: when the
    /// next deadline passes. `None` once the connection is closed.
    pub(crate) fn callback_interval(&self) -> Option<u64> {
        if self.closed {
            return None;
        }
        if self.retained.deferred {
            return Some(MIN_CALLBACK_SECS);
        }
        let seen = self.session.seen;
        let due = match self.session.version {
            None => (seen > 0).then(|| seen.saturating_add(self.connect_deadline())),
            Some(_) => {
                let ka = u64::from(self.session.keep_alive);
                let keep_alive = (ka > 0 && seen > 0).then(|| seen + 1 + (3 * ka).div_ceil(2));
                let expiry = self
                    .session
                    .exp
                    .map(|exp| exp.saturating_add(LEEWAY_SECS + 1));
                keep_alive.into_iter().chain(expiry).min()
            }
        };
        let secs = due.map_or(MAX_CALLBACK_SECS, |due| due.saturating_sub(self.now));
        Some(secs.clamp(MIN_CALLBACK_SECS, MAX_CALLBACK_SECS))
    }

    /// Seconds a WebSocket may stay open without a CONNECT.
    fn connect_deadline(&self) -> u64 {
        u64::from(self.config.mqtt_connect_deadline)
    }

    /// Whether the token the session was opened with has passed its `exp`.
    pub(super) fn token_expired(&self) -> bool {
        Principal {
            exp: self.session.exp,
            ..Principal::default()
        }
        .expired_at(self.now)
    }

    /// The client's DISCONNECT: the Will stays only when the client asked for it, the
    /// subscriptions end, and the WebSocket closes normally.
    pub(super) fn client_disconnect(&mut self, d: &Disconnect) {
        if d.reason_code != DisconnectReasonCode::DisconnectWithWillMessage {
            self.discard_will();
        }
        self.unsubscribe_all();
        self.close(1000);
    }

    /// Ends the session: an MQTT 5 DISCONNECT with `reason` (3.1.1 has none), then close.
    pub(super) fn disconnect(&mut self, reason: DisconnectReasonCode, text: &str) {
        if self.session.version == Some(ProtocolVersion::V5) {
            let mut packet = Disconnect::new(reason);
            packet.properties.reason_string = Some(text.to_owned());
            self.send(&Packet::Disconnect(packet));
        }
        self.close(if reason == DisconnectReasonCode::NormalDisconnection {
            1000
        } else {
            1008
        });
    }

    /// Ends the WebSocket with `code`.
    pub(crate) fn close(&mut self, code: u16) {
        if !self.closed {
            wsevents::write_close(&mut self.out, code);
            self.closed = true;
            self.publish_will();
        }
    }

    /// Marks the connection closed without writing anything (the peer closed it).
    pub(crate) fn close_quietly(&mut self) {
        if !self.closed {
            self.closed = true;
            self.publish_will();
        }
    }
}

/// [MQTT-3.1.2-24]: whether the client has sent no packet for more than one and a half
/// keep alive periods (`keep_alive` seconds, 0 = off) since `seen`. Both times are whole
/// seconds, so the real gap is more than `now - seen - 1` but may be almost a second less
/// than `now - seen`: the client is only timed out when even that shortest gap is too long,
/// never early (a client that pings every `keep_alive` seconds must not be cut off by
/// rounding).
fn keep_alive_expired(seen: u64, now: u64, keep_alive: u16) -> bool {
    let ka = u64::from(keep_alive);
    let gap_above = now.saturating_sub(seen).saturating_sub(1);
    ka > 0 && seen > 0 && gap_above * 2 >= ka * 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_times_out_after_one_and_a_half_periods_never_early() {
        // Keep alive 1 s: a PINGREQ 1.05 s after the CONNECT can read as 2 s (10.98 -> 12.03).
        assert!(!keep_alive_expired(10, 12, 1));
        // 3 s on the clock is more than 2 s for real: over 1.5 s.
        assert!(keep_alive_expired(10, 13, 1));
        // 60 s: 90 s on the clock may be 89.01 s for real; 91 s is more than 90 s.
        assert!(!keep_alive_expired(100, 190, 60));
        assert!(keep_alive_expired(100, 191, 60));
        // Off, or no packet seen yet.
        assert!(!keep_alive_expired(10, 10_000, 0));
        assert!(!keep_alive_expired(0, 10_000, 1));
    }
}
