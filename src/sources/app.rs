//! Source `app`: `GET /` — version and commit. Every poll; every version; no permission needed.

use crate::qdrant::models::AppInfo;
use crate::qdrant::{Client, QdrantError};

pub const ENDPOINT: &str = "/";

pub async fn fetch(client: &Client) -> Result<AppInfo, QdrantError> {
    // `/` has no envelope: the object is the result itself.
    client.get_plain_json(ENDPOINT).await
}
