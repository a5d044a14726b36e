//! The synchronous instruments of the agent's own telemetry, behind [`Recorder`]: the handle
//! the poll and export tasks record with (and trace their polls with, when traces are on).
//! `SelfTelemetry::start` makes one from its provider; the default one records nothing
//! (`once`, telemetry off, unit tests). No global state, so several agents in one process
//! (tests) each count and trace their own.

use std::future::Future;
use std::sync::Arc;

use opentelemetry::metrics::{Counter, Histogram, Meter};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracer;
use url::Url;

use crate::snapshot::NodeSnapshot;

use super::catalogue::{self, OwnMetric};

struct Instruments {
    poll_duration: Histogram<f64>,
    export_duration: Histogram<f64>,
    export_bytes: Counter<u64>,
    export_failures: Counter<u64>,
    export_rejected_points: Counter<u64>,
    points_dropped: Counter<u64>,
}

/// Records the agent's own metrics, and traces the polls when traces are on; cheap to clone.
/// The default records and traces nothing.
#[derive(Clone, Default)]
pub struct Recorder {
    instruments: Option<Arc<Instruments>>,
    tracer: Option<SdkTracer>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("metrics", &self.instruments.is_some())
            .field("traces", &self.tracer.is_some())
            .finish()
    }
}

impl Recorder {
    /// Record with `meter`'s instruments.
    pub(super) fn new(meter: &Meter) -> Recorder {
        let instruments = Some(Arc::new(Instruments {
            poll_duration: histogram(meter, &catalogue::POLL_DURATION),
            export_duration: histogram(meter, &catalogue::EXPORT_DURATION),
            export_bytes: counter(meter, &catalogue::EXPORT_BYTES),
            export_failures: counter(meter, &catalogue::EXPORT_FAILURES),
            export_rejected_points: counter(meter, &catalogue::EXPORT_REJECTED_POINTS),
            points_dropped: counter(meter, &catalogue::POINTS_DROPPED),
        }));
        Recorder {
            instruments,
            tracer: None,
        }
    }

    /// Also trace the polls with `tracer`.
    pub fn with_tracer(self, tracer: SdkTracer) -> Recorder {
        Recorder {
            tracer: Some(tracer),
            ..self
        }
    }

    /// Run one node's `poll` of `base_url`, in a span when traces are on.
    pub async fn poll(
        &self,
        base_url: &Url,
        poll: impl Future<Output = NodeSnapshot>,
    ) -> NodeSnapshot {
        match &self.tracer {
            Some(tracer) => super::traces::traced_poll(tracer, base_url, poll).await,
            None => poll.await,
        }
    }

    fn with(&self, record: impl FnOnce(&Instruments)) {
        if let Some(instruments) = &self.instruments {
            record(instruments);
        }
    }

    /// A poll of `node` took `seconds`.
    pub fn poll_finished(&self, node: &str, seconds: f64) {
        self.with(|i| {
            i.poll_duration
                .record(seconds, &[of(catalogue::NODE, node)])
        });
    }

    /// An export task for `resource` started: its counts of failures, rejected and dropped
    /// points start at zero, so that the first one is an increase and not the birth of a
    /// series.
    pub fn export_started(&self, resource: &str) {
        self.with(|i| {
            let attributes = [of(catalogue::RESOURCE, resource)];
            i.export_failures.add(0, &attributes);
            i.export_rejected_points.add(0, &attributes);
            for reason in [DropReason::Invalid, DropReason::Replaced] {
                let attributes = [
                    of(catalogue::RESOURCE, resource),
                    KeyValue::new(catalogue::REASON, reason.as_str()),
                ];
                i.points_dropped.add(0, &attributes);
            }
        });
    }

    /// An export of `resource`'s points ended after `seconds`, having delivered `bytes`.
    pub fn export_finished(&self, resource: &str, seconds: f64, bytes: u64) {
        self.with(|i| {
            let attributes = [of(catalogue::RESOURCE, resource)];
            i.export_duration.record(seconds, &attributes);
            i.export_bytes.add(bytes, &attributes);
        });
    }

    /// An export of `resource`'s points failed.
    pub fn export_failed(&self, resource: &str, error_type: &'static str) {
        self.with(|i| {
            let attributes = [
                of(catalogue::RESOURCE, resource),
                KeyValue::new(catalogue::ERROR_TYPE, error_type),
            ];
            i.export_failures.add(1, &attributes);
        });
    }

    /// The receiver rejected `points` of `resource` in a request it accepted in part.
    pub fn points_rejected(&self, resource: &str, points: u64) {
        self.with(|i| {
            i.export_rejected_points
                .add(points, &[of(catalogue::RESOURCE, resource)])
        });
    }

    /// `points` of `resource` will never be delivered.
    pub fn points_dropped(&self, resource: &str, points: u64, reason: DropReason) {
        self.with(|i| {
            let attributes = [
                of(catalogue::RESOURCE, resource),
                KeyValue::new(catalogue::REASON, reason.as_str()),
            ];
            i.points_dropped.add(points, &attributes);
        });
    }
}

fn histogram(meter: &Meter, spec: &OwnMetric) -> Histogram<f64> {
    meter
        .f64_histogram(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .with_boundaries(catalogue::DURATION_BUCKETS.to_vec())
        .build()
}

fn counter(meter: &Meter, spec: &OwnMetric) -> Counter<u64> {
    meter
        .u64_counter(spec.name)
        .with_unit(spec.unit)
        .with_description(spec.description)
        .build()
}

/// Why points were not delivered.
#[derive(Debug, Clone, Copy)]
pub enum DropReason {
    /// Impossible values (negative counts, non-finite numbers) that recording left out.
    Invalid,
    /// Newer points of the same resource replaced them before they were delivered.
    Replaced,
}

impl DropReason {
    fn as_str(self) -> &'static str {
        match self {
            DropReason::Invalid => "invalid",
            DropReason::Replaced => "replaced",
        }
    }
}

fn of(key: &'static str, value: &str) -> KeyValue {
    KeyValue::new(key, value.to_string())
}
