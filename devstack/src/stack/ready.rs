//! Waiting until a started stack answers through the whole chain (the stages in the
//! module documentation of [`super`]).

use std::io;
use std::time::{Duration, Instant};

use super::logs::PUSHPIN_LOGS;
use super::Stack;
use crate::net;

/// What [`Stack::wait_ready`] is waiting for, in order.
#[derive(Debug, Clone, Copy)]
enum Stage {
    PushpinPorts,
    ViceroyPort,
    PushpinToApp,
    Chain,
    Accept,
}

impl Stage {
    /// The stage after this one; `None` after the last.
    fn next(self) -> Option<Self> {
        match self {
            Stage::PushpinPorts => Some(Stage::ViceroyPort),
            Stage::ViceroyPort => Some(Stage::PushpinToApp),
            Stage::PushpinToApp => Some(Stage::Chain),
            Stage::Chain => Some(Stage::Accept),
            Stage::Accept => None,
        }
    }
}

/// The start-up bound: 30 s, or `PUBSUB_STACK_TIMEOUT_SECS`.
pub(super) fn ready_timeout() -> Duration {
    std::env::var("PUBSUB_STACK_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(30))
}

impl Stack {
    /// Polls every 100 ms until every stage has passed, failing as soon as Viceroy or
    /// Pushpin exits, or when `timeout` runs out.
    pub(super) fn wait_ready(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut stage = Stage::PushpinPorts;
        let mut last_answer = String::new();
        loop {
            self.check_running()
                .map_err(|e| io::Error::other(format!("stack failed to start: {e}")))?;
            if !self.applies(stage) || self.passes(stage, &mut last_answer) {
                last_answer.clear();
                match stage.next() {
                    Some(next) => stage = next,
                    None => return Ok(()),
                }
                continue;
            }
            if Instant::now() >= deadline {
                return Err(self.timeout_error(stage, timeout, &last_answer));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Whether `stage` concerns only services that run (one that is stopped, see
    /// `faults.rs`, skips the stages that need it).
    fn applies(&self, stage: Stage) -> bool {
        let (pushpin, viceroy) = (self.pushpin.is_some(), self.viceroy.is_some());
        match stage {
            Stage::PushpinPorts => pushpin,
            Stage::ViceroyPort => viceroy,
            Stage::PushpinToApp | Stage::Chain | Stage::Accept => pushpin && viceroy,
        }
    }

    /// Whether `stage` passes now; a failed probe leaves its answer in `last_answer`.
    fn passes(&self, stage: Stage, last_answer: &mut String) -> bool {
        match stage {
            Stage::PushpinPorts => {
                net::tcp_open(self.proxy_port) && net::tcp_open(self.publish_port)
            }
            Stage::ViceroyPort => net::tcp_open(self.app_port),
            Stage::PushpinToApp => self.probe(
                self.proxy_port,
                "/",
                &[("pushpin-route", "self")],
                last_answer,
                is_ready_answer,
            ),
            Stage::Chain => self.probe(
                self.app_port,
                "/events?topic=devstack-ready",
                &[],
                last_answer,
                is_ready_answer,
            ),
            Stage::Accept => {
                let token = crate::dev_token(&["devstack-ready"], &[]);
                let path = format!("/events?topic=devstack-ready&auth={token}");
                self.probe(self.app_port, &path, &[], last_answer, is_held_answer)
            }
        }
    }

    /// The error for a start-up that timed out in `stage`, with the logs that matter.
    fn timeout_error(&self, stage: Stage, timeout: Duration, last_answer: &str) -> io::Error {
        let (what, logs) = self.waiting_for(stage);
        let answer = if last_answer.is_empty() {
            String::new()
        } else {
            format!(" (last answer: {last_answer})")
        };
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "stack did not become ready within {timeout:?}: timed out waiting for \
                 {what}{answer}; run dir {}\n{}",
                self.run_dir.display(),
                self.log_tails(&logs, 30)
            ),
        )
    }

    /// What `stage` waits for, in words, and the logs that explain a failure.
    fn waiting_for(&self, stage: Stage) -> (String, Vec<&'static str>) {
        match stage {
            Stage::PushpinPorts => (
                format!(
                    "Pushpin to listen on 127.0.0.1:{} (proxy) and 127.0.0.1:{} (publish)",
                    self.proxy_port, self.publish_port
                ),
                PUSHPIN_LOGS.to_vec(),
            ),
            Stage::ViceroyPort => (
                format!("Viceroy to listen on 127.0.0.1:{}", self.app_port),
                vec!["viceroy.log"],
            ),
            Stage::PushpinToApp => (
                format!(
                    "Pushpin (127.0.0.1:{}) to reach the app through route `self` \
                     (127.0.0.1:{})",
                    self.proxy_port, self.app_port
                ),
                vec!["log/pushpin-proxy.log", "log/zurl.log", "viceroy.log"],
            ),
            Stage::Chain => (
                format!(
                    "a request through Viceroy (127.0.0.1:{}) with Fanout handoff to \
                     Pushpin (127.0.0.1:{})",
                    self.app_port, self.proxy_port
                ),
                vec!["viceroy.log", "log/pushpin-proxy.log"],
            ),
            Stage::Accept => (
                "Pushpin's handler to take over a stream the app holds".to_string(),
                vec!["log/pushpin-proxy.log", "log/pushpin-handler.log"],
            ),
        }
    }

    /// One readiness probe, passed when `ready` accepts the answer.
    fn probe(
        &self,
        port: u16,
        path: &str,
        headers: &[(&str, &str)],
        last: &mut String,
        ready: fn(&net::Answer) -> bool,
    ) -> bool {
        match net::http_get(port, path, headers) {
            Ok(answer) if ready(&answer) => true,
            Ok(answer) => {
                *last = format!("HTTP {} {}", answer.status, answer.error_body);
                false
            }
            Err(e) => {
                *last = e.to_string();
                false
            }
        }
    }
}

/// Whether a probe's answer shows that the chain works: any answer counts except a
/// gateway error (502-504) and Viceroy's own 500 for a failed Fanout handoff ("Could not
/// connect to handoff target"), which means Pushpin is not reachable yet.
fn is_ready_answer(answer: &net::Answer) -> bool {
    let gateway_error = (502..=504).contains(&answer.status);
    !gateway_error && !is_handoff_error(answer)
}

/// Whether a subscribe's answer shows that Pushpin can hold streams: anything but its
/// 500 "Accept service unavailable" (its handler is not connected yet, which Pushpin's
/// ports do not show) or a failed handoff. The app's own refusals count (e.g. a 503 when
/// a stack runs without KV store `keys`): they need no handler.
fn is_held_answer(answer: &net::Answer) -> bool {
    let unavailable = answer.status == 500
        && answer
            .error_body
            .to_ascii_lowercase()
            .contains("accept service unavailable");
    !unavailable && !is_handoff_error(answer)
}

fn is_handoff_error(answer: &net::Answer) -> bool {
    answer.status == 500 && answer.error_body.to_ascii_lowercase().contains("handoff")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_ignores_app_answers_but_not_gateway_or_handoff_errors() {
        let answer = |status, body: &str| net::Answer {
            status,
            error_body: body.to_string(),
        };
        assert!(is_ready_answer(&answer(200, "")));
        assert!(is_ready_answer(&answer(401, "")));
        assert!(is_ready_answer(&answer(404, "")));
        assert!(is_ready_answer(&answer(500, "app bug")));
        assert!(!is_ready_answer(&answer(
            502,
            "Error while proxying to origin."
        )));
        assert!(!is_ready_answer(&answer(503, "")));
        assert!(!is_ready_answer(&answer(
            500,
            "Error: Could not connect to handoff target: Connection refused (os error 111)."
        )));
    }

    #[test]
    fn a_stream_is_held_unless_pushpin_has_no_handler_yet() {
        let answer = |status, body: &str| net::Answer {
            status,
            error_body: body.to_string(),
        };
        assert!(is_held_answer(&answer(200, "")));
        assert!(is_held_answer(&answer(503, "storage unavailable")));
        assert!(!is_held_answer(&answer(
            500,
            "Accept service unavailable.\n"
        )));
        assert!(!is_held_answer(&answer(
            500,
            "Error: Could not connect to handoff target: Connection refused (os error 111)."
        )));
    }
}
