//! Attributing the recorded app requests to the idle connections, and the table / CSV.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::Instant;

use pubsub_devstack::AppRequest;

/// The kinds of idle connection measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Sse,
    Durable,
    Mqtt5,
    Mqtt311,
}

impl Kind {
    pub(crate) const ALL: [Kind; 4] = [Kind::Sse, Kind::Durable, Kind::Mqtt5, Kind::Mqtt311];

    /// Part of the topic / client id of this kind's connections.
    pub(crate) fn slug(self) -> &'static str {
        match self {
            Kind::Sse => "sse",
            Kind::Durable => "durable",
            Kind::Mqtt5 => "mqtt5",
            Kind::Mqtt311 => "mqtt311",
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Sse => "SSE plain",
            Kind::Durable => "SSE durable",
            Kind::Mqtt5 => "MQTT 5 (MQTT.js)",
            Kind::Mqtt311 => "MQTT 3.1.1 (MQTT.js)",
        }
    }
}

/// One idle connection; `id` is its topic (and, for MQTT, its client id).
#[derive(Debug, Clone)]
pub(crate) struct Conn {
    pub(crate) kind: Kind,
    pub(crate) id: String,
    /// For SSE: when the server ended the stream, if it did.
    pub(crate) closed_at: Option<Instant>,
}

/// What was observed, for the report.
pub(crate) struct Observed<'a> {
    pub(crate) conns: &'a [Conn],
    pub(crate) requests: &'a [AppRequest],
    pub(crate) window: (Instant, Instant),
    pub(crate) node_lines: &'a [(Instant, String)],
}

/// One line of the table.
pub(crate) struct Row {
    pub(crate) kind: String,
    pub(crate) connections: String,
    pub(crate) requests: usize,
    pub(crate) per_hour: String,
    pub(crate) types: String,
    pub(crate) client: String,
}

/// For each request, the connection it belongs to: the one whose topic its target or
/// body names, else (WebSocket-over-HTTP) the one its `Connection-Id` was seen with.
pub(crate) fn attribute(conns: &[Conn], requests: &[AppRequest]) -> Vec<Option<usize>> {
    let named = |r: &AppRequest| {
        conns.iter().position(|c| {
            let id = c.id.as_bytes();
            r.target.contains(&c.id) || r.body.windows(id.len()).any(|w| w == id)
        })
    };
    let direct: Vec<Option<usize>> = requests.iter().map(named).collect();
    let mut by_cid: HashMap<&str, usize> = HashMap::new();
    for (r, conn) in requests.iter().zip(&direct) {
        if let (Some(cid), Some(conn)) = (r.connection_id.as_deref(), conn) {
            by_cid.insert(cid, *conn);
        }
    }
    requests
        .iter()
        .zip(direct)
        .map(|(r, d)| {
            d.or_else(|| {
                r.connection_id
                    .as_deref()
                    .and_then(|c| by_cid.get(c).copied())
            })
        })
        .collect()
}

/// A short description of a request: its WebSocket-over-HTTP event names, or method and
/// path (with `Grip-Last` when Pushpin followed a `Grip-Link`).
pub(crate) fn label(r: &AppRequest) -> String {
    let ws = r.connection_id.is_some()
        || r.content_type
            .as_deref()
            .is_some_and(|t| t.contains("websocket-events"));
    if ws {
        return if r.body_len == 0 {
            "WS no events".into()
        } else {
            format!("WS {}", ws_events(&r.body))
        };
    }
    let path = r.target.split('?').next().unwrap_or("");
    let link = if r.grip_last.is_some() {
        " (Grip-Last)"
    } else {
        ""
    };
    format!("{} {path}{link}", r.method)
}

/// The event names of a WebSocket-over-HTTP body (`NAME[ hexlen]\r\n[content\r\n]`...).
fn ws_events(body: &[u8]) -> String {
    let mut names = Vec::new();
    let mut rest = body;
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let line = String::from_utf8_lossy(&rest[..end]).into_owned();
        let (name, len) = line.split_once(' ').unwrap_or((&line, "0"));
        names.push(name.to_string());
        let len = usize::from_str_radix(len, 16).unwrap_or(0);
        let skip = end + 2 + if len > 0 { len + 2 } else { 0 };
        rest = rest.get(skip..).unwrap_or(&[]);
    }
    if !rest.is_empty() {
        names.push("…".into());
    }
    names.join("+")
}

/// The table's rows: one per kind, `unattributed` if any request is, and `all`.
pub(crate) fn rows(obs: &Observed<'_>, owner: &[Option<usize>]) -> Vec<Row> {
    let (start, end) = obs.window;
    let hours = end.duration_since(start).as_secs_f64() / 3600.0;
    let in_window = |r: &AppRequest| r.at >= start && r.at < end;
    let mut rows = Vec::new();
    let mut groups: Vec<(String, Option<Kind>)> = Kind::ALL
        .iter()
        .map(|k| (k.label().to_string(), Some(*k)))
        .collect();
    groups.push(("unattributed".into(), None));
    for (name, kind) in groups {
        let conns = obs.conns.iter().filter(|c| Some(c.kind) == kind).count();
        let mine: Vec<&AppRequest> = obs
            .requests
            .iter()
            .zip(owner)
            .filter(|(r, o)| in_window(r) && o.map(|i| obs.conns[i].kind) == kind)
            .map(|(r, _)| r)
            .collect();
        if kind.is_none() && mine.is_empty() {
            continue;
        }
        let per_hour = match kind {
            Some(_) if conns > 0 && hours > 0.0 => {
                format!("{:.1}", mine.len() as f64 / conns as f64 / hours)
            }
            _ => "-".into(),
        };
        rows.push(Row {
            kind: name,
            connections: if kind.is_some() {
                conns.to_string()
            } else {
                "-".into()
            },
            requests: mine.len(),
            per_hour,
            types: breakdown(&mine),
            client: kind.map(|k| client_side(obs, k)).unwrap_or_default(),
        });
    }
    rows
}

/// `label ×count` for each kind of request, most frequent first.
fn breakdown(requests: &[&AppRequest]) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in requests {
        *counts.entry(label(r)).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    let parts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} ×{n}")).collect();
    parts.join("; ")
}

/// What the clients of `kind` saw during the window.
fn client_side(obs: &Observed<'_>, kind: Kind) -> String {
    let (start, end) = obs.window;
    let ids: Vec<&str> = obs
        .conns
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.id.as_str())
        .collect();
    if matches!(kind, Kind::Sse | Kind::Durable) {
        let ended = obs
            .conns
            .iter()
            .filter(|c| c.kind == kind && c.closed_at.is_some())
            .count();
        return format!("streams ended: {ended}");
    }
    let count = |prefix: &str| {
        obs.node_lines
            .iter()
            .filter(|(at, _)| *at >= start && *at < end)
            .filter(|(_, l)| {
                ids.iter().any(|id| {
                    l.starts_with(prefix) && l[prefix.len()..].split(' ').next() == Some(id)
                })
            })
            .filter(|(_, l)| prefix != "send " || l.ends_with(" pingreq"))
            .count()
    };
    let mut s = String::new();
    let _ = write!(
        s,
        "PINGREQ sent: {}; closes: {}; reconnects: {}",
        count("send "),
        count("close "),
        count("reconnect ")
    );
    s
}
