//! Traces of the polls (`otlp.traces`, off by default), through the SDK's tracer provider on
//! the agent's resource and `opentelemetry-otlp`'s span exporter over the data path's
//! connection: a `qdrant.poll` span per node poll, and under it a client span per request to
//! Qdrant (`qdrant::traced`). Every poll is traced, a few dozen spans each: a Collector's
//! sampling processor thins them if need be.

use std::future::Future;

use opentelemetry::trace::{FutureExt, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{BatchSpanProcessor, Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use url::Url;

use super::TelemetryError;
use crate::export::OtlpClient;
use crate::qdrant::traced::RequestTracer;
use crate::snapshot::NodeSnapshot;

/// The running tracer provider; [`Traces::shutdown`] exports the spans left.
pub struct Traces {
    provider: SdkTracerProvider,
}

impl Traces {
    /// Export the traces of the polls over `otlp`'s connection, if `otlp.traces` is on. Call
    /// within the Tokio runtime.
    pub fn start(otlp: &OtlpClient, resource: Resource) -> Option<Result<Traces, TelemetryError>> {
        let exporter = match otlp.sdk_span_exporter()? {
            Ok(exporter) => exporter,
            Err(error) => return Some(Err(TelemetryError(error.to_string()))),
        };
        let provider = SdkTracerProvider::builder()
            .with_resource(resource)
            // Explicit, so the SDK does not read `OTEL_TRACES_SAMPLER` behind the
            // configuration's back: the configuration is the one reader of `OTEL_*`.
            .with_sampler(Sampler::AlwaysOn)
            .with_span_processor(BatchSpanProcessor::builder(exporter).build())
            .build();
        Some(Ok(Traces { provider }))
    }

    /// The tracer the poll tasks start their spans with.
    pub fn tracer(&self) -> SdkTracer {
        self.provider.tracer_with_scope(super::scope())
    }

    /// Export the spans left, and stop (bounded by `grace`).
    pub async fn shutdown(self, grace: std::time::Duration) {
        let provider = self.provider;
        super::stop_within(grace, "traces", move || provider.shutdown()).await;
    }
}

/// Run one node's `poll` of `base_url` in a `qdrant.poll` span, its requests' spans under it.
pub async fn traced_poll(
    tracer: &SdkTracer,
    base_url: &Url,
    poll: impl Future<Output = NodeSnapshot>,
) -> NodeSnapshot {
    let mut attributes = Vec::with_capacity(2);
    if let Some(host) = base_url.host_str() {
        attributes.push(KeyValue::new("server.address", host.to_string()));
    }
    if let Some(port) = base_url.port_or_known_default() {
        attributes.push(KeyValue::new("server.port", i64::from(port)));
    }
    let span = tracer
        .span_builder("qdrant.poll")
        .with_kind(SpanKind::Internal)
        .with_attributes(attributes)
        .start(tracer);
    let context = Context::current_with_span(span).with_value(RequestTracer(tracer.clone()));
    let snapshot = poll.with_context(context.clone()).await;
    let span = context.span();
    span.set_attribute(KeyValue::new("qdrant.up", snapshot.up));
    if !snapshot.up {
        span.set_status(Status::error(
            "the node is down: no usable answer this poll",
        ));
    }
    span.end();
    snapshot
}
