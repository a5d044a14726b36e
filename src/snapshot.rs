//! The immutable result of one poll of one Qdrant node: what every source read, and how each
//! source fared. `metrics::record` turns it into points without I/O.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use crate::qdrant::models::{
    AppInfo, ClusterInfo, CollectionInfo, CollectionMemory, IssuesReport, OptimizationsInfo,
    QuotaStatus, SnapshotDescription, Telemetry,
};
use crate::qdrant::{ErrorType, QdrantError};
use crate::source_id::SourceId;

/// One node's poll.
#[derive(Debug, Clone, Default)]
pub struct NodeSnapshot {
    /// `host:port` of the node as configured; its `service.instance.id`.
    pub instance: String,
    /// The node answered `/` and gave its collections (from telemetry or the fallback).
    pub up: bool,
    pub app: Option<AppInfo>,
    pub ready: Option<bool>,
    /// The latest `/telemetry` (level 3, or level 4 on slow polls).
    pub telemetry: Option<Arc<Telemetry>>,
    /// Seconds since the process started, computed when the telemetry was read.
    pub uptime_seconds: Option<f64>,
    /// The latest successful level-4 telemetry (segments), kept between slow polls so these
    /// series never blink.
    pub detail: Option<Arc<Telemetry>>,
    /// Per-collection info from `/collections/{name}`: the fallback when telemetry is
    /// forbidden or carries no collections.
    pub collections: Option<Arc<BTreeMap<String, CollectionInfo>>>,
    pub cluster: Option<ClusterInfo>,
    /// Slow-cadence, per-collection reads, kept until their source runs again.
    pub optimizations: Option<Arc<BTreeMap<String, OptimizationsInfo>>>,
    pub memory: Option<Arc<BTreeMap<String, CollectionMemory>>>,
    pub collection_snapshots: Option<Arc<BTreeMap<String, Vec<SnapshotDescription>>>>,
    /// Slow-cadence, server-wide reads.
    pub storage_snapshots: Option<Arc<Vec<SnapshotDescription>>>,
    pub issues: Option<Arc<IssuesReport>>,
    pub quotas: Option<QuotaStatus>,
    /// What each source called in this poll did.
    pub sources: Vec<SourceReport>,
}

/// The outcome of one source in one poll.
#[derive(Debug, Clone)]
pub struct SourceReport {
    pub source: SourceId,
    pub duration: Duration,
    pub outcome: SourceOutcome,
}

/// How a source fared.
#[derive(Debug, Clone)]
pub enum SourceOutcome {
    Ok,
    Failed(QdrantError),
    /// The server's version does not have the endpoint (a 404 from a gated source).
    Unsupported,
}

impl SourceOutcome {
    pub fn error_type(&self) -> Option<ErrorType> {
        match self {
            SourceOutcome::Failed(error) => Some(error.error_type()),
            SourceOutcome::Ok | SourceOutcome::Unsupported => None,
        }
    }
}

/// The agent's own cumulative poll counters for one node, owned by the agent and recorded
/// beside each snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentStats {
    pub poll_errors: BTreeMap<(SourceId, ErrorType), u64>,
}
