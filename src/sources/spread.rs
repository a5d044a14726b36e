//! Per-collection reads spread over polls, so that no poll's request count grows with the
//! number of collections: each poll makes at most `poll.collection_requests` of them. Busy
//! collections (telemetry shows them not green, an optimizer error or a non-empty update queue)
//! get their optimizer backlog read first; the rest of the budget walks every (collection,
//! endpoint) pair round-robin. What was read is kept until read again (or the collection
//! disappears), and the age of the oldest read is reported per source.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::SystemTime;

use super::per_collection::{Kind, Outcome, Results};
use crate::qdrant::models::{CollectionMemory, OptimizationsInfo, SnapshotDescription};
use crate::source_id::SourceId;

type Reads<T> = Option<Arc<BTreeMap<String, T>>>;

/// What the per-collection sources remember between polls.
#[derive(Debug, Default)]
pub(super) struct Spread {
    /// Next position in the round-robin walk over (collection, endpoint) pairs.
    cursor: usize,
    /// When each (endpoint, collection) was last read successfully.
    read_at: BTreeMap<(Kind, String), SystemTime>,
    pub optimizations: Reads<OptimizationsInfo>,
    pub memory: Reads<CollectionMemory>,
    pub snapshots: Reads<Vec<SnapshotDescription>>,
}

impl Spread {
    /// This poll's reads: all of them when `read_all`, else at most `budget`, busy
    /// collections' optimizer backlog first (up to half the budget), then round-robin.
    pub fn choose(
        &mut self,
        names: &[String],
        kinds: &[Kind],
        busy: &BTreeSet<String>,
        budget: usize,
        read_all: bool,
    ) -> Vec<(String, Kind)> {
        // Pair `i` of the walk is (names[i / kinds.len()], kinds[i % kinds.len()]): the walk
        // is indexed, not built, so a poll's cost does not grow with the collections.
        let total = names.len() * kinds.len();
        let pair = |i: usize| (names[i / kinds.len()].clone(), kinds[i % kinds.len()]);
        if read_all || total <= budget {
            return (0..total).map(pair).collect();
        }
        let mut chosen: Vec<(String, Kind)> = Vec::with_capacity(budget);
        if kinds.contains(&Kind::Optimizations) {
            chosen.extend(
                names
                    .iter()
                    .filter(|name| busy.contains(*name))
                    .take(budget / 2)
                    .map(|name| (name.clone(), Kind::Optimizations)),
            );
        }
        let start = self.cursor % total;
        let mut taken = 0;
        for i in (start..total).chain(0..start) {
            if chosen.len() >= budget {
                break;
            }
            taken += 1;
            let (name, kind) = (&names[i / kinds.len()], kinds[i % kinds.len()]);
            if !chosen.iter().any(|(n, k)| n == name && *k == kind) {
                chosen.push(pair(i));
            }
        }
        self.cursor = (start + taken) % total;
        chosen
    }

    /// Keep what was read, forget what vanished: collections no longer listed, or that
    /// answered 404, and switched-off endpoints.
    pub fn merge(&mut self, names: &[String], kinds: &[Kind], results: Results, now: SystemTime) {
        let listed: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        self.read_at
            .retain(|(kind, name), _| kinds.contains(kind) && listed.contains(name.as_str()));
        merge_into(
            &mut self.optimizations,
            results.optimizations,
            &listed,
            Kind::Optimizations,
            kinds,
            &mut self.read_at,
            now,
        );
        merge_into(
            &mut self.memory,
            results.memory,
            &listed,
            Kind::Memory,
            kinds,
            &mut self.read_at,
            now,
        );
        merge_into(
            &mut self.snapshots,
            results.snapshots,
            &listed,
            Kind::Snapshots,
            kinds,
            &mut self.read_at,
            now,
        );
    }

    /// Per source, the age of the oldest read still shown.
    pub fn ages(&self, now: SystemTime) -> Vec<(SourceId, f64)> {
        let mut oldest: BTreeMap<Kind, SystemTime> = BTreeMap::new();
        for ((kind, _), at) in &self.read_at {
            let entry = oldest.entry(*kind).or_insert(*at);
            *entry = (*entry).min(*at);
        }
        oldest
            .into_iter()
            .map(|(kind, at)| {
                let age = now.duration_since(at).unwrap_or_default();
                (kind.source(), age.as_secs_f64())
            })
            .collect()
    }
}

fn merge_into<T: Clone>(
    reads: &mut Reads<T>,
    outcome: Outcome<T>,
    listed: &BTreeSet<&str>,
    kind: Kind,
    kinds: &[Kind],
    read_at: &mut BTreeMap<(Kind, String), SystemTime>,
    now: SystemTime,
) {
    if !kinds.contains(&kind) {
        *reads = None;
        return;
    }
    let map = Arc::make_mut(reads.get_or_insert_with(Default::default));
    map.retain(|name, _| listed.contains(name.as_str()));
    for name in outcome.not_found {
        map.remove(&name);
    }
    for (name, value) in outcome.by_collection {
        read_at.insert((kind, name.clone()), now);
        map.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("c{i:04}")).collect()
    }

    #[test]
    fn every_pair_is_read_within_a_cycle_and_no_poll_exceeds_the_budget() {
        let mut spread = Spread::default();
        let names = names(100);
        let kinds = Kind::ALL;
        let mut seen = BTreeSet::new();
        for _ in 0..(300 / 16 + 1) {
            let chosen = spread.choose(&names, &kinds, &BTreeSet::new(), 16, false);
            assert!(chosen.len() <= 16);
            seen.extend(chosen);
        }
        assert_eq!(seen.len(), 300);
    }

    #[test]
    fn busy_collections_come_first() {
        let mut spread = Spread::default();
        let names = names(1000);
        let busy: BTreeSet<String> = ["c0500".to_string(), "c0900".to_string()].into();
        let chosen = spread.choose(&names, &Kind::ALL, &busy, 16, false);
        assert_eq!(chosen[0], ("c0500".to_string(), Kind::Optimizations));
        assert_eq!(chosen[1], ("c0900".to_string(), Kind::Optimizations));
        assert_eq!(chosen.len(), 16);
    }

    #[test]
    fn no_names_or_no_endpoints_choose_nothing() {
        let mut spread = Spread::default();
        let busy = BTreeSet::new();
        assert!(spread.choose(&[], &Kind::ALL, &busy, 16, false).is_empty());
        assert!(spread.choose(&names(100), &[], &busy, 16, false).is_empty());
    }

    #[test]
    fn read_all_takes_everything() {
        let mut spread = Spread::default();
        let chosen = spread.choose(&names(50), &Kind::ALL, &BTreeSet::new(), 16, true);
        assert_eq!(chosen.len(), 150);
    }
}
