//! The reconnect soak's missing messages: whether a durable one was replaced in time, and
//! where a lost one stood in its connection.

use std::collections::HashMap;

use crate::churn_check::Record;
use crate::churn_plan::{Published, Session};
use crate::stats::Delivery;

/// Durable: whether a newer message of the topic arrived in the connection during which
/// `seq` was published (Fanout drops a retained item that does not follow the last one it
/// delivered and asks the app for what is current, which may be newer by then).
pub(crate) fn replaced(
    seq: u64,
    sessions: &[&Session],
    got: &[&Delivery],
    sent: &HashMap<u64, &Published>,
) -> bool {
    let Some(p) = sent.get(&seq) else {
        return false;
    };
    let around = sessions
        .iter()
        .find(|s| s.up_us.is_some_and(|up| up <= p.sent_us) && p.acked_us <= s.down_us);
    around.is_some_and(|s| {
        got.iter().any(|d| {
            let at = sent.get(&d.seq).map(|q| q.sent_us + d.lat_us);
            d.seq > seq && at.is_some_and(|at| at >= s.connect_us && at <= s.down_us)
        })
    })
}

/// Where lost message `seq` of subscriber `sub` stood: ms after its connection was
/// subscribed, ms before it closed (after the publish was answered), how it closed, and
/// the slowest delivery of the same message to anyone.
pub(crate) fn lost_detail(
    sub: u32,
    seq: u64,
    sessions: &[&Session],
    sent: &HashMap<u64, &Published>,
    rec: &Record,
) -> String {
    let Some(p) = sent.get(&seq) else {
        return format!("subscriber {sub} message {seq}");
    };
    let slowest = rec
        .deliveries
        .iter()
        .filter(|d| d.seq == seq)
        .map(|d| d.lat_us)
        .max();
    let around = sessions
        .iter()
        .find(|s| s.up_us.is_some_and(|up| up <= p.sent_us) && p.acked_us <= s.down_us);
    let place = around.map_or("no connection".to_string(), |s| {
        format!(
            "{} ms after subscribed, answered {} ms before the close ({})",
            (p.sent_us - s.up_us.unwrap_or(0)) / 1000,
            (s.down_us - p.acked_us) / 1000,
            s.by_server.as_deref().unwrap_or("closed by the soak")
        )
    });
    format!(
        "subscriber {sub} message {seq}: {place}; slowest delivery of it {} ms",
        slowest.map_or(-1, |l| l / 1000)
    )
}
