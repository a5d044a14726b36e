//! Segment-level metrics, from the segment summary of the latest level-4 telemetry
//! (`snapshot.detail`, kept between slow polls; summed in `qdrant::models::segments`):
//! indexed and deleted vectors, segments, payload index coverage, I/O backends and memory
//! placements (1.19+), searches.

use std::collections::BTreeMap;

use super::out::{with, Out};
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{CollectionSegments, Stat};

pub(super) fn record(out: &mut Out, detail: &CollectionSegments, base: &Attributes) {
    for (metric, stat) in [
        (MetricId::CollectionIndexedVectors, Stat::IndexedVectors),
        (MetricId::CollectionDeletedVectors, Stat::DeletedVectors),
    ] {
        for vector in detail.stats(stat) {
            let attributes = with(base, attr::VECTOR_NAME, vector.first.clone());
            out.push(metric, vector.value, attributes);
        }
    }
    // Known segment types are always reported so a type that drops to zero reads 0, not absent.
    let mut segments: BTreeMap<&str, f64> = ["plain", "indexed", "special"]
        .into_iter()
        .map(|t| (t, 0.0))
        .collect();
    for kind in detail.stats(Stat::Segments) {
        *segments.entry(kind.first.as_str()).or_default() += kind.value;
    }
    for (kind, n) in segments {
        out.push(
            MetricId::CollectionSegments,
            n,
            with(base, attr::SEGMENT_TYPE, kind),
        );
    }
    for index in detail.stats(Stat::PayloadIndexPoints) {
        let attributes = with(base, attr::PAYLOAD_FIELD, index.first.clone());
        out.push(
            MetricId::PayloadIndexPoints,
            index.value,
            with(&attributes, attr::PAYLOAD_TYPE, index.second.clone()),
        );
    }
    for (metric, stat, key) in [
        (
            MetricId::IoBackendStorages,
            Stat::IoBackends,
            attr::IO_BACKEND,
        ),
        (
            MetricId::MemoryPlacementComponents,
            Stat::MemoryPlacements,
            attr::MEMORY_PLACEMENT,
        ),
    ] {
        for counted in detail.stats(stat) {
            let attributes = with(base, attr::COMPONENT, counted.first.clone());
            out.push(
                metric,
                counted.value,
                with(&attributes, key, counted.second.clone()),
            );
        }
    }
    for search in detail.stats(Stat::Searches) {
        let attributes = with(base, attr::VECTOR_NAME, search.first.clone());
        let attributes = with(&attributes, attr::SEARCH_PATH, search.second.clone());
        out.push(MetricId::Searches, search.value, attributes.clone());
        out.push(MetricId::SearchDuration, search.micros / 1e6, attributes);
    }
}
