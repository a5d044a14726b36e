//! One export task per resource (each node, and the cluster), decoupled from polling: a poll
//! hands its newest points over a `watch` channel and goes on; the task takes whatever is
//! newest out of the channel when it is free, so a slow or hanging Collector delays only its own
//! exports, and unsent points are replaced rather than queued. Once delivered, points are let go:
//! between polls nothing holds them, so a poll never has two generations of points in memory
//! (docs/performance.md), and the final export at shutdown sends only points not yet delivered.
//! Each task owns its export statistics and adds them to the node's points itself.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::OtlpSettings;
use crate::events::{ExportFailed, ExportRecovered};
use crate::export::{EncodedPoints, ExportError, ResourceExporter};
use crate::metrics::record::export_points;
use crate::metrics::registry::MetricSelection;
use crate::metrics::Point;
use crate::resource::KeyValue;

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
    pub otlp: OtlpSettings,
    /// Add the agent's export metrics (node resources only).
    pub own_metrics: Option<MetricSelection>,
}

/// Export statistics of one resource.
#[derive(Debug, Default)]
struct Health {
    failures: u64,
    failing: bool,
    /// Points in the last successful export.
    exported: Option<u64>,
    /// No attempt before this (the Collector's `Retry-After`).
    retry_at: Option<tokio::time::Instant>,
}

impl ExportTask {
    pub async fn run<T: Latest>(self, mut handover: Handover<T>, shutdown: CancellationToken) {
        let mut exporter = ResourceExporter::new(self.otlp.clone());
        let mut health = Health::default();
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
            let result = self.export(&mut exporter, &batch, &health).await;
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
            Some(selection) => export_points(health.failures, health.exported, selection),
            None => Vec::new(),
        };
        let own = EncodedPoints::from(own.as_slice());
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
                .emit(&mut health.failures);
                health.failing = true;
            }
        }
    }
}
