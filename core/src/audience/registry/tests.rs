use super::*;
use crate::ports::memory::{InMemory, RecordingKv};
use crate::ports::Platform;

fn platform() -> Platform {
    InMemory::new().platform
}

fn advance(env: &crate::ports::memory::TestEnv, secs: u64) {
    env.now
        .fetch_add(secs, std::sync::atomic::Ordering::Relaxed);
}

fn load_of(p: &Platform) -> Listening {
    load(&*p.kv, &*p.env)
}

fn channels(listening: &Listening) -> Vec<&str> {
    match listening {
        Listening::Everything => vec!["*"],
        Listening::Only(list) => list.iter().map(|r| r.channel.as_str()).collect(),
    }
}

#[test]
fn an_empty_registry_listens_nowhere_and_a_registration_is_seen_at_once() {
    let p = platform();
    assert_eq!(load_of(&p), Listening::Only(Vec::new()));
    register(&*p.kv, &*p.env, 3_600, "f#a/+").expect("registered");
    register(&*p.kv, &*p.env, 3_600, "a#x%20y").expect("registered");
    let listening = load_of(&p);
    assert_eq!(channels(&listening), ["f#a/+", "a#x%20y"]);
    assert!(listening.listens("a#x%20y"));
    assert!(!listening.listens("a#x"));
    let Listening::Only(list) = &listening else {
        panic!("a list");
    };
    assert_eq!(list[0].feed, Feed::Filter);
    assert!(list[0].filter.as_ref().is_some_and(|f| f.matches("a/b")));
    assert_eq!(list[1].feed, Feed::AsPublished);
}

#[test]
fn a_registration_is_one_kv_write_per_refresh_interval_with_three_intervals_of_ttl() {
    let mem = InMemory::new();
    let kv = RecordingKv::new(mem.kv.clone());
    for _ in 0..5 {
        register(&kv, &*mem.env, 3_600, "f#a/%23").expect("registered");
    }
    let inserts = kv.inserts(PREFIX);
    assert_eq!(inserts.len(), 1, "the POP cache spares the repeats");
    assert_eq!(inserts[0].1.ttl_secs, Some(3 * 3_600));
    advance(&mem.env, 3_601);
    register(&kv, &*mem.env, 3_600, "f#a/%23").expect("registered");
    assert_eq!(kv.inserts(PREFIX).len(), 2, "refreshed after one interval");
}

#[test]
fn the_list_is_read_from_kv_when_the_pop_has_none_cached() {
    let writer = InMemory::new();
    register(&*writer.kv, &*writer.env, 3_600, "f4#s/+/t").expect("registered");
    // Another POP: the same KV store, its own cache.
    let reader = InMemory::new();
    let env = reader.env.clone();
    assert_eq!(channels(&load(&*writer.kv, &*env)), ["f4#s/+/t"]);
    // And then from its cache, for a while.
    writer
        .kv
        .fail
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(channels(&load(&*writer.kv, &*env)), ["f4#s/+/t"]);
    advance(&env, u64::from(LIST_CACHE_SECS));
    assert_eq!(load(&*writer.kv, &*env), Listening::Everything);
}

#[test]
fn garbage_is_skipped_and_too_many_channels_mean_everything() {
    let p = platform();
    let insert = |key: &str| {
        p.kv.insert(STORE, key, VALUE, InsertOptions::default())
            .expect("inserted")
    };
    insert("sr/zz");
    let mut key = String::from(PREFIX);
    push_hex(&mut key, "x");
    insert(&key); // a live channel is never registered
    let mut key = String::from(PREFIX);
    push_hex(&mut key, "f#a/#/b");
    insert(&key); // not a filter
    assert_eq!(load_of(&p), Listening::Only(Vec::new()));

    let fresh = InMemory::new();
    let p = fresh.platform;
    for i in 0..=MAX_CHANNELS {
        let mut key = String::from(PREFIX);
        push_hex(&mut key, &format!("f#t/{i}/+"));
        p.kv.insert(STORE, &key, VALUE, InsertOptions::default())
            .expect("inserted");
    }
    assert_eq!(load_of(&p), Listening::Everything);
}

#[test]
fn a_failing_store_means_everything_on_publish_and_an_error_on_subscribe() {
    let mem = InMemory::new();
    mem.kv
        .fail
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let p = mem.platform;
    assert_eq!(load_of(&p), Listening::Everything);
    let err = register(&*p.kv, &*p.env, 3_600, "f#a/+").expect_err("refused");
    assert!(err.to_string().contains("f#a/+"), "{err}");
}

#[test]
fn the_refresh_interval_is_the_grant_max_age_but_at_least_an_hour() {
    let mut config = Config::default();
    config.link_grant_max_age = 60;
    assert_eq!(refresh_secs(&config), MIN_REFRESH_SECS);
    config.link_grant_max_age = 86_400;
    assert_eq!(refresh_secs(&config), 86_400);
}

#[test]
fn a_request_keeps_its_loaded_registry_until_this_instance_registers_a_channel() {
    let mem = InMemory::new();
    let mut loaded = Loaded::default();
    assert_eq!(
        channels(loaded.get(&*mem.kv, &*mem.env)),
        Vec::<&str>::new()
    );
    register(&*mem.kv, &*mem.env, 3_600, "f#n/+").expect("registered");
    assert_eq!(channels(loaded.get(&*mem.kv, &*mem.env)), ["f#n/+"]);
}
