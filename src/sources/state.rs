//! What the agent remembers about one node between polls: the poll count (for the slow
//! cadence), the slow sources' last reads (kept so their series never blink), the version the
//! node reported, the sources it does not have (a 404 from a gated endpoint, remembered
//! until the version changes), and recent optimizer samples (for throughput and ETA). Logging and counting are the agent's, not kept here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use std::time::{Instant, SystemTime};

use super::backlog::BacklogHistory;
use super::plan::SourcePlan;
use super::spread::Spread;
use crate::qdrant::models::{IssuesReport, SegmentDetails, SnapshotDescription};
use crate::qdrant::Version;
use crate::source_id::SourceId;

/// Slow-cadence, server-wide reads kept between slow polls.
#[derive(Debug, Default)]
pub(super) struct SlowData {
    /// The segment summary of the last level-4 read (not the response: see
    /// `qdrant::models::segments`).
    pub detail: Option<Arc<SegmentDetails>>,
    pub storage_snapshots: Option<Arc<Vec<SnapshotDescription>>>,
    pub issues: Option<Arc<IssuesReport>>,
    /// When each slow source last read successfully.
    pub read_at: BTreeMap<SourceId, SystemTime>,
}

/// One node's memory between polls.
#[derive(Debug, Default)]
pub struct NodeState {
    polls: u64,
    pub(super) slow: SlowData,
    /// The per-collection reads, spread over polls.
    pub(super) spread: Spread,
    /// The version `/` reported last.
    version: Option<Version>,
    /// Sources that answered 404 on this version.
    unsupported: BTreeSet<SourceId>,
    /// Recent optimizer samples per collection, for throughput and ETA.
    pub(super) backlog: BacklogHistory,
    /// The first poll's moment: samples are timed from it on a monotonic clock, so that a
    /// wall-clock step cannot make a pace.
    clock_start: Option<Instant>,
}

impl NodeState {
    /// Seconds since the first poll, on a monotonic clock.
    pub(super) fn clock(&mut self) -> f64 {
        self.clock_start
            .get_or_insert_with(Instant::now)
            .elapsed()
            .as_secs_f64()
    }

    /// Whether this is the first poll (after `begin_poll`).
    pub(super) fn is_first_poll(&self) -> bool {
        self.polls == 1
    }

    /// Count a poll; true when the slow sources are due (the first poll included).
    pub(super) fn begin_poll(&mut self, detail_every: u32) -> bool {
        let due = self.polls.is_multiple_of(u64::from(detail_every.max(1)));
        self.polls += 1;
        due
    }

    /// Whether `source` may be called on this node: wanted, new enough, not known missing.
    pub(super) fn may_call(&self, source: SourceId, plan: &SourcePlan) -> bool {
        plan.wants(source)
            && !self.unsupported.contains(&source)
            && source.supported_by(self.version)
    }

    pub(super) fn mark_unsupported(&mut self, source: SourceId) {
        self.unsupported.insert(source);
    }

    /// A new version may have the endpoints the old one lacked.
    pub(super) fn set_version(&mut self, reported: Option<&str>) {
        let Some(version) = reported.and_then(Version::parse) else {
            return;
        };
        if self.version != Some(version) {
            self.unsupported.clear();
            self.version = Some(version);
        }
    }
}
