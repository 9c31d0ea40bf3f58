//! The [`RateLimiter`] port on Fastly's Edge Rate Limiting (`fastly::erl`): one rate
//! counter and one penalty box for the whole app; entries name the class and the caller
//! (see `pubsub_core::rate_limit`).
//!
//! On Fastly, Edge Rate Limiting must be enabled for the account; counts are per POP and
//! may run about 10 % low, and a penalty is rounded up to whole minutes. Viceroy 0.22
//! answers every one of these host calls with success and zero: nothing is ever over a
//! limit or in the penalty box locally (README, "Rate limits").

use std::time::Duration;

use fastly::erl::{Penaltybox, RateCounter, RateWindow, ERL};

use pubsub_core::config::Window;
use pubsub_core::ports::RateLimiter;

/// The rate counter's name.
const RATE_COUNTER: &str = "edge_pubsub_rate";
/// The penalty box's name.
const PENALTY_BOX: &str = "edge_pubsub_penalty";

pub(super) struct FastlyRateLimiter;

impl RateLimiter for FastlyRateLimiter {
    fn penalised(&self, entry: &str) -> Result<bool, String> {
        Penaltybox::open(PENALTY_BOX)
            .has(entry)
            .map_err(|e| format!("penalty box: {e}"))
    }

    fn check_rate(
        &self,
        entry: &str,
        window: Window,
        per_second: u32,
        penalty_minutes: u32,
    ) -> Result<bool, String> {
        let window = match window {
            Window::OneSecond => RateWindow::OneSec,
            Window::TenSeconds => RateWindow::TenSecs,
            Window::SixtySeconds => RateWindow::SixtySecs,
        };
        let penalty = Duration::from_secs(u64::from(penalty_minutes) * 60);
        ERL::open(
            RateCounter::open(RATE_COUNTER),
            Penaltybox::open(PENALTY_BOX),
        )
        .check_rate(entry, 1, window, per_second, penalty)
        .map_err(|e| format!("rate counter: {e}"))
    }
}
