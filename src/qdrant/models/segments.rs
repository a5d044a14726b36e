//! Segment-level statistics summed from level-4 telemetry: indexed and deleted vectors,
//! segments by type, deferred points, payload index coverage and searches by path, per
//! collection over this node's local shards.
//!
//! Summed once, when a slow poll reads level 4, so that only this summary (a few hundred bytes
//! per collection) is kept until the next slow poll, not the whole parsed response (megabytes
//! at thousands of collections), and fast polls do not sum it again.

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};

use super::{SegmentInfo, SegmentTelemetry, Telemetry, VecMap};

/// collection name → its segments' statistics.
pub type SegmentDetails = BTreeMap<String, CollectionDetail>;

/// Segment-level statistics of one collection (this node's local shards), summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectionDetail {
    /// vector name → indexed vectors.
    pub indexed_vectors: VecMap<String, f64>,
    /// vector name → deleted, not yet vacuumed vectors.
    pub deleted_vectors: VecMap<String, f64>,
    /// segment type → segments.
    pub segments: VecMap<String, f64>,
    /// Sum of segments' deferred points (1.18+), when reported.
    pub deferred_points: Option<f64>,
    /// (payload field, index type) → points covered.
    pub payload_index_points: VecMap<(String, String), f64>,
    /// (vector name, search path) → (searches, total microseconds: summed as integers are, in
    /// any order, and turned into seconds when recorded).
    pub searches: VecMap<(String, String), (f64, f64)>,
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

impl ShardSegments {
    fn add(&mut self, segment: &SegmentTelemetry) {
        for index in segment.vector_index_searches.iter().flatten() {
            add_searches(&mut self.detail, index);
        }
        if let Some(info) = &segment.info {
            self.saw_segments = true;
            add_segment(&mut self.detail, info);
        }
    }
}

impl CollectionDetail {
    /// Give back the maps' spare room once they are summed: summaries stay until the next
    /// slow poll.
    fn shrink_to_fit(&mut self) {
        self.indexed_vectors.shrink_to_fit();
        self.deleted_vectors.shrink_to_fit();
        self.segments.shrink_to_fit();
        self.payload_index_points.shrink_to_fit();
        self.searches.shrink_to_fit();
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

/// `segments` of a local shard, summed as the list is read (`null` reads as absent).
pub(super) fn fold_segments<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<ShardSegments>, D::Error> {
    struct Fold;
    impl<'de> Visitor<'de> for Fold {
        type Value = Option<ShardSegments>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of segments")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut summary = ShardSegments::default();
            while let Some(segment) = seq.next_element::<SegmentTelemetry>()? {
                summary.add(&segment);
            }
            summary.detail.shrink_to_fit();
            Ok(Some(summary))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    deserializer.deserialize_option(Fold)
}

/// Sum each collection's segment statistics over its local shards; collections without any
/// segment information are left out.
pub fn collection_details(telemetry: &Telemetry) -> SegmentDetails {
    let mut details = BTreeMap::new();
    for collection in telemetry.collection_list() {
        let Some(name) = &collection.id else { continue };
        let mut detail = CollectionDetail::default();
        let mut saw_segments = false;
        for shard in collection
            .local_shards()
            .filter_map(|l| l.segments.as_ref())
        {
            saw_segments |= shard.saw_segments;
            detail.merge(&shard.detail);
        }
        if saw_segments {
            detail.shrink_to_fit();
            details.insert(name.clone(), detail);
        }
    }
    details
}

fn add_segment(detail: &mut CollectionDetail, info: &SegmentInfo) {
    let kind = info.segment_type.as_deref().unwrap_or("unknown");
    *detail.segments.entry_or_default(kind.to_string()) += 1.0;
    if let Some(deferred) = info.num_deferred_points {
        *detail.deferred_points.get_or_insert(0.0) += deferred;
    }
    for (field, index) in info.index_schema.iter().flatten() {
        if let Some(points) = index.points {
            let kind = index.data_type.clone().unwrap_or_default();
            *detail
                .payload_index_points
                .entry_or_default((field.clone(), kind)) += points;
        }
    }
    for (vector, data) in info.vector_data.iter().flatten() {
        if let Some(n) = data.num_indexed_vectors {
            *detail.indexed_vectors.entry_or_default(vector.clone()) += n;
        }
        if let Some(n) = data.num_deleted_vectors {
            *detail.deleted_vectors.entry_or_default(vector.clone()) += n;
        }
    }
}

/// One vector index's search statistics: `index_name` plus one entry per search path.
fn add_searches(detail: &mut CollectionDetail, index: &BTreeMap<String, serde_json::Value>) {
    let vector = index
        .get("index_name")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    for (path, stats) in index {
        let Some(count) = stats.get("count").and_then(serde_json::Value::as_f64) else {
            continue;
        };
        let micros = stats
            .get("total_duration_micros")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        let entry = detail
            .searches
            .entry_or_default((vector.clone(), path.clone()));
        entry.0 += count;
        entry.1 += micros;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_summed_over_local_shards() {
        let telemetry: Telemetry = serde_json::from_value(serde_json::json!({
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
        let details = collection_details(&telemetry);
        assert_eq!(
            details.len(),
            1,
            "a collection without segments is left out"
        );
        let docs = &details["docs"];
        assert_eq!(docs.segments["indexed"], 2.0);
        assert_eq!(docs.segments["plain"], 1.0);
        assert_eq!(docs.indexed_vectors[""], 15.0);
        assert_eq!(docs.deleted_vectors[""], 1.0);
        assert_eq!(docs.deferred_points, Some(5.0));
    }
}
