//! Serde models of the parts of Qdrant's REST responses the agent reads — and nothing more.
//!
//! Every field is optional or defaulted and unknown fields are ignored, so responses from other
//! Qdrant versions (fields added, removed or renamed between 1.15 and 1.19) still parse; a missing
//! field simply means the metric built from it is not emitted. Numbers are read as `f64` because
//! Qdrant sometimes prints integral counters as floats; peer ids are `u64` (they exceed 2^53).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use smol_str::SmolStr;

/// `GET /`: the server's name, version and commit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppInfo {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub title: Option<String>,
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub version: Option<String>,
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub commit: Option<String>,
}

mod details;
mod segment_scan;
mod segments;
mod shard_scan;
mod telemetry;
mod vec_map;

pub use details::{CollectionSegments, SegmentDetails, Stat, StatValue};
pub use segments::*;
pub use shard_scan::read_shards;
pub use telemetry::*;
pub use vec_map::VecMap;

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
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub status: Option<String>,
    pub optimizer_status: Option<OptimizerStatus>,
    /// Removed from Qdrant's API in 1.16; read where present.
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub vectors_count: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub indexed_vectors_count: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub points_count: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
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
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
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
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub term: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub commit: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub pending_operations: Option<f64>,
    #[serde(deserialize_with = "peer_id")]
    pub leader: Option<u64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub role: Option<String>,
    #[serde(deserialize_with = "crate::qdrant::lenient::flag")]
    pub is_voter: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ConsensusThreadStatus {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub consensus_thread_status: Option<String>,
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub last_update: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MessageSendFailures {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
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
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub queued_optimizations: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub queued_segments: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub queued_points: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub idle_segments: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RunningOptimization {
    /// `indexing`, `merge`, `vacuum`, `config_mismatch`, …
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
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
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub disk_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub ram_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub cached_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
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
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub creation_time: Option<String>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
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
    /// peer id → what that peer reports: only the peers that answered (distributed mode only).
    pub peers: Option<BTreeMap<String, PeerQuotaUsage>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaConfig {
    #[serde(deserialize_with = "crate::qdrant::lenient::flag")]
    pub enabled: Option<bool>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub max_resident_memory_percent: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub max_disk_usage_percent: Option<f64>,
    /// Percentage points below a limit that usage must fall to before the node accepts work
    /// again; unset leaves Qdrant's built-in default in force (its value is not reported).
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub release_margin_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QuotaUsage {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub resident_memory_percent: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub disk_usage_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PeerQuotaUsage {
    /// At or over one of the enforced limits (always false while quotas are disabled).
    #[serde(deserialize_with = "crate::qdrant::lenient::flag")]
    pub exceeded: Option<bool>,
    /// `null` when the peer's platform does not expose the stat.
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub resident_memory_percent: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub disk_usage_percent: Option<f64>,
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
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub id: Option<SmolStr>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub running_snapshots: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub running_snapshot_recovery: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub total_snapshot_creations: Option<f64>,
}

/// Telemetry's per-collection hardware counters. Names and counter keys are held inline: a
/// node lists every collection here, ~10 allocations each as `BTreeMap`s of `String`s. A
/// counter that is not a number, or a `null` in place of counters, costs itself only, not the
/// whole telemetry response.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct HardwareTelemetry {
    pub collection_data: Option<VecMap<SmolStr, Option<HardwareCounters>>>,
}

/// One collection's hardware counters, by name (`cpu`, `vector_io_read`, …).
pub type HardwareCounters = VecMap<SmolStr, crate::qdrant::lenient::Number>;
