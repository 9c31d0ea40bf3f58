//! The topics with a retained message that a wildcard filter matches, for the retained
//! messages a new wildcard subscription receives.
//!
//! Slot keys are `t/` + the hex of the topic, so the topics that start with a filter's
//! literal part (everything before its first wildcard, without a trailing `/`: `a/#` also
//! matches `a`) are one key prefix of the store. One listing page of at most
//! [`LIST_PAGE`] keys is read (Fastly KV's largest page), in key order, which is the
//! topics' byte order; the topics the filter matches are taken from it, at most the
//! caller's limit. A filter that begins with a wildcard lists from the first topic.

use super::slot::{key, STORE};
use crate::ports::{KvError, KvStore};
use crate::topic::query;
use crate::topic::Filter;
use crate::Error;

/// The most slot keys one listing reads.
pub const LIST_PAGE: u32 = 1000;

/// The topics, in byte order, whose slot exists and that `filter` matches: at most
/// `limit`, from the first [`LIST_PAGE`] slots under the filter's literal prefix.
pub fn topics_matching(
    kv: &dyn KvStore,
    filter: &Filter,
    limit: usize,
) -> Result<Vec<String>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let prefix = key(filter.literal_prefix());
    let keys = kv
        .list_prefix(STORE, &prefix, LIST_PAGE)
        .map_err(|e| match e {
            KvError::Unavailable(why) => Error::StoreUnavailable(why),
            other => Error::StoreUnavailable(other.to_string()),
        })?;
    Ok(keys
        .iter()
        .filter_map(|k| topic_of(k))
        .filter(|topic| filter.matches(topic))
        .take(limit)
        .collect())
}

/// The topic whose slot key is `key`; `None` for a key this module never writes.
fn topic_of(key: &str) -> Option<String> {
    let hex = key.strip_prefix("t/")?.as_bytes();
    if hex.len() % 2 != 0 {
        return None;
    }
    let bytes = hex
        .chunks(2)
        .map(|pair| Some(query::hex(pair[0])? << 4 | query::hex(pair[1])?))
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::memory::MemoryKv;
    use crate::ports::InsertOptions;

    #[test]
    fn the_filter_picks_its_topics_from_the_listing_in_byte_order_up_to_the_limit() {
        let kv = MemoryKv::default();
        for topic in ["a", "a/b", "a/c", "a/b/c", "ab/x", "$s/a", "b/b", "other"] {
            kv.insert(STORE, &key(topic), b"{}", InsertOptions::default())
                .expect("insert");
        }
        kv.insert(STORE, "t/zz", b"{}", InsertOptions::default())
            .expect("a key no slot has");
        let cases: [(&str, usize, &[&str]); 6] = [
            ("a/#", 10, &["a", "a/b", "a/b/c", "a/c"]),
            ("a/+", 10, &["a/b", "a/c"]),
            ("+/b", 10, &["a/b", "b/b"]),
            ("#", 3, &["a", "a/b", "a/b/c"]),
            ("$s/+", 10, &["$s/a"]),
            ("a/#", 0, &[]),
        ];
        for (filter, limit, want) in cases {
            let filter = Filter::parse(filter).expect("filter");
            let got = topics_matching(&kv, &filter, limit).expect("listed");
            assert_eq!(got, want, "{filter} (limit {limit})");
        }
    }
}
