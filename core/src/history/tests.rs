//! The history over in-memory ports: pages, gaps, limits, trims by count and age, and
//! the wildcard listing.

use std::sync::atomic::Ordering;

use pubsub_config::HistoryRule;

use super::*;
use crate::ports::memory::InMemory;
use crate::topic::{Filter, TopicName};

const RULE: HistoryRule = HistoryRule {
    max_count: 1000,
    max_age_secs: 3600,
};

fn topic(name: &str) -> TopicName {
    TopicName::parse(name).expect("topic")
}

/// Appends `n` messages `"<topic> <i>"` to `topic`, in order, refreshing its marker as
/// the publish path does; answers their ids.
fn append_n(ports: &InMemory, rule: HistoryRule, name: &str, n: usize) -> Vec<HistoryId> {
    let mut ids = IdSequence::new();
    (0..n)
        .map(|i| {
            let id = ids.next(&*ports.platform.env).expect("id");
            let payload = format!("{name} {i}");
            let message = NewMessage {
                id,
                payload: payload.as_bytes(),
                retain: false,
                ttl_secs: None,
                mqtt: None,
            };
            append(&*ports.platform.kv, rule, name, &message).expect("appended");
            mark(&*ports.platform.kv, &*ports.platform.env, rule, name);
            id
        })
        .collect()
}

fn read_all(ports: &InMemory, rule: HistoryRule, name: &str, from: Position) -> Page {
    read(
        &ports.platform,
        rule,
        &topic(name),
        from,
        usize::MAX,
        usize::MAX,
    )
    .expect("read")
}

fn ids_of(page: &Page) -> Vec<HistoryId> {
    page.messages.iter().map(|m| m.id).collect()
}

#[test]
fn pages_follow_one_another_until_nothing_remains() {
    let ports = InMemory::new();
    let ids = append_n(&ports, RULE, "t", 25);
    let t = topic("t");
    let mut from = Position::Earliest;
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let page = read(&ports.platform, RULE, &t, from, 10, usize::MAX).expect("read");
        assert_eq!(page.gap, None);
        seen.extend(ids_of(&page));
        pages += 1;
        match page.next {
            Some(next) => {
                assert_eq!(Some(&next), seen.last());
                from = Position::After(next);
            }
            None => break,
        }
    }
    assert_eq!((seen, pages), (ids, 3));
    let first = read_all(&ports, RULE, "t", Position::Earliest);
    assert_eq!(first.messages[3].payload, b"t 3");
    assert_eq!(first.messages[3].topic, "t");
}

#[test]
fn a_page_holds_at_most_max_bytes_of_payload_but_always_one_message() {
    let ports = InMemory::new();
    append_n(&ports, RULE, "t", 4);
    let t = topic("t");
    // Each payload is 3 bytes.
    let page = read(&ports.platform, RULE, &t, Position::Earliest, 100, 7).expect("read");
    assert_eq!(page.messages.len(), 2);
    assert_eq!(page.next, Some(page.messages[1].id));
    let tiny = read(&ports.platform, RULE, &t, Position::Earliest, 100, 1).expect("read");
    assert_eq!(tiny.messages.len(), 1, "a reader never stalls");
}

#[test]
fn rewind_starts_with_the_last_messages_and_is_bounded() {
    let ports = InMemory::new();
    let ids = append_n(&ports, RULE, "t", 8);
    let last3 = read_all(&ports, RULE, "t", Position::Last(3));
    assert_eq!(ids_of(&last3), ids[5..]);
    assert_eq!(
        ids_of(&read_all(&ports, RULE, "t", Position::Last(50))),
        ids
    );
    let small = HistoryRule {
        max_count: 20,
        ..RULE
    };
    for (rule, n, limit) in [(small, 21, "20"), (RULE, 1001, "1000")] {
        let err = read(
            &ports.platform,
            rule,
            &topic("t"),
            Position::Last(n),
            10,
            10,
        )
        .expect_err("too far back");
        assert_eq!(err.status(), 400);
        let text = err.to_string();
        assert!(text.contains("`rewind`") && text.contains(limit), "{text}");
    }
    let big = HistoryRule {
        max_count: 100_000,
        ..RULE
    };
    let err = read(
        &ports.platform,
        big,
        &topic("t"),
        Position::Last(10_001),
        10,
        10,
    );
    assert!(err
        .expect_err("over REWIND_MAX")
        .to_string()
        .contains("10000"));
}

#[test]
fn positions_before_what_is_held_are_gaps_and_impossible_ones_are_400() {
    let ports = InMemory::new();
    let ids = append_n(&ports, RULE, "t", 6);
    let t = "t";
    // After a held id: the rest, no gap.
    assert_eq!(
        ids_of(&read_all(&ports, RULE, t, Position::After(ids[2]))),
        ids[3..]
    );
    // After the newest: nothing, no gap.
    let after_last = read_all(&ports, RULE, t, Position::After(ids[5]));
    assert!(after_last.messages.is_empty() && after_last.gap.is_none());
    // Before the oldest held (trimmed, or before history was on): a gap, then all.
    let older = HistoryId::new(ids[0].ms() - 1, 0, 1);
    let page = read_all(&ports, RULE, t, Position::After(older));
    assert_eq!(ids_of(&page), ids);
    let gap = page.gap.expect("a gap");
    assert_eq!(
        (gap.topic.as_str(), gap.after, gap.from),
        (t, Some(older), Some(ids[0]))
    );
    // Within the held range but never held: 400.
    let forged = HistoryId::new(ids[2].ms(), ids[2].seq(), ids[2].rand() ^ 1);
    let err = read(
        &ports.platform,
        RULE,
        &topic(t),
        Position::After(forged),
        10,
        10,
    );
    let err = err.expect_err("never held");
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("unknown event id"), "{err}");
    // From the future: 400.
    let future = HistoryId::new(ids[5].ms() + FUTURE_SLACK_MS + 1000, 0, 0);
    let err = read(
        &ports.platform,
        RULE,
        &topic(t),
        Position::After(future),
        10,
        10,
    );
    assert!(err.expect_err("future").to_string().contains("future"));
    // Earliest never has a gap.
    assert_eq!(read_all(&ports, RULE, t, Position::Earliest).gap, None);
}

#[test]
fn an_empty_history_is_a_gap_only_for_a_position_older_than_max_age() {
    let ports = InMemory::new();
    let now_ms = ports.env.now.load(Ordering::Relaxed) * 1000;
    let recent = HistoryId::new(now_ms - 1000, 0, 0);
    let page = read_all(&ports, RULE, "empty", Position::After(recent));
    assert_eq!(
        page,
        Page::default(),
        "maybe not listed yet: nothing, no gap"
    );
    let old = HistoryId::new(now_ms - 3_601_000, 0, 0);
    let page = read_all(&ports, RULE, "empty", Position::After(old));
    let gap = page.gap.expect("a gap");
    assert_eq!((gap.after, gap.from), (Some(old), None));
}

#[test]
fn reads_keep_the_newest_max_count_and_a_trim_deletes_the_rest() {
    let ports = InMemory::new();
    let rule = HistoryRule {
        max_count: 10,
        ..RULE
    };
    // A huge count while appending: no trim pass deletes anything yet.
    let ids = append_n(&ports, RULE, "t", 30);
    assert_eq!(
        held_ids(&*ports.platform.kv, "t").expect("listed").len(),
        30
    );
    let page = read_all(&ports, rule, "t", Position::Earliest);
    assert_eq!(ids_of(&page), ids[20..], "only the newest 10");
    let gap = read_all(&ports, rule, "t", Position::After(ids[5])).gap;
    assert_eq!(
        gap.map(|g| g.from),
        Some(Some(ids[20])),
        "trimmed by count: a gap"
    );
    assert_eq!(trim(&*ports.platform.kv, rule, "t"), Ok(20));
    assert_eq!(
        held_ids(&*ports.platform.kv, "t").expect("listed"),
        ids[20..]
    );
    assert_eq!(trim(&*ports.platform.kv, rule, "t"), Ok(0));
}

#[test]
fn about_one_append_in_sixteen_trims_to_the_count() {
    let ports = InMemory::new();
    let rule = HistoryRule {
        max_count: 5,
        ..RULE
    };
    append_n(&ports, rule, "t", 400);
    let held = held_ids(&*ports.platform.kv, "t").expect("listed").len();
    assert!(held < 5 + 16 * 8, "trimmed along the way: {held} held");
    assert_eq!(
        read_all(&ports, rule, "t", Position::Earliest)
            .messages
            .len(),
        5
    );
}

#[test]
fn messages_older_than_max_age_or_past_their_ttl_are_never_returned() {
    let ports = InMemory::new();
    let rule = HistoryRule {
        max_count: 100,
        max_age_secs: 60,
    };
    let old = append_n(&ports, rule, "t", 2);
    ports.env.now.fetch_add(30, Ordering::Relaxed);
    let mut ids = IdSequence::new();
    let id = ids.next(&*ports.platform.env).expect("id");
    let short = NewMessage {
        id,
        payload: b"short-lived",
        retain: true,
        ttl_secs: Some(10),
        mqtt: None,
    };
    append(&*ports.platform.kv, rule, "t", &short).expect("appended");
    let all = read_all(&ports, rule, "t", Position::Earliest);
    assert_eq!(all.messages.len(), 3);
    assert_eq!(all.messages[2].expires_at, Some(id.ms() / 1000 + 10));
    assert!(all.messages[2].retain);
    ports.env.now.fetch_add(15, Ordering::Relaxed);
    assert_eq!(
        ids_of(&read_all(&ports, rule, "t", Position::Earliest)),
        old,
        "past its ttl"
    );
    ports.env.now.fetch_add(20, Ordering::Relaxed);
    let page = read_all(&ports, rule, "t", Position::After(old[1]));
    assert!(page.messages.is_empty());
    let page = read_all(&ports, rule, "t", Position::Earliest);
    assert!(page.messages.is_empty(), "older than max-age");
}

#[test]
fn records_get_a_kv_ttl_of_max_age_or_their_own_ttl_and_at_least_a_minute() {
    use crate::ports::{InsertOptions, KvError, KvItem, KvStore};
    use std::sync::Mutex;
    #[derive(Default)]
    struct Ttls(crate::ports::memory::MemoryKv, Mutex<Vec<Option<u32>>>);
    impl KvStore for Ttls {
        fn lookup(&self, s: &str, k: &str) -> Result<Option<KvItem>, KvError> {
            self.0.lookup(s, k)
        }
        fn insert(&self, s: &str, k: &str, v: &[u8], o: InsertOptions) -> Result<(), KvError> {
            self.1.lock().expect("lock").push(o.ttl_secs);
            self.0.insert(s, k, v, o)
        }
        fn delete(&self, s: &str, k: &str) -> Result<(), KvError> {
            self.0.delete(s, k)
        }
        fn list(&self, s: &str) -> Result<Vec<String>, KvError> {
            self.0.list(s)
        }
    }
    let kv = Ttls::default();
    for (n, ttl) in [(1u16, None), (2, Some(100)), (3, Some(5)), (4, Some(9999))] {
        let message = NewMessage {
            id: HistoryId::new(1_800_000_000_000, n, 1),
            payload: b"x",
            retain: false,
            ttl_secs: ttl,
            mqtt: None,
        };
        append(&kv, RULE, "t", &message).expect("appended");
    }
    assert_eq!(
        *kv.1.lock().expect("lock"),
        [Some(3600), Some(100), Some(MIN_TTL_SECS), Some(3600)]
    );
}

#[test]
fn wildcard_listing_finds_each_topic_with_history_once() {
    let ports = InMemory::new();
    for name in ["a", "a/b", "a/c", "ab/x", "$s/a", "b/b"] {
        append_n(&ports, RULE, name, 3);
    }
    let cases: [(&str, usize, &[&str]); 5] = [
        ("a/#", 10, &["a", "a/b", "a/c"]),
        ("+/b", 10, &["a/b", "b/b"]),
        ("#", 2, &["a", "a/b"]),
        ("$s/+", 10, &["$s/a"]),
        ("a/#", 0, &[]),
    ];
    for (filter, limit, want) in cases {
        let filter = Filter::parse(filter).expect("filter");
        let got = topics_with_history(&*ports.platform.kv, &filter, limit).expect("listed");
        assert_eq!(got, want, "{filter} (limit {limit})");
    }
}

#[test]
fn topics_with_thousands_of_records_no_longer_hide_their_siblings() {
    use crate::ports::memory::RecordingKv;
    use std::sync::Arc;
    let mut ports = InMemory::new();
    let kv = Arc::new(RecordingKv::new(ports.kv.clone()));
    ports.platform.kv = kv.clone();
    let many = HistoryRule {
        max_count: 100_000,
        ..RULE
    };
    // 6,000 records sorting before `a/small`'s: more than four listing pages of keys.
    append_n(&ports, many, "a/big1", 3000);
    append_n(&ports, many, "a/big2", 3000);
    append_n(&ports, many, "a/small", 1);
    append_n(&ports, many, "b/other", 1);
    let pages_before = kv.pages().len();
    let filter = Filter::parse("a/+").expect("filter");
    let got = topics_with_history(&*ports.platform.kv, &filter, 10).expect("listed");
    assert_eq!(got, ["a/big1", "a/big2", "a/small"]);
    assert_eq!(
        kv.pages()[pages_before..],
        [marker_key("a")],
        "one page of topic markers"
    );
    assert_eq!(
        held_ids(&*ports.platform.kv, "a/big1")
            .expect("listed")
            .len(),
        3000
    );
}

#[test]
fn an_unavailable_store_is_a_503() {
    let ports = InMemory::new();
    ports.kv.fail.store(true, Ordering::Relaxed);
    let err = read(&ports.platform, RULE, &topic("t"), Position::Earliest, 1, 1);
    assert_eq!(err.expect_err("down").status(), 503);
}

#[test]
fn a_page_reads_in_batches_only_the_records_it_needs_and_one_more() {
    use crate::ports::{InsertOptions, KvError, KvItem, KvStore};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    #[derive(Default)]
    struct Counting(crate::ports::memory::MemoryKv, AtomicUsize, AtomicUsize);
    impl KvStore for Counting {
        fn lookup(&self, s: &str, k: &str) -> Result<Option<KvItem>, KvError> {
            self.1.fetch_add(1, Ordering::Relaxed);
            self.0.lookup(s, k)
        }
        fn lookup_many(&self, s: &str, keys: &[String]) -> Result<Vec<Option<KvItem>>, KvError> {
            self.2.fetch_add(1, Ordering::Relaxed);
            keys.iter().map(|k| self.lookup(s, k)).collect()
        }
        fn insert(&self, s: &str, k: &str, v: &[u8], o: InsertOptions) -> Result<(), KvError> {
            self.0.insert(s, k, v, o)
        }
        fn delete(&self, s: &str, k: &str) -> Result<(), KvError> {
            self.0.delete(s, k)
        }
        fn list(&self, s: &str) -> Result<Vec<String>, KvError> {
            self.0.list(s)
        }
    }
    let mut ports = InMemory::new();
    let kv = Arc::new(Counting::default());
    ports.platform.kv = kv.clone();
    append_n(&ports, RULE, "t", 200);
    let t = topic("t");
    let page = read(
        &ports.platform,
        RULE,
        &t,
        Position::Earliest,
        10,
        usize::MAX,
    )
    .expect("read");
    assert_eq!(page.messages.len(), 10);
    let (lookups, batches) = (kv.1.load(Ordering::Relaxed), kv.2.load(Ordering::Relaxed));
    assert_eq!(
        (lookups, batches),
        (11, 1),
        "the page and one more, in one batch"
    );
    let all = read(
        &ports.platform,
        RULE,
        &t,
        Position::Earliest,
        100,
        usize::MAX,
    )
    .expect("read");
    assert_eq!(all.messages.len(), 100);
    let batches = kv.2.load(Ordering::Relaxed) - 1;
    assert_eq!(
        batches,
        101_usize.div_ceil(LOOKUP_BATCH),
        "batches of {LOOKUP_BATCH}"
    );
}

/// A store counting its listing calls.
struct CountingKv {
    inner: std::sync::Arc<dyn crate::ports::KvStore>,
    lists: std::sync::atomic::AtomicUsize,
}

impl crate::ports::KvStore for CountingKv {
    fn lookup(
        &self,
        s: &str,
        k: &str,
    ) -> Result<Option<crate::ports::KvItem>, crate::ports::KvError> {
        self.inner.lookup(s, k)
    }
    fn insert(
        &self,
        s: &str,
        k: &str,
        v: &[u8],
        o: crate::ports::InsertOptions,
    ) -> Result<(), crate::ports::KvError> {
        self.inner.insert(s, k, v, o)
    }
    fn delete(&self, s: &str, k: &str) -> Result<(), crate::ports::KvError> {
        self.inner.delete(s, k)
    }
    fn list(&self, s: &str) -> Result<Vec<String>, crate::ports::KvError> {
        self.inner.list(s)
    }
    fn list_page(
        &self,
        s: &str,
        p: &str,
        c: Option<&str>,
        l: u32,
    ) -> Result<crate::ports::KvPage, crate::ports::KvError> {
        self.lists.fetch_add(1, Ordering::Relaxed);
        self.inner.list_page(s, p, c, l)
    }
}

#[test]
fn a_large_history_is_read_from_the_position_on_in_a_few_listing_calls() {
    let ports = InMemory::new();
    let rule = HistoryRule {
        max_count: 20_000,
        max_age_secs: 3600,
    };
    // 6,000 records over three windows of 65 s.
    let mut ids = Vec::new();
    for round in 0..3 {
        if round > 0 {
            ports.env.now.fetch_add(70, Ordering::Relaxed);
        }
        ids.extend(append_n(&ports, rule, "big", 2_000));
    }
    let counting = std::sync::Arc::new(CountingKv {
        inner: ports.platform.kv.clone(),
        lists: Default::default(),
    });
    let platform = crate::ports::Platform {
        kv: counting.clone(),
        ..ports.platform.clone()
    };
    let read_from = |from: Position, limit: usize| {
        read(&platform, rule, &topic("big"), from, limit, usize::MAX)
    };
    let page = read_from(Position::After(ids[5_990]), 100).expect("read");
    assert_eq!(ids_of(&page), ids[5_991..]);
    assert!(page.gap.is_none() && page.next.is_none());
    let calls = counting.lists.swap(0, Ordering::Relaxed);
    assert!(calls <= 4, "{calls} listing calls for a read near the end");
    // Pages go on across windows, in order.
    let page = read_from(Position::After(ids[1_500]), 1_000).expect("read");
    assert_eq!(ids_of(&page), ids[1_501..2_501]);
    assert_eq!(page.next, Some(ids[2_500]));
    // The same answers as a full listing: gaps, unknown ids, time positions.
    let forged = HistoryId::new(ids[3_000].ms(), ids[3_000].seq(), ids[3_000].rand() ^ 1);
    let err = read_from(Position::After(forged), 10).expect_err("never held");
    assert_eq!(err.status(), 400);
    let older = HistoryId::new(ids[0].ms() - 1, 0, 1);
    let page = read_from(Position::After(older), 10).expect("read");
    assert_eq!(page.gap.as_ref().map(|g| g.from), Some(Some(ids[0])));
    assert_eq!(ids_of(&page), ids[..10]);
    let since = read_from(Position::Since(ids[4_000].ms()), 5).expect("read");
    assert_eq!(since.messages[0].id.ms(), ids[4_000].ms());
    assert!(since.messages[0].id <= ids[4_000]);
}
