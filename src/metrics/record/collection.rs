//! Collections as telemetry describes them on this node: the local shards' points, vectors,
//! status, optimizer and update queue, sizes; the configuration (vector dimensions,
//! replication factor); shard transfers to and from this node; snapshot activity; hardware
//! counters. Segment statistics come from `segments`, cluster-wide replicas from `cluster`.

use rustc_hash::FxHashSet;
use smallvec::SmallVec;
use smol_str::SmolStr;

use super::out::{collection_base, with, Out};
use super::segments;
use super::util::optimizer_state;
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{
    CollectionParams, CollectionSegments, CollectionTelemetry, LocalShardTelemetry,
    OperationDurations, SegmentDetails, Telemetry, VecMap, VectorsConfig,
};

/// Records every listed collection; returns the names of the collections seen.
pub(super) fn record<'t>(
    out: &mut Out,
    telemetry: &'t Telemetry,
    details: &SegmentDetails,
    peer_id: Option<u64>,
) -> Vec<&'t str> {
    let mut names = Vec::new();
    for collection in telemetry.collection_list() {
        let Some(name) = &collection.id else { continue };
        names.push(name.as_str());
        let base = collection_base(name);
        let detail = details.get(name);
        let locals: SmallVec<[&LocalShardTelemetry; 8]> = collection.local_shards().collect();
        if !locals.is_empty() {
            let single_unnamed_vector = collection
                .config
                .as_ref()
                .and_then(|c| c.params.as_ref())
                .is_some_and(has_single_unnamed_vector);
            record_local_shards(out, &locals, detail.as_ref(), single_unnamed_vector, &base);
        }
        if let Some(detail) = &detail {
            segments::record(out, detail, &base);
        }
        if let Some(params) = collection.config.as_ref().and_then(|c| c.params.as_ref()) {
            record_params(out, params, &base);
        }
        super::cluster::record_replicas(out, collection, &base);
        record_transfers(out, collection, peer_id, &base);
    }
    names
}

/// Snapshot activity and hardware counters, which telemetry lists apart from the collections
/// (and for deleted ones too): recorded for the `listed` collections.
pub(super) fn record_activity(out: &mut Out, telemetry: &Telemetry, listed: &FxHashSet<&str>) {
    record_snapshot_activity(out, telemetry, listed);
    record_hardware(out, telemetry, listed);
}

/// Whether the collection has just the one unnamed vector: totals over all vectors are then
/// attributable to it.
pub(super) fn has_single_unnamed_vector(params: &CollectionParams) -> bool {
    matches!(params.vectors, Some(VectorsConfig::Single(_)))
}

/// The sum of a field over the local shards that report it.
fn sum(
    locals: &[&LocalShardTelemetry],
    field: impl Fn(&LocalShardTelemetry) -> Option<f64>,
) -> Option<f64> {
    locals.iter().filter_map(|l| field(l)).reduce(|a, b| a + b)
}

fn record_local_shards(
    out: &mut Out,
    locals: &[&LocalShardTelemetry],
    detail: Option<&CollectionSegments>,
    single_unnamed_vector: bool,
    base: &Attributes,
) {
    out.push_opt(
        MetricId::CollectionPoints,
        sum(locals, |l| l.num_points),
        base.clone(),
    );
    for (vector, n) in local_vectors(locals, single_unnamed_vector) {
        out.push(
            MetricId::CollectionVectors,
            n,
            with(base, attr::VECTOR_NAME, vector),
        );
    }
    record_local_states(out, locals, base);
    record_local_counters(out, locals, detail, base);
}

/// Vectors by name, summed over the local shards.
fn local_vectors<'a>(
    locals: &[&'a LocalShardTelemetry],
    single_unnamed_vector: bool,
) -> VecMap<&'a str, f64> {
    let mut vectors: VecMap<&str, f64> = VecMap::default();
    for local in locals {
        match &local.num_vectors_by_name {
            Some(by_name) => {
                for (vector, n) in by_name {
                    *vectors.entry_or_default(vector.as_str()) += n;
                }
            }
            // Before 1.16 only the total exists: attributable to the unnamed vector when it is
            // the collection's only one.
            None if single_unnamed_vector => {
                if let Some(n) = local.num_vectors {
                    *vectors.entry_or_default("") += n;
                }
            }
            None => {}
        }
    }
    vectors
}

/// Collection status (the worst local shard's) and optimizer status (error if any has one).
fn record_local_states(out: &mut Out, locals: &[&LocalShardTelemetry], base: &Attributes) {
    let severity = |s: &str| match s {
        "green" => 0,
        "grey" => 1,
        "yellow" => 2,
        _ => 3,
    };
    if let Some(status) = locals
        .iter()
        .filter_map(|l| l.status.as_deref())
        .max_by_key(|s| severity(s))
    {
        out.state_set(MetricId::CollectionStatus, status, base);
    }
    let optimizer_states: Vec<&str> = locals
        .iter()
        .filter_map(|l| l.optimizations.as_ref()?.status.as_ref())
        .map(optimizer_state)
        .collect();
    if !optimizer_states.is_empty() {
        let state = if optimizer_states.contains(&"error") {
            "error"
        } else {
            "ok"
        };
        out.state_set(MetricId::OptimizerStatus, state, base);
    }
}

/// Update queue, finished optimizations and sizes, summed over the local shards.
fn record_local_counters(
    out: &mut Out,
    locals: &[&LocalShardTelemetry],
    detail: Option<&CollectionSegments>,
    base: &Attributes,
) {
    out.push_opt(
        MetricId::UpdateQueueLength,
        sum(locals, |l| l.update_queue.as_ref()?.length),
        base.clone(),
    );
    let deferred = sum(locals, |l| l.update_queue.as_ref()?.deferred_points)
        .or_else(|| detail.and_then(|d| d.deferred_points()));
    out.push_opt(MetricId::DeferredPoints, deferred, base.clone());
    out.push_opt(
        MetricId::OptimizedPoints,
        sum(locals, |l| l.total_optimized_points),
        base.clone(),
    );
    out.push_opt(
        MetricId::Optimizations,
        sum(locals, |l| finished(l)?.count),
        base.clone(),
    );
    out.push_opt(
        MetricId::OptimizationDuration,
        sum(locals, |l| finished(l)?.total_duration_micros).map(|us| us / 1e6),
        base.clone(),
    );
    for (component, value) in [
        ("vectors", sum(locals, |l| l.vectors_size_bytes)),
        ("payload", sum(locals, |l| l.payloads_size_bytes)),
    ] {
        out.push_opt(
            MetricId::CollectionSize,
            value,
            with(base, attr::COMPONENT, SmolStr::new_static(component)),
        );
    }
}

/// A local shard's finished optimizations.
fn finished(local: &LocalShardTelemetry) -> Option<&OperationDurations> {
    local.optimizations.as_ref()?.optimizations.as_ref()
}

/// Vector dimensions (by name and distance) and the replication factor.
pub(super) fn record_params(out: &mut Out, params: &CollectionParams, base: &Attributes) {
    for (vector, vector_params) in params.vectors.iter().flat_map(|v| v.iter()) {
        let distance = vector_params.distance.as_deref().unwrap_or("");
        let attributes = with(base, attr::VECTOR_NAME, vector);
        out.push(
            MetricId::VectorDimension,
            vector_params.size,
            with(&attributes, attr::DISTANCE, lowercase_distance(distance)),
        );
    }
    out.push_opt(
        MetricId::ReplicationFactor,
        params.replication_factor,
        base.clone(),
    );
}

/// Qdrant's distance names in lower case; the four it has are not copied per collection.
fn lowercase_distance(distance: &str) -> SmolStr {
    match distance {
        "Cosine" => SmolStr::new_static("cosine"),
        "Dot" => SmolStr::new_static("dot"),
        "Euclid" => SmolStr::new_static("euclid"),
        "Manhattan" => SmolStr::new_static("manhattan"),
        other => SmolStr::from(other.to_lowercase()),
    }
}

/// Transfers to and from this node (a single node has none, and reports zeros).
fn record_transfers(
    out: &mut Out,
    collection: &CollectionTelemetry,
    me: Option<u64>,
    base: &Attributes,
) {
    let Some(transfers) = &collection.transfers else {
        return;
    };
    let (mut incoming, mut outgoing) = (0.0, 0.0);
    for transfer in transfers {
        if me.is_some() && transfer.to == me {
            incoming += 1.0;
        }
        if me.is_some() && transfer.from == me {
            outgoing += 1.0;
        }
    }
    for (direction, count) in [("incoming", incoming), ("outgoing", outgoing)] {
        out.push(
            MetricId::ShardTransfers,
            count,
            with(
                base,
                attr::TRANSFER_DIRECTION,
                SmolStr::new_static(direction),
            ),
        );
    }
}

/// Snapshots being created or recovered, and snapshots created, per listed collection.
fn record_snapshot_activity(out: &mut Out, telemetry: &Telemetry, listed: &FxHashSet<&str>) {
    let snapshots = telemetry
        .collections
        .as_ref()
        .and_then(|c| c.snapshots.as_ref());
    for activity in snapshots.into_iter().flatten() {
        let Some(name) = activity.id.as_ref().filter(|n| listed.contains(n.as_str())) else {
            continue;
        };
        let base = collection_base(name);
        out.push_opt(
            MetricId::SnapshotRunning,
            activity.running_snapshots,
            base.clone(),
        );
        out.push_opt(
            MetricId::SnapshotRecoveries,
            activity.running_snapshot_recovery,
            base.clone(),
        );
        out.push_opt(
            MetricId::SnapshotCreations,
            activity.total_snapshot_creations,
            base,
        );
    }
}

/// Per-collection hardware counters, for collections that still exist (Qdrant keeps the
/// counters of deleted ones).
fn record_hardware(out: &mut Out, telemetry: &Telemetry, listed: &FxHashSet<&str>) {
    let Some(data) = telemetry
        .hardware
        .as_ref()
        .and_then(|h| h.collection_data.as_ref())
    else {
        return;
    };
    for (name, counters) in data {
        let Some(counters) = counters.as_ref().filter(|_| listed.contains(name.as_str())) else {
            continue;
        };
        let base = collection_base(name);
        for (key, value) in counters {
            let Some(value) = value.0 else {
                continue;
            };
            if key == "cpu" {
                out.push(MetricId::HardwareCpu, value, base.clone());
                continue;
            }
            // `payload_index_io_read` → target payload_index, direction read.
            let Some((target, direction)) = key.rsplit_once("_io_") else {
                continue;
            };
            let attributes = with(&base, attr::IO_DIRECTION, direction);
            out.push(
                MetricId::HardwareIo,
                value,
                with(&attributes, attr::IO_TARGET, target),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::metrics::registry::attr;
    use crate::metrics::{record, MetricId, RecordOptions};
    use crate::qdrant::models::Telemetry;
    use crate::snapshot::NodeSnapshot;
    use smol_str::SmolStr;
    use std::sync::Arc;

    #[test]
    fn transfers_are_counted_by_direction_for_this_node() {
        let telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": [{
                "id": "docs",
                "shards": [],
                "transfers": [
                    {"shard_id": 0, "from": 1, "to": 2, "sync": false},
                    {"shard_id": 1, "from": 3, "to": 2, "sync": true},
                    {"shard_id": 2, "from": 2, "to": 3, "sync": false}
                ]
            }]},
            "cluster": {"enabled": true, "status": {"role": "Follower", "peer_id": 2}}
        }))
        .unwrap();
        let snapshot = NodeSnapshot {
            telemetry: Some(Arc::new(telemetry)),
            ..NodeSnapshot::default()
        };
        let points = record(
            &snapshot,
            &crate::snapshot::AgentStats::default(),
            &RecordOptions::default(),
        )
        .node;
        let transfers = |direction: &str| {
            points
                .iter()
                .find(|p| {
                    p.metric == MetricId::ShardTransfers
                        && p.attributes
                            .contains(&(attr::TRANSFER_DIRECTION, SmolStr::new(direction)))
                })
                .map(|p| p.value)
        };
        assert_eq!(transfers("incoming"), Some(2.0));
        assert_eq!(transfers("outgoing"), Some(1.0));
    }

    #[test]
    fn a_hardware_counter_that_is_not_a_number_costs_only_itself() {
        // Through the client's own decoding: one bad counter must not fail the response.
        let body = br#"{"result": {
            "collections": {"collections": [
                {"id": "docs", "shards": []}, {"id": "empty", "shards": []}
            ]},
            "hardware": {"collection_data": {"docs": {
                "cpu": 640, "vector_io_read": null, "payload_io_write": "12",
                "payload_io_read": {"odd": 1}
            }, "empty": null}}
        }, "status": "ok"}"#;
        let telemetry = crate::qdrant::decode_telemetry(body).expect("parses");
        let snapshot = NodeSnapshot {
            telemetry: Some(Arc::new(telemetry)),
            ..NodeSnapshot::default()
        };
        let options = RecordOptions {
            selection: crate::metrics::registry::MetricSelection::all(),
            ..RecordOptions::default()
        };
        let points = record(&snapshot, &crate::snapshot::AgentStats::default(), &options).node;
        let hardware: Vec<(MetricId, f64)> = points
            .iter()
            .filter(|p| matches!(p.metric, MetricId::HardwareCpu | MetricId::HardwareIo))
            .map(|p| (p.metric, p.value))
            .collect();
        assert_eq!(
            hardware,
            [(MetricId::HardwareCpu, 640.0), (MetricId::HardwareIo, 12.0)]
        );
        let no_counters = br#"{"result": {"hardware": {"collection_data": null}}}"#;
        assert!(crate::qdrant::decode_telemetry(no_counters).is_ok());
    }
}
