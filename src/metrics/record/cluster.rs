//! The cluster: this node's raft view from `/cluster` (peers, term, commit, role, consensus,
//! message send failures) and, from telemetry, the cluster-wide shard and replica counts of a
//! collection. The raft view is per node and carries the configured cluster name
//! (`qdrant.cluster.name`); the shard and replica counts are cluster-scoped, and `Out` routes
//! them by the node's role.

use smol_str::SmolStr;

use super::out::{with, Out};
use super::util::{snake_case, unix_seconds};
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{ClusterInfo, CollectionTelemetry, RaftInfo, VecMap};
use crate::snapshot::NodeSnapshot;

pub(super) fn record_raft(out: &mut Out, snapshot: &NodeSnapshot) {
    let Some(cluster) = &snapshot.cluster else {
        return;
    };
    let Some(status) = cluster.status.as_deref() else {
        return;
    };
    let base = out.cluster_base();
    let enabled = status == "enabled";
    out.push(
        MetricId::ClusterEnabled,
        f64::from(u8::from(enabled)),
        base.clone(),
    );
    if !enabled {
        return;
    }
    if let Some(peers) = &cluster.peers {
        out.push(MetricId::ClusterPeers, peers.len() as f64, base.clone());
    }
    if let Some(raft) = &cluster.raft_info {
        record_raft_info(out, cluster, raft, &base);
    }
    if let Some(consensus) = &cluster.consensus_thread_status {
        if let Some(state) = &consensus.consensus_thread_status {
            out.state_set(MetricId::ConsensusStatus, &snake_case(state), &base);
        }
        out.push_opt(
            MetricId::ConsensusLastUpdate,
            consensus.last_update.as_deref().and_then(unix_seconds),
            base.clone(),
        );
    }
    for (peer, failures) in cluster.message_send_failures.iter().flatten() {
        out.push_opt(
            MetricId::MessageSendFailures,
            failures.count,
            with(&base, attr::PEER_URI, peer.as_str()),
        );
    }
}

fn record_raft_info(out: &mut Out, cluster: &ClusterInfo, raft: &RaftInfo, base: &Attributes) {
    if let (Some(leader), Some(me)) = (raft.leader, cluster.peer_id) {
        out.push(
            MetricId::ClusterLeader,
            f64::from(u8::from(leader == me)),
            base.clone(),
        );
    }
    out.push_opt(MetricId::RaftTerm, raft.term, base.clone());
    out.push_opt(MetricId::RaftCommit, raft.commit, base.clone());
    out.push_opt(
        MetricId::RaftPendingOperations,
        raft.pending_operations,
        base.clone(),
    );
    if let Some(role) = &raft.role {
        out.state_set(MetricId::RaftRole, &snake_case(role), base);
    }
    out.push_opt(
        MetricId::RaftVoter,
        raft.is_voter.map(|voter| f64::from(u8::from(voter))),
        base.clone(),
    );
}

/// Shards of a collection and its replicas by state, cluster-wide (telemetry lists every
/// replica of every shard, local or not).
pub(super) fn record_replicas(out: &mut Out, collection: &CollectionTelemetry, base: &Attributes) {
    let Some(shards) = &collection.shards else {
        return;
    };
    out.push(
        MetricId::CollectionShards,
        shards.len() as f64,
        base.clone(),
    );
    let mut states: VecMap<SmolStr, f64> = VecMap::default();
    for state in shards
        .iter()
        .filter_map(|s| s.replicate_states.as_ref())
        .flat_map(|states| states.values())
    {
        *states.entry_or_default(snake_case(state)) += 1.0;
    }
    out.state_counts(MetricId::CollectionReplicas, &states, base);
}
