//! The reconnect soak's table (stdout and `churn.csv`) and verdict.

use std::io;

use crate::churn_check::{tally, Record, Tally};
use crate::churn_plan::{Kind, Subscriber};
use crate::stats::percentile_ms;
use crate::Args;

/// The table's columns.
const HEAD: [&str; 16] = [
    "kind",
    "subscribers",
    "connections",
    "expected",
    "delivered",
    "lost",
    "duplicates",
    "unexpected",
    "published while away",
    "in flight at a close",
    "durable: replaced before delivered",
    "durable: latest value after reconnect",
    "reconnects checked",
    "p50 (ms)",
    "p99 (ms)",
    "connections the server ended",
];

/// Prints the table; `Ok(true)` when every promise held.
pub(crate) fn report(
    rec: &Record,
    subs: &[Subscriber],
    topics: &[(Kind, String)],
    args: &Args,
) -> io::Result<bool> {
    println!(
        "\n## Reconnect soak: {} subscribers, {} min of churn, {} messages published ({} errors)",
        subs.len(),
        args.minutes,
        rec.published.len(),
        rec.errors.len()
    );
    println!("\n| {} |\n|{}", HEAD.join(" | "), "---|".repeat(HEAD.len()));
    let mut ok = rec.errors.is_empty();
    let mut csv = HEAD.join(",").replace(' ', "_") + "\n";
    for kind in Kind::ALL {
        let t = tally(kind, rec, subs, topics);
        ok &= t.lost() == 0 && t.unexpected == 0 && t.latest_ok == t.latest_checked;
        ok &= kind != Kind::History || t.duplicates == 0;
        for l in t.lost_detail.iter().take(25) {
            println!("lost ({}): {l}", kind.name());
        }
        let fields = row(kind, &t);
        println!("| {} |", fields.join(" | "));
        csv.push_str(&(fields.join(",") + "\n"));
    }
    for e in rec.errors.iter().take(10) {
        println!("error: {e}");
    }
    println!("MQTT.js notes: {}", rec.notes.len());
    for n in rec.notes.iter().take(5) {
        println!("  {n}");
    }
    crate::report::write(&args.out, "churn.csv", &csv)?;
    Ok(ok)
}

/// One kind's row, in [`HEAD`]'s order.
fn row(kind: Kind, t: &Tally) -> Vec<String> {
    let counts = [
        t.subscribers,
        t.sessions,
        t.expected,
        t.delivered,
        t.lost(),
        t.duplicates,
        t.unexpected,
        t.gap,
        t.in_flight,
        t.replaced,
        t.latest_ok,
        t.latest_checked,
    ];
    let mut fields = vec![kind.name().to_string()];
    fields.extend(counts.iter().map(usize::to_string));
    fields.extend([50.0, 99.0].map(|p| format!("{:.1}", percentile_ms(&t.lat, p))));
    let by_server: Vec<String> = t
        .by_server
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    fields.push(by_server.join("; "));
    fields
}
