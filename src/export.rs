//! The only OTLP code: an encoder that writes the OTLP protobuf (`opentelemetry-proto`) straight
//! from the recorded points, and the two transports (HTTP/protobuf with reqwest, gRPC with
//! tonic). One [`ResourceExporter`] per exported resource (a Qdrant node, or a cluster).
//!
//! What the OpenTelemetry SDK's observable instruments did is kept, without its per-point cost
//! (docs/performance.md): each export carries exactly the newest published points, so a
//! collection that disappears from Qdrant is not exported next time; gauges are `Gauge`s,
//! counters cumulative monotonic `Sum`s and up-down counters cumulative non-monotonic `Sum`s,
//! all with the exporter's creation time as their start time (the SDK's start time of an
//! observable cumulative instrument), and the export time as their time.
//!
//! Every setting comes from the resolved configuration ([`OtlpSettings`]: the agent's keys and
//! the standard `OTEL_EXPORTER_OTLP_*` variables); nothing else reads the process environment.
//!
//! An export larger than [`MAX_REQUEST_BYTES`] is split by data points into several complete
//! requests (each with the resource and scope); the first carries `qdrant.up` and the agent's
//! own metrics, so they always go out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{Compression, OtlpProtocol, OtlpSettings};
use crate::metrics::registry::{Instrument, MetricSpec, ValueType, REGISTRY};
use crate::metrics::Point;
use crate::resource::{attribute, KeyValue};

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

/// Why an export failed, in words.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("invalid OTLP exporter settings: {0}")]
    Build(String),
    #[error("the Collector answered HTTP {status}{}{}", reason(*.status), excerpt_suffix(.body))]
    HttpStatus { status: u16, body: String },
    #[error("the Collector answered gRPC status {code:?}{}", excerpt_suffix(.message))]
    GrpcStatus { code: tonic::Code, message: String },
    /// The Collector asked to wait (HTTP 429/503 with `Retry-After`, gRPC `RetryInfo`).
    #[error("{cause}; the next attempt waits {}", humantime::format_duration(*.wait))]
    RetryAfter { wait: Duration, cause: String },
    #[error("cannot connect to {endpoint}: {cause}")]
    Connect { endpoint: String, cause: String },
    #[error("no answer from {endpoint} within {}", humantime::format_duration(*.timeout))]
    Timeout { endpoint: String, timeout: Duration },
    #[error("the OTLP request to {endpoint} failed: {cause}")]
    Transport { endpoint: String, cause: String },
    #[error("the Collector rejected {rejected} of the data points{}", excerpt_suffix(.message))]
    Rejected { rejected: i64, message: String },
}

impl ExportError {
    /// How long the Collector asked the next attempt to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ExportError::RetryAfter { wait, .. } => Some(*wait),
            _ => None,
        }
    }
}

/// " Too Many Requests" for 429.
fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

fn excerpt_suffix(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The export requests of the newest published points.
struct Published {
    requests: Vec<ExportMetricsServiceRequest>,
}

/// Exports one resource's points.
pub struct ResourceExporter {
    otlp: OtlpSettings,
    transport: Result<Transport, String>,
    /// The start time of every cumulative point: when this exporter was created.
    start_time_unix_nano: u64,
    max_request_bytes: usize,
    published: Option<Published>,
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
        ResourceExporter {
            otlp,
            transport,
            start_time_unix_nano: unix_nanos(SystemTime::now()),
            max_request_bytes,
            published: None,
        }
    }

    /// Replace the exported points with these; returns how many there are.
    pub fn publish(
        &mut self,
        resource: Vec<KeyValue>,
        parts: &[&[Point]],
    ) -> Result<usize, ExportError> {
        let count = parts.iter().map(|part| part.len()).sum();
        let mut rows: Vec<Vec<NumberDataPoint>> = vec![Vec::new(); REGISTRY.len()];
        for point in parts.iter().flat_map(|part| part.iter()) {
            let spec = point.spec();
            rows[spec.id as usize].push(NumberDataPoint {
                attributes: point
                    .attributes
                    .iter()
                    .map(|(k, v)| attribute(*k, any_value::Value::StringValue(v.clone())))
                    .collect(),
                start_time_unix_nano: self.start_time_unix_nano,
                // Stamped at each export; any non-zero value encodes to the same size.
                time_unix_nano: self.start_time_unix_nano,
                value: Some(number_value(spec, point.value)),
                ..NumberDataPoint::default()
            });
        }
        // `qdrant.up` and the agent's own metrics first: they go out in the first request.
        let (first, rest): (Vec<_>, Vec<_>) = REGISTRY
            .iter()
            .zip(rows)
            .filter(|(_, points)| !points.is_empty())
            .partition(|(spec, _)| goes_first(spec));
        let requests = split_requests(
            &resource,
            first.into_iter().chain(rest),
            self.max_request_bytes,
        );
        self.published = Some(Published { requests });
        Ok(count)
    }

    /// Export the published points now: every request, in order, until one fails.
    pub async fn flush(&mut self) -> Result<(), ExportError> {
        let Some(published) = &mut self.published else {
            return Ok(());
        };
        let transport = self
            .transport
            .as_ref()
            .map_err(|e| ExportError::Build(e.clone()))?;
        let now = unix_nanos(SystemTime::now());
        for request in &mut published.requests {
            stamp(request, now);
            let body = request.encode_to_vec();
            transport.send(body).await?;
        }
        Ok(())
    }

    /// Send the last published points once more, within the OTLP timeout, and stop.
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
    pub fn encode_bodies(&mut self) -> Vec<Vec<u8>> {
        let Some(published) = &mut self.published else {
            return Vec::new();
        };
        let now = unix_nanos(SystemTime::now());
        let gzipped = self.otlp.compression == Compression::Gzip;
        published
            .requests
            .iter_mut()
            .map(|request| {
                stamp(request, now);
                let body = request.encode_to_vec();
                if gzipped {
                    gzip(&body)
                } else {
                    body
                }
            })
            .collect()
    }

    /// How many requests the published points make (tests, diagnostics).
    pub fn request_count(&self) -> usize {
        self.published.as_ref().map_or(0, |p| p.requests.len())
    }
}

/// Build the transport (and drop it): a failure is a configuration problem, found at start-up
/// rather than at the first export. Needs a Tokio runtime context (gRPC).
pub fn check_exporter(otlp: &OtlpSettings) -> Result<(), ExportError> {
    Transport::build(otlp).map(drop)
}

fn goes_first(spec: &MetricSpec) -> bool {
    spec.name == "qdrant.up" || spec.name.starts_with("qdrant.agent.")
}

fn number_value(spec: &MetricSpec, value: f64) -> number_data_point::Value {
    match (spec.value_type, spec.instrument) {
        (ValueType::Double, _) => number_data_point::Value::AsDouble(value),
        // A counter's integer is never negative (the SDK's u64 counter).
        (ValueType::Int, Instrument::Counter) => {
            number_data_point::Value::AsInt(value.max(0.0).round() as i64)
        }
        (ValueType::Int, _) => number_data_point::Value::AsInt(value.round() as i64),
    }
}

fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// A metric of `spec` with these data points.
fn metric_of(spec: &MetricSpec, data_points: Vec<NumberDataPoint>) -> Metric {
    let sum = |is_monotonic| {
        metric::Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic,
        })
    };
    let mut data = match spec.instrument {
        Instrument::Gauge => metric::Data::Gauge(Gauge {
            data_points: Vec::new(),
        }),
        Instrument::Counter => sum(true),
        Instrument::UpDownCounter => sum(false),
    };
    match &mut data {
        metric::Data::Gauge(gauge) => gauge.data_points = data_points,
        metric::Data::Sum(sum) => sum.data_points = data_points,
        _ => unreachable!("only gauges and sums are built"),
    }
    Metric {
        name: spec.name.to_string(),
        description: spec.description.to_string(),
        unit: spec.unit.to_string(),
        data: Some(data),
        ..Metric::default()
    }
}

fn request_of(resource: &[KeyValue], metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource.to_vec(),
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "qdrant-otel-agent".to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

/// The encoded size of a length-delimited field holding `len` bytes (tags below 16).
fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Pack the metrics' data points, in order, into as few requests as fit `max_bytes` each
/// (a single data point larger than that still goes out, alone).
fn split_requests<'a>(
    resource: &[KeyValue],
    metrics: impl Iterator<Item = (&'a MetricSpec, Vec<NumberDataPoint>)>,
    max_bytes: usize,
) -> Vec<ExportMetricsServiceRequest> {
    // The fixed part of every request, plus room for the three enclosing length prefixes
    // (request → resource metrics → scope metrics) to grow to their largest (5 bytes each).
    let fixed = request_of(resource, Vec::new()).encoded_len() + 3 * 5;
    let budget = max_bytes.saturating_sub(fixed);
    let mut requests = Vec::new();
    let mut current: Vec<Metric> = Vec::new();
    let mut size = 0;
    for (spec, points) in metrics {
        // The metric without points, its field key and length prefix, and the length prefix
        // of its data (gauge or sum) at their largest.
        let overhead = field_len(metric_of(spec, Vec::new()).encoded_len()) + 5 + 5;
        let mut chunk: Vec<NumberDataPoint> = Vec::new();
        for point in points {
            let cost = field_len(point.encoded_len());
            let open = if chunk.is_empty() { overhead } else { 0 };
            if size > 0 && size + open + cost > budget {
                if !chunk.is_empty() {
                    current.push(metric_of(spec, std::mem::take(&mut chunk)));
                }
                requests.push(request_of(resource, std::mem::take(&mut current)));
                size = 0;
            }
            if chunk.is_empty() {
                size += overhead;
            }
            size += cost;
            chunk.push(point);
        }
        if !chunk.is_empty() {
            current.push(metric_of(spec, chunk));
        }
    }
    if !current.is_empty() {
        requests.push(request_of(resource, current));
    }
    requests
}

/// Set the time of every data point.
fn stamp(request: &mut ExportMetricsServiceRequest, time_unix_nano: u64) {
    let metrics = request
        .resource_metrics
        .iter_mut()
        .flat_map(|rm| rm.scope_metrics.iter_mut())
        .flat_map(|sm| sm.metrics.iter_mut());
    for metric in metrics {
        let points = match &mut metric.data {
            Some(metric::Data::Gauge(gauge)) => &mut gauge.data_points,
            Some(metric::Data::Sum(sum)) => &mut sum.data_points,
            _ => continue,
        };
        for point in points {
            point.time_unix_nano = time_unix_nano;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Transports

enum Transport {
    Http(HttpTransport),
    Grpc(GrpcTransport),
}

impl Transport {
    fn build(otlp: &OtlpSettings) -> Result<Transport, ExportError> {
        match otlp.protocol {
            OtlpProtocol::HttpProtobuf => HttpTransport::build(otlp).map(Transport::Http),
            OtlpProtocol::Grpc => GrpcTransport::build(otlp).map(Transport::Grpc),
        }
    }

    /// Send one encoded `ExportMetricsServiceRequest`.
    async fn send(&self, body: Vec<u8>) -> Result<(), ExportError> {
        match self {
            Transport::Http(http) => http.send(body).await,
            Transport::Grpc(grpc) => grpc.send(body).await,
        }
    }
}

struct HttpTransport {
    client: reqwest::Client,
    url: reqwest::Url,
    gzip: bool,
    timeout: Duration,
}

impl HttpTransport {
    fn build(otlp: &OtlpSettings) -> Result<HttpTransport, ExportError> {
        let url = reqwest::Url::parse(&otlp.endpoint)
            .map_err(|e| ExportError::Build(format!("endpoint {:?}: {e}", otlp.endpoint)))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &otlp.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExportError::Build(format!("invalid header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                ExportError::Build(format!("invalid value for header {:?}", name.as_str()))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("qdrant-otel-agent/", env!("CARGO_PKG_VERSION")))
            .timeout(otlp.timeout)
            .connect_timeout(otlp.timeout)
            .build()
            .map_err(|e| ExportError::Build(error_chain(&e)))?;
        Ok(HttpTransport {
            client,
            url,
            gzip: otlp.compression == Compression::Gzip,
            timeout: otlp.timeout,
        })
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), ExportError> {
        let mut request = self.client.post(self.url.clone());
        let body = if self.gzip {
            request = request.header(reqwest::header::CONTENT_ENCODING, "gzip");
            gzip(&body)
        } else {
            body
        };
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| self.request_error(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let bytes = response.bytes().await.map_err(|e| self.request_error(&e))?;
        if status.is_success() {
            let answer = ExportMetricsServiceResponse::decode(&bytes[..]).unwrap_or_default();
            return check_partial_success(answer);
        }
        let body = error_body_excerpt(&bytes);
        let code = status.as_u16();
        match retry_after {
            Some(wait) if code == 429 || code == 503 => Err(ExportError::RetryAfter {
                wait,
                cause: ExportError::HttpStatus { status: code, body }.to_string(),
            }),
            _ => Err(ExportError::HttpStatus { status: code, body }),
        }
    }

    fn request_error(&self, error: &reqwest::Error) -> ExportError {
        let endpoint = self.url.to_string();
        if error.is_timeout() {
            ExportError::Timeout {
                endpoint,
                timeout: self.timeout,
            }
        } else if error.is_connect() {
            ExportError::Connect {
                endpoint,
                cause: connect_cause(error),
            }
        } else {
            ExportError::Transport {
                endpoint,
                cause: error_chain(error),
            }
        }
    }
}

struct GrpcTransport {
    client: tonic::client::Grpc<tonic::transport::Channel>,
    metadata: tonic::metadata::MetadataMap,
    endpoint: String,
    timeout: Duration,
}

impl GrpcTransport {
    fn build(otlp: &OtlpSettings) -> Result<GrpcTransport, ExportError> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (name, value) in &otlp.headers {
            let key =
                tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                    .map_err(|_| ExportError::Build(format!("invalid header name {name:?}")))?;
            let value = value
                .expose()
                .parse()
                .map_err(|_| ExportError::Build(format!("invalid value for header {name:?}")))?;
            metadata.insert(key, value);
        }
        let endpoint = tonic::transport::Endpoint::from_shared(otlp.endpoint.clone())
            .map_err(|e| ExportError::Build(format!("endpoint {:?}: {e}", otlp.endpoint)))?;
        let endpoint = if endpoint.uri().scheme_str() == Some("https") {
            endpoint
                .tls_config(tonic::transport::ClientTlsConfig::new().with_enabled_roots())
                .map_err(|e| ExportError::Build(format!("TLS: {}", error_chain(&e))))?
        } else {
            endpoint
        };
        let channel = endpoint
            .user_agent(concat!("qdrant-otel-agent/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| ExportError::Build(error_chain(&e)))?
            .timeout(otlp.timeout)
            .connect_timeout(otlp.timeout)
            .connect_lazy();
        let mut client = tonic::client::Grpc::new(channel);
        if otlp.compression == Compression::Gzip {
            client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        Ok(GrpcTransport {
            client,
            metadata,
            endpoint: otlp.endpoint.clone(),
            timeout: otlp.timeout,
        })
    }

    async fn send(&self, body: Vec<u8>) -> Result<(), ExportError> {
        let mut client = self.client.clone();
        let call = async {
            client.ready().await.map_err(|e| {
                let error: tonic::transport::Error = e;
                self.status_error(tonic::Status::from_error(Box::new(error)))
            })?;
            let mut request = tonic::Request::new(Encoded(body));
            *request.metadata_mut() = self.metadata.clone();
            request.set_timeout(self.timeout);
            let codec = tonic_prost::ProstCodec::<Encoded, ExportMetricsServiceResponse>::default();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(GRPC_EXPORT_PATH);
            client
                .unary(request, path, codec)
                .await
                .map_err(|status| self.status_error(status))
        };
        // The channel's own timeout covers the call; this also bounds connecting.
        let response = tokio::time::timeout(self.timeout + Duration::from_secs(1), call)
            .await
            .map_err(|_| ExportError::Timeout {
                endpoint: self.endpoint.clone(),
                timeout: self.timeout,
            })??;
        check_partial_success(response.into_inner())
    }

    fn status_error(&self, status: tonic::Status) -> ExportError {
        use tonic_types::StatusExt;
        let endpoint = self.endpoint.clone();
        let code = status.code();
        if let Some(cause) = find_io_error(&status) {
            return ExportError::Connect { endpoint, cause };
        }
        let message = status.message().to_string();
        let timed_out = code == tonic::Code::DeadlineExceeded
            || (code == tonic::Code::Cancelled && message.contains("Timeout expired"));
        if timed_out {
            return ExportError::Timeout {
                endpoint,
                timeout: self.timeout,
            };
        }
        if code == tonic::Code::Unavailable && message.contains("connect") {
            return ExportError::Connect {
                endpoint,
                cause: error_chain(&status),
            };
        }
        let retry = matches!(
            code,
            tonic::Code::Unavailable | tonic::Code::ResourceExhausted
        )
        .then(|| status.get_details_retry_info())
        .flatten()
        .and_then(|info| info.retry_delay)
        .map(|wait| wait.min(MAX_RETRY_AFTER));
        let error = ExportError::GrpcStatus { code, message };
        match retry {
            Some(wait) => ExportError::RetryAfter {
                wait,
                cause: error.to_string(),
            },
            None => error,
        }
    }
}

/// An already encoded `ExportMetricsServiceRequest`, written to the gRPC stream as it is (the
/// generated client would take the request by value, and the exporter keeps its requests for
/// the next export).
#[derive(Debug, Default)]
struct Encoded(Vec<u8>);

impl Message for Encoded {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

fn check_partial_success(answer: ExportMetricsServiceResponse) -> Result<(), ExportError> {
    match answer.partial_success {
        Some(partial) if partial.rejected_data_points > 0 => Err(ExportError::Rejected {
            rejected: partial.rejected_data_points,
            message: partial.error_message,
        }),
        _ => Ok(()),
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 8),
        flate2::Compression::fast(),
    );
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("writing to memory does not fail")
}

/// `Retry-After`: delay-seconds or an HTTP date; capped at [`MAX_RETRY_AFTER`].
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The message of an OTLP/HTTP error body (a protobuf `google.rpc.Status`), or the start of the
/// body as text, on one line.
fn error_body_excerpt(body: &[u8]) -> String {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let text = match RpcStatus::decode(body) {
        Ok(status) if !status.message.is_empty() => status.message,
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    let one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    match one_line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Why a connection failed, in words: "connection refused", "connection reset", or the
/// innermost cause (a DNS or TLS failure).
fn connect_cause(error: &(dyn std::error::Error + 'static)) -> String {
    find_io_error(error).unwrap_or_else(|| innermost(error))
}

fn find_io_error(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let words = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused",
                std::io::ErrorKind::ConnectionReset => "connection reset",
                std::io::ErrorKind::ConnectionAborted => "connection aborted",
                std::io::ErrorKind::TimedOut => "connection timed out",
                _ => return Some(io.to_string()),
            };
            return Some(words.to_string());
        }
        source = e.source();
    }
    None
}

fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The error and its causes, `: `-separated, without repeats.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricId;

    fn point(metric: MetricId, collection: &str, value: f64) -> Point {
        Point {
            metric,
            attributes: vec![("db.collection.name", collection.to_string())],
            value,
        }
    }

    fn data_points(request: &ExportMetricsServiceRequest) -> Vec<(&str, &NumberDataPoint)> {
        let mut out = Vec::new();
        for metric in &request.resource_metrics[0].scope_metrics[0].metrics {
            let points = match metric.data.as_ref().unwrap() {
                metric::Data::Gauge(g) => &g.data_points,
                metric::Data::Sum(s) => &s.data_points,
                _ => unreachable!(),
            };
            out.extend(points.iter().map(|p| (metric.name.as_str(), p)));
        }
        out
    }

    #[test]
    fn large_exports_split_under_the_limit_with_up_first() {
        let points: Vec<Point> = (0..20_000)
            .map(|i| point(MetricId::CollectionPoints, &format!("c{i:05}"), i as f64))
            .collect();
        let up = [Point {
            metric: MetricId::Up,
            attributes: Vec::new(),
            value: 1.0,
        }];
        let resource = vec![attribute(
            "service.name",
            any_value::Value::StringValue("qdrant".into()),
        )];
        let max = 64 * 1024;
        let requests = split_requests(
            &resource,
            [(MetricSpec::get(MetricId::Up), Vec::new())].into_iter(),
            max,
        );
        assert!(requests.is_empty(), "no points, no request");

        let otlp = OtlpSettings {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: "http://127.0.0.1:9/v1/metrics".into(),
            headers: Vec::new(),
            compression: Compression::Gzip,
            timeout: Duration::from_secs(1),
        };
        let mut exporter = ResourceExporter::with_max_request_bytes(otlp, max);
        assert_eq!(exporter.publish(resource, &[&points, &up]).unwrap(), 20_001);
        let requests = &exporter.published.as_ref().unwrap().requests;
        assert!(requests.len() > 5, "{} requests", requests.len());
        let mut total = 0;
        for (i, request) in requests.iter().enumerate() {
            let size = request.encoded_len();
            assert!(size <= max, "request {i}: {size} bytes");
            assert!(size > max * 9 / 10 || i == requests.len() - 1, "packed");
            let points = data_points(request);
            assert_eq!(points[0].0 == "qdrant.up", i == 0);
            total += points.len();
        }
        assert_eq!(total, 20_001);
    }

    #[test]
    fn values_follow_the_registry_types() {
        let spec = |id| MetricSpec::get(id);
        let counter_int = REGISTRY
            .iter()
            .find(|s| s.instrument == Instrument::Counter && s.value_type == ValueType::Int)
            .unwrap();
        assert_eq!(
            number_value(counter_int, -3.0),
            number_data_point::Value::AsInt(0)
        );
        assert_eq!(
            number_value(spec(MetricId::CollectionPoints), 2.6),
            number_data_point::Value::AsInt(3)
        );
        let double = REGISTRY
            .iter()
            .find(|s| s.value_type == ValueType::Double)
            .unwrap();
        assert_eq!(
            number_value(double, 0.25),
            number_data_point::Value::AsDouble(0.25)
        );
    }

    fn settings(protocol: OtlpProtocol, endpoint: String) -> OtlpSettings {
        OtlpSettings {
            protocol,
            endpoint,
            headers: Vec::new(),
            compression: Compression::Gzip,
            timeout: Duration::from_secs(2),
        }
    }

    #[tokio::test]
    async fn refused_connections_are_named_for_both_transports() {
        // A port nothing listens on: bind, note it, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let up = [Point {
            metric: MetricId::Up,
            attributes: Vec::new(),
            value: 1.0,
        }];
        for (protocol, endpoint) in [
            (
                OtlpProtocol::HttpProtobuf,
                format!("http://127.0.0.1:{port}/v1/metrics"),
            ),
            (OtlpProtocol::Grpc, format!("http://127.0.0.1:{port}")),
        ] {
            let mut exporter = ResourceExporter::new(settings(protocol, endpoint.clone()));
            exporter.publish(Vec::new(), &[&up]).unwrap();
            let error = exporter.flush().await.unwrap_err();
            assert!(
                matches!(error, ExportError::Connect { .. }),
                "{protocol:?}: {error:?}"
            );
            assert!(
                error.to_string().ends_with("connection refused"),
                "{protocol:?}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn invalid_settings_are_found_up_front() {
        let mut otlp = settings(OtlpProtocol::Grpc, "http://localhost:4317".into());
        otlp.headers = vec![("bad header".into(), crate::config::Secret::new("x"))];
        assert!(check_exporter(&otlp).is_err());
        otlp.protocol = OtlpProtocol::HttpProtobuf;
        assert!(check_exporter(&otlp).is_err());
        let otlp = settings(OtlpProtocol::HttpProtobuf, "not a url".into());
        assert!(check_exporter(&otlp).is_err());
        let otlp = settings(OtlpProtocol::Grpc, "https://collector.example:4317".into());
        assert!(check_exporter(&otlp).is_ok(), "TLS with the enabled roots");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("86400", now),
            Some(MAX_RETRY_AFTER),
            "capped"
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn error_bodies_become_one_short_line() {
        assert_eq!(error_body_excerpt(b"bad\n  request"), "bad request");
        let long = "x".repeat(500);
        assert_eq!(
            error_body_excerpt(long.as_bytes()).chars().count(),
            BODY_EXCERPT_CHARS + 1
        );
    }
}
