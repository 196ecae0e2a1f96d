//! `extFields`: the string-to-string map that carries every custom header field.
//!
//! A newtype so the representation can change without touching callers. It is a vector of pairs
//! kept sorted by key, with unique keys: JSON output is deterministic (golden vectors,
//! fastjson-like ordering), a lookup is a binary search over ~15 entries, and building one costs
//! one allocation for the vector instead of a B-tree node per few entries.
//!
//! Keys are `Cow<'static, str>`: headers written by rmq name their keys with literals, and a
//! decoded key that is one of the common header names borrows the static name instead of being
//! allocated (`intern`). Only values are allocated per field. With the old `BTreeMap<String,
//! String>`, a SEND_MESSAGE_V2 request cost ~30 allocations to decode and as many to build.
//!
//! Decoders collect pairs and sort once ([`ExtFields::from_pairs`]), so a hostile frame with many
//! keys costs `O(n log n)`, never quadratic. [`ExtFields::insert`] is `O(n)` and meant for the
//! handful of fields a header writes.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

/// A header key: a static name or an owned string.
pub type ExtKey = Cow<'static, str>;

/// Header fields of a command, every value a string as on the wire.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExtFields(Vec<(ExtKey, String)>);

/// The key as an [`ExtKey`], borrowing a static name when it is one of the common header names
/// (a `match` compiles to a length switch and one comparison: cheaper than the allocation it saves,
/// where a binary search over a name table was not).
pub fn intern(key: &str) -> ExtKey {
    macro_rules! known {
        ($($name:literal,)*) => {
            match key {
                $($name => Cow::Borrowed($name),)*
                _ => Cow::Owned(key.to_owned()),
            }
        };
    }
    known!(
        "MSG_REGION",
        "TRACE_ON",
        "a",
        "b",
        "batch",
        "batchUniqId",
        "bname",
        "bornTimestamp",
        "c",
        "clientID",
        "commitOffset",
        "consumerGroup",
        "d",
        "defaultTopic",
        "defaultTopicQueueNums",
        "e",
        "expressionType",
        "f",
        "flag",
        "g",
        "group",
        "h",
        "i",
        "j",
        "k",
        "l",
        "lo",
        "m",
        "maxMsgBytes",
        "maxMsgNums",
        "maxOffset",
        "maxReconsumeTimes",
        "minOffset",
        "msgId",
        "n",
        "nextBeginOffset",
        "ns",
        "nsd",
        "offset",
        "oway",
        "producerGroup",
        "properties",
        "queueId",
        "queueOffset",
        "reconsumeTimes",
        "subVersion",
        "subscription",
        "suggestWhichBrokerId",
        "suspendTimeoutMillis",
        "sysFlag",
        "topic",
        "transactionId",
    )
}

/// The same order as `str::cmp` (bytewise, then shorter first), as an inlined loop: header keys
/// are a few bytes, and `str::cmp` spends more on its `memcmp` call than on the comparison.
fn cmp_short(a: &[u8], b: &[u8]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

impl ExtFields {
    pub fn new() -> Self {
        ExtFields(Vec::new())
    }

    /// Builds the map from pairs in any order; for a repeated key the last value wins (as a
    /// JSON object or repeated inserts would). `O(n log n)`.
    pub fn from_pairs(mut pairs: Vec<(ExtKey, String)>) -> Self {
        // Stable: equal keys stay in arrival order, so the last one can win below.
        pairs.sort_by(|a, b| cmp_short(a.0.as_bytes(), b.0.as_bytes()));
        pairs.dedup_by(|later, kept| {
            if later.0 != kept.0 {
                return false;
            }
            std::mem::swap(&mut later.1, &mut kept.1);
            true
        });
        ExtFields(pairs)
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|(k, _)| cmp_short(k.as_bytes(), key.as_bytes()))
    }

    /// The value for `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.find(key).ok().map(|i| self.0[i].1.as_str())
    }

    /// Inserts or replaces a field.
    pub fn insert(&mut self, key: impl Into<ExtKey>, value: impl Into<String>) {
        let key = key.into();
        let value = value.into();
        match self.find(&key) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (key, value)),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.find(key).ok().map(|i| self.0.remove(i).1)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Fields in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }
}

impl fmt::Debug for ExtFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<ExtKey>, V: Into<String>> FromIterator<(K, V)> for ExtFields {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        ExtFields::from_pairs(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl<K: Into<ExtKey>, V: Into<String>> Extend<(K, V)> for ExtFields {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl IntoIterator for ExtFields {
    type Item = (String, String);
    type IntoIter = std::iter::Map<
        std::vec::IntoIter<(ExtKey, String)>,
        fn((ExtKey, String)) -> (String, String),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().map(|(k, v)| (k.into_owned(), v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_keys_are_borrowed() {
        assert!(matches!(intern("topic"), Cow::Borrowed("topic")));
        assert!(matches!(intern("MSG_REGION"), Cow::Borrowed(_)));
        assert!(matches!(intern("a"), Cow::Borrowed("a")));
        assert!(matches!(intern("someOtherKey"), Cow::Owned(_)));
        assert!(matches!(intern(""), Cow::Owned(_)));
    }

    #[test]
    fn short_compare_orders_like_str() {
        let words = [
            "",
            "a",
            "ab",
            "b",
            "B",
            "TRACE_ON",
            "queueId",
            "queueOffset",
            "é",
        ];
        for x in words {
            for y in words {
                assert_eq!(
                    cmp_short(x.as_bytes(), y.as_bytes()),
                    x.cmp(y),
                    "{x:?} {y:?}"
                );
            }
        }
    }

    #[test]
    fn behaves_as_a_sorted_map() {
        let mut e = ExtFields::new();
        e.insert("queueId", "1");
        e.insert(String::from("zeta"), "z");
        e.insert("a", "A");
        e.insert("queueId", "2");
        assert_eq!(e.len(), 3);
        assert_eq!(e.get("queueId"), Some("2"));
        assert_eq!(e.get("missing"), None);
        assert!(e.contains_key("zeta"));
        let keys: Vec<_> = e.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "queueId", "zeta"]);
        assert_eq!(e.remove("a"), Some("A".to_owned()));
        assert_eq!(e.remove("a"), None);
        assert_eq!(format!("{e:?}"), r#"{"queueId": "2", "zeta": "z"}"#);
        let owned: Vec<_> = e.clone().into_iter().collect();
        assert_eq!(
            owned,
            [
                ("queueId".to_owned(), "2".to_owned()),
                ("zeta".to_owned(), "z".to_owned())
            ]
        );
    }

    #[test]
    fn from_pairs_sorts_and_the_last_duplicate_wins() {
        let e = ExtFields::from_pairs(vec![
            (intern("b"), "1".into()),
            (intern("a"), "2".into()),
            (intern("b"), "3".into()),
            (intern("c"), "4".into()),
            (intern("b"), "5".into()),
        ]);
        let got: Vec<_> = e.iter().collect();
        assert_eq!(got, [("a", "2"), ("b", "5"), ("c", "4")]);
        let mut by_insert = ExtFields::new();
        for (k, v) in [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("b", "5")] {
            by_insert.insert(k, v);
        }
        assert_eq!(e, by_insert);
    }
}
