//! Every Qdrant endpoint the agent reads, each path written once: the request path is built
//! from the same template the documentation shows, and each endpoint has one typed method on
//! [`Client`](super::Client).

use super::distributed::DistributedTelemetry;
use super::models::{
    AppInfo, ClusterInfo, CollectionInfo, CollectionMemory, CollectionsList, IssuesReport,
    OptimizationsInfo, QuotaStatus, SnapshotDescription, Telemetry,
};
use super::{Client, QdrantError, Version};

/// One endpoint; per-collection endpoints carry the collection name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    Root,
    Readyz,
    /// `/telemetry` at `details_level` 3 or, with `detail`, 4 (adds segments).
    Telemetry {
        detail: bool,
        per_collection: bool,
    },
    Collections,
    Collection(&'a str),
    Cluster,
    /// `/cluster/telemetry` (1.17+): the whole cluster's view.
    ClusterTelemetry,
    Optimizations(&'a str),
    Memory(&'a str),
    CollectionSnapshots(&'a str),
    StorageSnapshots,
    Issues,
    Quotas,
}

/// `per_collection=true` on `/telemetry`: per-collection request statistics.
pub const PER_COLLECTION_TELEMETRY_SINCE: Version = Version(1, 17, 1);
const PER_COLLECTION_QUERY: &str = "&per_collection=true";

impl Endpoint<'_> {
    /// The path as documented, with `{name}` for a collection name.
    pub fn template(&self) -> &'static str {
        match self {
            Endpoint::Root => "/",
            Endpoint::Readyz => "/readyz",
            Endpoint::Telemetry { detail: false, .. } => "/telemetry?details_level=3",
            Endpoint::Telemetry { detail: true, .. } => "/telemetry?details_level=4",
            Endpoint::Collections => "/collections",
            Endpoint::Collection(_) => "/collections/{name}",
            Endpoint::Cluster => "/cluster",
            Endpoint::ClusterTelemetry => "/cluster/telemetry?details_level=3",
            Endpoint::Optimizations(_) => "/collections/{name}/optimizations",
            Endpoint::Memory(_) => "/collections/{name}/memory",
            Endpoint::CollectionSnapshots(_) => "/collections/{name}/snapshots",
            Endpoint::StorageSnapshots => "/snapshots",
            Endpoint::Issues => "/issues",
            Endpoint::Quotas => "/quotas",
        }
    }

    /// The path to request: the template with the collection name percent-encoded as one
    /// path segment (names may hold any UTF-8, `/` included).
    pub fn path(&self) -> String {
        let template = self.template();
        match self {
            Endpoint::Collection(name)
            | Endpoint::Optimizations(name)
            | Endpoint::Memory(name)
            | Endpoint::CollectionSnapshots(name) => {
                template.replace("{name}", &encode_path_segment(name))
            }
            Endpoint::Telemetry {
                per_collection: true,
                ..
            } => format!("{template}{PER_COLLECTION_QUERY}"),
            Endpoint::Root
            | Endpoint::Readyz
            | Endpoint::Telemetry { .. }
            | Endpoint::Collections
            | Endpoint::Cluster
            | Endpoint::ClusterTelemetry
            | Endpoint::StorageSnapshots
            | Endpoint::Issues
            | Endpoint::Quotas => template.to_string(),
        }
    }
}

impl Endpoint<'_> {
    /// The path as the docs show it: the request path, with `{name}` left in.
    pub fn documented(&self) -> String {
        if self.template().contains("{name}") {
            self.template().to_string()
        } else {
            self.path()
        }
    }
}

/// Percent-encode a collection name for use as one path segment.
pub fn encode_path_segment(name: &str) -> String {
    url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Client {
    /// `GET /`: version and commit (no envelope).
    pub async fn app_info(&self) -> Result<AppInfo, QdrantError> {
        self.get_plain_json(&Endpoint::Root.path()).await
    }

    /// `GET /readyz`: `Ok(true)` when ready; a 503 "not ready" answer is `Ok(false)`.
    pub async fn ready(&self) -> Result<bool, QdrantError> {
        match self.get_text(&Endpoint::Readyz.path()).await {
            Ok(_) => Ok(true),
            Err(QdrantError::HttpStatus { status: 503, .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// `GET /telemetry`. Never asks for `anonymize=true`: it truncates numbers and hashes names.
    pub async fn telemetry(
        &self,
        detail: bool,
        per_collection: bool,
    ) -> Result<Telemetry, QdrantError> {
        let endpoint = Endpoint::Telemetry {
            detail,
            per_collection,
        };
        self.get_telemetry(&endpoint.path()).await
    }

    pub async fn collections(&self) -> Result<CollectionsList, QdrantError> {
        self.get_json(&Endpoint::Collections.path()).await
    }

    pub async fn collection(&self, name: &str) -> Result<CollectionInfo, QdrantError> {
        self.get_json(&Endpoint::Collection(name).path()).await
    }

    pub async fn cluster(&self) -> Result<ClusterInfo, QdrantError> {
        self.get_json(&Endpoint::Cluster.path()).await
    }

    pub async fn cluster_telemetry(&self) -> Result<DistributedTelemetry, QdrantError> {
        self.get_json(&Endpoint::ClusterTelemetry.path()).await
    }

    pub async fn optimizations(&self, name: &str) -> Result<OptimizationsInfo, QdrantError> {
        self.get_json(&Endpoint::Optimizations(name).path()).await
    }

    pub async fn collection_memory(&self, name: &str) -> Result<CollectionMemory, QdrantError> {
        self.get_json(&Endpoint::Memory(name).path()).await
    }

    pub async fn collection_snapshots(
        &self,
        name: &str,
    ) -> Result<Vec<SnapshotDescription>, QdrantError> {
        self.get_json(&Endpoint::CollectionSnapshots(name).path())
            .await
    }

    pub async fn storage_snapshots(&self) -> Result<Vec<SnapshotDescription>, QdrantError> {
        self.get_json(&Endpoint::StorageSnapshots.path()).await
    }

    pub async fn issues(&self) -> Result<IssuesReport, QdrantError> {
        self.get_json(&Endpoint::Issues.path()).await
    }

    pub async fn quotas(&self) -> Result<QuotaStatus, QdrantError> {
        self.get_json(&Endpoint::Quotas.path()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_stay_one_segment() {
        assert_eq!(encode_path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(encode_path_segment("ünï.co-de"), "%C3%BCn%C3%AF.co-de");
    }

    #[test]
    fn paths_follow_their_templates() {
        assert_eq!(
            Endpoint::Optimizations("a/b").path(),
            "/collections/a%2Fb/optimizations"
        );
        assert_eq!(
            Endpoint::Telemetry {
                detail: true,
                per_collection: true
            }
            .path(),
            "/telemetry?details_level=4&per_collection=true"
        );
        assert_eq!(Endpoint::Quotas.path(), "/quotas");
    }
}
