//! The immutable result of one poll of one Qdrant node: what every source read, and how each
//! source fared. `metrics::record` turns it into points without I/O.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use crate::qdrant::distributed::DistributedTelemetry;
use crate::qdrant::models::{
    AppInfo, ClusterInfo, CollectionInfo, CollectionMemory, IssuesReport, OptimizationsInfo,
    QuotaStatus, SegmentDetails, SnapshotDescription, Telemetry,
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
    /// When the Qdrant process started: the time the telemetry was read minus the uptime.
    pub process_start: Option<SystemTime>,
    /// The segment summary of the latest successful level-4 telemetry, kept between slow
    /// polls so these series never blink.
    pub detail: Option<Arc<SegmentDetails>>,
    /// Per-collection info from `/collections/{name}`: the fallback when telemetry is
    /// forbidden or carries no collections.
    pub collections: Option<Arc<BTreeMap<String, CollectionInfo>>>,
    pub cluster: Option<ClusterInfo>,
    /// `/cluster/telemetry`: the whole cluster's view, read by the raft leader only (1.17+).
    pub cluster_telemetry: Option<Arc<DistributedTelemetry>>,
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
    /// Per slow or per-collection source, the age in seconds of the oldest data shown.
    pub data_age: Vec<(SourceId, f64)>,
    /// Per collection, the optimizer's throughput and ETA from this and earlier polls
    /// (`sources::backlog`).
    pub optimizer_estimates: Option<Arc<FxHashMap<SmolStr, OptimizerEstimate>>>,
}

/// What successive polls say about a collection's optimizer: `None` where it cannot be known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct OptimizerEstimate {
    /// Points optimized per second over the window.
    pub throughput: Option<f64>,
    /// Seconds until the queued backlog is optimized at that throughput; 0 when none is queued.
    pub eta: Option<f64>,
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

impl NodeSnapshot {
    /// The node's raft role, from `/cluster` or, failing that, from telemetry.
    pub fn cluster_role(&self) -> ClusterRole {
        let from_cluster = self.cluster.as_ref().and_then(|c| {
            let enabled = c.status.as_deref()? == "enabled";
            let leader = c.raft_info.as_ref().and_then(|r| r.role.as_deref()) == Some("Leader");
            Some((enabled, leader))
        });
        let from_telemetry = || {
            let cluster = self.telemetry.as_ref()?.cluster.as_ref()?;
            let leader = cluster.status.as_ref().and_then(|s| s.role.as_deref()) == Some("Leader");
            Some((cluster.enabled?, leader))
        };
        match from_cluster.or_else(from_telemetry) {
            Some((true, true)) => ClusterRole::Leader,
            Some((true, false)) => ClusterRole::Follower,
            _ => ClusterRole::Standalone,
        }
    }
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
