//! Source `collections`: `GET /collections`, then `GET /collections/{name}` for each, with
//! bounded concurrency. Only the fallback for when telemetry is forbidden (a collection-scoped
//! JWT), unreadable, or carries no collections: on the default path the request count must not
//! grow with the number of collections.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::qdrant::models::CollectionInfo;
use crate::qdrant::{Client, QdrantError};

pub async fn fetch(
    client: &Client,
    max_concurrency: usize,
) -> Result<BTreeMap<String, CollectionInfo>, QdrantError> {
    let list = client.collections().await?;
    stream::iter(list.collections.into_iter().map(|c| c.name))
        .map(|name| async move {
            let info = client.collection(&name).await?;
            Ok::<_, QdrantError>((name, info))
        })
        .buffer_unordered(max_concurrency.max(1))
        .try_collect()
        .await
}
