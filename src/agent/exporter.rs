//! One export task per resource (each node, and the cluster), decoupled from polling: a poll
//! hands its newest points over a `watch` channel and goes on; the task takes whatever is
//! newest out of the channel when it is free, so a slow or hanging Collector delays only its own
//! exports, and unsent points are replaced rather than queued. Once delivered, points are let go:
//! between polls nothing holds them, so a poll never has two generations of points in memory
//! (docs/performance.md), and the final export at shutdown sends only points not yet delivered.
//! Each task adds the points of its last export to the node's points itself; its durations,
//! bytes, failures and rejections go to the agent's own telemetry.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::events::{ExportFailed, ExportFullyAccepted, ExportPartlyRejected, ExportRecovered};
use crate::export::{EncodedPoints, ExportError, OtlpClient, PartialSuccess, ResourceExporter};
use crate::metrics::record::export_points;
use crate::metrics::registry::MetricSelection;
use crate::metrics::Point;
use crate::resource::KeyValue;
use crate::telemetry::{DropReason, Recorder};

/// One resource's points, as recorded by a poll.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub resource: Vec<KeyValue>,
    /// Encoded as they were recorded; shared with the exporter, which frames them at each
    /// export.
    pub points: Arc<EncodedPoints>,
    /// When the node's Qdrant process started, if known: the start time of Qdrant's own
    /// counters among the points.
    pub qdrant_start: Option<SystemTime>,
}

/// The cluster's slot: which node speaks for the cluster, and what it said last.
#[derive(Debug, Clone, Default)]
pub struct ClusterSlot {
    pub speaker: Option<String>,
    pub batch: Option<Arc<Batch>>,
}

/// What an export task takes out of its channel.
pub trait Latest: Send + Sync + 'static {
    fn take_batch(&mut self) -> Option<Arc<Batch>>;
}

impl Latest for Option<Arc<Batch>> {
    fn take_batch(&mut self) -> Option<Arc<Batch>> {
        self.take()
    }
}

impl Latest for ClusterSlot {
    fn take_batch(&mut self) -> Option<Arc<Batch>> {
        self.batch.take()
    }
}

/// The export task's end of a channel: told of each new batch, and able to take it out.
pub struct Handover<T> {
    slot: watch::Sender<T>,
    changes: watch::Receiver<T>,
}

impl<T: Latest> Handover<T> {
    /// The export task's end of the channel `slot` sends on; made before any send, so that
    /// none is missed.
    pub fn new(slot: &watch::Sender<T>) -> Handover<T> {
        Handover {
            slot: slot.clone(),
            changes: slot.subscribe(),
        }
    }

    /// The newest batch, taken out of the channel (not a change: the poll side is not woken).
    fn take(&self) -> Option<Arc<Batch>> {
        let mut taken = None;
        self.slot.send_if_modified(|latest| {
            taken = latest.take_batch();
            false
        });
        taken
    }
}

/// An export task's settings.
pub struct ExportTask {
    /// Names the resource in logs (`host:port`, or the cluster name).
    pub label: String,
    /// The connection to the Collector, shared by every export task.
    pub client: OtlpClient,
    /// Add the points of the last export (`qdrant.agent.exported_points`; node resources only).
    pub own_metrics: Option<MetricSelection>,
    /// The agent's own telemetry.
    pub recorder: Recorder,
}

/// Export statistics of one resource (its counters are the agent's own telemetry).
#[derive(Debug, Default)]
struct Health {
    failing: bool,
    /// The Collector's message of the last partial success, until an export is accepted whole.
    rejection: Option<String>,
    /// Points in the last successful export.
    exported: Option<u64>,
    /// No attempt before this (the Collector's `Retry-After`).
    retry_at: Option<tokio::time::Instant>,
}

impl ExportTask {
    pub async fn run<T: Latest>(self, mut handover: Handover<T>, shutdown: CancellationToken) {
        let mut exporter = ResourceExporter::sharing(self.client.clone());
        let mut health = Health::default();
        self.recorder.export_started(&self.label);
        loop {
            tokio::select! {
                // Never closed while this task holds its own sender to take batches with.
                changed = handover.changes.changed() => if changed.is_err() { break },
                _ = shutdown.cancelled() => break,
            }
            // The Collector asked to wait: the next attempt waits (polls go on in their own
            // task, and a batch they hand over meanwhile replaces the pending one).
            if let Some(at) = health.retry_at.take() {
                tokio::select! {
                    _ = tokio::time::sleep_until(at) => {}
                    _ = shutdown.cancelled() => break,
                }
            }
            let Some(batch) = handover.take() else {
                continue;
            };
            let started = std::time::Instant::now();
            let result = self.export(&mut exporter, &batch, &health).await;
            let seconds = started.elapsed().as_secs_f64();
            let bytes = exporter.take_sent_bytes();
            self.recorder.export_finished(&self.label, seconds, bytes);
            let partial = exporter.take_partial_success();
            self.note_partial(&mut health, partial, result.is_ok());
            self.note(&mut health, result);
        }
        // The newest points, if a poll handed them over while an export was under way; else
        // the exporter still holds the last points if they were not delivered.
        if let Some(batch) = handover.take() {
            self.publish(&mut exporter, &batch, &health);
        }
        tracing::debug!(resource = %self.label, "Stopping: final export of undelivered points.");
        exporter.shutdown().await;
    }

    fn publish(&self, exporter: &mut ResourceExporter, batch: &Batch, health: &Health) -> usize {
        let own: Vec<Point> = match &self.own_metrics {
            Some(selection) => export_points(health.exported, selection),
            None => Vec::new(),
        };
        let own = EncodedPoints::from(own.as_slice());
        // Points of an earlier export not delivered yet are replaced by these.
        let unsent = exporter.undelivered_points() as u64;
        self.recorder
            .points_dropped(&self.label, unsent, DropReason::Replaced);
        exporter.publish(
            batch.resource.clone(),
            vec![Arc::clone(&batch.points), Arc::new(own)],
            batch.qdrant_start,
        )
    }

    async fn export(
        &self,
        exporter: &mut ResourceExporter,
        batch: &Batch,
        health: &Health,
    ) -> Result<usize, ExportError> {
        let points = self.publish(exporter, batch, health);
        exporter.flush().await?;
        Ok(points)
    }

    /// Count and log what the Collector said of requests it accepted in part (logged when its
    /// message changes); an export accepted whole ends a run of partial successes.
    fn note_partial(&self, health: &mut Health, partial: Option<PartialSuccess>, done: bool) {
        let Some(partial) = partial else {
            if done && health.rejection.take().is_some() {
                ExportFullyAccepted {
                    resource: &self.label,
                }
                .emit();
            }
            return;
        };
        let changed = health.rejection.as_deref() != Some(partial.message.as_str());
        ExportPartlyRejected {
            resource: &self.label,
            partial: &partial,
            changed,
        }
        .emit(&self.recorder);
        health.rejection = Some(partial.message);
    }

    fn note(&self, health: &mut Health, result: Result<usize, ExportError>) {
        match result {
            Ok(points) => {
                health.exported = Some(points as u64);
                if health.failing {
                    ExportRecovered {
                        resource: &self.label,
                    }
                    .emit();
                }
                health.failing = false;
            }
            Err(error) => {
                health.retry_at = error
                    .retry_after()
                    .map(|wait| tokio::time::Instant::now() + wait);
                ExportFailed {
                    resource: &self.label,
                    error: &error,
                    changed: !health.failing,
                }
                .emit(&self.recorder);
                health.failing = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Log lines, captured.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn partial(rejected: u64, message: &str) -> Option<PartialSuccess> {
        Some(PartialSuccess {
            rejected,
            message: message.into(),
        })
    }

    /// Rejected points are counted every time; the Collector's message is logged when it
    /// changes, and the end of the partial successes once.
    #[test]
    fn partial_successes_count_every_time_and_log_once_per_message() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let task = ExportTask {
            label: "n1:6333".into(),
            client: OtlpClient::new(crate::config::OtlpSettings {
                protocol: crate::config::OtlpProtocol::HttpProtobuf,
                endpoint: "http://localhost:4318/v1/metrics".into(),
                headers: Vec::new(),
                compression: crate::config::Compression::Gzip,
                timeout: std::time::Duration::from_secs(1),
                tls: Default::default(),
                temporality_preference: crate::config::TemporalityPreference::Cumulative,
                traces_endpoint: None,
            }),
            own_metrics: None,
            recorder: Recorder::default(),
        };
        let mut health = Health::default();
        tracing::subscriber::with_default(subscriber, || {
            task.note_partial(&mut health, partial(3, "bad unit"), true);
            task.note_partial(&mut health, partial(2, "bad unit"), true);
            task.note_partial(&mut health, partial(1, "too many attributes"), false);
            task.note_partial(&mut health, None, false);
            task.note_partial(&mut health, None, true);
            task.note_partial(&mut health, None, true);
            task.note_partial(&mut health, partial(4, "bad unit"), true);
        });
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = logs.lines().collect();
        assert_eq!(lines.len(), 4, "{logs}");
        assert!(lines[0].contains("rejected=3") && lines[0].contains("bad unit"));
        assert!(lines[1].contains("rejected=1") && lines[1].contains("too many attributes"));
        assert!(
            lines[2].contains("accepts every data point again"),
            "{logs}"
        );
        assert!(lines[3].contains("rejected=4") && lines[3].contains("bad unit"));
    }
}
