//! Message history and resumable streams through the real stack (Pushpin + Viceroy running
//! the release wasm), with history on for every topic (`#`, as `scripts/run.sh` has it)
//! and a short one for `short/#`: resume with `Last-Event-ID`, `lastEventId=earliest`,
//! `rewind`, a replay over several pages, gaps, binary messages, wildcards, durable
//! streams, a publisher racing the reconnect, `GET /history`, and bad input.
//!
//! `--nocapture` prints how long each replay took.

#[path = "support/e2e.rs"]
mod e2e;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use e2e::*;

const HISTORY: &[(&str, &str)] = &[("history", "short/# 5 1h; # 20000 1h")];

fn stack() -> &'static pubsub_devstack::Stack {
    stack_with(HISTORY)
}

fn path(topics: &[&str], query: &str, token: &str) -> String {
    let mut path = format!("/events?auth={token}");
    for t in topics {
        path.push_str("&topic=");
        path.push_str(&enc(t));
    }
    if !query.is_empty() {
        path.push('&');
        path.push_str(query);
    }
    path
}

fn open(path: &str, headers: &[(&str, &str)]) -> Sse {
    let sse = Sse::open_at(&stack().app_url(), path, headers);
    assert_eq!(sse.status, 200, "{path}");
    let first = sse.next().expect("stream-open");
    assert_eq!(first.event, "stream-open", "{first:?}");
    sse
}

fn publish_ok(topic: &str, body: &[u8], token: &str) {
    stack();
    let reply = publish(topic, body, token);
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(
        reply.header("pubsub-history-id").is_some(),
        "a history publish answers its id"
    );
}

/// The data of the next `n` message events, with the id of the last one.
fn messages(sse: &Sse, n: usize) -> (Vec<String>, String) {
    let mut data = Vec::with_capacity(n);
    let mut last = String::new();
    while data.len() < n {
        let ev = sse
            .next()
            .unwrap_or_else(|| panic!("only {} of {n} messages: {data:?}", data.len()));
        assert_eq!(ev.event, "message", "{ev:?}");
        last = ev.id.expect("a history event has an id");
        data.push(ev.data);
    }
    (data, last)
}

fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn a_reconnect_with_last_event_id_gets_what_it_missed_then_live_messages() {
    let topic = unique("resume");
    let t = token(&[&topic], &[&topic]);
    let sse = open(&path(&[&topic], "", &t), &[]);
    for i in 0..3 {
        publish_ok(&topic, format!("m{i}").as_bytes(), &t);
    }
    let (seen, last) = messages(&sse, 3);
    assert_eq!(seen, numbered("m", 0..3));
    drop(sse);
    for i in 3..8 {
        publish_ok(&topic, format!("m{i}").as_bytes(), &t);
    }
    let sse = open(&path(&[&topic], "", &t), &[("Last-Event-ID", &last)]);
    assert_eq!(messages(&sse, 5).0, numbered("m", 3..8));
    publish_ok(&topic, b"live", &t);
    let ev = sse.next().expect("live");
    assert_eq!(ev.data, "live");
    assert!(sse.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn a_stream_resumes_from_when_it_subscribed_even_before_any_message() {
    let topic = unique("fresh");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::open_at(&stack().app_url(), &path(&[&topic], "", &t), &[]);
    let open_event = sse.next().expect("stream-open");
    let id = open_event
        .id
        .expect("stream-open names where the stream starts");
    drop(sse);
    publish_ok(&topic, b"while away", &t);
    let sse = open(&path(&[&topic], "", &t), &[("Last-Event-ID", &id)]);
    assert_eq!(messages(&sse, 1).0, ["while away"]);
}

#[test]
fn earliest_replays_all_and_rewind_the_last_n() {
    let topic = unique("rewind");
    let t = token(&[&topic], &[&topic]);
    for i in 0..6 {
        publish_ok(&topic, format!("r{i}").as_bytes(), &t);
    }
    let all = open(&path(&[&topic], "lastEventId=earliest", &t), &[]);
    assert_eq!(messages(&all, 6).0, numbered("r", 0..6));
    let two = open(&path(&[&topic], "rewind=2", &t), &[]);
    assert_eq!(messages(&two, 2).0, numbered("r", 4..6));
    assert!(two.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn a_long_replay_comes_in_pages_in_order_then_live() {
    let topic = unique("pages");
    let t = token(&[&topic], &[&topic]);
    let n = 2_500;
    for i in 0..n {
        publish_ok(&topic, format!("p{i}").as_bytes(), &t);
    }
    let started = Instant::now();
    let sse = open(&path(&[&topic], "lastEventId=earliest", &t), &[]);
    let (seen, _) = messages(&sse, n);
    println!("replayed {n} messages in {:?}", started.elapsed());
    assert_eq!(seen, numbered("p", 0..n));
    publish_ok(&topic, b"after the replay", &t);
    assert_eq!(sse.next().expect("live").data, "after the replay");
}

#[test]
fn a_position_older_than_history_gets_a_gap_event_first() {
    let topic = format!("short/{}", unique("gap"));
    let t = token(&[&topic], &[&topic]);
    let sse = open(&path(&[&topic], "", &t), &[]);
    publish_ok(&topic, b"g0", &t);
    let (_, first) = messages(&sse, 1);
    drop(sse);
    for i in 1..10 {
        publish_ok(&topic, format!("g{i}").as_bytes(), &t);
    }
    let sse = open(&path(&[&topic], "", &t), &[("Last-Event-ID", &first)]);
    let gap = sse.next().expect("gap");
    assert_eq!(gap.event, "gap", "{gap:?}");
    let data: serde_json::Value = serde_json::from_str(&gap.data).expect("json");
    assert_eq!(data["topic"], topic.as_str());
    assert!(data["from"].is_string(), "{data}");
    assert_eq!(messages(&sse, 5).0, numbered("g", 5..10));
}

#[test]
fn binary_messages_replay_as_message_base64() {
    let topic = unique("bin");
    let t = token(&[&topic], &[&topic]);
    publish_ok(&topic, &[0xff, 0x00, 0x80], &t);
    let sse = open(&path(&[&topic], "lastEventId=earliest", &t), &[]);
    let ev = sse.next().expect("replayed");
    assert_eq!(
        (ev.event.as_str(), ev.data.as_str()),
        ("message-base64", "/wCA")
    );
}

#[test]
fn a_wildcard_stream_replays_every_matching_topic_with_history() {
    let root = unique("wild");
    let (a, b) = (format!("{root}/a"), format!("{root}/b"));
    let filter = format!("{root}/+");
    let t = token(&[&filter], &[&a, &b]);
    publish_ok(&a, b"to a", &t);
    publish_ok(&b, b"to b", &t);
    let sse = open(&path(&[&filter], "lastEventId=earliest", &t), &[]);
    let mut got: Vec<serde_json::Value> = (0..2)
        .map(|_| serde_json::from_str(&sse.next().expect("replayed").data).expect("json"))
        .collect();
    got.sort_by_key(|v| v["topic"].as_str().map(str::to_owned));
    assert_eq!(got[0]["topic"], a.as_str());
    assert_eq!(got[0]["data"], "to a");
    assert_eq!(got[1]["data"], "to b");
}

#[test]
fn a_durable_resume_gets_a_retained_message_once() {
    let topic = unique("durable");
    let t = token(&[&topic], &[&topic]);
    let sse = open(&path(&[&topic], "durable=true", &t), &[]);
    publish_ok(&topic, b"plain", &t);
    let (_, last) = messages(&sse, 1);
    drop(sse);
    let reply = send(
        "POST",
        &format!("/events?topic={}&retain=true", enc(&topic)),
        &[("Authorization", &format!("Bearer {t}"))],
        b"kept",
    );
    assert_eq!(reply.status, 200, "{}", reply.text());
    publish_ok(&topic, b"after", &t);
    let sse = open(
        &path(&[&topic], "durable=true", &t),
        &[("Last-Event-ID", &last)],
    );
    assert_eq!(messages(&sse, 2).0, ["kept", "after"]);
    assert!(sse.next_within(Duration::from_millis(500)).is_none());
}

#[test]
fn a_message_published_during_the_reconnect_arrives_exactly_once() {
    let topic = unique("seam");
    let t = token(&[&topic], &[&topic]);
    let sse = open(&path(&[&topic], "", &t), &[]);
    publish_ok(&topic, b"0", &t);
    let (_, mut last) = messages(&sse, 1);
    drop(sse);
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (stop, topic, t) = (stop.clone(), topic.clone(), t.clone());
        std::thread::spawn(move || {
            let mut i = 1;
            while !stop.load(Ordering::Relaxed) {
                publish_ok(&topic, i.to_string().as_bytes(), &t);
                i += 1;
                std::thread::sleep(Duration::from_millis(2));
            }
            i
        })
    };
    let mut got: Vec<u64> = vec![0];
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        let sse = open(&path(&[&topic], "", &t), &[("Last-Event-ID", &last)]);
        let deadline = Instant::now() + Duration::from_millis(300);
        while Instant::now() < deadline {
            let Some(ev) = sse.next_within(Duration::from_millis(200)) else {
                break;
            };
            got.push(ev.data.parse().expect("a number"));
            last = ev.id.expect("id");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let sent = publisher.join().expect("publisher");
    let sse = open(&path(&[&topic], "", &t), &[("Last-Event-ID", &last)]);
    while got.last() != Some(&(sent - 1)) {
        let ev = sse.next().expect("the rest");
        got.push(ev.data.parse().expect("a number"));
    }
    let want: Vec<u64> = (0..sent).collect();
    if got != want {
        let mut sorted = got.clone();
        sorted.sort_unstable();
        let twice: Vec<u64> = sorted
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        let missing: Vec<u64> = want.iter().filter(|n| !got.contains(n)).copied().collect();
        panic!(
            "{sent} sent, {} received: twice {twice:?}, missing {missing:?}",
            got.len()
        );
    }
}

#[test]
fn the_history_api_answers_pages_with_a_cursor() {
    let topic = unique("api");
    let t = token(&[&topic], &[&topic]);
    for i in 0..5 {
        publish_ok(&topic, format!("h{i}").as_bytes(), &t);
    }
    let get = |query: &str| {
        let reply = send(
            "GET",
            &format!("/history?topic={}&{query}", enc(&topic)),
            &[("Authorization", &format!("Bearer {t}"))],
            b"",
        );
        assert_eq!(reply.status, 200, "{}", reply.text());
        serde_json::from_str::<serde_json::Value>(&reply.text()).expect("json")
    };
    let first = get("limit=3");
    let data: Vec<&str> = first["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["data"].as_str())
        .collect();
    assert_eq!(data, ["h0", "h1", "h2"]);
    let next = first["next"].as_str().expect("a cursor");
    let rest = get(&format!("after={next}"));
    assert_eq!(rest["messages"].as_array().map(Vec::len), Some(2));
    assert!(rest["next"].is_null());
    let other = token(&["someone-else"], &[]);
    let reply = send(
        "GET",
        &format!("/history?topic={}", enc(&topic)),
        &[("Authorization", &format!("Bearer {other}"))],
        b"",
    );
    assert_eq!(reply.status, 403, "{}", reply.text());
}

#[test]
fn bad_positions_are_a_precise_400() {
    let topic = unique("bad");
    let t = token(&[&topic], &[&topic]);
    publish_ok(&topic, b"x", &t);
    let other = format!("{:016x}:0192ab34cd56-0000-9f3a21bc", 1u64);
    let cases = [
        ("rewind=0", "rewind"),
        ("rewind=abc", "rewind"),
        ("rewind=10001", "rewind"),
        ("lastEventId=nonsense", "last event id"),
        (&*format!("lastEventId={other}"), "another topic set"),
    ];
    for (query, needle) in cases {
        let sse = Sse::open_at(&stack().app_url(), &path(&[&topic], query, &t), &[]);
        let ev = sse.next().expect("stream-error");
        assert_eq!(ev.event, "stream-error", "{query}: {ev:?}");
        assert!(
            ev.data.contains("bad-request") && ev.data.contains(needle),
            "{query}: {}",
            ev.data
        );
    }
}
