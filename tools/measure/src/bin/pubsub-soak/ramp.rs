//! Opening subscribers gradually: Viceroy's listen backlog is 128, so SSE streams open in
//! batches of [`BATCH`] (each stream on its own small-stack thread), with a pause between
//! batches; the MQTT.js script ramps its clients the same way (25 at a time).

use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::node::{Nodes, Sub, PER_NODE};
use crate::sse::{self, Pool};

/// SSE streams opened at once.
pub(crate) const BATCH: usize = 50;
const PAUSE: Duration = Duration::from_millis(100);

/// Opens the SSE subscribers `(index, topic)` with `token` into `pool`.
pub(crate) fn open_sse(
    pool: &mut Pool,
    app_port: u16,
    subs: &[(u32, String)],
    token: &str,
) -> io::Result<()> {
    let start = Instant::now();
    for (n, batch) in subs.chunks(BATCH).enumerate() {
        let opened = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .iter()
                .map(|(i, topic)| {
                    let target = format!("/events?topic={topic}&auth={token}");
                    std::thread::Builder::new()
                        .stack_size(128 * 1024)
                        .spawn_scoped(scope, move || {
                            (
                                *i,
                                sse::open(app_port, &target, "", Duration::from_secs(30)),
                            )
                        })
                })
                .collect::<io::Result<_>>()?;
            let results: Vec<_> = handles.into_iter().filter_map(|h| h.join().ok()).collect();
            io::Result::Ok(results)
        })?;
        let mut failed = None;
        for (i, result) in opened {
            match result {
                Ok(stream) => pool.add(i, stream)?,
                Err(e) => failed = failed.or(Some(format!("SSE subscriber {i}: {e}"))),
            }
        }
        if let Some(e) = failed {
            return Err(io::Error::other(e));
        }
        if (n + 1) % 10 == 0 {
            eprintln!(
                "pubsub-soak: {} SSE streams open ({:.1} s)",
                (n + 1) * BATCH,
                start.elapsed().as_secs_f64()
            );
        }
        std::thread::sleep(PAUSE);
    }
    Ok(())
}

/// Starts the MQTT.js side with `subs` (and a publisher when `publisher_token` is given)
/// and waits until every subscriber is connected and subscribed.
pub(crate) fn open_mqtt(
    js_dir: &Path,
    app_port: u16,
    subs: &[Sub],
    publisher_token: Option<&str>,
    limit: Duration,
) -> io::Result<Nodes> {
    let mut node = Nodes::start(js_dir, app_port, subs, publisher_token, limit, None)?;
    let wait = Duration::from_secs(60 + subs.len().min(PER_NODE) as u64 / 2);
    node.wait_ready(wait)?;
    Ok(node)
}

/// Waits until `count()` reaches `target`, or until it stops growing for `idle`.
pub(crate) fn wait_for(count: impl Fn() -> u64, target: u64, idle: Duration) -> bool {
    let mut last = count();
    let mut since = Instant::now();
    loop {
        let now = count();
        if now >= target {
            return true;
        }
        if now != last {
            last = now;
            since = Instant::now();
        } else if since.elapsed() > idle {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}
