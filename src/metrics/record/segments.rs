//! Segment-level metrics, from the segment summary of the latest level-4 telemetry
//! (`snapshot.detail`, kept between slow polls; summed in `qdrant::models::segments`).

use std::collections::BTreeMap;

use super::out::{with, Out};
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::CollectionDetail;

pub(super) fn record(out: &mut Out, detail: &CollectionDetail, base: &Attributes) {
    for (metric, by_vector) in [
        (MetricId::CollectionIndexedVectors, &detail.indexed_vectors),
        (MetricId::CollectionDeletedVectors, &detail.deleted_vectors),
    ] {
        for (vector, n) in by_vector {
            out.push(metric, *n, with(base, attr::VECTOR_NAME, vector));
        }
    }
    // Known segment types are always reported so a type that drops to zero reads 0, not absent.
    let mut segments: BTreeMap<&str, f64> = ["plain", "indexed", "special"]
        .into_iter()
        .map(|t| (t, 0.0))
        .collect();
    for (kind, n) in &detail.segments {
        *segments.entry(kind).or_default() += n;
    }
    for (kind, n) in segments {
        out.push(
            MetricId::CollectionSegments,
            n,
            with(base, attr::SEGMENT_TYPE, kind),
        );
    }
    for ((field, kind), points) in &detail.payload_index_points {
        let attributes = with(base, attr::PAYLOAD_FIELD, field);
        out.push(
            MetricId::PayloadIndexPoints,
            *points,
            with(&attributes, attr::PAYLOAD_TYPE, kind),
        );
    }
    for ((vector, path), (count, micros)) in &detail.searches {
        let attributes = with(base, attr::VECTOR_NAME, vector);
        let attributes = with(&attributes, attr::SEARCH_PATH, path);
        out.push(MetricId::Searches, *count, attributes.clone());
        out.push(MetricId::SearchDuration, micros / 1e6, attributes);
    }
}
