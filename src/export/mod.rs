//! The only OTLP code: an encoder that writes the OTLP protobuf straight from the recorded
//! points (`encode.rs`), and the two transports (HTTP/protobuf with reqwest, gRPC with
//! tonic). One [`ResourceExporter`] per exported resource (a Qdrant node, or a cluster), all
//! sending through one [`OtlpClient`]: one connection pool to the Collector.
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
use crate::metrics::registry::{Instrument, MetricSpec, ValueType};
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
mod pack;
mod points;
mod sdk;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_delivery;
#[cfg(test)]
mod tests_layout;
mod tls;
mod transport;

use delta::{DeltaState, Deltas, Pending};
use encode::*;
pub use error::ExportError;
use error::*;
use grpc::*;
use pack::layout;
pub use points::EncodedPoints;
use tls::{files_in_words, TlsFiles};
pub use transport::OtlpClient;

/// What the Collector said of a request it accepted only in part, or accepted with a warning
/// (an OTLP partial success). Such a request is delivered: it is not sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialSuccess {
    /// The data points it rejected (0 for a warning).
    pub rejected: u64,
    /// Its message, on one line and cut short (may be empty).
    pub message: String,
}

impl PartialSuccess {
    /// What a response says, if anything: `None` for a plain success.
    fn of(answer: ExportMetricsServiceResponse) -> Option<PartialSuccess> {
        let partial = answer.partial_success?;
        let rejected = u64::try_from(partial.rejected_data_points).unwrap_or(0);
        let message = one_line_excerpt(&partial.error_message);
        (rejected > 0 || !message.is_empty()).then_some(PartialSuccess { rejected, message })
    }

    /// Two answers of one export: the rejections add up, the latest message stands.
    fn merge(earlier: Option<PartialSuccess>, later: PartialSuccess) -> PartialSuccess {
        match earlier {
            Some(earlier) => PartialSuccess {
                rejected: earlier.rejected + later.rejected,
                message: if later.message.is_empty() {
                    earlier.message
                } else {
                    later.message
                },
            },
            None => later,
        }
    }
}

/// Exports one resource's points.
pub struct ResourceExporter {
    /// Shared with the exporters of the other resources.
    client: OtlpClient,
    /// When this exporter was created: the start time of the agent's own counters and of
    /// every level (Qdrant's own counters start at Qdrant's start, given with the points).
    agent_start_unix_nano: u64,
    max_request_bytes: usize,
    /// The newest published points not yet delivered, laid out in requests.
    published: Option<Layout>,
    /// How many of the published requests are delivered (they are not sent again).
    delivered: usize,
    /// What the Collector said of delivered requests it accepted in part, not yet taken.
    partial: Option<PartialSuccess>,
    /// Bytes of the requests delivered (encoded, before compression), not yet taken.
    sent_bytes: u64,
    /// With delta temporality, the counters' last delivered points.
    deltas: Option<DeltaState>,
}

impl ResourceExporter {
    /// An exporter with its own client (tests, measurements); the agent shares one client
    /// between all its exporters ([`ResourceExporter::sharing`]).
    pub fn new(otlp: OtlpSettings) -> ResourceExporter {
        ResourceExporter::sharing(OtlpClient::new(otlp))
    }

    /// An exporter sending through `client`, shared with other exporters.
    pub fn sharing(client: OtlpClient) -> ResourceExporter {
        ResourceExporter::with_max_request_bytes(client, MAX_REQUEST_BYTES)
    }

    /// With another request size limit (tests).
    pub fn with_max_request_bytes(
        client: OtlpClient,
        max_request_bytes: usize,
    ) -> ResourceExporter {
        let agent_start_unix_nano = unix_nanos(SystemTime::now());
        let deltas = client
            .otlp
            .temporality_preference
            .counters_as_deltas()
            .then(|| DeltaState::new(agent_start_unix_nano));
        ResourceExporter {
            client,
            agent_start_unix_nano,
            max_request_bytes,
            published: None,
            delivered: 0,
            partial: None,
            sent_bytes: 0,
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
        self.delivered = 0;
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

    /// Export the published points now: every request not yet delivered, in order, until one
    /// fails. Once all are delivered the exporter lets them go; after a failure it keeps those
    /// not delivered, for the next flush (the final one at shutdown, unless newer points are
    /// published first). A request the Collector accepted in part (OTLP partial success) is
    /// delivered and never sent again; what the Collector said waits in
    /// [`ResourceExporter::take_partial_success`].
    pub async fn flush(&mut self) -> Result<(), ExportError> {
        let Some(published) = &self.published else {
            return Ok(());
        };
        let transport = self.client.transport()?;
        let stamps = self.stamps();
        for request in self.delivered..published.requests.len() {
            let (deltas, pending) = self.plan(published, request, stamps);
            // Every point of the request left out (first values of delta counters): nothing
            // to send, and their values are still the ones to count from.
            if let Some(body) = encode_request(published, request, stamps, &deltas) {
                let bytes = body.len() as u64;
                let answer = transport.send(body).await?;
                self.sent_bytes += bytes;
                if let Some(partial) = answer {
                    self.partial = Some(PartialSuccess::merge(self.partial.take(), partial));
                }
            }
            self.delivered = request + 1;
            if let Some(state) = &mut self.deltas {
                state.delivered(pending);
            }
        }
        if let Some(state) = &mut self.deltas {
            state.export_delivered(stamps.time);
        }
        self.published = None;
        self.delivered = 0;
        Ok(())
    }

    /// Bytes of the requests delivered since the last call (encoded, before compression).
    pub fn take_sent_bytes(&mut self) -> u64 {
        std::mem::take(&mut self.sent_bytes)
    }

    /// Points published and not delivered yet: what a [`ResourceExporter::publish`] now would
    /// replace.
    pub fn undelivered_points(&self) -> usize {
        let Some(published) = &self.published else {
            return 0;
        };
        published.requests[self.delivered..]
            .iter()
            .flatten()
            .map(|chunk| published.chunk_points(chunk).count())
            .sum()
    }

    /// What the Collector said of the requests it accepted in part since the last call.
    pub fn take_partial_success(&mut self) -> Option<PartialSuccess> {
        self.partial.take()
    }

    /// Send the published points not yet delivered, within the OTLP timeout, and stop.
    pub async fn shutdown(mut self) {
        let bound = self.client.otlp.timeout;
        if let Err(error) = tokio::time::timeout(bound, self.flush())
            .await
            .unwrap_or_else(|_| {
                Err(ExportError::Timeout {
                    endpoint: self.client.otlp.endpoint.clone(),
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
        let gzipped = self.client.otlp.compression == Compression::Gzip;
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
        self.published
            .as_ref()
            .map_or(0, |p| p.requests.len() - self.delivered)
    }
}
