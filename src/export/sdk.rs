//! The OpenTelemetry SDK's OTLP exporter, for the agent's own telemetry (the `telemetry` module),
//! over the data path's connection: the same endpoint, headers, TLS, compression, timeout and
//! temporality as resolved once by the configuration, and the same connection pool (HTTP) or
//! channel (gRPC), so that one Collector sees one client.
//!
//! The SDK's `PeriodicReader` exports from a thread of its own, outside the Tokio runtime, where
//! reqwest's async client cannot run ("no reactor running"): [`OnRuntime`] hands each request to
//! the runtime and waits for its answer. The gRPC channel needs no such help: its connection
//! already runs as a task on the runtime, and a call only talks to that task.
//!
//! The SDK reads `OTEL_EXPORTER_OTLP_*HEADERS` itself whatever it is given; the configuration
//! is the one reader of those variables (`config::otel_env`), so both paths replace the SDK's
//! headers with the resolved ones.

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    MetricExporter, Protocol, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::metrics::Temporality;

use super::grpc::GrpcTransport;
use super::transport::{HttpTransport, Transport};
use super::*;
use crate::config::TemporalityPreference;

impl OtlpClient {
    /// An SDK metric exporter sending over this client's connection. Within a Tokio runtime
    /// context: HTTP requests are run on that runtime.
    pub fn sdk_metric_exporter(&self) -> Result<MetricExporter, ExportError> {
        let temporality = match self.otlp.temporality_preference {
            TemporalityPreference::Cumulative => Temporality::Cumulative,
            TemporalityPreference::Delta => Temporality::Delta,
            TemporalityPreference::LowMemory => Temporality::LowMemory,
        };
        let timeout = self.otlp.timeout;
        let gzip = (self.otlp.compression == Compression::Gzip)
            .then_some(opentelemetry_otlp::Compression::Gzip);
        let built = match self.transport()? {
            Transport::Http(http) => http_exporter(http, temporality, timeout, gzip),
            Transport::Grpc(grpc) => grpc_exporter(grpc, temporality, timeout, gzip),
        };
        built.map_err(|e| ExportError::Build(format!("the agent's own telemetry: {e}")))
    }
}

fn http_exporter(
    http: &HttpTransport,
    temporality: Temporality,
    timeout: Duration,
    gzip: Option<opentelemetry_otlp::Compression>,
) -> Result<MetricExporter, opentelemetry_otlp::ExporterBuildError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        opentelemetry_otlp::ExporterBuildError::InternalFailure("no Tokio runtime".into())
    })?;
    let builder = MetricExporter::builder()
        .with_http()
        .with_http_client(OnRuntime {
            client: http.client.clone(),
            runtime,
        })
        .with_endpoint(http.url.as_str())
        .with_protocol(Protocol::HttpBinary)
        .with_timeout(timeout)
        .with_temporality(temporality);
    match gzip {
        Some(gzip) => builder.with_compression(gzip).build(),
        None => builder.build(),
    }
}

fn grpc_exporter(
    grpc: &GrpcTransport,
    temporality: Temporality,
    timeout: Duration,
    gzip: Option<opentelemetry_otlp::Compression>,
) -> Result<MetricExporter, opentelemetry_otlp::ExporterBuildError> {
    let metadata = grpc.metadata.clone();
    let builder = MetricExporter::builder()
        .with_tonic()
        .with_channel(grpc.channel.clone())
        // Runs after the SDK adds the headers it read from the environment: the resolved ones
        // replace them.
        .with_interceptor(move |mut request: tonic::Request<()>| {
            *request.metadata_mut() = metadata.clone();
            Ok(request)
        })
        .with_protocol(Protocol::Grpc)
        .with_timeout(timeout)
        .with_temporality(temporality);
    match gzip {
        Some(gzip) => builder.with_compression(gzip).build(),
        None => builder.build(),
    }
}

/// The data path's reqwest client, run on the agent's runtime whichever thread asks.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        // Only what describes the body is kept: the client's own default headers are the
        // resolved ones (see the module's header).
        let (parts, body) = request.into_parts();
        let mut resolved = Request::builder().method(parts.method).uri(parts.uri);
        for name in [
            reqwest::header::CONTENT_TYPE,
            reqwest::header::CONTENT_ENCODING,
        ] {
            if let Some(value) = parts.headers.get(&name) {
                resolved = resolved.header(name, value);
            }
        }
        let request = resolved.body(body)?;
        let client = self.client.clone();
        self.runtime
            .spawn(async move { client.send_bytes(request).await })
            .await?
    }
}
