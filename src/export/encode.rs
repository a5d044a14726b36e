//! Points → OTLP protobuf, written straight from the recorded points: no intermediate
//! `NumberDataPoint`/`KeyValue` structs, no copy of a string. [`layout`] groups the published
//! points by metric (registry order, `qdrant.up` and the agent's own metrics first) and splits
//! them into requests under the size limit; [`encode_request`] writes one request, stamped with
//! the export time, when it is sent.
//!
//! The bytes are those `prost` writes for the same `ExportMetricsServiceRequest` (fields in
//! field-number order, lengths as varints); `tests.rs` holds the two side by side.

use super::*;

/// Protobuf wire types.
const LEN: u8 = 2;
const I64: u8 = 1;
const VARINT: u8 = 0;

/// Where a published point is, and the length of its encoded `NumberDataPoint`.
#[derive(Debug, Clone, Copy)]
pub(super) struct PointRef {
    part: u32,
    index: u32,
    len: u32,
}

/// Consecutive points of one metric inside one request.
pub(super) struct MetricChunk {
    spec: &'static MetricSpec,
    points: Vec<PointRef>,
}

/// Published points, ready to be encoded at each export.
pub(super) struct Layout {
    parts: Vec<Arc<Vec<Point>>>,
    /// The encoded `Resource` and `InstrumentationScope`: the same in every request.
    resource: Vec<u8>,
    scope: Vec<u8>,
    pub(super) requests: Vec<Vec<MetricChunk>>,
}

pub(super) fn goes_first(spec: &MetricSpec) -> bool {
    spec.name == "qdrant.up" || spec.name.starts_with("qdrant.agent.")
}

pub(super) fn number_value(spec: &MetricSpec, value: f64) -> number_data_point::Value {
    match (spec.value_type, spec.instrument) {
        (ValueType::Double, _) => number_data_point::Value::AsDouble(value),
        // A counter's integer is never negative (the SDK's u64 counter).
        (ValueType::Int, Instrument::Counter) => {
            number_data_point::Value::AsInt(value.max(0.0).round() as i64)
        }
        (ValueType::Int, _) => number_data_point::Value::AsInt(value.round() as i64),
    }
}

pub(super) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// The encoded size of a length-delimited field holding `len` bytes (tags below 16).
pub(super) fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

fn string_field_len(text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        field_len(text.len())
    }
}

/// A `KeyValue` holding a string `AnyValue`.
fn attribute_len(key: &str, value: &str) -> usize {
    string_field_len(key) + field_len(field_len(value.len()))
}

/// An encoded `NumberDataPoint`: its attributes, start time, time and value (8 bytes each).
fn point_len(point: &Point) -> usize {
    let attributes: usize = point
        .attributes
        .iter()
        .map(|(key, value)| field_len(attribute_len(key, value)))
        .sum();
    attributes + 3 * 9
}

/// A `Metric` without its data (name, description, unit).
fn metric_header_len(spec: &MetricSpec) -> usize {
    string_field_len(spec.name) + string_field_len(spec.description) + string_field_len(spec.unit)
}

/// The fields of a `Sum` besides its points: temporality and monotonicity.
fn sum_fields_len(spec: &MetricSpec) -> usize {
    match spec.instrument {
        Instrument::Gauge => 0,
        Instrument::Counter => 4,
        Instrument::UpDownCounter => 2,
    }
}

/// Group the points by metric and pack them, in order, into as few requests as fit
/// `max_bytes` each (a single data point larger than that still goes out, alone).
pub(super) fn layout(
    resource: &[KeyValue],
    parts: Vec<Arc<Vec<Point>>>,
    max_bytes: usize,
) -> Layout {
    let mut rows: Vec<Vec<PointRef>> = vec![Vec::new(); REGISTRY.len()];
    for (part, points) in parts.iter().enumerate() {
        for (index, point) in points.iter().enumerate() {
            rows[point.metric as usize].push(PointRef {
                part: part as u32,
                index: index as u32,
                len: point_len(point) as u32,
            });
        }
    }
    let resource = Resource {
        attributes: resource.to_vec(),
        ..Resource::default()
    }
    .encode_to_vec();
    let scope = InstrumentationScope {
        name: "qdrant-otel-agent".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..InstrumentationScope::default()
    }
    .encode_to_vec();
    // `qdrant.up` and the agent's own metrics first: they go out in the first request.
    let (first, rest): (Vec<_>, Vec<_>) = REGISTRY
        .iter()
        .zip(rows)
        .filter(|(_, points)| !points.is_empty())
        .partition(|(spec, _)| goes_first(spec));
    // The fixed part of every request, with the three enclosing length prefixes at their
    // largest (5 bytes each).
    let fixed = 3 * (1 + 5) + field_len(resource.len()) + field_len(scope.len());
    let budget = max_bytes.saturating_sub(fixed);
    let mut requests = Vec::new();
    let mut current: Vec<MetricChunk> = Vec::new();
    let mut size = 0;
    for (spec, points) in first.into_iter().chain(rest) {
        // The metric's own fields, its and its data's key and length prefix at their largest.
        let overhead = metric_header_len(spec) + sum_fields_len(spec) + 2 * (1 + 5);
        let mut chunk: Vec<PointRef> = Vec::new();
        for point in points {
            let cost = field_len(point.len as usize);
            let open = if chunk.is_empty() { overhead } else { 0 };
            if size > 0 && size + open + cost > budget {
                if !chunk.is_empty() {
                    current.push(MetricChunk {
                        spec,
                        points: std::mem::take(&mut chunk),
                    });
                }
                requests.push(std::mem::take(&mut current));
                size = 0;
            }
            if chunk.is_empty() {
                size += overhead;
            }
            size += cost;
            chunk.push(point);
        }
        if !chunk.is_empty() {
            current.push(MetricChunk {
                spec,
                points: chunk,
            });
        }
    }
    if !current.is_empty() {
        requests.push(current);
    }
    Layout {
        parts,
        resource,
        scope,
        requests,
    }
}

/// One request of the layout, every point stamped with `time_unix_nano`.
pub(super) fn encode_request(
    layout: &Layout,
    request: usize,
    start_time_unix_nano: u64,
    time_unix_nano: u64,
) -> Vec<u8> {
    let metrics = &layout.requests[request];
    // Each metric's `Gauge`/`Sum` body and whole `Metric`, computed once: the length prefixes
    // come before the bytes they measure.
    let (data_lens, metric_lens): (Vec<usize>, Vec<usize>) = metrics
        .iter()
        .map(|chunk| {
            let points: usize = chunk.points.iter().map(|p| field_len(p.len as usize)).sum();
            let data = points + sum_fields_len(chunk.spec);
            (data, metric_header_len(chunk.spec) + field_len(data))
        })
        .unzip();
    let scope_metrics_len = field_len(layout.scope.len())
        + metric_lens.iter().map(|&len| field_len(len)).sum::<usize>();
    let resource_metrics_len = field_len(layout.resource.len()) + field_len(scope_metrics_len);
    let total = field_len(resource_metrics_len);

    let mut buf = Vec::with_capacity(total);
    // ExportMetricsServiceRequest.resource_metrics (1) → ResourceMetrics
    put_key_len(&mut buf, 1, resource_metrics_len);
    put_bytes(&mut buf, 1, &layout.resource);
    // ResourceMetrics.scope_metrics (2) → ScopeMetrics
    put_key_len(&mut buf, 2, scope_metrics_len);
    put_bytes(&mut buf, 1, &layout.scope);
    for ((chunk, data_len), metric_len) in metrics.iter().zip(data_lens).zip(metric_lens) {
        let spec = chunk.spec;
        // ScopeMetrics.metrics (2) → Metric
        put_key_len(&mut buf, 2, metric_len);
        put_str(&mut buf, 1, spec.name);
        put_str(&mut buf, 2, spec.description);
        put_str(&mut buf, 3, spec.unit);
        // Metric.gauge (5) or Metric.sum (7)
        let data_field = if spec.instrument == Instrument::Gauge {
            5
        } else {
            7
        };
        put_key_len(&mut buf, data_field, data_len);
        for at in &chunk.points {
            let point = &layout.parts[at.part as usize][at.index as usize];
            // Gauge/Sum.data_points (1) → NumberDataPoint
            put_key_len(&mut buf, 1, at.len as usize);
            put_point(&mut buf, point, start_time_unix_nano, time_unix_nano);
        }
        if spec.instrument != Instrument::Gauge {
            // Sum.aggregation_temporality (2): cumulative; Sum.is_monotonic (3).
            put_key(&mut buf, 2, VARINT);
            buf.push(AggregationTemporality::Cumulative as u8);
            if spec.instrument == Instrument::Counter {
                put_key(&mut buf, 3, VARINT);
                buf.push(1);
            }
        }
    }
    debug_assert_eq!(buf.len(), total);
    buf
}

/// A `NumberDataPoint`'s fields, in field-number order as prost writes them.
fn put_point(buf: &mut Vec<u8>, point: &Point, start: u64, time: u64) {
    // start_time_unix_nano (2), time_unix_nano (3): fixed64.
    put_key(buf, 2, I64);
    buf.extend_from_slice(&start.to_le_bytes());
    put_key(buf, 3, I64);
    buf.extend_from_slice(&time.to_le_bytes());
    match number_value(point.spec(), point.value) {
        // as_double (4): double; as_int (6): sfixed64.
        number_data_point::Value::AsDouble(value) => {
            put_key(buf, 4, I64);
            buf.extend_from_slice(&value.to_le_bytes());
        }
        number_data_point::Value::AsInt(value) => {
            put_key(buf, 6, I64);
            buf.extend_from_slice(&value.to_le_bytes());
        }
    }
    for (key, value) in &point.attributes {
        // attributes (7) → KeyValue { key (1), value (2) → AnyValue { string_value (1) } }
        put_key_len(buf, 7, attribute_len(key, value));
        put_str(buf, 1, key);
        put_key_len(buf, 2, field_len(value.len()));
        put_key_len(buf, 1, value.len());
        buf.extend_from_slice(value.as_bytes());
    }
}

fn put_key(buf: &mut Vec<u8>, field: u8, wire_type: u8) {
    buf.push(field << 3 | wire_type);
}

fn put_key_len(buf: &mut Vec<u8>, field: u8, len: usize) {
    put_key(buf, field, LEN);
    prost::encoding::encode_varint(len as u64, buf);
}

fn put_bytes(buf: &mut Vec<u8>, field: u8, bytes: &[u8]) {
    put_key_len(buf, field, bytes.len());
    buf.extend_from_slice(bytes);
}

/// A string field; proto3 leaves an empty one out.
fn put_str(buf: &mut Vec<u8>, field: u8, text: &str) {
    if !text.is_empty() {
        put_bytes(buf, field, text.as_bytes());
    }
}

pub(super) fn gzip(body: &[u8]) -> Vec<u8> {
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
