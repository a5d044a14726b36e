//! Segment-level statistics summed from level-4 telemetry: indexed and deleted vectors,
//! segments by type, deferred points, payload index coverage and searches by path, per
//! collection over this node's local shards.
//!
//! Summed once, when a slow poll reads level 4, so that only this summary is kept until the
//! next slow poll ([`SegmentDetails`], ~200 bytes per collection in a few flat buffers), not the
//! whole parsed response (megabytes at thousands of collections), and fast polls do not sum it
//! again.

use smol_str::SmolStr;

use super::{CollectionTelemetry, SegmentDetails, Stat, Telemetry, VecMap};

/// Segment-level statistics of a local shard, or of a collection's local shards, summed while a
/// level-4 response is read (and kept flat, as [`SegmentDetails`], once it is). Its names are
/// `SmolStr`: the short names of vectors, segment types, fields and search paths are held
/// inline, not allocated once per segment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionDetail {
    /// vector name → indexed vectors.
    pub indexed_vectors: VecMap<SmolStr, f64>,
    /// vector name → deleted, not yet vacuumed vectors.
    pub deleted_vectors: VecMap<SmolStr, f64>,
    /// segment type → segments.
    pub segments: VecMap<SmolStr, f64>,
    /// Sum of segments' deferred points (1.18+), when reported.
    pub deferred_points: Option<f64>,
    /// (payload field, index type) → points covered.
    pub payload_index_points: VecMap<(SmolStr, SmolStr), f64>,
    /// (vector name, search path) → (searches, total microseconds: summed as integers are, in
    /// any order, and turned into seconds when recorded).
    pub searches: VecMap<(SmolStr, SmolStr), (f64, f64)>,
    /// (component: `vector_storage` | `payload`, I/O backend) → storages (1.19+).
    pub io_backends: VecMap<(SmolStr, SmolStr), f64>,
    /// (component: `vector_index` | `vector_quantized` | `sparse_vector_index` |
    /// `payload_index`, memory placement) → components (1.19+).
    pub placements: VecMap<(SmolStr, SmolStr), f64>,
}

/// A local shard's segments, summed while the response is parsed: each segment is read, added
/// and dropped, so a level-4 response never holds its segments (tens of thousands on a large
/// node) in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShardSegments {
    pub detail: CollectionDetail,
    /// At least one segment carried its `info`.
    pub saw_segments: bool,
}

impl CollectionDetail {
    /// How many statistics it holds (deferred points aside).
    pub fn len(&self) -> usize {
        self.indexed_vectors.len()
            + self.deleted_vectors.len()
            + self.segments.len()
            + self.payload_index_points.len()
            + self.searches.len()
            + self.io_backends.len()
            + self.placements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Each statistic, by kind then label: `(kind, label, second label or "", value,
    /// microseconds)`.
    pub fn for_each(&self, mut f: impl FnMut(Stat, &SmolStr, &SmolStr, f64, f64)) {
        let none = SmolStr::default();
        for (stat, map) in [
            (Stat::IndexedVectors, &self.indexed_vectors),
            (Stat::DeletedVectors, &self.deleted_vectors),
            (Stat::Segments, &self.segments),
        ] {
            for (label, n) in map {
                f(stat, label, &none, *n, 0.0);
            }
        }
        for (stat, map) in [
            (Stat::PayloadIndexPoints, &self.payload_index_points),
            (Stat::IoBackends, &self.io_backends),
            (Stat::MemoryPlacements, &self.placements),
        ] {
            for ((first, second), n) in map {
                f(stat, first, second, *n, 0.0);
            }
        }
        for ((vector, path), (count, micros)) in &self.searches {
            f(Stat::Searches, vector, path, *count, *micros);
        }
    }

    fn merge(&mut self, other: &CollectionDetail) {
        fn add<K: Ord + Clone>(into: &mut VecMap<K, f64>, from: &VecMap<K, f64>) {
            for (key, n) in from {
                *into.entry_or_default(key.clone()) += n;
            }
        }
        add(&mut self.indexed_vectors, &other.indexed_vectors);
        add(&mut self.deleted_vectors, &other.deleted_vectors);
        add(&mut self.segments, &other.segments);
        add(&mut self.payload_index_points, &other.payload_index_points);
        add(&mut self.io_backends, &other.io_backends);
        add(&mut self.placements, &other.placements);
        if let Some(deferred) = other.deferred_points {
            *self.deferred_points.get_or_insert(0.0) += deferred;
        }
        for (key, (count, micros)) in &other.searches {
            let entry = self.searches.entry_or_default(key.clone());
            entry.0 += count;
            entry.1 += micros;
        }
    }
}

/// Sum each collection's segment statistics over its local shards, taking them out of the
/// parsed telemetry (nothing reads them there afterwards): a collection with one local shard
/// hands its summary over as it is. Collections without any segment information are left out.
pub fn collection_details(telemetry: &mut Telemetry) -> SegmentDetails {
    let summed: Vec<Option<CollectionDetail>> =
        telemetry.collection_list_mut().map(take_summary).collect();
    let summaries: Vec<(&str, CollectionDetail)> = telemetry
        .collection_list()
        .zip(summed)
        .filter_map(|(collection, detail)| Some((collection.id.as_deref()?, detail?)))
        .collect();
    SegmentDetails::from_summaries(&summaries)
}

/// A collection's local shards' summaries, summed; `None` when no segment was described.
fn take_summary(collection: &mut CollectionTelemetry) -> Option<CollectionDetail> {
    let mut summed: Option<CollectionDetail> = None;
    let mut saw_segments = false;
    for shard in collection.local_shards_mut() {
        let Some(segments) = shard.segments.take() else {
            continue;
        };
        saw_segments |= segments.saw_segments;
        match &mut summed {
            None => summed = Some(segments.detail),
            Some(detail) => detail.merge(&segments.detail),
        }
    }
    summed.filter(|_| saw_segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_summed_over_local_shards() {
        let mut telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": [{
                "id": "docs",
                "shards": [
                    {"local": {"segments": [
                        {"info": {"segment_type": "indexed", "num_deferred_points": 2,
                                  "vector_data": {"": {"num_indexed_vectors": 10}}}},
                        {"info": {"segment_type": "plain",
                                  "vector_data": {"": {"num_deleted_vectors": 1}}}}
                    ]}},
                    {"local": {"segments": [
                        {"info": {"segment_type": "indexed", "num_deferred_points": 3,
                                  "vector_data": {"": {"num_indexed_vectors": 5}}}}
                    ]}},
                    {"remote": [{}]}
                ]
            }, {"id": "no_segments", "shards": [{"local": {}}, {"local": {"segments": null}},
                                                 {"local": {"segments": []}}]}]}
        }))
        .unwrap();
        let details = collection_details(&mut telemetry);
        assert_eq!(
            details.len(),
            1,
            "a collection without segments is left out"
        );
        let docs = details.get("docs").expect("docs has segments");
        let stats = |stat| -> Vec<(String, f64)> {
            docs.stats(stat)
                .map(|s| (s.first.to_string(), s.value))
                .collect()
        };
        let pair = |name: &str, n: f64| (name.to_string(), n);
        assert_eq!(
            stats(Stat::Segments),
            [pair("indexed", 2.0), pair("plain", 1.0)]
        );
        assert_eq!(stats(Stat::IndexedVectors), [pair("", 15.0)]);
        assert_eq!(stats(Stat::DeletedVectors), [pair("", 1.0)]);
        assert_eq!(docs.deferred_points(), Some(5.0));
    }

    /// 1.19's backends and placements, where its spec puts them, summed over two shards.
    #[test]
    fn io_backends_and_memory_placements_are_counted_per_component() {
        let segment = serde_json::json!({
            "info": {"segment_type": "indexed", "payload_storage_io_backend": "mmap",
                     "vector_data": {"": {"num_vectors": 1, "io_backend": "io_uring"},
                                     "kw": {"num_vectors": 1}},
                     "index_schema": {"tag": {"data_type": "keyword", "points": 1,
                                              "params": {"type": "keyword", "memory": "pinned"}},
                                      "n": {"data_type": "integer", "points": 1, "params": null}}},
            "config": {"vector_data": {"": {"index": {"type": "hnsw", "options": {"memory": "cold"}},
                                            "quantization_config": {"binary": {"memory": "pinned"}}},
                                       "p": {"index": {"type": "plain", "options": {"memory": "x"}}}},
                       "sparse_vector_data": {"kw": {"index": {"memory": "cached"}}}}
        });
        let mut telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": [{"id": "docs", "shards": [
                {"local": {"segments": [segment.clone()]}},
                {"local": {"segments": [segment, {"info": {"segment_type": "plain"}}]}}
            ]}]}
        }))
        .unwrap();
        let details = collection_details(&mut telemetry);
        let docs = details.get("docs").expect("docs has segments");
        let stats = |stat| -> Vec<(String, String, f64)> {
            docs.stats(stat)
                .map(|s| (s.first.to_string(), s.second.to_string(), s.value))
                .collect()
        };
        let row = |a: &str, b: &str, n: f64| (a.to_string(), b.to_string(), n);
        assert_eq!(
            stats(Stat::IoBackends),
            [
                row("payload", "mmap", 2.0),
                row("vector_storage", "io_uring", 2.0)
            ],
            "a storage without a backend, and a segment without any, are not counted"
        );
        assert_eq!(
            stats(Stat::MemoryPlacements),
            [
                row("payload_index", "pinned", 2.0),
                row("sparse_vector_index", "cached", 2.0),
                row("vector_index", "cold", 2.0),
                row("vector_quantized", "pinned", 2.0),
            ],
            "a plain index has no graph to place"
        );
    }

    #[test]
    fn searches_are_summed_per_vector_and_path_and_odd_fields_skipped() {
        let mut telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": [{"id": "docs", "shards": [{"local": {"segments": [
                {"info": {"segment_type": "plain"}, "vector_index_searches": [
                    {"index_name": "text",
                     "unfiltered_plain": {"count": 3, "total_duration_micros": 30},
                     "filtered_plain": {"count": "2", "avg_duration_micros": 1.5},
                     "unfiltered_hnsw": {"total_duration_micros": 9},
                     "weird": [1, 2], "flag": true, "none": null, "n": 4}
                ]},
                {"info": {"segment_type": "plain"}, "vector_index_searches": [
                    {"unfiltered_plain": {"count": 1, "total_duration_micros": 5}},
                    {"index_name": "text", "unfiltered_plain": {"count": 1}}
                ]}
            ]}}]}]}
        }))
        .unwrap();
        let details = collection_details(&mut telemetry);
        let docs = details.get("docs").expect("docs has segments");
        let searches: Vec<(&str, &str, f64, f64)> = docs
            .stats(Stat::Searches)
            .map(|s| (s.first.as_str(), s.second.as_str(), s.value, s.micros))
            .collect();
        assert_eq!(
            searches,
            [
                ("", "unfiltered_plain", 1.0, 5.0),
                ("text", "filtered_plain", 2.0, 0.0),
                ("text", "unfiltered_plain", 4.0, 30.0),
            ],
            "a path without a count is skipped, a count written as text is read, and an \
             index without a name is the unnamed vector"
        );
    }
}
