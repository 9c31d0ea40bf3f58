//! Tables on stdout and CSV files.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::fanout::FanoutRow;
use crate::procs::procs;
use crate::soak::SoakOutcome;
use crate::stats::{percentile_ms, Completeness};

fn pct(c: &Completeness) -> f64 {
    if c.expected == 0 {
        return 100.0;
    }
    100.0 * c.delivered as f64 / c.expected as f64
}

/// Prints the soak's tables and returns its CSV (long format: metric,value).
pub(crate) fn soak(o: &SoakOutcome) -> String {
    println!(
        "\n## Soak: {} SSE + {} MQTT subscribers, {} messages",
        o.sse, o.mqtt, o.messages
    );
    println!("\n| What | Figure |\n|---|---|");
    let mut csv = String::from("metric,value\n");
    for (k, v) in summary(o).into_iter().chain(latencies(o)) {
        println!("| {k} | {v} |");
        let _ = writeln!(csv, "{},{}", k.replace(',', ";"), v.replace(',', ""));
    }
    let sum = procs(&o.procs);
    let sum_mb = o.peak_rss_sum_kb as f64 / 1024.0;
    println!("| all of them (peak of the sum) | {sum_mb:.1} | {sum:.2} | |");
    for p in &o.procs {
        let cpu = p.cpu_now - p.cpu_start;
        let _ = writeln!(csv, "peak_rss_kb {},{}", p.name, p.peak_rss_kb);
        let _ = writeln!(csv, "cpu_s {},{cpu:.2}", p.name);
        let _ = writeln!(csv, "peak_fds {},{}", p.name, p.peak_fds);
    }
    let _ = writeln!(csv, "peak_rss_sum_kb,{}", o.peak_rss_sum_kb);
    explain(o);
    csv
}

/// Timings, completeness and the app invocations per publish.
fn summary(o: &SoakOutcome) -> Vec<(String, String)> {
    let c = &o.completeness;
    let [http, mqtt, raw] = o.per_path;
    let inv = &o.invocations;
    let through_app = (inv.total - inv.pings + http as usize) as f64;
    vec![
        ("subscribers open after (s)".into(), format!("{:.1}", o.open_secs)),
        ("publishing took (s)".into(), format!("{:.1}", o.publish_secs)),
        ("publish errors".into(), o.publish_errors.len().to_string()),
        (
            "delivered / expected".into(),
            format!("{} / {} ({:.3} %)", c.delivered, c.expected, pct(c)),
        ),
        (
            "duplicates, unexpected (e.g. another topic's)".into(),
            format!("{}, {}", c.duplicates, c.unexpected),
        ),
        ("streams ended by the server".into(), o.closed.len().to_string()),
        (
            "messages published: app HTTP / app MQTT / raw".into(),
            format!("{http} / {mqtt} / {raw}"),
        ),
        (
            "Pushpin→app requests while publishing: all / keep-alive pings / other WebSocket / links"
                .into(),
            format!("{} / {} / {} / {}", inv.total, inv.pings, inv.websocket, inv.links),
        ),
        (
            "app invocations per message published through the app (pings left out)".into(),
            format!("{:.3}", through_app / (http + mqtt).max(1) as f64),
        ),
    ]
}

/// Per subscriber protocol and publish path: p50 / p99 / max.
fn latencies(o: &SoakOutcome) -> Vec<(String, String)> {
    let ms = |lat: &[i64], p| percentile_ms(lat, p);
    o.lat
        .iter()
        .filter(|(_, lat)| !lat.is_empty())
        .map(|(what, lat)| {
            (
                format!("{what}: publish→deliver p50 / p99 / max (ms)"),
                format!(
                    "{:.1} / {:.1} / {:.1}",
                    ms(lat, 50.0),
                    ms(lat, 99.0),
                    ms(lat, 100.0)
                ),
            )
        })
        .collect()
}

/// Prints what went wrong, if anything.
fn explain(o: &SoakOutcome) {
    for e in o.publish_errors.iter().take(10) {
        println!("publish error: {e}");
    }
    for (sub, seqs) in o.completeness.missed.iter().take(20) {
        let kind = if (*sub as usize) < o.sse {
            "SSE"
        } else {
            "MQTT"
        };
        let shown: Vec<String> = seqs.iter().take(10).map(u64::to_string).collect();
        println!(
            "missed: {kind} subscriber {sub}: {} messages ({}{})",
            seqs.len(),
            shown.join(" "),
            if seqs.len() > 10 { " …" } else { "" }
        );
    }
    for (sub, seq) in &o.completeness.unexpected_samples {
        println!("unexpected: subscriber {sub} got message {seq}");
    }
    if o.completeness.missed.len() > 20 {
        println!(
            "missed: … {} subscribers in all",
            o.completeness.missed.len()
        );
    }
    let notes: Vec<&String> = o
        .node_notes
        .iter()
        .filter(|l| !l.starts_with("ready"))
        .collect();
    for l in notes.iter().take(10) {
        println!("MQTT.js: {l}");
    }
}

/// Prints the fan-out table and returns its CSV.
pub(crate) fn fanout(rows: &[FanoutRow], messages: u32) -> String {
    println!("\n## Fan-out latency: {messages} messages per group and path, one at a time");
    println!(
        "\n| Subscribers | Path | Delivered / expected | p50 (ms) | p99 (ms) | \
         last delivery of a message, p50 / p99 (ms) |\n|---|---|---|---|---|---|"
    );
    let mut csv =
        String::from("subscribers,path,delivered,expected,p50_ms,p99_ms,last_p50_ms,last_p99_ms\n");
    for r in rows {
        let c = &r.completeness;
        let (p50, p99) = (percentile_ms(&r.lat, 50.0), percentile_ms(&r.lat, 99.0));
        let (l50, l99) = (percentile_ms(&r.last, 50.0), percentile_ms(&r.last, 99.0));
        let path = if r.path == "app" {
            "app (POST /events)"
        } else {
            "raw (Pushpin /publish/)"
        };
        println!(
            "| {} | {path} | {} / {} | {p50:.2} | {p99:.2} | {l50:.2} / {l99:.2} |",
            r.group, c.delivered, c.expected
        );
        let _ = writeln!(
            csv,
            "{},{},{},{},{p50:.3},{p99:.3},{l50:.3},{l99:.3}",
            r.group, r.path, c.delivered, c.expected
        );
    }
    csv
}

pub(crate) fn write(dir: &Path, name: &str, csv: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(name);
    std::fs::write(&path, csv)?;
    println!("\nCSV: {}", path.display());
    Ok(())
}
