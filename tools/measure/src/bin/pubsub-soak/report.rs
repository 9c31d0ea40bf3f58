//! Tables on stdout and CSV files.

use std::fmt::Write as _;
use std::io;
use std::path::Path;

use crate::fanout::FanoutRow;
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
    let c = &o.completeness;
    println!(
        "\n## Soak: {} SSE + {} MQTT subscribers, {} messages",
        o.sse, o.mqtt, o.messages
    );
    println!("\n| What | Figure |\n|---|---|");
    let mut csv = String::from("metric,value\n");
    let mut row = |k: &str, v: String| {
        println!("| {k} | {v} |");
        let _ = writeln!(csv, "{},{}", k.replace(',', ";"), v.replace(',', ""));
    };
    row("subscribers open after (s)", format!("{:.1}", o.open_secs));
    row("publishing took (s)", format!("{:.1}", o.publish_secs));
    row("publish errors", o.publish_errors.len().to_string());
    row(
        "delivered / expected",
        format!("{} / {} ({:.3} %)", c.delivered, c.expected, pct(c)),
    );
    row(
        "duplicates, unexpected",
        format!("{}, {}", c.duplicates, c.unexpected),
    );
    row("streams ended by the server", o.closed.len().to_string());
    for (kind, lat) in [("SSE", &o.sse_lat), ("MQTT", &o.mqtt_lat)] {
        row(
            &format!("{kind} publish→deliver p50 / p99 / max (ms)"),
            format!(
                "{:.1} / {:.1} / {:.1}",
                percentile_ms(lat, 50.0),
                percentile_ms(lat, 99.0),
                percentile_ms(lat, 100.0)
            ),
        );
    }
    println!("\n| Process | Peak RSS (MB, VmHWM) | CPU s during the run |\n|---|---|---|");
    let mut total_cpu = 0.0;
    for p in &o.procs {
        let cpu = p.cpu_now - p.cpu_start;
        total_cpu += cpu;
        println!(
            "| {} | {:.1} | {cpu:.2} |",
            p.name,
            p.peak_rss_kb as f64 / 1024.0
        );
        let _ = writeln!(csv, "peak_rss_kb {},{}", p.name, p.peak_rss_kb);
        let _ = writeln!(csv, "cpu_s {},{cpu:.2}", p.name);
    }
    let sum_mb = o.peak_rss_sum_kb as f64 / 1024.0;
    println!("| all of them (peak of the sum) | {sum_mb:.1} | {total_cpu:.2} |");
    let _ = writeln!(csv, "peak_rss_sum_kb,{}", o.peak_rss_sum_kb);
    explain(o);
    csv
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
