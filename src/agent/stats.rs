//! The agent's own view of one node between polls: cumulative poll errors, and the last state
//! of each source and of the node, so that each change is said once (see `events`).

use std::collections::BTreeMap;

use crate::events::{NodeDown, NodeUp, SourceFailed, SourceRecovered, SourceUnsupported};
use crate::qdrant::ErrorType;
use crate::snapshot::{AgentStats, NodeSnapshot, SourceOutcome};
use crate::source_id::SourceId;
use crate::telemetry::{DropReason, Recorder};

/// The last known state of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastState {
    Ok,
    Failed(ErrorType),
    Unsupported,
}

#[derive(Debug, Default)]
pub struct NodeStats {
    pub stats: AgentStats,
    last: BTreeMap<SourceId, LastState>,
    last_up: Option<bool>,
    dropping: bool,
    recorder: Recorder,
}

impl NodeStats {
    /// Statistics whose dropped points are counted in the agent's own telemetry.
    pub fn recording(recorder: Recorder) -> NodeStats {
        NodeStats {
            recorder,
            ..NodeStats::default()
        }
    }

    /// Count impossible values that recording left out as decode errors of their source,
    /// logged once while they keep coming.
    pub fn count_dropped(&mut self, node: &str, dropped: &[SourceId]) {
        for source in dropped {
            *self
                .stats
                .poll_errors
                .entry((*source, ErrorType::Decode))
                .or_insert(0) += 1;
        }
        self.recorder
            .points_dropped(node, dropped.len() as u64, DropReason::Invalid);
        let now_dropping = !dropped.is_empty();
        if now_dropping && !self.dropping {
            tracing::warn!(node = %node, values = dropped.len(), "Impossible values (negative counts, non-finite numbers) left out and counted as decode errors.");
        }
        self.dropping = now_dropping;
    }

    /// Count and log what changed in this poll.
    pub fn observe(&mut self, snapshot: &NodeSnapshot) {
        let node = snapshot.instance.as_str();
        for report in &snapshot.sources {
            let state = match &report.outcome {
                SourceOutcome::Ok => LastState::Ok,
                SourceOutcome::Failed(error) => LastState::Failed(error.error_type()),
                SourceOutcome::Unsupported => LastState::Unsupported,
            };
            let previous = self.last.insert(report.source, state);
            let changed = previous != Some(state);
            match &report.outcome {
                SourceOutcome::Failed(error) => SourceFailed {
                    node,
                    source: report.source,
                    error,
                    changed,
                }
                .emit(&mut self.stats),
                SourceOutcome::Ok if matches!(previous, Some(LastState::Failed(_))) => {
                    SourceRecovered {
                        node,
                        source: report.source,
                    }
                    .emit()
                }
                SourceOutcome::Unsupported if changed => SourceUnsupported {
                    node,
                    source: report.source,
                }
                .emit(),
                SourceOutcome::Ok | SourceOutcome::Unsupported => {}
            }
        }
        if self.last_up != Some(snapshot.up) {
            if snapshot.up {
                NodeUp { node }.emit();
            } else {
                NodeDown { node }.emit();
            }
            self.last_up = Some(snapshot.up);
        }
    }
}
