//! The only OTLP code: an encoder that writes the OTLP protobuf straight from the recorded
//! points (`encode.rs`), and the two transports (HTTP/protobuf with reqwest, gRPC with
//! tonic). One [`ResourceExporter`] per exported resource (a Qdrant node, or a cluster).
//!
//! What the OpenTelemetry SDK's observable instruments did is kept, without its per-point cost
//! (docs/performance.md): each export carries exactly the newest published points, so a
//! collection that disappears from Qdrant is not exported next time; gauges are `Gauge`s,
//! counters cumulative monotonic `Sum`s and up-down counters cumulative non-monotonic `Sum`s,
//! stamped with the export time as their time and, as start time, Qdrant's process start for
//! the counts Qdrant keeps (`CountsFrom::QdrantStart` in the registry: the start moves when
//! Qdrant restarts, so their drop is a reset) and the exporter's creation for everything else
//! (the SDK's start time of an observable cumulative instrument). Attributes the semantic
//! conventions type as int are ints; the scope names the conventions' schema (`schema_url`).
//! With the `delta` temporality preference, counters go out as deltas instead (`delta.rs`).
//!
//! Every setting comes from the resolved configuration ([`OtlpSettings`]: the agent's keys and
//! the standard `OTEL_EXPORTER_OTLP_*` variables); nothing else reads the process environment.
//!
//! An export larger than [`MAX_REQUEST_BYTES`] is split by data points into several complete
//! requests (each with the resource and scope); the first carries `qdrant.up` and the agent's
//! own metrics, so they always go out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{number_data_point, AggregationTemporality};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{Compression, OtlpProtocol, OtlpSettings};
use crate::metrics::registry::{Instrument, MetricSpec, ValueType, REGISTRY};
use crate::resource::KeyValue;

/// The largest encoded (uncompressed) export request. The Collector's OTLP/gRPC receiver
/// refuses messages over its `max_recv_msg_size_mib`, 4 MiB by default, and gRPC servers in
/// general default to 4 MiB; the OTLP/HTTP receiver has no default body limit but proxies
/// and SaaS endpoints commonly cap bodies at a few MiB. Measured before compression, so the
/// limit holds however well the request compresses (gzip makes ~4 MiB of points a few hundred
/// KiB on the wire).
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The longest wait a `Retry-After` can impose; a longer one is capped.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How much of an error response body goes into the error message.
const BODY_EXCERPT_CHARS: usize = 200;

const GRPC_EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

mod delta;
mod encode;
mod error;
mod grpc;
mod points;
#[cfg(test)]
mod tests;
mod transport;

use delta::{DeltaState, Deltas, Pending};
use encode::*;
pub use error::ExportError;
use error::*;
use grpc::*;
pub use points::EncodedPoints;
use transport::*;

/// Exports one resource's points.
pub struct ResourceExporter {
    otlp: OtlpSettings,
    transport: Result<Transport, String>,
    /// When this exporter was created: the start time of the agent's own counters and of
    /// every level (Qdrant's own counters start at Qdrant's start, given with the points).
    agent_start_unix_nano: u64,
    max_request_bytes: usize,
    /// The newest published points not yet delivered, laid out in requests.
    published: Option<Layout>,
    /// With delta temporality, the counters' last delivered points.
    deltas: Option<DeltaState>,
}

impl ResourceExporter {
    pub fn new(otlp: OtlpSettings) -> ResourceExporter {
        ResourceExporter::with_max_request_bytes(otlp, MAX_REQUEST_BYTES)
    }

    /// With another request size limit (tests).
    pub fn with_max_request_bytes(
        otlp: OtlpSettings,
        max_request_bytes: usize,
    ) -> ResourceExporter {
        let transport = Transport::build(&otlp).map_err(|e| e.to_string());
        let agent_start_unix_nano = unix_nanos(SystemTime::now());
        let deltas = otlp
            .temporality_preference
            .counters_as_deltas()
            .then(|| DeltaState::new(agent_start_unix_nano));
        ResourceExporter {
            otlp,
            transport,
            agent_start_unix_nano,
            max_request_bytes,
            published: None,
            deltas,
        }
    }

    /// Replace the exported points with these (shared, not copied); returns how many there are.
    /// `qdrant_start` is when the node's Qdrant process started, if known: the start time of
    /// Qdrant's own counters among the points.
    pub fn publish(
        &mut self,
        resource: Vec<KeyValue>,
        parts: Vec<Arc<EncodedPoints>>,
        qdrant_start: Option<SystemTime>,
    ) -> usize {
        let count = parts.iter().map(|part| part.len()).sum();
        let qdrant_start = qdrant_start.map(unix_nanos);
        self.published = Some(layout(
            &resource,
            parts,
            qdrant_start,
            self.max_request_bytes,
        ));
        count
    }

    /// With delta temporality, the deltas of a request's counters (else none: all cumulative).
    fn plan(&self, layout: &Layout, request: usize, stamps: Stamps) -> (Deltas, Pending) {
        match &self.deltas {
            Some(state) => state.plan(layout, request, stamps.time),
            None => (Deltas::new(), Pending::default()),
        }
    }

    /// The timestamps of an export now.
    fn stamps(&self) -> Stamps {
        Stamps {
            agent_start: self.agent_start_unix_nano,
            time: unix_nanos(SystemTime::now()),
        }
    }

    /// Export the published points now: every request, in order, until one fails. Once all
    /// are delivered the exporter lets them go; after a failure it keeps them, for the next
    /// flush (the final one at shutdown, unless newer points are published first).
    pub async fn flush(&mut self) -> Result<(), ExportError> {
        let Some(published) = &self.published else {
            return Ok(());
        };
        let transport = self
            .transport
            .as_ref()
            .map_err(|e| ExportError::Build(e.clone()))?;
        let stamps = self.stamps();
        for request in 0..published.requests.len() {
            let (deltas, pending) = self.plan(published, request, stamps);
            // Every point of the request left out (first values of delta counters): nothing
            // to send, and their values are still the ones to count from.
            if let Some(body) = encode_request(published, request, stamps, &deltas) {
                transport.send(body).await?;
            }
            if let Some(state) = &mut self.deltas {
                state.delivered(pending);
            }
        }
        if let Some(state) = &mut self.deltas {
            state.export_delivered(stamps.time);
        }
        self.published = None;
        Ok(())
    }

    /// Send the published points not yet delivered, within the OTLP timeout, and stop.
    pub async fn shutdown(mut self) {
        let bound = self.otlp.timeout;
        if let Err(error) = tokio::time::timeout(bound, self.flush())
            .await
            .unwrap_or_else(|_| {
                Err(ExportError::Timeout {
                    endpoint: self.otlp.endpoint.clone(),
                    timeout: bound,
                })
            })
        {
            tracing::debug!(%error, "The final export failed.");
        }
    }

    /// The bodies an HTTP export of the published points sends now (gzipped per the
    /// settings), without sending them: for measurements (`examples/encode_cost.rs`).
    #[doc(hidden)]
    pub fn encode_bodies(&self) -> Vec<Vec<u8>> {
        let Some(published) = &self.published else {
            return Vec::new();
        };
        let stamps = self.stamps();
        let gzipped = self.otlp.compression == Compression::Gzip;
        (0..published.requests.len())
            .filter_map(|request| {
                let (deltas, _) = self.plan(published, request, stamps);
                let body = encode_request(published, request, stamps, &deltas)?;
                Some(if gzipped { gzip(&body) } else { body })
            })
            .collect()
    }

    /// How many requests the published points not yet delivered make (tests, diagnostics).
    pub fn request_count(&self) -> usize {
        self.published.as_ref().map_or(0, |p| p.requests.len())
    }
}

/// Build the transport (and drop it): a failure is a configuration problem, found at start-up
/// rather than at the first export. Needs a Tokio runtime context (gRPC).
pub fn check_exporter(otlp: &OtlpSettings) -> Result<(), ExportError> {
    Transport::build(otlp).map(drop)
}
