//! Serde models of the parts of Qdrant's REST responses the agent reads — and nothing more.
//!
//! Every field is optional or defaulted and unknown fields are ignored, so responses from other
//! Qdrant versions (fields added, removed or renamed between 1.15 and 1.19) still parse; a missing
//! field simply means the metric built from it is not emitted. Numbers are read as `f64` because
//! Qdrant sometimes prints integral counters as floats; peer ids are `u64` (they exceed 2^53).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};

/// `GET /`: the server's name, version and commit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppInfo {
    pub title: Option<String>,
    pub version: Option<String>,
    pub commit: Option<String>,
}

/// `GET /telemetry?details_level=N` (N = 3 or 4).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Telemetry {
    pub app: Option<AppTelemetry>,
    pub collections: Option<CollectionsTelemetry>,
    pub cluster: Option<ClusterTelemetry>,
    pub requests: Option<RequestsTelemetry>,
    pub memory: Option<MemoryTelemetry>,
    pub hardware: Option<HardwareTelemetry>,
    /// 1.19+.
    pub quota: Option<QuotaTelemetry>,
}

impl Telemetry {
    /// The collections listed in full (details level ≥ 2); none when the list is absent.
    pub fn collection_list(&self) -> impl Iterator<Item = &CollectionTelemetry> {
        self.collections
            .as_ref()
            .and_then(|c| c.collections.as_deref())
            .into_iter()
            .flatten()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppTelemetry {
    pub version: Option<String>,
    /// RFC 3339 start time of the process.
    pub startup: Option<String>,
    pub system: Option<SystemTelemetry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SystemTelemetry {
    pub cores: Option<f64>,
    /// KiB (Qdrant's own unit for this field).
    pub ram_size: Option<f64>,
    /// KiB.
    pub disk_size: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionsTelemetry {
    pub number_of_collections: Option<f64>,
    pub collections: Option<Vec<CollectionTelemetry>>,
    pub snapshots: Option<Vec<SnapshotTelemetry>>,
}

/// One collection at details level ≥ 2. Lower levels yield an "aggregated" shape without `id`,
/// which parses here with `id: None` and is skipped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionTelemetry {
    pub id: Option<String>,
    pub config: Option<CollectionConfig>,
    pub shards: Option<Vec<ReplicaSetTelemetry>>,
    pub transfers: Option<Vec<ShardTransferInfo>>,
}

/// A shard transfer in progress.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ShardTransferInfo {
    #[serde(deserialize_with = "peer_id")]
    pub from: Option<u64>,
    #[serde(deserialize_with = "peer_id")]
    pub to: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionConfig {
    pub params: Option<CollectionParams>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionParams {
    pub vectors: Option<VectorsConfig>,
    pub shard_number: Option<f64>,
    pub replication_factor: Option<f64>,
    pub sparse_vectors: Option<BTreeMap<String, serde_json::Value>>,
}

/// Qdrant's `VectorsConfig`: one unnamed vector, or a map of named ones.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum VectorsConfig {
    Single(VectorParams),
    Named(BTreeMap<String, VectorParams>),
}

impl VectorsConfig {
    /// `(name, params)` pairs; the unnamed vector is named `""` as Qdrant does.
    pub fn iter(&self) -> Vec<(&str, &VectorParams)> {
        match self {
            VectorsConfig::Single(params) => vec![("", params)],
            VectorsConfig::Named(map) => map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct VectorParams {
    pub size: f64,
    #[serde(default)]
    pub distance: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ReplicaSetTelemetry {
    pub id: Option<f64>,
    pub local: Option<LocalShardTelemetry>,
    /// peer id (as a decimal string key) → replica state (`Active`, `Dead`, …).
    pub replicate_states: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LocalShardTelemetry {
    pub status: Option<String>,
    pub total_optimized_points: Option<f64>,
    pub vectors_size_bytes: Option<f64>,
    pub payloads_size_bytes: Option<f64>,
    pub num_points: Option<f64>,
    pub num_vectors: Option<f64>,
    pub num_vectors_by_name: Option<BTreeMap<String, f64>>,
    pub segments: Option<Vec<SegmentTelemetry>>,
    pub optimizations: Option<OptimizerTelemetry>,
    pub update_queue: Option<UpdateQueueInfo>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OptimizerTelemetry {
    /// `"ok"` or `{"error": "..."}`.
    pub status: Option<serde_json::Value>,
    pub optimizations: Option<OperationDurations>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationDurations {
    pub count: Option<f64>,
    pub total_duration_micros: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateQueueInfo {
    pub length: Option<f64>,
    pub deferred_points: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SegmentTelemetry {
    pub info: Option<SegmentInfo>,
    /// Per vector index: `index_name` and, per search path (`unfiltered_hnsw`,
    /// `filtered_plain`, …), the count and total duration of searches.
    pub vector_index_searches: Option<Vec<BTreeMap<String, serde_json::Value>>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SegmentInfo {
    pub segment_type: Option<String>,
    pub num_points: Option<f64>,
    pub num_deferred_points: Option<f64>,
    pub num_indexed_vectors: Option<f64>,
    pub num_deleted_vectors: Option<f64>,
    /// vector name → per-vector counts.
    pub vector_data: Option<BTreeMap<String, SegmentVectorData>>,
    /// payload field → indexed type and points.
    pub index_schema: Option<BTreeMap<String, PayloadIndexInfo>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PayloadIndexInfo {
    pub data_type: Option<String>,
    pub points: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SegmentVectorData {
    pub num_vectors: Option<f64>,
    pub num_indexed_vectors: Option<f64>,
    pub num_deleted_vectors: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterTelemetry {
    pub enabled: Option<bool>,
    pub status: Option<ClusterStatusTelemetry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterStatusTelemetry {
    pub role: Option<String>,
    #[serde(deserialize_with = "peer_id")]
    pub peer_id: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestsTelemetry {
    pub rest: Option<ResponsesTelemetry>,
    pub grpc: Option<ResponsesTelemetry>,
}

/// `"GET /collections"` (REST) or `"/qdrant.Points/Search"` (gRPC) → status code → statistics.
pub type Responses = BTreeMap<String, BTreeMap<String, OperationDurations>>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponsesTelemetry {
    pub responses: Responses,
    /// With `per_collection=true` (1.17.1+): collection → responses.
    pub per_collection_responses: Option<BTreeMap<String, Responses>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemoryTelemetry {
    pub active_bytes: Option<f64>,
    pub allocated_bytes: Option<f64>,
    pub metadata_bytes: Option<f64>,
    pub resident_bytes: Option<f64>,
    pub retained_bytes: Option<f64>,
}

/// `GET /collections`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionsList {
    pub collections: Vec<CollectionName>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionName {
    pub name: String,
}

/// `GET /collections/{name}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionInfo {
    pub status: Option<String>,
    pub optimizer_status: Option<serde_json::Value>,
    /// Removed from Qdrant's API in 1.16; read where present.
    pub vectors_count: Option<f64>,
    pub indexed_vectors_count: Option<f64>,
    pub points_count: Option<f64>,
    pub segments_count: Option<f64>,
    pub config: Option<CollectionConfig>,
    pub payload_schema: Option<BTreeMap<String, PayloadIndexInfo>>,
    pub update_queue: Option<UpdateQueueInfo>,
}

/// `GET /cluster`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterInfo {
    /// `"enabled"` or `"disabled"`.
    pub status: Option<String>,
    #[serde(deserialize_with = "peer_id")]
    pub peer_id: Option<u64>,
    pub peers: Option<BTreeMap<String, serde_json::Value>>,
    pub raft_info: Option<RaftInfo>,
    pub consensus_thread_status: Option<ConsensusThreadStatus>,
    /// peer URI → failures.
    pub message_send_failures: Option<BTreeMap<String, MessageSendFailures>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RaftInfo {
    pub term: Option<f64>,
    pub commit: Option<f64>,
    pub pending_operations: Option<f64>,
    #[serde(deserialize_with = "peer_id")]
    pub leader: Option<u64>,
    pub role: Option<String>,
    pub is_voter: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConsensusThreadStatus {
    pub consensus_thread_status: Option<String>,
    pub last_update: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MessageSendFailures {
    pub count: Option<f64>,
}

/// A peer id as a JSON number or a decimal string; anything else reads as absent.
pub(super) fn peer_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    })
}

/// `GET /collections/{name}/optimizations` (1.17+).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OptimizationsInfo {
    pub summary: Option<OptimizationsSummary>,
    pub running: Option<Vec<RunningOptimization>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OptimizationsSummary {
    pub queued_optimizations: Option<f64>,
    pub queued_segments: Option<f64>,
    pub queued_points: Option<f64>,
    pub idle_segments: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunningOptimization {
    /// `indexing`, `merge`, `vacuum`, `config_mismatch`, …
    pub optimizer: Option<String>,
    /// A tree of named stages; leaves that track work carry `done` and `total`.
    pub progress: Option<serde_json::Value>,
}

/// `GET /collections/{name}/memory` (1.18+). Components are read generically so that parts
/// added by later versions (e.g. a quantized vector store) are reported without a code change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionMemory {
    pub vectors: Vec<NamedComponents>,
    pub sparse_vectors: Vec<NamedComponents>,
    pub payload: Option<MemoryUsage>,
    pub payload_index: Vec<PayloadIndexMemory>,
    /// `id_tracker` and whatever else Qdrant accounts for.
    pub other: BTreeMap<String, serde_json::Value>,
}

/// A named vector's parts: `storage`, `index`, `quantized`, … → usage.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct NamedComponents {
    pub name: String,
    #[serde(flatten)]
    pub parts: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PayloadIndexMemory {
    pub name: String,
    pub usage: Option<MemoryUsage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemoryUsage {
    pub disk_bytes: Option<f64>,
    pub ram_bytes: Option<f64>,
    pub cached_bytes: Option<f64>,
    pub expected_cache_bytes: Option<f64>,
}

impl MemoryUsage {
    /// Read a usage object out of a generic JSON value; `None` if it is not one.
    pub fn from_value(value: &serde_json::Value) -> Option<MemoryUsage> {
        value.get("disk_bytes")?;
        serde_json::from_value(value.clone()).ok()
    }
}

/// One snapshot file (`/collections/{name}/snapshots`, `/snapshots`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SnapshotDescription {
    pub name: String,
    /// `2026-11-22T11:29:05` (UTC, no zone).
    pub creation_time: Option<String>,
    pub size: Option<f64>,
}

/// `GET /issues` (beta): `{"issues": [{"id": "TYPE/collection/...", ...}]}`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IssuesReport {
    pub issues: Vec<IssueRecord>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IssueRecord {
    pub id: String,
}

/// `GET /quotas` (1.19+).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaStatus {
    pub config: Option<QuotaConfig>,
    pub usage: Option<QuotaUsage>,
    /// peer id → what that peer reports.
    pub peers: Option<BTreeMap<String, PeerQuotaUsage>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaConfig {
    pub enabled: Option<bool>,
    pub max_resident_memory_percent: Option<f64>,
    pub max_disk_usage_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaUsage {
    pub resident_memory_percent: Option<f64>,
    pub disk_usage_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeerQuotaUsage {
    pub exceeded: Option<bool>,
}

/// Telemetry's quota section (1.19+): per resource, whether the node refuses work over it
/// (`null` when that resource is not enforced).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaTelemetry {
    pub exceeded: Option<BTreeMap<String, Option<bool>>>,
}

/// Telemetry's per-collection snapshot activity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SnapshotTelemetry {
    pub id: Option<String>,
    pub running_snapshots: Option<f64>,
    pub running_snapshot_recovery: Option<f64>,
    pub total_snapshot_creations: Option<f64>,
}

/// Telemetry's per-collection hardware counters.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HardwareTelemetry {
    pub collection_data: BTreeMap<String, BTreeMap<String, f64>>,
}
