//! Publishing to history topics through the real stack (Pushpin + Viceroy): the HTTP
//! answer names the message's history id, and live SSE subscribers of the topic and of
//! a matching wildcard filter get it as `id: <topic tag>:<history id>`, in publish order;
//! topics without a rule are unchanged. (The resume side is tested with the SSE handler.)

#[path = "support/e2e.rs"]
mod e2e;

use e2e::*;
use pubsub_core::history::HistoryId;
use pubsub_core::retained::topic_tag;

const CONFIG: &[(&str, &str)] = &[("history", "h/# 1000 1h")];

fn history_id(reply: &Reply) -> HistoryId {
    assert_eq!(reply.status, 200, "{}", reply.text());
    let id = reply
        .header("pubsub-history-id")
        .expect("Pubsub-History-Id");
    id.parse().expect("a history id")
}

#[test]
fn live_events_of_a_history_topic_carry_its_history_id_in_publish_order() {
    stack_with(CONFIG);
    let topic = format!("h/{}", unique("live"));
    let filter = "h/+";
    let t = token(&[&topic, filter], &[&topic]);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    let wild = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(filter)));
    let ids: Vec<HistoryId> = (0..50)
        .map(|i| history_id(&publish(&topic, format!("m{i}").as_bytes(), &t)))
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    let tag = format!("{:016x}", topic_tag(&topic));
    for (i, id) in ids.iter().enumerate() {
        let ev = sse.next().expect("a live event");
        assert_eq!(ev.data, format!("m{i}"));
        assert_eq!(ev.id, Some(format!("{tag}:{id}")));
        let ev = wild.next().expect("a wildcard event");
        assert!(ev.data.contains(&format!("\"m{i}\"")), "{}", ev.data);
        assert_eq!(ev.id, Some(format!("{tag}:{id}")));
    }
}

#[test]
fn a_topic_without_a_rule_has_no_history_id() {
    stack_with(CONFIG);
    let topic = unique("plain");
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::subscribe(&format!("/events?topic={}&auth={t}", enc(&topic)));
    let reply = publish(&topic, b"x", &t);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("pubsub-history-id"), None);
    let ev = sse.next().expect("a live event");
    assert_eq!((ev.data.as_str(), ev.id), ("x", None));
}

#[test]
fn a_retained_publish_to_a_history_topic_reaches_a_durable_subscriber_with_its_history_id() {
    stack_with(CONFIG);
    let topic = format!("h/{}", unique("kept"));
    let t = token(&[&topic], &[&topic]);
    let sse = Sse::subscribe(&format!(
        "/events?topic={}&durable=true&auth={t}",
        enc(&topic)
    ));
    let path = format!("/events?topic={}&retain=true", enc(&topic));
    let reply = send(
        "POST",
        &path,
        &[("Authorization", &format!("Bearer {t}"))],
        b"kept",
    );
    let id = history_id(&reply);
    assert!(reply.header("pubsub-version").is_some());
    let ev = sse.next().expect("the retained message");
    assert_eq!(ev.data, "kept");
    assert_eq!(ev.id, Some(format!("{:016x}:{id}", topic_tag(&topic))));
}
