//! App invocations per publish: the requests Pushpin made to the app (the counting relay,
//! `StackOptions::count_app_requests`) while the soak published, sorted into MQTT
//! keep-alives (a WebSocket-over-HTTP request carrying only a PINGREQ) and the rest. A
//! publish through the app over HTTP is one more request, sent to Viceroy directly (not
//! through Pushpin, so not in the relay's log); a raw publish goes to Pushpin only.

use std::time::Instant;

use pubsub_devstack::AppRequest;

/// What Pushpin asked of the app in a window.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Invocations {
    /// Every request in the window.
    pub(crate) total: usize,
    /// Requests whose body is one WebSocket-over-HTTP PINGREQ (a client's keep-alive).
    pub(crate) pings: usize,
    /// WebSocket-over-HTTP requests that are not keep-alives (e.g. a PUBLISH).
    pub(crate) websocket: usize,
    /// Requests following an SSE stream's `Grip-Link`.
    pub(crate) links: usize,
}

/// A WebSocket-over-HTTP body of one binary frame `C0 00` (MQTT PINGREQ).
const PING_EVENT: &[u8] = b"BINARY 2\r\n\xc0\x00\r\n";

/// Sorts the requests whose head completed in `from..=to`.
pub(crate) fn count(requests: &[AppRequest], from: Instant, to: Instant) -> Invocations {
    let mut inv = Invocations::default();
    for r in requests.iter().filter(|r| r.at >= from && r.at <= to) {
        inv.total += 1;
        if r.connection_id.is_some() {
            if r.body == PING_EVENT {
                inv.pings += 1;
            } else {
                inv.websocket += 1;
            }
        } else if r.grip_last.is_some() || r.target.starts_with("/events/link/") {
            inv.links += 1;
        }
    }
    inv
}

/// The requests of the window as CSV: ms since `from`, method, target (without its
/// query), WebSocket-over-HTTP connection or not, body size, the body's first 24 bytes
/// in hex (what the WebSocket events carry).
pub(crate) fn csv(requests: &[AppRequest], from: Instant, to: Instant) -> String {
    let mut out = String::from("ms,method,path,websocket,body_len,body_hex\n");
    for r in requests.iter().filter(|r| r.at >= from && r.at <= to) {
        let path = r.target.split('?').next().unwrap_or("");
        let hex: String = r.body.iter().take(24).map(|b| format!("{b:02x}")).collect();
        out.push_str(&format!(
            "{},{},{path},{},{},{hex}\n",
            r.at.duration_since(from).as_millis(),
            r.method,
            r.connection_id.is_some(),
            r.body_len
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(connection_id: Option<&str>, target: &str, body: &[u8]) -> AppRequest {
        AppRequest {
            at: Instant::now(),
            tcp_connection: 1,
            method: "POST".into(),
            target: target.into(),
            connection_id: connection_id.map(str::to_string),
            grip_last: None,
            grip_sig: None,
            content_type: None,
            body_len: body.len() as u64,
            body: body.to_vec(),
        }
    }

    #[test]
    fn pings_links_and_other_websocket_requests_are_told_apart() {
        let from = Instant::now();
        let reqs = [
            request(Some("c1"), "/mqtt", PING_EVENT),
            request(Some("c2"), "/mqtt", b"BINARY 12\r\n0123456789ab\r\n"),
            request(None, "/events/link/g?topic=a", b""),
            request(None, "/events?topic=a", b""),
        ];
        let to = Instant::now();
        let inv = count(&reqs, from, to);
        let want = Invocations {
            total: 4,
            pings: 1,
            websocket: 1,
            links: 1,
        };
        assert_eq!(inv, want);
        assert_eq!(
            count(&reqs, to + std::time::Duration::from_secs(1), to).total,
            0
        );
    }
}
