//! What a poll may call: the sources the enabled metrics need, and the settings of the poll
//! that do not change between polls.

use std::collections::BTreeSet;

use super::CollectionFilter;
use crate::source_id::SourceId;

/// Which sources a poll may call, from the metrics that are enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePlan {
    pub wanted: BTreeSet<SourceId>,
}

impl SourcePlan {
    /// Every source.
    pub fn all() -> SourcePlan {
        SourcePlan {
            wanted: [
                SourceId::App,
                SourceId::Ready,
                SourceId::Telemetry,
                SourceId::TelemetryDetail,
                SourceId::Cluster,
                SourceId::ClusterTelemetry,
                SourceId::Optimizations,
                SourceId::Memory,
                SourceId::Snapshots,
                SourceId::StorageSnapshots,
                SourceId::Issues,
                SourceId::Quotas,
            ]
            .into(),
        }
    }

    pub fn wants(&self, source: SourceId) -> bool {
        self.wanted.contains(&source)
    }
}

/// Settings of the poll that do not change between polls.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Run the slow sources every Nth poll (the first poll always does).
    pub detail_every: u32,
    /// Bound on concurrent per-collection requests.
    pub max_concurrency: usize,
    /// Most per-collection requests per poll (spread round-robin, busy collections first).
    pub collection_requests: usize,
    /// The first poll reads every per-collection endpoint ...
    pub read_all_at_start: bool,
    /// ... within this long (requests still waiting then are left to later polls).
    pub read_all_within: std::time::Duration,
    pub plan: SourcePlan,
    /// Collections to read per-collection sources for.
    pub collections: CollectionFilter,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            detail_every: 4,
            max_concurrency: 8,
            collection_requests: 16,
            read_all_at_start: false,
            read_all_within: std::time::Duration::from_secs(15),
            plan: SourcePlan::all(),
            collections: CollectionFilter::default(),
        }
    }
}
