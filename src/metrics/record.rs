//! Snapshot → metric points. Pure: no I/O, no clock; the same snapshot always gives the same
//! points, in the same order.

use std::collections::BTreeMap;

use super::registry::{attr, MetricId, MetricSpec};
use crate::qdrant::models::{
    CollectionInfo, CollectionTelemetry, LocalShardTelemetry, ResponsesTelemetry, Telemetry,
};
use crate::qdrant::ErrorType;
use crate::snapshot::{CollectionDetail, NodeSnapshot};

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

/// Convert a snapshot into points.
pub fn record(snapshot: &NodeSnapshot) -> Recorded {
    let cluster_role = cluster_role(snapshot);
    let mut out = Out {
        points: Vec::new(),
        cluster_scope: cluster_role != ClusterRole::Follower,
    };
    record_node(&mut out, snapshot);
    record_cluster(&mut out, snapshot);
    if let Some(telemetry) = snapshot
        .telemetry
        .as_deref()
        .filter(|_| snapshot.collections.is_none())
    {
        record_collections_from_telemetry(&mut out, telemetry, snapshot.detail.as_deref());
    } else if let Some(collections) = &snapshot.collections {
        record_collections_from_info(&mut out, collections);
    }
    record_agent(&mut out, snapshot);
    Recorded {
        points: out.points,
        cluster_role,
    }
}

struct Out {
    points: Vec<Point>,
    /// Record cluster-scoped metrics.
    cluster_scope: bool,
}

type Attributes = Vec<(&'static str, String)>;

impl Out {
    fn push(&mut self, metric: MetricId, value: f64, attributes: Attributes) {
        if MetricSpec::get(metric).scope == super::registry::Scope::Cluster && !self.cluster_scope {
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
        if let Some(rest) = &requests.rest {
            record_responses(out, rest, Protocol::Rest);
        }
        if let Some(grpc) = &requests.grpc {
            record_responses(out, grpc, Protocol::Grpc);
        }
    }
}

enum Protocol {
    Rest,
    Grpc,
}

fn record_responses(out: &mut Out, responses: &ResponsesTelemetry, protocol: Protocol) {
    for (endpoint, by_status) in &responses.responses {
        for (status, stats) in by_status {
            let (count_metric, duration_metric, attributes) = match protocol {
                Protocol::Rest => {
                    // "GET /collections/{collection_name}" → method and route.
                    let (method, route) = endpoint.split_once(' ').unwrap_or(("", endpoint));
                    (
                        MetricId::RestResponses,
                        MetricId::RestResponseDuration,
                        vec![
                            (attr::HTTP_METHOD, method.to_string()),
                            (attr::HTTP_ROUTE, route.to_string()),
                            (attr::HTTP_STATUS, status.clone()),
                        ],
                    )
                }
                Protocol::Grpc => (
                    MetricId::GrpcResponses,
                    MetricId::GrpcResponseDuration,
                    vec![
                        (attr::RPC_METHOD, endpoint.clone()),
                        (attr::GRPC_STATUS, status.clone()),
                    ],
                ),
            };
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

fn record_collections_from_telemetry(
    out: &mut Out,
    telemetry: &Telemetry,
    details: Option<&BTreeMap<String, CollectionDetail>>,
) {
    let collections = telemetry
        .collections
        .as_ref()
        .and_then(|c| c.collections.as_ref());
    for collection in collections.into_iter().flatten() {
        let Some(name) = &collection.id else { continue };
        let base: Attributes = vec![(attr::COLLECTION, name.clone())];
        let locals: Vec<&LocalShardTelemetry> = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref())
            .collect();
        let detail = details.and_then(|d| d.get(name));
        if !locals.is_empty() {
            record_local_shards(out, &locals, detail, &base);
        }
        if let Some(detail) = detail {
            record_detail(out, detail, &base);
        }
        record_config(out, collection, &base);
        record_replicas(out, collection, &base);
    }
}

fn record_local_shards(
    out: &mut Out,
    locals: &[&LocalShardTelemetry],
    detail: Option<&CollectionDetail>,
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
        for (vector, n) in local.num_vectors_by_name.iter().flatten() {
            *vectors.entry(vector).or_default() += n;
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
            .is_some_and(|v| matches!(v, crate::qdrant::models::VectorsConfig::Single(_)));
        if single_unnamed {
            let mut attributes = base.clone();
            attributes.push((attr::VECTOR_NAME, String::new()));
            out.push_opt(
                MetricId::CollectionIndexedVectors,
                info.indexed_vectors_count,
                attributes,
            );
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
    for report in &snapshot.sources {
        out.push(
            MetricId::PollDuration,
            report.duration.as_secs_f64(),
            vec![(attr::SOURCE, report.source.as_str().to_string())],
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

/// RFC 3339 → Unix seconds (fractional).
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
        let recorded = record(&NodeSnapshot::default());
        assert_eq!(recorded.points[0].metric, MetricId::Up);
        assert_eq!(recorded.points[0].value, 0.0);
        assert_eq!(recorded.cluster_role, ClusterRole::Standalone);
    }
}
