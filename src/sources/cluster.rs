//! Source `cluster`: `GET /cluster` — raft term, commit, role, leader, consensus thread and
//! message send failures. Every poll (one request; answers `{"status":"disabled"}` on a
//! single node). Needs global read access.

use crate::qdrant::models::ClusterInfo;
use crate::qdrant::{Client, QdrantError};

pub const ENDPOINT: &str = "/cluster";

pub async fn fetch(client: &Client) -> Result<ClusterInfo, QdrantError> {
    client.get_json(ENDPOINT).await
}
