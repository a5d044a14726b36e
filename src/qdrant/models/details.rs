//! [`SegmentDetails`]: every collection's segment summary, kept from one slow poll to the next,
//! in four flat buffers: the collection names, one span per collection (sorted by name), the
//! statistics (32 bytes each) and the distinct labels they name (vector names, segment types,
//! payload fields and types, search paths: a handful, shared by every collection).
//!
//! Flat, because these summaries live from one slow poll to the next among that poll's
//! temporaries: as maps (a `BTreeMap` of collections, five small maps each) they would be tens
//! of thousands of small allocations pinning the heap pages around them (docs/performance.md).

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use super::CollectionDetail;

/// Every collection's segment statistics; see the module documentation.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SegmentDetails {
    /// The collection names, one after the other.
    names: String,
    /// One per collection, sorted by name.
    collections: Vec<Span>,
    entries: Vec<Entry>,
    labels: Vec<SmolStr>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    name: (u32, u32),
    entries: (u32, u32),
    deferred_points: Option<f64>,
}

/// One statistic: what it counts, its one or two labels, its value (and, for searches, their
/// total duration in microseconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    stat: Stat,
    first: u32,
    second: u32,
    value: f64,
    micros: f64,
}

/// What a statistic counts, and what its labels are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// Indexed vectors, by vector name.
    IndexedVectors,
    /// Deleted, not yet vacuumed vectors, by vector name.
    DeletedVectors,
    /// Segments, by segment type.
    Segments,
    /// Points covered by a payload index, by (payload field, index type).
    PayloadIndexPoints,
    /// Searches and their total duration, by (vector name, search path).
    Searches,
    /// Storages, by (component, I/O backend).
    IoBackends,
    /// Components, by (component, memory placement).
    MemoryPlacements,
}

/// One statistic as [`CollectionSegments::stats`] yields it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatValue<'a> {
    pub first: &'a SmolStr,
    /// Empty for statistics with one label.
    pub second: &'a SmolStr,
    pub value: f64,
    pub micros: f64,
}

/// One collection's statistics, borrowed from [`SegmentDetails`].
#[derive(Debug, Clone, Copy)]
pub struct CollectionSegments<'a> {
    span: Span,
    details: &'a SegmentDetails,
}

impl SegmentDetails {
    pub const fn new() -> SegmentDetails {
        SegmentDetails {
            names: String::new(),
            collections: Vec::new(),
            entries: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Build from `(collection, summary)` pairs in any order; each buffer is allocated once,
    /// at its final size.
    pub fn from_summaries(summaries: &[(&str, CollectionDetail)]) -> SegmentDetails {
        let mut details = SegmentDetails {
            names: String::with_capacity(summaries.iter().map(|(name, _)| name.len()).sum()),
            collections: Vec::with_capacity(summaries.len()),
            entries: Vec::with_capacity(summaries.iter().map(|(_, d)| d.len()).sum()),
            labels: Vec::new(),
        };
        let mut interned: FxHashMap<SmolStr, u32> = FxHashMap::default();
        for (name, detail) in summaries {
            let start = details.entries.len() as u32;
            detail.for_each(|stat, first, second, value, micros| {
                let entry = Entry {
                    stat,
                    first: intern(&mut interned, &mut details.labels, first),
                    second: intern(&mut interned, &mut details.labels, second),
                    value,
                    micros,
                };
                details.entries.push(entry);
            });
            let name_start = details.names.len() as u32;
            details.names.push_str(name);
            details.collections.push(Span {
                name: (name_start, details.names.len() as u32),
                entries: (start, details.entries.len() as u32),
                deferred_points: detail.deferred_points,
            });
        }
        details.labels.shrink_to_fit();
        let names = &details.names;
        details
            .collections
            .sort_unstable_by(|a, b| slice(names, a.name).cmp(slice(names, b.name)));
        details
    }

    /// How many collections have statistics.
    pub fn len(&self) -> usize {
        self.collections.len()
    }

    pub fn is_empty(&self) -> bool {
        self.collections.is_empty()
    }

    /// The statistics of the collection called `name`, if it has any.
    pub fn get(&self, name: &str) -> Option<CollectionSegments<'_>> {
        let at = self
            .collections
            .binary_search_by(|span| slice(&self.names, span.name).cmp(name))
            .ok()?;
        Some(CollectionSegments {
            span: self.collections[at],
            details: self,
        })
    }

    fn label(&self, index: u32) -> &SmolStr {
        const NONE: &SmolStr = &SmolStr::new_static("");
        self.labels.get(index as usize).unwrap_or(NONE)
    }
}

/// The index of `text` in `labels`, added the first time.
fn intern(
    interned: &mut FxHashMap<SmolStr, u32>,
    labels: &mut Vec<SmolStr>,
    text: &SmolStr,
) -> u32 {
    *interned.entry(text.clone()).or_insert_with(|| {
        labels.push(text.clone());
        labels.len() as u32 - 1
    })
}

fn slice(names: &str, (start, end): (u32, u32)) -> &str {
    names.get(start as usize..end as usize).unwrap_or_default()
}

impl<'a> CollectionSegments<'a> {
    /// The statistics of one kind, in the order of their labels.
    pub fn stats(&self, stat: Stat) -> impl Iterator<Item = StatValue<'a>> + 'a {
        let details = self.details;
        let (start, end) = self.span.entries;
        details.entries[start as usize..end as usize]
            .iter()
            .filter(move |entry| entry.stat == stat)
            .map(move |entry| StatValue {
                first: details.label(entry.first),
                second: details.label(entry.second),
                value: entry.value,
                micros: entry.micros,
            })
    }

    /// The sum of the segments' deferred points (1.18+), when reported.
    pub fn deferred_points(&self) -> Option<f64> {
        self.span.deferred_points
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(vector: &str, indexed: f64, kind: &str) -> CollectionDetail {
        let mut detail = CollectionDetail::default();
        *detail.indexed_vectors.entry_or_default(vector.into()) += indexed;
        *detail.segments.entry_or_default(kind.into()) += 1.0;
        detail
    }

    #[test]
    fn collections_are_found_by_name_whatever_the_order_they_came_in() {
        let long = "a collection name much longer than twenty-three bytes, ünïcode";
        let summaries = [
            ("zeta", detail("", 5.0, "plain")),
            (long, detail("text", 7.0, "indexed")),
            ("alpha.v2-x", detail("", 1.0, "plain")),
        ];
        let details = SegmentDetails::from_summaries(&summaries);
        assert_eq!(details.len(), 3);
        for (name, summary) in &summaries {
            let found = details.get(name).expect("listed");
            let indexed: Vec<(String, f64)> = found
                .stats(Stat::IndexedVectors)
                .map(|s| (s.first.to_string(), s.value))
                .collect();
            let expected: Vec<(String, f64)> = summary
                .indexed_vectors
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect();
            assert_eq!(indexed, expected, "{name}");
            assert_eq!(found.stats(Stat::Segments).count(), 1);
            assert_eq!(found.stats(Stat::Searches).count(), 0);
        }
        assert!(details.get("alpha").is_none());
        assert!(SegmentDetails::new().get("zeta").is_none());
        assert_eq!(
            details.labels.len(),
            4,
            "labels are shared: \"\", plain, text, indexed"
        );
    }
}
