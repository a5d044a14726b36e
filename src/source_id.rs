//! The sources the agent polls, named once: each source's endpoints (shared with the docs) and
//! the first Qdrant version that has them (used for gating). Below `snapshot` and `sources`, so
//! both can name a source without depending on each other.

use std::fmt;

use crate::qdrant::endpoints::PER_COLLECTION_TELEMETRY_SINCE;
use crate::qdrant::{Endpoint, Version};

/// Identifies a source (and, for `Agent`, the agent's own metrics) in the registry and in the
/// `qdrant.agent.source` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    App,
    Ready,
    Telemetry,
    TelemetryDetail,
    /// Per-collection request statistics: the telemetry request with `per_collection=true`.
    TelemetryPerCollection,
    Collections,
    Cluster,
    /// The whole cluster's view, read from the raft leader only (1.17+).
    ClusterTelemetry,
    Optimizations,
    Memory,
    /// Snapshots of each collection.
    Snapshots,
    /// Full-storage snapshots.
    StorageSnapshots,
    Issues,
    Quotas,
    Agent,
}

impl SourceId {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceId::App => "app",
            SourceId::Ready => "ready",
            SourceId::Telemetry => "telemetry",
            SourceId::TelemetryDetail => "telemetry_detail",
            SourceId::TelemetryPerCollection => "telemetry_per_collection",
            SourceId::Collections => "collections",
            SourceId::Cluster => "cluster",
            SourceId::ClusterTelemetry => "cluster_telemetry",
            SourceId::Optimizations => "optimizations",
            SourceId::Memory => "memory",
            SourceId::Snapshots => "snapshots",
            SourceId::StorageSnapshots => "storage_snapshots",
            SourceId::Issues => "issues",
            SourceId::Quotas => "quotas",
            SourceId::Agent => "agent",
        }
    }

    /// The endpoints the source reads (none for the agent itself).
    pub fn endpoints(self) -> &'static [Endpoint<'static>] {
        match self {
            SourceId::App => &[Endpoint::Root],
            SourceId::Ready => &[Endpoint::Readyz],
            SourceId::Telemetry => &[Endpoint::Telemetry {
                detail: false,
                per_collection: false,
            }],
            SourceId::TelemetryDetail => &[Endpoint::Telemetry {
                detail: true,
                per_collection: false,
            }],
            SourceId::TelemetryPerCollection => &[Endpoint::Telemetry {
                detail: false,
                per_collection: true,
            }],
            SourceId::Collections => &[Endpoint::Collections, Endpoint::Collection("")],
            SourceId::Cluster => &[Endpoint::Cluster],
            SourceId::ClusterTelemetry => &[Endpoint::ClusterTelemetry],
            SourceId::Optimizations => &[Endpoint::Optimizations("")],
            SourceId::Memory => &[Endpoint::Memory("")],
            SourceId::Snapshots => &[Endpoint::CollectionSnapshots("")],
            SourceId::StorageSnapshots => &[Endpoint::StorageSnapshots],
            SourceId::Issues => &[Endpoint::Issues],
            SourceId::Quotas => &[Endpoint::Quotas],
            SourceId::Agent => &[],
        }
    }

    /// The endpoints as the docs show them.
    pub fn endpoint_text(self) -> String {
        if self.endpoints().is_empty() {
            return "(the agent itself)".into();
        }
        let paths: Vec<String> = self.endpoints().iter().map(Endpoint::documented).collect();
        paths.join(", ")
    }

    /// First Qdrant version that has the source's endpoint.
    pub fn since(self) -> Version {
        match self {
            SourceId::TelemetryPerCollection => PER_COLLECTION_TELEMETRY_SINCE,
            // The endpoint exists in 1.16 with another shape.
            SourceId::Optimizations | SourceId::ClusterTelemetry => Version(1, 17, 0),
            SourceId::Memory => Version(1, 18, 0),
            SourceId::Quotas => Version(1, 19, 0),
            SourceId::App
            | SourceId::Ready
            | SourceId::Telemetry
            | SourceId::TelemetryDetail
            | SourceId::Collections
            | SourceId::Cluster
            | SourceId::Snapshots
            | SourceId::StorageSnapshots
            | SourceId::Issues
            | SourceId::Agent => Version::ANY,
        }
    }

    /// Whether the server at `version` (unknown: assume yes) has the source's endpoint.
    pub fn supported_by(self, version: Option<Version>) -> bool {
        version.is_none_or(|version| version >= self.since())
    }

    /// A source that only some versions have: its 404 means "not supported", not an error.
    pub fn is_gated(self) -> bool {
        self.since() > Version::ANY
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
