//! Snapshot → metric points. Pure: no I/O, no clock; the same snapshot always gives the same
//! points, in the same order.
//!
//! This file owns the entry point [`record`], the result types, the node's cluster role and
//! the collection filter/hashing applied to every point. Each domain has its own file:
//! `node` (process, memory, system), `requests` (REST/gRPC responses), `cluster` (raft view and
//! cluster-wide replicas), `collection` (telemetry's per-collection view), `segments`
//! (segment-level metrics from the level-4 summary), `per_collection` (slow per-collection
//! reads), `server` (issues, storage snapshots, quotas), `fallback` (`/collections/{name}`), `logical` (cluster-wide counts, one replica per shard),
//! `agent` (the agent's own metrics); `out` is the point sink, `util` small conversions.

mod agent;
mod cluster;
mod collection;
mod fallback;
mod logical;
mod node;
mod out;
mod per_collection;
mod requests;
mod segments;
mod server;
mod util;

use rustc_hash::FxHashSet;
use smallvec::SmallVec;
use smol_str::SmolStr;

use super::registry::{MetricId, MetricSelection, MetricSpec};
use crate::qdrant::models::{SegmentDetails, Telemetry};
pub use crate::snapshot::ClusterRole;
use crate::snapshot::{AgentStats, NodeSnapshot};
use crate::source_id::SourceId;
use crate::sources::CollectionFilter;
pub use agent::export_points;
use out::Out;
pub use util::hash_name;

/// A point's attributes, as (key, value) pairs. Three are held inline — most points have one
/// to three (the collection, plus a vector name, a state, a component, a direction) — so
/// recording tens of thousands of points allocates only for the few metrics with four; values
/// are `SmolStr`s, collection names held inline up to 23 bytes and shared beyond, so no name is
/// copied per point (docs/performance.md).
pub type Attributes = SmallVec<[(&'static str, SmolStr); 3]>;

/// One data point: a metric, its attributes, its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub metric: MetricId,
    pub attributes: Attributes,
    pub value: f64,
}

impl Point {
    pub fn spec(&self) -> &'static MetricSpec {
        MetricSpec::get(self.metric)
    }
}

/// The points of one node's snapshot, split by the resource they belong on.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Points on the node's resource; cluster-scoped ones too when the node is standalone.
    pub node: Vec<Point>,
    /// Cluster-scoped points, on the cluster's resource: only when the node is the raft leader.
    pub cluster: Vec<Point>,
    pub cluster_role: ClusterRole,
    /// Impossible values left out (a negative count, a non-finite number): the source of each.
    pub dropped: Vec<SourceId>,
}

impl Recorded {
    /// Every point: the node's, then the cluster's.
    pub fn all(&self) -> Vec<Point> {
        self.node.iter().chain(&self.cluster).cloned().collect()
    }
}

/// Where recorded points go: a `Vec<Point>` ([`record`]: `once`, tests), or the exporter's
/// encoded points (the agent), so that no poll holds its points twice.
pub trait PointSink {
    /// One point, lent: a sink that keeps it whole copies it, one that encodes it does not.
    fn push(&mut self, metric: MetricId, value: f64, attributes: &Attributes);
}

impl PointSink for Vec<Point> {
    fn push(&mut self, metric: MetricId, value: f64, attributes: &Attributes) {
        Vec::push(
            self,
            Point {
                metric,
                attributes: attributes.clone(),
                value,
            },
        );
    }
}

/// What recording a snapshot says besides its points.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordSummary {
    pub cluster_role: ClusterRole,
    /// Impossible values left out (a negative count, a non-finite number): the source of each.
    pub dropped: Vec<SourceId>,
}

/// What to emit: the enabled metrics, the included collections, whether collection names
/// are hashed, and the cluster name the per-node cluster metrics carry.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    pub selection: MetricSelection,
    pub collections: CollectionFilter,
    pub hash_collection_names: bool,
    /// `cluster.name`: the `qdrant.cluster.name` attribute of every per-node cluster metric.
    pub cluster_name: SmolStr,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            selection: MetricSelection::default(),
            collections: CollectionFilter::default(),
            hash_collection_names: false,
            cluster_name: SmolStr::new_static(DEFAULT_CLUSTER_NAME),
        }
    }
}

/// The cluster name when none is configured (`cluster.name`).
pub const DEFAULT_CLUSTER_NAME: &str = "qdrant-cluster";

/// Convert a snapshot into points.
pub fn record(snapshot: &NodeSnapshot, stats: &AgentStats, options: &RecordOptions) -> Recorded {
    let (mut node, mut cluster) = (Vec::new(), Vec::new());
    let summary = record_into(snapshot, stats, options, &mut node, &mut cluster);
    Recorded {
        node,
        cluster,
        cluster_role: summary.cluster_role,
        dropped: summary.dropped,
    }
}

/// Convert a snapshot into points written to `node` (the node's resource) and `cluster` (the
/// cluster's). Excluded collections are left out and names hashed here, before any point
/// exists.
pub fn record_into(
    snapshot: &NodeSnapshot,
    stats: &AgentStats,
    options: &RecordOptions,
    node: &mut dyn PointSink,
    cluster: &mut dyn PointSink,
) -> RecordSummary {
    let cluster_role = snapshot.cluster_role();
    let mut out = Out::new(options, cluster_role, node, cluster);
    node::record(&mut out, snapshot);
    if let Some(requests) = snapshot
        .telemetry
        .as_ref()
        .and_then(|t| t.requests.as_ref())
    {
        requests::record(&mut out, requests);
    }
    cluster::record_raft(&mut out, snapshot);
    let names = record_collections(&mut out, snapshot);
    // Snapshot activity, hardware counters and the cluster's view list collections too
    // (thousands of them): looked up in a set, not the list.
    let listed: FxHashSet<&str> = names.iter().copied().collect();
    if let Some(telemetry) = telemetry_listing(snapshot) {
        collection::record_activity(&mut out, telemetry, &listed);
    }
    logical::record(&mut out, snapshot, &listed);
    per_collection::record(&mut out, snapshot, &names);
    server::record(&mut out, snapshot, &names);
    agent::record(&mut out, snapshot, stats);
    RecordSummary {
        cluster_role,
        dropped: out.dropped,
    }
}

/// The telemetry the collections are read from: unless the fallback's list replaced it.
fn telemetry_listing(snapshot: &NodeSnapshot) -> Option<&Telemetry> {
    snapshot
        .telemetry
        .as_deref()
        .filter(|_| snapshot.collections.is_none())
}

/// The fast path's collections: from telemetry when it lists them, else from the fallback.
/// Returns the names of the collections seen.
fn record_collections<'s>(out: &mut Out, snapshot: &'s NodeSnapshot) -> Vec<&'s str> {
    if let Some(telemetry) = telemetry_listing(snapshot) {
        let peer_id = snapshot
            .cluster
            .as_ref()
            .and_then(|c| c.peer_id)
            .or_else(|| telemetry.cluster.as_ref()?.status.as_ref()?.peer_id);
        static NONE: SegmentDetails = SegmentDetails::new();
        let details = snapshot.detail.as_deref().unwrap_or(&NONE);
        collection::record(out, telemetry, details, peer_id)
    } else if let Some(collections) = &snapshot.collections {
        fallback::record(out, collections);
        collections.keys().map(String::as_str).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::registry::Scope;
    use crate::qdrant::models::Telemetry;
    use std::sync::Arc;

    #[test]
    fn an_empty_snapshot_still_says_down() {
        let recorded = record(
            &NodeSnapshot::default(),
            &AgentStats::default(),
            &RecordOptions::default(),
        );
        assert_eq!(recorded.node[0].metric, MetricId::Up);
        assert_eq!(recorded.node[0].value, 0.0);
        assert!(recorded.cluster.is_empty());
        assert_eq!(recorded.cluster_role, ClusterRole::Standalone);
    }

    /// One collection with one replica, as seen by a node in the given raft role.
    fn clustered(role: &str, enabled: bool) -> Recorded {
        let telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "collections": {"collections": [{
                "id": "docs",
                "shards": [{"id": 0, "replicate_states": {"1": "Active"}}]
            }]},
            "cluster": {"enabled": enabled, "status": {"role": role, "peer_id": 1}}
        }))
        .unwrap();
        let snapshot = NodeSnapshot {
            telemetry: Some(Arc::new(telemetry)),
            ..NodeSnapshot::default()
        };
        record(&snapshot, &AgentStats::default(), &RecordOptions::default())
    }

    fn cluster_scoped(points: &[Point]) -> usize {
        points
            .iter()
            .filter(|p| p.spec().scope == Scope::Cluster)
            .count()
    }

    #[test]
    fn cluster_scoped_points_follow_the_role() {
        let leader = clustered("Leader", true);
        assert_eq!(leader.cluster_role, ClusterRole::Leader);
        assert_eq!(cluster_scoped(&leader.node), 0);
        assert!(cluster_scoped(&leader.cluster) > 0);
        assert_eq!(cluster_scoped(&leader.cluster), leader.cluster.len());

        let follower = clustered("Follower", true);
        assert_eq!(follower.cluster_role, ClusterRole::Follower);
        assert_eq!(cluster_scoped(&follower.node), 0);
        assert!(follower.cluster.is_empty());

        let standalone = clustered("Leader", false);
        assert_eq!(standalone.cluster_role, ClusterRole::Standalone);
        assert!(cluster_scoped(&standalone.node) > 0);
        assert!(standalone.cluster.is_empty());
    }
}
