//! One export task per resource (each node, and the cluster), decoupled from polling: a poll
//! hands its newest points over a `watch` channel and goes on; the task exports whatever is
//! newest when it is free, so a slow or hanging Collector delays only its own exports, and
//! unsent points are replaced rather than queued. Each task owns its export statistics and
//! adds them to the node's points itself.

use std::sync::Arc;

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
}

/// The cluster's slot: which node speaks for the cluster, and what it said last.
#[derive(Debug, Clone, Default)]
pub struct ClusterSlot {
    pub speaker: Option<String>,
    pub batch: Option<Arc<Batch>>,
}

/// What an export task reads from its channel.
pub trait Latest: Send + Sync + 'static {
    fn batch(&self) -> Option<Arc<Batch>>;
}

impl Latest for Option<Arc<Batch>> {
    fn batch(&self) -> Option<Arc<Batch>> {
        self.clone()
    }
}

impl Latest for ClusterSlot {
    fn batch(&self) -> Option<Arc<Batch>> {
        self.batch.clone()
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
    pub async fn run<T: Latest>(self, mut latest: watch::Receiver<T>, shutdown: CancellationToken) {
        let mut exporter = ResourceExporter::new(self.otlp.clone());
        let mut health = Health::default();
        loop {
            tokio::select! {
                changed = latest.changed() => if changed.is_err() { break },
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
            let Some(batch) = latest.borrow_and_update().batch() else {
                continue;
            };
            let result = self.export(&mut exporter, &batch, &health).await;
            self.note(&mut health, result);
        }
        // The newest points, if a poll handed them over while an export was under way.
        if latest.has_changed().unwrap_or(false) {
            if let Some(batch) = latest.borrow_and_update().batch() {
                self.publish(&mut exporter, &batch, &health);
            }
        }
        tracing::debug!(resource = %self.label, "Stopping: final export.");
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
