//! Snapshot → metric points. Pure: no I/O, no clock; the same snapshot always gives the same
//! points, in the same order.

use std::collections::BTreeMap;

use super::registry::{attr, MetricId, MetricSelection, MetricSpec};
use crate::qdrant::models::{
    CollectionInfo, CollectionMemory, CollectionTelemetry, LocalShardTelemetry, MemoryUsage,
    OptimizationsInfo, Responses, SnapshotDescription, Telemetry, VectorsConfig,
};
use crate::qdrant::ErrorType;
use crate::snapshot::{CollectionDetail, NodeSnapshot};
use crate::sources::CollectionFilter;

/// One data point: a metric, its attributes, its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub metric: MetricId,
    pub attributes: Vec<(&'static str, String)>,
    pub value: f64,
}

impl Point {
    pub fn spec(&self) -> &'static MetricSpec {
        MetricSpec::get(self.metric)
    }
}

/// Whether this node speaks for the cluster (cluster-scoped points are only recorded when it does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterRole {
    /// Cluster mode off (or unknown): cluster-wide metrics describe this node alone and go on
    /// its resource.
    Standalone,
    /// The raft leader: cluster-wide metrics go on the cluster's resource.
    Leader,
    /// Another node is leader and reports cluster-wide metrics.
    Follower,
}

/// The points of one node's snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub points: Vec<Point>,
    pub cluster_role: ClusterRole,
}

/// What to emit: the enabled metrics, the included collections, and whether collection names
/// are hashed.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    pub selection: MetricSelection,
    pub collections: CollectionFilter,
    pub hash_collection_names: bool,
}

/// Convert a snapshot into points.
pub fn record(snapshot: &NodeSnapshot, options: &RecordOptions) -> Recorded {
    let cluster_role = cluster_role(snapshot);
    let mut out = Out {
        points: Vec::new(),
        cluster_scope: cluster_role != ClusterRole::Follower,
        selection: &options.selection,
    };
    record_node(&mut out, snapshot);
    record_cluster(&mut out, snapshot);
    let telemetry = snapshot
        .telemetry
        .as_deref()
        .filter(|_| snapshot.collections.is_none());
    let names = if let Some(telemetry) = telemetry {
        let peer_id = snapshot
            .cluster
            .as_ref()
            .and_then(|c| c.peer_id)
            .or_else(|| telemetry.cluster.as_ref()?.status.as_ref()?.peer_id);
        record_collections_from_telemetry(&mut out, telemetry, snapshot.detail.as_deref(), peer_id)
    } else if let Some(collections) = &snapshot.collections {
        record_collections_from_info(&mut out, collections);
        collections.keys().cloned().collect()
    } else {
        Vec::new()
    };
    // Slow-cadence reads, for the collections the fast path still knows.
    for name in &names {
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
        if let Some(info) = snapshot.optimizations.as_ref().and_then(|m| m.get(name)) {
            record_optimizations(&mut out, info, &base);
        }
        if let Some(memory) = snapshot.memory.as_ref().and_then(|m| m.get(name)) {
            record_memory(&mut out, memory, &base);
        }
        if let Some(list) = snapshot
            .collection_snapshots
            .as_ref()
            .and_then(|m| m.get(name))
        {
            record_snapshot_files(
                &mut out,
                list,
                [
                    MetricId::SnapshotCount,
                    MetricId::SnapshotSize,
                    MetricId::SnapshotLastCreated,
                ],
                &base,
            );
        }
    }
    record_server(&mut out, snapshot, &names);
    record_agent(&mut out, snapshot);
    let mut points = out.points;
    apply_collection_options(&mut points, options);
    Recorded {
        points,
        cluster_role,
    }
}

/// Drop excluded collections and hash names, in one place for every metric.
fn apply_collection_options(points: &mut Vec<Point>, options: &RecordOptions) {
    points.retain(|point| {
        point.attributes.iter().all(|(key, value)| {
            *key != attr::COLLECTION || value.is_empty() || options.collections.includes(value)
        })
    });
    if options.hash_collection_names {
        for point in points.iter_mut() {
            for (key, value) in point.attributes.iter_mut() {
                if *key == attr::COLLECTION && !value.is_empty() {
                    *value = hash_name(value);
                }
            }
        }
    }
}

/// A stable, irreversible stand-in for a collection name: the first 16 hex digits of its
/// SHA-256.
pub fn hash_name(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

struct Out<'a> {
    points: Vec<Point>,
    /// Record cluster-scoped metrics.
    cluster_scope: bool,
    selection: &'a MetricSelection,
}

type Attributes = Vec<(&'static str, String)>;

impl Out<'_> {
    fn push(&mut self, metric: MetricId, value: f64, attributes: Attributes) {
        if !self.selection.is_enabled(metric)
            || MetricSpec::get(metric).scope == super::registry::Scope::Cluster
                && !self.cluster_scope
        {
            return;
        }
        self.points.push(Point {
            metric,
            attributes,
            value,
        });
    }

    fn push_opt(&mut self, metric: MetricId, value: Option<f64>, attributes: Attributes) {
        if let Some(value) = value {
            self.push(metric, value, attributes);
        }
    }

    /// A state set: every declared state with 1 for the current one and 0 for the others; an
    /// undeclared current state (a newer Qdrant) is reported too rather than lost.
    fn state_set(&mut self, metric: MetricId, current: &str, attributes: &Attributes) {
        let states = MetricSpec::get(metric).states;
        for state in states {
            self.push(
                metric,
                f64::from(u8::from(*state == current)),
                with_state(attributes, state),
            );
        }
        if !states.contains(&current) {
            self.push(metric, 1.0, with_state(attributes, current));
        }
    }

    /// Counts per state: every declared state (0 when absent) plus any undeclared one seen.
    fn state_counts(
        &mut self,
        metric: MetricId,
        counts: &BTreeMap<String, f64>,
        attributes: &Attributes,
    ) {
        let states = MetricSpec::get(metric).states;
        for state in states {
            let value = counts.get(*state).copied().unwrap_or(0.0);
            self.push(metric, value, with_state(attributes, state));
        }
        for (state, value) in counts {
            if !states.contains(&state.as_str()) {
                self.push(metric, *value, with_state(attributes, state));
            }
        }
    }
}

fn with_state(attributes: &Attributes, state: &str) -> Attributes {
    let mut attributes = attributes.clone();
    attributes.push((attr::STATE, state.to_string()));
    attributes
}

fn cluster_role(snapshot: &NodeSnapshot) -> ClusterRole {
    let from_cluster = snapshot.cluster.as_ref().and_then(|c| {
        let enabled = c.status.as_deref()? == "enabled";
        let leader = c.raft_info.as_ref().and_then(|r| r.role.as_deref()) == Some("Leader");
        Some((enabled, leader))
    });
    let from_telemetry = || {
        let cluster = snapshot.telemetry.as_ref()?.cluster.as_ref()?;
        let leader = cluster.status.as_ref().and_then(|s| s.role.as_deref()) == Some("Leader");
        Some((cluster.enabled?, leader))
    };
    match from_cluster.or_else(from_telemetry) {
        Some((true, true)) => ClusterRole::Leader,
        Some((true, false)) => ClusterRole::Follower,
        _ => ClusterRole::Standalone,
    }
}

fn record_node(out: &mut Out, snapshot: &NodeSnapshot) {
    out.push(MetricId::Up, f64::from(u8::from(snapshot.up)), vec![]);
    if let Some(app) = &snapshot.app {
        if let Some(version) = &app.version {
            let commit = app.commit.clone().unwrap_or_default();
            out.push(
                MetricId::BuildInfo,
                1.0,
                vec![(attr::VERSION, version.clone()), (attr::COMMIT, commit)],
            );
        }
    }
    out.push_opt(MetricId::Uptime, snapshot.uptime_seconds, vec![]);
    out.push_opt(
        MetricId::Ready,
        snapshot.ready.map(|ready| f64::from(u8::from(ready))),
        vec![],
    );

    let Some(telemetry) = snapshot.telemetry.as_deref() else {
        return;
    };
    if let Some(collections) = &telemetry.collections {
        out.push_opt(
            MetricId::CollectionCount,
            collections.number_of_collections,
            vec![],
        );
    }
    if let Some(memory) = &telemetry.memory {
        out.push_opt(MetricId::MemoryActive, memory.active_bytes, vec![]);
        out.push_opt(MetricId::MemoryAllocated, memory.allocated_bytes, vec![]);
        out.push_opt(MetricId::MemoryMetadata, memory.metadata_bytes, vec![]);
        out.push_opt(MetricId::MemoryResident, memory.resident_bytes, vec![]);
        out.push_opt(MetricId::MemoryRetained, memory.retained_bytes, vec![]);
    }
    if let Some(system) = telemetry.app.as_ref().and_then(|a| a.system.as_ref()) {
        const KIB: f64 = 1024.0;
        out.push_opt(MetricId::SystemCpuCores, system.cores, vec![]);
        out.push_opt(
            MetricId::SystemMemorySize,
            system.ram_size.map(|k| k * KIB),
            vec![],
        );
        out.push_opt(
            MetricId::SystemDiskSize,
            system.disk_size.map(|k| k * KIB),
            vec![],
        );
    }
    if let Some(requests) = &telemetry.requests {
        for (responses, protocol) in [
            (&requests.rest, Protocol::Rest),
            (&requests.grpc, Protocol::Grpc),
        ] {
            let Some(responses) = responses else { continue };
            record_responses(out, &responses.responses, protocol, None);
            for (collection, responses) in responses.per_collection_responses.iter().flatten() {
                record_responses(out, responses, protocol, Some(collection));
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Protocol {
    Rest,
    Grpc,
}

/// Node-wide responses, or one collection's (`per_collection=true`).
fn record_responses(
    out: &mut Out,
    responses: &Responses,
    protocol: Protocol,
    collection: Option<&String>,
) {
    let (count_metric, duration_metric) = match (protocol, collection) {
        (Protocol::Rest, None) => (MetricId::RestResponses, MetricId::RestResponseDuration),
        (Protocol::Grpc, None) => (MetricId::GrpcResponses, MetricId::GrpcResponseDuration),
        (Protocol::Rest, Some(_)) => (
            MetricId::CollectionRestResponses,
            MetricId::CollectionRestResponseDuration,
        ),
        (Protocol::Grpc, Some(_)) => (
            MetricId::CollectionGrpcResponses,
            MetricId::CollectionGrpcResponseDuration,
        ),
    };
    for (endpoint, by_status) in responses {
        for (status, stats) in by_status {
            let mut attributes: Attributes = collection
                .map(|c| (attr::COLLECTION, c.clone()))
                .into_iter()
                .collect();
            match protocol {
                Protocol::Rest => {
                    // "GET /collections/{collection_name}" → method and route.
                    let (method, route) = endpoint.split_once(' ').unwrap_or(("", endpoint));
                    attributes.push((attr::HTTP_METHOD, method.to_string()));
                    attributes.push((attr::HTTP_ROUTE, route.to_string()));
                    attributes.push((attr::HTTP_STATUS, status.clone()));
                }
                Protocol::Grpc => {
                    attributes.push((attr::RPC_METHOD, endpoint.clone()));
                    attributes.push((attr::GRPC_STATUS, status.clone()));
                }
            }
            out.push_opt(count_metric, stats.count, attributes.clone());
            out.push_opt(
                duration_metric,
                stats.total_duration_micros.map(|us| us / 1e6),
                attributes,
            );
        }
    }
}

fn record_cluster(out: &mut Out, snapshot: &NodeSnapshot) {
    let Some(cluster) = &snapshot.cluster else {
        return;
    };
    let Some(status) = cluster.status.as_deref() else {
        return;
    };
    let enabled = status == "enabled";
    out.push(
        MetricId::ClusterEnabled,
        f64::from(u8::from(enabled)),
        vec![],
    );
    if !enabled {
        return;
    }
    if let Some(peers) = &cluster.peers {
        out.push(MetricId::ClusterPeers, peers.len() as f64, vec![]);
    }
    if let Some(raft) = &cluster.raft_info {
        if let (Some(leader), Some(me)) = (raft.leader, cluster.peer_id) {
            out.push(
                MetricId::ClusterLeader,
                f64::from(u8::from(leader == me)),
                vec![],
            );
        }
        out.push_opt(MetricId::RaftTerm, raft.term, vec![]);
        out.push_opt(MetricId::RaftCommit, raft.commit, vec![]);
        out.push_opt(
            MetricId::RaftPendingOperations,
            raft.pending_operations,
            vec![],
        );
        if let Some(role) = &raft.role {
            out.state_set(MetricId::RaftRole, &snake_case(role), &vec![]);
        }
        out.push_opt(
            MetricId::RaftVoter,
            raft.is_voter.map(|voter| f64::from(u8::from(voter))),
            vec![],
        );
    }
    if let Some(consensus) = &cluster.consensus_thread_status {
        if let Some(state) = &consensus.consensus_thread_status {
            out.state_set(MetricId::ConsensusStatus, &snake_case(state), &vec![]);
        }
        out.push_opt(
            MetricId::ConsensusLastUpdate,
            consensus.last_update.as_deref().and_then(unix_seconds),
            vec![],
        );
    }
    for (peer, failures) in cluster.message_send_failures.iter().flatten() {
        out.push_opt(
            MetricId::MessageSendFailures,
            failures.count,
            vec![(attr::PEER_URI, peer.clone())],
        );
    }
}

/// Returns the names of the collections seen.
fn record_collections_from_telemetry(
    out: &mut Out,
    telemetry: &Telemetry,
    details: Option<&BTreeMap<String, CollectionDetail>>,
    peer_id: Option<u64>,
) -> Vec<String> {
    let mut names = Vec::new();
    let collections = telemetry
        .collections
        .as_ref()
        .and_then(|c| c.collections.as_ref());
    for collection in collections.into_iter().flatten() {
        let Some(name) = &collection.id else { continue };
        names.push(name.clone());
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
        let locals: Vec<&LocalShardTelemetry> = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref())
            .collect();
        let detail = details.and_then(|d| d.get(name));
        if !locals.is_empty() {
            let single_unnamed_vector = collection
                .config
                .as_ref()
                .and_then(|c| c.params.as_ref())
                .and_then(|p| p.vectors.as_ref())
                .is_some_and(|v| matches!(v, VectorsConfig::Single(_)));
            record_local_shards(out, &locals, detail, single_unnamed_vector, &base);
        }
        if let Some(detail) = detail {
            record_detail(out, detail, &base);
        }
        record_config(out, collection, &base);
        record_replicas(out, collection, &base);
        record_transfers(out, collection, peer_id, &base);
    }
    let snapshots = telemetry
        .collections
        .as_ref()
        .and_then(|c| c.snapshots.as_ref());
    for activity in snapshots.into_iter().flatten() {
        let Some(name) = activity.id.as_ref().filter(|n| names.contains(n)) else {
            continue;
        };
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
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
    record_hardware(out, telemetry, &names);
    names
}

/// Per-collection hardware counters, for collections that still exist (Qdrant keeps the
/// counters of deleted ones).
fn record_hardware(out: &mut Out, telemetry: &Telemetry, names: &[String]) {
    let Some(hardware) = &telemetry.hardware else {
        return;
    };
    for (name, counters) in &hardware.collection_data {
        if !names.contains(name) {
            continue;
        }
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
        for (key, value) in counters {
            if key == "cpu" {
                out.push(MetricId::HardwareCpu, *value, base.clone());
                continue;
            }
            // `payload_index_io_read` → target payload_index, direction read.
            let Some((target, direction)) = key.rsplit_once("_io_") else {
                continue;
            };
            let mut attributes = base.clone();
            attributes.push((attr::IO_DIRECTION, direction.to_string()));
            attributes.push((attr::IO_TARGET, target.to_string()));
            out.push(MetricId::HardwareIo, *value, attributes);
        }
    }
}

fn record_local_shards(
    out: &mut Out,
    locals: &[&LocalShardTelemetry],
    detail: Option<&CollectionDetail>,
    single_unnamed_vector: bool,
    base: &Attributes,
) {
    let sum = |field: fn(&LocalShardTelemetry) -> Option<f64>| -> Option<f64> {
        locals.iter().filter_map(|l| field(l)).reduce(|a, b| a + b)
    };
    out.push_opt(
        MetricId::CollectionPoints,
        sum(|l| l.num_points),
        base.clone(),
    );

    let mut vectors: BTreeMap<&str, f64> = BTreeMap::new();
    for local in locals {
        match &local.num_vectors_by_name {
            Some(by_name) => {
                for (vector, n) in by_name {
                    *vectors.entry(vector).or_default() += n;
                }
            }
            // Before 1.16 only the total exists: attributable to the unnamed vector when it is
            // the collection's only one.
            None if single_unnamed_vector => {
                if let Some(n) = local.num_vectors {
                    *vectors.entry("").or_default() += n;
                }
            }
            None => {}
        }
    }
    for (vector, n) in vectors {
        let mut attributes = base.clone();
        attributes.push((attr::VECTOR_NAME, vector.to_string()));
        out.push(MetricId::CollectionVectors, n, attributes);
    }

    // The worst local shard's status is the collection's status on this node.
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

    out.push_opt(
        MetricId::UpdateQueueLength,
        sum(|l| l.update_queue.as_ref()?.length),
        base.clone(),
    );
    let deferred = sum(|l| l.update_queue.as_ref()?.deferred_points)
        .or_else(|| detail.and_then(|d| d.deferred_points));
    out.push_opt(MetricId::DeferredPoints, deferred, base.clone());
    out.push_opt(
        MetricId::OptimizedPoints,
        sum(|l| l.total_optimized_points),
        base.clone(),
    );
    out.push_opt(
        MetricId::Optimizations,
        sum(|l| l.optimizations.as_ref()?.optimizations.as_ref()?.count),
        base.clone(),
    );
    out.push_opt(
        MetricId::OptimizationDuration,
        sum(|l| {
            l.optimizations
                .as_ref()?
                .optimizations
                .as_ref()?
                .total_duration_micros
        })
        .map(|us| us / 1e6),
        base.clone(),
    );
    for (component, value) in [
        ("vectors", sum(|l| l.vectors_size_bytes)),
        ("payload", sum(|l| l.payloads_size_bytes)),
    ] {
        let mut attributes = base.clone();
        attributes.push((attr::COMPONENT, component.to_string()));
        out.push_opt(MetricId::CollectionSize, value, attributes);
    }
}

fn record_detail(out: &mut Out, detail: &CollectionDetail, base: &Attributes) {
    for (metric, by_vector) in [
        (MetricId::CollectionIndexedVectors, &detail.indexed_vectors),
        (MetricId::CollectionDeletedVectors, &detail.deleted_vectors),
    ] {
        for (vector, n) in by_vector {
            let mut attributes = base.clone();
            attributes.push((attr::VECTOR_NAME, vector.clone()));
            out.push(metric, *n, attributes);
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
        let mut attributes = base.clone();
        attributes.push((attr::SEGMENT_TYPE, kind.to_string()));
        out.push(MetricId::CollectionSegments, n, attributes);
    }
    for ((field, kind), points) in &detail.payload_index_points {
        let mut attributes = base.clone();
        attributes.push((attr::PAYLOAD_FIELD, field.clone()));
        attributes.push((attr::PAYLOAD_TYPE, kind.clone()));
        out.push(MetricId::PayloadIndexPoints, *points, attributes);
    }
    for ((vector, path), (count, seconds)) in &detail.searches {
        let mut attributes = base.clone();
        attributes.push((attr::VECTOR_NAME, vector.clone()));
        attributes.push((attr::SEARCH_PATH, path.clone()));
        out.push(MetricId::Searches, *count, attributes.clone());
        out.push(MetricId::SearchDuration, *seconds, attributes);
    }
}

fn record_optimizations(out: &mut Out, info: &OptimizationsInfo, base: &Attributes) {
    if let Some(summary) = &info.summary {
        out.push_opt(
            MetricId::OptimizationQueued,
            summary.queued_optimizations,
            base.clone(),
        );
        out.push_opt(
            MetricId::OptimizationQueuedSegments,
            summary.queued_segments,
            base.clone(),
        );
        out.push_opt(
            MetricId::OptimizationQueuedPoints,
            summary.queued_points,
            base.clone(),
        );
        out.push_opt(
            MetricId::OptimizationIdleSegments,
            summary.idle_segments,
            base.clone(),
        );
    }
    let Some(running) = &info.running else {
        return;
    };
    // optimizer → (running, done, total)
    let mut by_optimizer: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    for optimization in running {
        let name = optimization.optimizer.as_deref().unwrap_or("unknown");
        let entry = by_optimizer.entry(name).or_default();
        entry.0 += 1.0;
        if let Some(progress) = &optimization.progress {
            let (done, total) = progress_work(progress);
            entry.1 += done;
            entry.2 += total;
        }
    }
    for (optimizer, (count, done, total)) in by_optimizer {
        let mut attributes = base.clone();
        attributes.push((attr::OPTIMIZER, optimizer.to_string()));
        out.push(MetricId::OptimizationRunning, count, attributes.clone());
        if total > 0.0 {
            out.push(
                MetricId::OptimizationProgress,
                (done / total).clamp(0.0, 1.0),
                attributes,
            );
        }
    }
}

/// Sum `done`/`total` over the progress tree's nodes that track work.
fn progress_work(node: &serde_json::Value) -> (f64, f64) {
    let mut work = match (
        node.get("done").and_then(serde_json::Value::as_f64),
        node.get("total").and_then(serde_json::Value::as_f64),
    ) {
        (Some(done), Some(total)) => (done, total),
        _ => (0.0, 0.0),
    };
    for child in node
        .get("children")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let (done, total) = progress_work(child);
        work.0 += done;
        work.1 += total;
    }
    work
}

fn record_memory(out: &mut Out, memory: &CollectionMemory, base: &Attributes) {
    let mut emit =
        |component: String, extra: Option<(&'static str, String)>, usage: &MemoryUsage| {
            let mut attributes = base.clone();
            attributes.push((attr::COMPONENT, component));
            attributes.extend(extra);
            out.push_opt(MetricId::DiskUsage, usage.disk_bytes, attributes.clone());
            out.push_opt(MetricId::RamUsage, usage.ram_bytes, attributes.clone());
            out.push_opt(
                MetricId::PageCacheUsage,
                usage.cached_bytes,
                attributes.clone(),
            );
            out.push_opt(
                MetricId::PageCacheExpected,
                usage.expected_cache_bytes,
                attributes,
            );
        };
    for (prefix, vectors) in [
        ("vector", &memory.vectors),
        ("sparse_vector", &memory.sparse_vectors),
    ] {
        for vector in vectors {
            for (part, value) in &vector.parts {
                if let Some(usage) = MemoryUsage::from_value(value) {
                    emit(
                        format!("{prefix}_{part}"),
                        Some((attr::VECTOR_NAME, vector.name.clone())),
                        &usage,
                    );
                }
            }
        }
    }
    if let Some(payload) = &memory.payload {
        emit("payload".into(), None, payload);
    }
    for index in &memory.payload_index {
        if let Some(usage) = &index.usage {
            emit(
                "payload_index".into(),
                Some((attr::PAYLOAD_FIELD, index.name.clone())),
                usage,
            );
        }
    }
    for (component, value) in &memory.other {
        if let Some(usage) = MemoryUsage::from_value(value) {
            emit(component.clone(), None, &usage);
        }
    }
}

/// Count, total size and newest creation time of a list of snapshot files.
fn record_snapshot_files(
    out: &mut Out,
    list: &[SnapshotDescription],
    [count, size, last_created]: [MetricId; 3],
    base: &Attributes,
) {
    out.push(count, list.len() as f64, base.clone());
    out.push(size, list.iter().filter_map(|s| s.size).sum(), base.clone());
    let newest = list
        .iter()
        .filter_map(|s| s.creation_time.as_deref())
        .filter_map(unix_seconds)
        .reduce(f64::max);
    out.push_opt(last_created, newest, base.clone());
}

/// Issues, full-storage snapshots and quotas.
fn record_server(out: &mut Out, snapshot: &NodeSnapshot, collections: &[String]) {
    if let Some(report) = &snapshot.issues {
        // `UNINDEXED_FIELD/<collection>/<field>` → type and, when it names one, the collection.
        let mut counts: BTreeMap<(String, String), f64> = BTreeMap::new();
        for issue in &report.issues {
            let mut parts = issue.id.split('/');
            let kind = parts.next().unwrap_or_default().to_string();
            let collection = parts
                .next()
                .filter(|c| collections.iter().any(|name| name == c))
                .unwrap_or_default()
                .to_string();
            *counts.entry((kind, collection)).or_default() += 1.0;
        }
        for ((kind, collection), count) in counts {
            let mut attributes = vec![(attr::ISSUE_TYPE, kind)];
            if !collection.is_empty() {
                attributes.push((attr::COLLECTION, collection));
            }
            out.push(MetricId::Issues, count, attributes);
        }
    }
    if let Some(list) = &snapshot.storage_snapshots {
        record_snapshot_files(
            out,
            list,
            [
                MetricId::StorageSnapshotCount,
                MetricId::StorageSnapshotSize,
                MetricId::StorageSnapshotLastCreated,
            ],
            &vec![],
        );
    }
    if let Some(quotas) = &snapshot.quotas {
        let percent = |v: Option<f64>| v.map(|p| p / 100.0);
        if let Some(usage) = &quotas.usage {
            out.push_opt(
                MetricId::QuotaMemoryUsage,
                percent(usage.resident_memory_percent),
                vec![],
            );
            out.push_opt(
                MetricId::QuotaDiskUsage,
                percent(usage.disk_usage_percent),
                vec![],
            );
        }
        if let Some(config) = quotas.config.as_ref().filter(|c| c.enabled == Some(true)) {
            out.push_opt(
                MetricId::QuotaMemoryLimit,
                percent(config.max_resident_memory_percent),
                vec![],
            );
            out.push_opt(
                MetricId::QuotaDiskLimit,
                percent(config.max_disk_usage_percent),
                vec![],
            );
        }
    }
    // Which resources this node refuses work over: from telemetry (1.19+).
    let exceeded = snapshot
        .telemetry
        .as_ref()
        .and_then(|t| t.quota.as_ref())
        .and_then(|q| q.exceeded.as_ref());
    for (resource, state) in exceeded.into_iter().flatten() {
        if let Some(state) = state {
            out.push(
                MetricId::QuotaExceeded,
                f64::from(u8::from(*state)),
                vec![(attr::QUOTA_RESOURCE, resource.clone())],
            );
        }
    }
}

fn record_config(out: &mut Out, collection: &CollectionTelemetry, base: &Attributes) {
    let Some(params) = collection.config.as_ref().and_then(|c| c.params.as_ref()) else {
        return;
    };
    record_params(out, params, base);
}

fn record_params(
    out: &mut Out,
    params: &crate::qdrant::models::CollectionParams,
    base: &Attributes,
) {
    if let Some(vectors) = &params.vectors {
        for (vector, vector_params) in vectors.iter() {
            let mut attributes = base.clone();
            attributes.push((attr::VECTOR_NAME, vector.to_string()));
            attributes.push((
                attr::DISTANCE,
                vector_params
                    .distance
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase(),
            ));
            out.push(MetricId::VectorDimension, vector_params.size, attributes);
        }
    }
    out.push_opt(
        MetricId::ReplicationFactor,
        params.replication_factor,
        base.clone(),
    );
}

fn record_replicas(out: &mut Out, collection: &CollectionTelemetry, base: &Attributes) {
    let Some(shards) = &collection.shards else {
        return;
    };
    out.push(
        MetricId::CollectionShards,
        shards.len() as f64,
        base.clone(),
    );
    let mut states: BTreeMap<String, f64> = BTreeMap::new();
    for state in shards
        .iter()
        .filter_map(|s| s.replicate_states.as_ref())
        .flat_map(|states| states.values())
    {
        *states.entry(snake_case(state)).or_default() += 1.0;
    }
    out.state_counts(MetricId::CollectionReplicas, &states, base);
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
        let mut attributes = base.clone();
        attributes.push((attr::TRANSFER_DIRECTION, direction.to_string()));
        out.push(MetricId::ShardTransfers, count, attributes);
    }
}

/// The fallback path: `/collections/{name}` describes the collection cluster-wide.
fn record_collections_from_info(out: &mut Out, collections: &BTreeMap<String, CollectionInfo>) {
    for (name, info) in collections {
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
        out.push_opt(MetricId::CollectionPoints, info.points_count, base.clone());
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
        // `indexed_vectors_count` is a total over all vectors: attributable to a vector name
        // only when the collection has the single unnamed one.
        let single_unnamed = params
            .and_then(|p| p.vectors.as_ref())
            .is_some_and(|v| matches!(v, VectorsConfig::Single(_)));
        if single_unnamed {
            let mut attributes = base.clone();
            attributes.push((attr::VECTOR_NAME, String::new()));
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
}

fn record_agent(out: &mut Out, snapshot: &NodeSnapshot) {
    // A source may make several requests (e.g. `snapshots`): its duration is their sum.
    let mut durations: BTreeMap<crate::sources::SourceId, f64> = BTreeMap::new();
    for report in &snapshot.sources {
        *durations.entry(report.source).or_default() += report.duration.as_secs_f64();
    }
    for (source, seconds) in durations {
        out.push(
            MetricId::PollDuration,
            seconds,
            vec![(attr::SOURCE, source.as_str().to_string())],
        );
    }
    // Every error type of every source polled so far, zeros included, so that the first error
    // of a kind is an increase and not the birth of a series.
    let mut errors: BTreeMap<(crate::sources::SourceId, ErrorType), u64> = BTreeMap::new();
    let sources = snapshot
        .sources
        .iter()
        .map(|r| r.source)
        .chain(snapshot.agent.poll_errors.keys().map(|(s, _)| *s));
    for source in sources {
        for error_type in ErrorType::ALL {
            errors.entry((source, error_type)).or_insert(0);
        }
    }
    for (key, count) in &snapshot.agent.poll_errors {
        errors.insert(*key, *count);
    }
    for ((source, error_type), count) in errors {
        out.push(
            MetricId::PollErrors,
            count as f64,
            vec![
                (attr::SOURCE, source.as_str().to_string()),
                (attr::ERROR_TYPE, error_type.as_str().to_string()),
            ],
        );
    }
    out.push(
        MetricId::ExportFailures,
        snapshot.agent.export_failures as f64,
        vec![],
    );
    out.push_opt(
        MetricId::ExportedPoints,
        snapshot.agent.exported_points.map(|n| n as f64),
        vec![],
    );
}

/// `"ok"` or `{"error": "..."}` → `ok` / `error`.
fn optimizer_state(status: &serde_json::Value) -> &'static str {
    match status {
        serde_json::Value::String(s) if s == "ok" => "ok",
        _ => "error",
    }
}

/// `PreCandidate` → `pre_candidate`; already snake_case input is unchanged.
fn snake_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 3339 (or Qdrant's zone-less UTC `2026-11-22T11:29:05`) → Unix seconds (fractional).
fn unix_seconds(timestamp: &str) -> Option<f64> {
    let time = humantime::parse_rfc3339_weak(timestamp).ok()?;
    Some(
        time.duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs_f64(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_handles_qdrant_enums() {
        assert_eq!(snake_case("PreCandidate"), "pre_candidate");
        assert_eq!(snake_case("ReshardingScaleDown"), "resharding_scale_down");
        assert_eq!(snake_case("Active"), "active");
        assert_eq!(snake_case("stopped_with_err"), "stopped_with_err");
    }

    #[test]
    fn nanosecond_timestamps_parse() {
        let t = unix_seconds("2026-11-22T11:31:50.230190321Z").unwrap();
        assert!((t - 1_795_347_110.230_190_3).abs() < 1e-3, "{t}");
    }

    #[test]
    fn an_empty_snapshot_still_says_down() {
        let recorded = record(&NodeSnapshot::default(), &RecordOptions::default());
        assert_eq!(recorded.points[0].metric, MetricId::Up);
        assert_eq!(recorded.points[0].value, 0.0);
        assert_eq!(recorded.cluster_role, ClusterRole::Standalone);
    }

    #[test]
    fn zone_less_snapshot_times_parse() {
        assert_eq!(unix_seconds("1970-01-01T00:01:40"), Some(100.0));
    }

    #[test]
    fn hashes_are_stable_and_not_the_name() {
        assert_eq!(hash_name("articles"), hash_name("articles"));
        assert_ne!(hash_name("articles"), hash_name("articles2"));
        assert_eq!(hash_name("articles").len(), 16);
    }

    #[test]
    fn progress_sums_tracked_work() {
        let tree = serde_json::json!({"children": [{"done": 5, "total": 10}, {"children": [{"done": 1, "total": 10}]}, {"name": "x"}]});
        assert_eq!(progress_work(&tree), (6.0, 20.0));
    }
    use crate::qdrant::models::Telemetry;
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
        let points = record(&snapshot, &RecordOptions::default()).points;
        let transfers = |direction: &str| {
            points
                .iter()
                .find(|p| {
                    p.metric == MetricId::ShardTransfers
                        && p.attributes
                            .contains(&(attr::TRANSFER_DIRECTION, direction.to_string()))
                })
                .map(|p| p.value)
        };
        assert_eq!(transfers("incoming"), Some(2.0));
        assert_eq!(transfers("outgoing"), Some(1.0));
    }
}
