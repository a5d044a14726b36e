//! The OpenTelemetry SDK's OTLP exporters, for the agent's own telemetry (the `telemetry`
//! module: metrics, and traces of the polls), over the data path's connection: the same
//! endpoint (traces at `/v1/traces` for HTTP), headers, TLS, compression, timeout and
//! temporality as resolved once by the configuration, and the same connection pool (HTTP) or
//! channel (gRPC), so that one Collector sees one client.
//!
//! The SDK's `PeriodicReader` and `BatchSpanProcessor` export from threads of their own, outside the Tokio runtime, where
//! reqwest's async client cannot run ("no reactor running"): [`OnRuntime`] hands each request to
//! the runtime and waits for its answer. The gRPC channel needs no such help: its connection
//! already runs as a task on the runtime, and a call only talks to that task.
//!
//! The SDK reads `OTEL_EXPORTER_OTLP_*HEADERS` itself whatever it is given; the configuration
//! is the one reader of those variables (`config`), so both paths replace the SDK's
//! headers with the resolved ones.

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{
    ExporterBuildError, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use opentelemetry_sdk::metrics::Temporality;

use super::grpc::GrpcTransport;
use super::transport::{HttpTransport, Transport};
use super::*;
use crate::config::{OtlpSettings, TemporalityPreference};

impl OtlpClient {
    /// An SDK metric exporter sending over this client's connection. Within a Tokio runtime
    /// context: HTTP requests are run on that runtime.
    pub fn sdk_metric_exporter(&self) -> Result<MetricExporter, ExportError> {
        let temporality = match self.otlp.temporality_preference {
            TemporalityPreference::Cumulative => Temporality::Cumulative,
            TemporalityPreference::Delta => Temporality::Delta,
            TemporalityPreference::LowMemory => Temporality::LowMemory,
        };
        let built = match self.transport()? {
            Transport::Http(http) => {
                let builder = MetricExporter::builder()
                    .with_http()
                    .with_temporality(temporality);
                over_http(builder, http, http.url.as_str(), &self.otlp).and_then(|b| b.build())
            }
            Transport::Grpc(grpc) => {
                let builder = MetricExporter::builder()
                    .with_tonic()
                    .with_temporality(temporality);
                over_grpc(builder, grpc, &self.otlp).build()
            }
        };
        built.map_err(|e| ExportError::Build(format!("the agent's own telemetry: {e}")))
    }

    /// An SDK span exporter sending the traces of the polls to `otlp.traces_endpoint` over this
    /// client's connection; `None` when traces are off. Within a Tokio runtime context.
    pub fn sdk_span_exporter(&self) -> Option<Result<SpanExporter, ExportError>> {
        let url = self.otlp.traces_endpoint.as_deref()?;
        let built = match self.transport() {
            Err(error) => return Some(Err(error)),
            Ok(Transport::Http(http)) => {
                over_http(SpanExporter::builder().with_http(), http, url, &self.otlp)
                    .and_then(|b| b.build())
            }
            Ok(Transport::Grpc(grpc)) => {
                over_grpc(SpanExporter::builder().with_tonic(), grpc, &self.otlp).build()
            }
        };
        Some(built.map_err(|e| ExportError::Build(format!("the traces of the polls: {e}"))))
    }
}

/// An SDK exporter's HTTP settings: `url` over the data path's client, run on this runtime.
fn over_http<B: WithExportConfig + WithHttpConfig>(
    builder: B,
    http: &HttpTransport,
    url: &str,
    otlp: &OtlpSettings,
) -> Result<B, ExporterBuildError> {
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| ExporterBuildError::InternalFailure("no Tokio runtime".into()))?;
    let builder = builder
        .with_http_client(OnRuntime {
            client: http.client.clone(),
            runtime,
        })
        .with_endpoint(url)
        .with_protocol(Protocol::HttpBinary)
        .with_timeout(otlp.timeout);
    Ok(match otlp.compression {
        Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        Compression::None => builder,
    })
}

/// An SDK exporter's gRPC settings: the data path's channel, with the resolved headers.
fn over_grpc<B: WithExportConfig + WithTonicConfig>(
    builder: B,
    grpc: &GrpcTransport,
    otlp: &OtlpSettings,
) -> B {
    let metadata = grpc.metadata.clone();
    let builder = builder
        .with_channel(grpc.channel.clone())
        // Runs after the SDK adds the headers it read from the environment: the resolved ones
        // replace them.
        .with_interceptor(move |mut request: tonic::Request<()>| {
            *request.metadata_mut() = metadata.clone();
            Ok(request)
        })
        .with_protocol(Protocol::Grpc)
        .with_timeout(otlp.timeout);
    match otlp.compression {
        Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        Compression::None => builder,
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
