//! Logical, cluster-wide numbers of each collection — one replica per shard, so that they
//! answer "how many points are in my collection?" the way `GET /collections/{name}` does:
//! from `/cluster/telemetry` on the raft leader (1.17+), or on a single node from its own
//! telemetry (every shard is local there). Also the cluster's shard transfers, reshardings and
//! the placement of replicas on peers. Cluster-scoped: `Out` routes them by role.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;
use smol_str::SmolStr;

use super::out::{collection_base, with, Out};
use super::util::snake_case;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::distributed::{DistributedCollection, DistributedReplica, DistributedShard};
use crate::qdrant::models::{Telemetry, VecMap};
use crate::snapshot::{ClusterRole, NodeSnapshot};

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot, listed: &FxHashSet<&str>) {
    if let Some(view) = &snapshot.cluster_telemetry {
        for (name, collection) in &view.collections {
            if listed.contains(name.as_str()) {
                record_collection(out, name, collection);
            }
        }
    } else if snapshot.cluster_role() == ClusterRole::Standalone && snapshot.collections.is_none() {
        if let Some(telemetry) = &snapshot.telemetry {
            record_single_node(out, telemetry);
        }
    }
}

/// One node holds every shard: the logical numbers are the sums over its shards.
fn record_single_node(out: &mut Out, telemetry: &Telemetry) {
    for collection in telemetry.collection_list() {
        let Some(name) = &collection.id else { continue };
        let base = collection_base(name);
        let mut points = None;
        let mut vectors: BTreeMap<&str, f64> = BTreeMap::new();
        for local in collection.local_shards() {
            if let Some(n) = local.num_points {
                *points.get_or_insert(0.0) += n;
            }
            for (vector, n) in local.num_vectors_by_name.iter().flatten() {
                *vectors.entry(vector).or_default() += n;
            }
        }
        out.push_opt(MetricId::LogicalPoints, points, base.clone());
        for (vector, n) in vectors {
            out.push(
                MetricId::LogicalVectors,
                n,
                with(&base, attr::VECTOR_NAME, vector),
            );
        }
    }
}

fn record_collection(out: &mut Out, name: &str, collection: &DistributedCollection) {
    let base = collection_base(name);
    let shards = collection.shards.as_deref().unwrap_or_default();
    let counted: Vec<&DistributedReplica> = shards.iter().filter_map(counted_replica).collect();
    // A shard whose replicas cannot be read (its peer is down) leaves the total unknown:
    // Qdrant itself refuses to count then, and a partial sum would look like data loss.
    if !counted.is_empty() && counted.len() == shards.len() {
        let points = counted.iter().filter_map(|r| r.num_points).sum();
        out.push(MetricId::LogicalPoints, points, base.clone());
        let mut vectors: BTreeMap<&str, f64> = BTreeMap::new();
        for (vector, n) in counted
            .iter()
            .flat_map(|r| r.num_vectors_by_name.iter().flatten())
        {
            *vectors.entry(vector).or_default() += n;
        }
        for (vector, n) in vectors {
            out.push(
                MetricId::LogicalVectors,
                n,
                with(&base, attr::VECTOR_NAME, vector),
            );
        }
    }
    let count = |list: &Option<Vec<serde_json::Value>>| list.as_ref().map(|l| l.len() as f64);
    out.push(
        MetricId::ClusterTransfers,
        count(&collection.shard_transfers).unwrap_or(0.0),
        base.clone(),
    );
    out.push(
        MetricId::Reshardings,
        count(&collection.reshardings).unwrap_or(0.0),
        base.clone(),
    );
    record_placement(out, shards, &base);
}

/// The replica whose counts stand for the shard: an active one, else the fullest one.
fn counted_replica(shard: &DistributedShard) -> Option<&DistributedReplica> {
    let with_points = || shard.replicas.iter().filter(|r| r.num_points.is_some());
    with_points()
        .find(|r| r.state.as_deref() == Some("Active"))
        .or_else(|| {
            with_points().max_by(|a, b| {
                a.num_points
                    .partial_cmp(&b.num_points)
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
        })
}

/// Replicas per peer and state: where the collection's shards live.
fn record_placement(out: &mut Out, shards: &[DistributedShard], base: &super::Attributes) {
    let mut placement: BTreeMap<u64, VecMap<SmolStr, f64>> = BTreeMap::new();
    for replica in shards.iter().flat_map(|s| &s.replicas) {
        let (Some(peer), Some(state)) = (replica.peer_id, replica.state.as_deref()) else {
            continue;
        };
        *placement
            .entry(peer)
            .or_default()
            .entry_or_default(snake_case(state)) += 1.0;
    }
    for (peer, states) in placement {
        let attributes = with(base, attr::PEER_ID, peer.to_string());
        out.state_counts(MetricId::PeerReplicas, &states, &attributes);
    }
}
