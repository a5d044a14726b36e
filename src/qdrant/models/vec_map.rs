//! [`VecMap`]: a sorted map in one exactly sized vector, for the small maps a collection's
//! telemetry holds (replica states, vectors by name, segment sums: one to a few entries each).
//! A `BTreeMap` allocates a node for eleven entries however few it holds, which for thousands
//! of collections makes such maps most of a poll's parsed memory (docs/performance.md). Same iteration order as a `BTreeMap` (sorted by key), same
//! deserialization (a JSON object; a repeated key keeps its last value).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A map kept as a vector of `(key, value)` pairs sorted by key.
#[derive(Debug, Clone, PartialEq)]
pub struct VecMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap(Vec::new())
    }
}

impl<K: Ord, V> VecMap<K, V> {
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of `key`, inserted as `V::default()` if absent.
    pub fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(at) => &mut self.0[at].1,
            Err(at) => self.insert_default(at, key),
        }
    }

    /// [`Self::entry_or_default`] by a borrowed key, made into a `K` only when it is new (a
    /// key read from a segment is most often one seen before).
    pub fn entry_or_default_by<Q>(&mut self, key: &Q) -> &mut V
    where
        K: std::borrow::Borrow<Q> + for<'q> From<&'q Q>,
        Q: Ord + ?Sized,
        V: Default,
    {
        match self.0.binary_search_by(|(k, _)| k.borrow().cmp(key)) {
            Ok(at) => &mut self.0[at].1,
            Err(at) => self.insert_default(at, K::from(key)),
        }
    }

    /// Insert `key` with `V::default()` at `at`, where a search said it belongs.
    fn insert_default(&mut self, at: usize, key: K) -> &mut V
    where
        V: Default,
    {
        self.0.insert(at, (key, V::default()));
        &mut self.0[at].1
    }

    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.0
            .binary_search_by(|(k, _)| k.borrow().cmp(key))
            .ok()
            .map(|at| &self.0[at].1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    /// Give back the spare room of the vector (once it is filled).
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

impl<K: Ord, V> VecMap<K, V> {
    /// Sorted by key, in place; of a repeated key, the last value is kept (as a `BTreeMap`
    /// does).
    fn from_pairs(mut pairs: Vec<(K, V)>) -> Self {
        // Reversed, then sorted stably: of one key's pairs the last comes first, and `dedup`
        // keeps the first of a run.
        pairs.reverse();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, kept| later.0 == kept.0);
        pairs.shrink_to_fit();
        VecMap(pairs)
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    /// Sorted by key; of a repeated key, the last value is kept (as a `BTreeMap` does).
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        VecMap::from_pairs(pairs.into_iter().collect())
    }
}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&'a (K, V)) -> (&'a K, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<K, V, Q> std::ops::Index<&Q> for VecMap<K, V>
where
    K: Ord + std::borrow::Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;

    /// Panics when the key is absent, as a `BTreeMap` does (tests).
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry for this key")
    }
}

impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Deserialize<'de> for VecMap<K, V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Pairs<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for Pairs<K, V> {
            type Value = VecMap<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                // Most of these maps hold one to four entries.
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(4).min(64));
                while let Some(pair) = map.next_entry()? {
                    pairs.push(pair);
                }
                Ok(VecMap::from_pairs(pairs))
            }
        }
        deserializer.deserialize_map(Pairs(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn reads_and_iterates_as_a_btree_map_does() {
        for json in [
            r#"{"b": 2, "a": 1, "c": 3, "a": 4}"#,
            r#"{"x": 1, "x": 2, "a": 0, "x": 3, "b": 5, "a": 6}"#,
            r#"{}"#,
        ] {
            let map: VecMap<String, f64> = serde_json::from_str(json).unwrap();
            let btree: BTreeMap<String, f64> = serde_json::from_str(json).unwrap();
            assert_eq!(
                map.iter().collect::<Vec<_>>(),
                btree.iter().collect::<Vec<_>>(),
                "{json}"
            );
        }
        let json = r#"{"b": 2, "a": 1, "c": 3, "a": 4}"#;
        let map: VecMap<String, f64> = serde_json::from_str(json).unwrap();
        assert_eq!(map["a"], 4.0);
        assert_eq!(map.get("z"), None);
    }

    #[test]
    fn entries_are_kept_sorted() {
        let mut map: VecMap<String, f64> = VecMap::default();
        for key in ["m", "b", "x", "b"] {
            *map.entry_or_default(key.to_string()) += 1.0;
        }
        let pairs: Vec<(&String, &f64)> = map.iter().collect();
        assert_eq!(
            pairs,
            [
                (&"b".into(), &2.0),
                (&"m".into(), &1.0),
                (&"x".into(), &1.0)
            ]
        );
    }
}
