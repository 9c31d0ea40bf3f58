//! Printing the table and writing the CSV files.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Instant;

use pubsub_devstack::AppRequest;

use crate::report::{label, Conn, Row};

/// Prints the table to stdout.
pub(crate) fn print_table(rows: &[Row], idle_secs: f64) {
    let header = [
        "connection kind",
        "connections",
        "app requests",
        "per connection-hour",
        "request types",
        "client side",
    ];
    let cells: Vec<[String; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.kind.clone(),
                r.connections.clone(),
                r.requests.to_string(),
                r.per_hour.clone(),
                r.types.clone(),
                r.client.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let padded: Vec<String> = cols
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
            .collect();
        println!("| {} |", padded.join(" | "));
    };
    println!("\nApp requests (Compute invocations) during {idle_secs:.0} s of idleness:\n");
    line(&header.map(String::from));
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    line(&rule);
    for row in &cells {
        line(row);
    }
}

/// Writes the table as CSV.
pub(crate) fn write_summary(path: &Path, rows: &[Row], idle_secs: f64) -> io::Result<()> {
    let mut out = String::from(
        "kind,connections,app_requests,idle_seconds,invocations_per_connection_hour,\
         request_types,client_side\n",
    );
    for r in rows {
        let fields = [
            r.kind.clone(),
            r.connections.clone(),
            r.requests.to_string(),
            format!("{idle_secs:.0}"),
            r.per_hour.clone(),
            r.types.clone(),
            r.client.clone(),
        ];
        out.push_str(&csv_line(&fields));
    }
    fs::write(path, out)
}

/// Writes every recorded request (set-up ones too) with its connection and label.
pub(crate) fn write_requests(
    path: &Path,
    requests: &[AppRequest],
    owner: &[Option<usize>],
    conns: &[Conn],
    window: (Instant, Instant),
) -> io::Result<()> {
    let mut out = String::from(
        "seconds_from_window_start,in_window,connection,method,target,connection_id,grip_last,\
         body_bytes,label\n",
    );
    for (r, o) in requests.iter().zip(owner) {
        let secs = if r.at >= window.0 {
            r.at.duration_since(window.0).as_secs_f64()
        } else {
            -window.0.duration_since(r.at).as_secs_f64()
        };
        let fields = [
            format!("{secs:.3}"),
            (r.at >= window.0 && r.at < window.1).to_string(),
            o.map(|i| conns[i].id.clone()).unwrap_or_default(),
            r.method.clone(),
            redact_auth(&r.target),
            r.connection_id.clone().unwrap_or_default(),
            r.grip_last.clone().unwrap_or_default(),
            r.body_len.to_string(),
            label(r),
        ];
        out.push_str(&csv_line(&fields));
    }
    fs::write(path, out)
}

/// The target with the value of its `auth` parameter (a token) shortened to `…`.
fn redact_auth(target: &str) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some(("auth", _)) => "auth=…".to_string(),
            _ => p.to_string(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn csv_line(fields: &[String]) -> String {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect();
    format!("{}\n", quoted.join(","))
}
