//! The fallback path, when telemetry is forbidden, unreadable or lists no collections: each
//! collection's `/collections/{name}` info, which describes the collection cluster-wide. Its
//! counts are logical (cluster-scoped) metrics; they fill the node-local ones only on a single
//! node, where both are the same.

use std::collections::BTreeMap;

use super::collection::{has_single_unnamed_vector, record_params};
use super::out::{collection_base, with, Out};
use super::util::optimizer_state;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::CollectionInfo;

pub(super) fn record(out: &mut Out, collections: &BTreeMap<String, CollectionInfo>) {
    for (name, info) in collections {
        record_info(out, name, info);
    }
}

fn record_info(out: &mut Out, name: &str, info: &CollectionInfo) {
    let base = collection_base(name);
    out.push_opt(MetricId::LogicalPoints, info.points_count, base.clone());
    if out.is_standalone() {
        out.push_opt(MetricId::CollectionPoints, info.points_count, base.clone());
    }
    if let Some(status) = &info.status {
        out.state_set(MetricId::CollectionStatus, status, &base);
    }
    if let Some(status) = &info.optimizer_status {
        out.state_set(MetricId::OptimizerStatus, optimizer_state(status), &base);
    }
    if let Some(queue) = &info.update_queue {
        out.push_opt(MetricId::UpdateQueueLength, queue.length, base.clone());
        out.push_opt(
            MetricId::DeferredPoints,
            queue.deferred_points,
            base.clone(),
        );
    }
    let params = info.config.as_ref().and_then(|c| c.params.as_ref());
    // `indexed_vectors_count` is a total over all vectors: attributable to a vector name only
    // when the collection has the single unnamed one.
    if params.is_some_and(has_single_unnamed_vector) && out.is_standalone() {
        let attributes = with(&base, attr::VECTOR_NAME, "");
        out.push_opt(
            MetricId::CollectionIndexedVectors,
            info.indexed_vectors_count,
            attributes.clone(),
        );
        // `vectors_count` exists up to 1.15 only.
        out.push_opt(MetricId::CollectionVectors, info.vectors_count, attributes);
    }
    if let Some(params) = params {
        record_params(out, params, &base);
        out.push_opt(
            MetricId::CollectionShards,
            params.shard_number,
            base.clone(),
        );
    }
}
