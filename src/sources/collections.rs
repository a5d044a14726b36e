//! Source `collections`: `GET /collections`, then `GET /collections/{name}` for each, with
//! bounded concurrency. Only the fallback for when telemetry is forbidden (a collection-scoped
//! JWT) or carries no collections: on the default path the request count must not grow with
//! the number of collections.

use std::collections::BTreeMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::qdrant::models::{CollectionInfo, CollectionsList};
use crate::qdrant::{Client, QdrantError};

pub const ENDPOINT: &str = "/collections, /collections/{name}";

pub async fn fetch(
    client: &Client,
    max_concurrency: usize,
) -> Result<BTreeMap<String, CollectionInfo>, QdrantError> {
    let list: CollectionsList = client.get_json("/collections").await?;
    stream::iter(list.collections.into_iter().map(|c| c.name))
        .map(|name| async move {
            let path = format!("/collections/{}", encode_path_segment(&name));
            let info: CollectionInfo = client.get_json(&path).await?;
            Ok::<_, QdrantError>((name, info))
        })
        .buffer_unordered(max_concurrency.max(1))
        .try_collect()
        .await
}

/// Percent-encode a collection name for use as one path segment (names may hold any UTF-8).
pub(super) fn encode_path_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

#[cfg(test)]
mod tests {
    use super::encode_path_segment;

    #[test]
    fn odd_names_stay_one_segment() {
        assert_eq!(encode_path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_path_segment("ünï.co-de"), "%C3%BCn%C3%AF.co-de");
    }
}

/// Which collections are reported: `collections.include` globs (all when empty) minus
/// `collections.exclude` globs.
#[derive(Debug, Clone, Default)]
pub struct CollectionFilter {
    include: Option<globset::GlobSet>,
    exclude: Option<globset::GlobSet>,
}

impl CollectionFilter {
    /// Build from glob lists; returns the first invalid pattern's error.
    pub fn new(include: &[String], exclude: &[String]) -> Result<CollectionFilter, String> {
        let build = |patterns: &[String]| -> Result<Option<globset::GlobSet>, String> {
            if patterns.is_empty() {
                return Ok(None);
            }
            let mut set = globset::GlobSetBuilder::new();
            for pattern in patterns {
                let glob = globset::GlobBuilder::new(pattern)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("{pattern:?}: {e}"))?;
                set.add(glob);
            }
            set.build().map(Some).map_err(|e| e.to_string())
        };
        Ok(CollectionFilter {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    pub fn includes(&self, name: &str) -> bool {
        self.include.as_ref().is_none_or(|set| set.is_match(name))
            && !self.exclude.as_ref().is_some_and(|set| set.is_match(name))
    }
}
