//! The agent's internal events, in the style of Vector's `internal_events`: each change of
//! state is one typed event that logs once (key/value fields, a bounded `error.type`) and
//! counts what it stands for. Callers decide *whether* a state changed; the event decides how it
//! is said.

use crate::export::{ExportError, PartialSuccess};
use crate::qdrant::{ErrorType, QdrantError};
use crate::snapshot::AgentStats;
use crate::source_id::SourceId;
use crate::telemetry::Recorder;

/// A source failed in this poll. Counted every time; logged only when its error type changed.
pub struct SourceFailed<'a> {
    pub node: &'a str,
    pub source: SourceId,
    pub error: &'a QdrantError,
    pub changed: bool,
}

impl SourceFailed<'_> {
    pub fn emit(self, stats: &mut AgentStats) {
        let error_type = self.error.error_type();
        *stats
            .poll_errors
            .entry((self.source, error_type))
            .or_insert(0) += 1;
        if !self.changed {
            return;
        }
        let hint = match error_type {
            ErrorType::Forbidden | ErrorType::Unauthorized => {
                " The metrics of this source are not reported while the key lacks the permission."
            }
            _ => "",
        };
        tracing::warn!(node = %self.node, source = %self.source, error.type = %error_type, error = %self.error, "Source failed.{hint}");
    }
}

/// A source that had failed answered again.
pub struct SourceRecovered<'a> {
    pub node: &'a str,
    pub source: SourceId,
}

impl SourceRecovered<'_> {
    pub fn emit(self) {
        tracing::info!(node = %self.node, source = %self.source, "Source recovered.");
    }
}

/// The node's version does not have a source's endpoint.
pub struct SourceUnsupported<'a> {
    pub node: &'a str,
    pub source: SourceId,
}

impl SourceUnsupported<'_> {
    pub fn emit(self) {
        tracing::info!(node = %self.node, source = %self.source, since = %self.source.since(), "Source not supported by this Qdrant version; skipping it until the version changes.");
    }
}

/// The node answered with its version and collections again (or for the first time).
pub struct NodeUp<'a> {
    pub node: &'a str,
}

impl NodeUp<'_> {
    pub fn emit(self) {
        tracing::info!(node = %self.node, "Node is up.");
    }
}

/// The node did not answer with its version and collections.
pub struct NodeDown<'a> {
    pub node: &'a str,
}

impl NodeDown<'_> {
    pub fn emit(self) {
        tracing::warn!(node = %self.node, "Node is down: it did not answer with its version and collections.");
    }
}

/// An OTLP export failed. Counted every time; logged only on the first failure in a row.
pub struct ExportFailed<'a> {
    pub resource: &'a str,
    pub error: &'a ExportError,
    pub changed: bool,
}

impl ExportFailed<'_> {
    pub fn emit(self, recorder: &Recorder) {
        recorder.export_failed(self.resource, self.error.error_type());
        if self.changed {
            tracing::warn!(resource = %self.resource, error = %self.error, "OTLP export failed; the newest points will be sent on the next attempt.");
        }
    }
}

/// The Collector accepted an export only in part, or with a warning (an OTLP partial
/// success): the export is delivered and not sent again. The rejected points are counted every
/// time; logged only when the Collector's message changed.
pub struct ExportPartlyRejected<'a> {
    pub resource: &'a str,
    pub partial: &'a PartialSuccess,
    pub changed: bool,
}

impl ExportPartlyRejected<'_> {
    pub fn emit(self, recorder: &Recorder) {
        recorder.points_rejected(self.resource, self.partial.rejected);
        if !self.changed {
            return;
        }
        let (resource, message) = (self.resource, &self.partial.message);
        if self.partial.rejected > 0 {
            tracing::warn!(%resource, rejected = self.partial.rejected, error = %message, "The Collector rejected data points of an export; it accepted the rest, which is not sent again.");
        } else {
            tracing::warn!(%resource, warning = %message, "The Collector accepted an export with a warning.");
        }
    }
}

/// The Collector accepted a whole export again, after partial successes.
pub struct ExportFullyAccepted<'a> {
    pub resource: &'a str,
}

impl ExportFullyAccepted<'_> {
    pub fn emit(self) {
        tracing::info!(resource = %self.resource, "The Collector accepts every data point again.");
    }
}

/// An OTLP export succeeded after failures.
pub struct ExportRecovered<'a> {
    pub resource: &'a str,
}

impl ExportRecovered<'_> {
    pub fn emit(self) {
        tracing::info!(resource = %self.resource, "OTLP export recovered.");
    }
}

/// Discovery found a node that the agent does not poll yet (or a node that had left rejoined).
pub struct NodeDiscovered<'a> {
    pub node: &'a str,
    /// The peer's p2p URI, as `/cluster` lists it.
    pub peer: &'a str,
}

impl NodeDiscovered<'_> {
    pub fn emit(self) {
        tracing::info!(node = %self.node, peer = %self.peer, "Node discovered: polling it.");
    }
}

/// A discovered node is no longer a peer in `/cluster`.
pub struct NodeLeft<'a> {
    pub node: &'a str,
}

impl NodeLeft<'_> {
    pub fn emit(self) {
        tracing::info!(node = %self.node, "Node left membership: no longer polling it.");
    }
}

/// No seed answered `/cluster`. Logged only on the first failure in a row; the nodes polled
/// stay as they are.
pub struct DiscoveryFailed<'a> {
    pub error: &'a QdrantError,
    pub changed: bool,
}

impl DiscoveryFailed<'_> {
    pub fn emit(self) {
        if self.changed {
            tracing::warn!(error.type = %self.error.error_type(), error = %self.error, "Discovery failed: no seed answered /cluster; keeping the nodes polled.");
        }
    }
}

/// A seed answered `/cluster` again.
pub struct DiscoveryRecovered;

impl DiscoveryRecovered {
    pub fn emit(self) {
        tracing::info!("Discovery recovered.");
    }
}
