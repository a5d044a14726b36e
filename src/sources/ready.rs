//! Source `ready`: `GET /readyz` — 200 once all shards are loaded. Every poll; no permission.

use crate::qdrant::{Client, QdrantError};

pub const ENDPOINT: &str = "/readyz";

/// `Ok(true)` when ready; a 503 "not ready" answer is `Ok(false)`, not an error.
pub async fn fetch(client: &Client) -> Result<bool, QdrantError> {
    match client.get_text(ENDPOINT).await {
        Ok(_) => Ok(true),
        Err(QdrantError::HttpStatus { status: 503, .. }) => Ok(false),
        Err(err) => Err(err),
    }
}
