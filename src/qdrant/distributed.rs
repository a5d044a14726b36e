//! Serde models of `GET /cluster/telemetry` (1.17+): the whole cluster's view in one response —
//! every collection's shards with each replica's peer, state and counts, ongoing transfers and
//! reshardings. Lenient like the other models: every field optional, unknown ones ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::models::peer_id;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DistributedTelemetry {
    /// Collection name → its cluster-wide view.
    pub collections: BTreeMap<String, DistributedCollection>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DistributedCollection {
    #[serde(deserialize_with = "super::lenient::text")]
    pub id: Option<String>,
    pub shards: Option<Vec<DistributedShard>>,
    pub reshardings: Option<Vec<serde_json::Value>>,
    pub shard_transfers: Option<Vec<serde_json::Value>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DistributedShard {
    pub id: Option<u64>,
    pub replicas: Vec<DistributedReplica>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DistributedReplica {
    #[serde(deserialize_with = "peer_id")]
    pub peer_id: Option<u64>,
    /// `Active`, `Dead`, `Partial`, …
    #[serde(deserialize_with = "super::lenient::text")]
    pub state: Option<String>,
    #[serde(deserialize_with = "super::lenient::number")]
    pub num_points: Option<f64>,
    pub num_vectors_by_name: Option<BTreeMap<String, f64>>,
}
