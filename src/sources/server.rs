//! Server-wide sources: `issues` (`/issues`, slow cadence), full-storage snapshots
//! (`/snapshots`, slow cadence, part of the `snapshots` source) and `quotas` (`/quotas`, every
//! poll, 1.19+). All need global read access.

use crate::qdrant::models::{IssuesReport, QuotaStatus, SnapshotDescription};
use crate::qdrant::{Client, QdrantError};

pub const ISSUES_ENDPOINT: &str = "/issues";
pub const QUOTAS_ENDPOINT: &str = "/quotas";

pub async fn issues(client: &Client) -> Result<IssuesReport, QdrantError> {
    client.get_json(ISSUES_ENDPOINT).await
}

pub async fn storage_snapshots(client: &Client) -> Result<Vec<SnapshotDescription>, QdrantError> {
    client.get_json("/snapshots").await
}

pub async fn quotas(client: &Client) -> Result<QuotaStatus, QdrantError> {
    client.get_json(QUOTAS_ENDPOINT).await
}
