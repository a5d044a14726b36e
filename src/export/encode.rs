//! Points → OTLP protobuf, written straight from the recorded points: no intermediate
//! `NumberDataPoint`/`KeyValue` structs, no copy of a string. `pack.rs` lays the published
//! points out in requests under the size limit (registry order, `qdrant.up` and the agent's own
//! metrics first); [`encode_request`] writes one request, stamped with the export time, when it
//! is sent.
//!
//! The bytes are those `prost` writes for the same `ExportMetricsServiceRequest` (fields in
//! field-number order, lengths as varints); `tests.rs` and `tests_layout.rs` hold the two side
//! by side.

use super::delta::{Deltas, Emit};
use super::points::StoredPoint;
use super::*;
use crate::metrics::registry::{attr, CountsFrom, SEMCONV_SCHEMA_URL};

/// Protobuf wire types.
const LEN: u8 = 2;
pub(super) const I64: u8 = 1;
const VARINT: u8 = 0;

/// A run of consecutive encoded points of one metric in one published part.
pub(super) struct Piece {
    pub(super) part: usize,
    pub(super) range: std::ops::Range<usize>,
}

/// Consecutive points of one metric inside one request.
pub(super) struct MetricChunk {
    pub(super) spec: &'static MetricSpec,
    pub(super) pieces: Vec<Piece>,
    /// The encoded size of its points (each a `data_points` field).
    pub(super) points_len: usize,
}

/// Published points, ready to be encoded at each export.
pub(super) struct Layout {
    pub(super) parts: Vec<Arc<EncodedPoints>>,
    /// When the node's Qdrant process started (unix nanos), if known: the start time of
    /// Qdrant's own counters (`CountsFrom::QdrantStart`).
    pub(super) qdrant_start: Option<u64>,
    /// The encoded `Resource` and `InstrumentationScope`: the same in every request.
    pub(super) resource: Vec<u8>,
    pub(super) scope: Vec<u8>,
    pub(super) requests: Vec<Vec<MetricChunk>>,
}

impl Layout {
    /// The stored points of one metric chunk, in order.
    pub(super) fn chunk_points<'a>(
        &'a self,
        chunk: &'a MetricChunk,
    ) -> impl Iterator<Item = StoredPoint<'a>> + 'a {
        chunk.pieces.iter().flat_map(move |piece| {
            let part = &self.parts[piece.part];
            let bytes = &part.metric(chunk.spec.id as usize)[piece.range.clone()];
            part.points(bytes).map(|(point, _)| point)
        })
    }

    /// [`Layout::chunk_points`] as plain loops, for the export's hot path: the compiler does
    /// not see through the flattened iterator as well.
    pub(super) fn for_each_point<'a>(
        &'a self,
        chunk: &'a MetricChunk,
        mut each: impl FnMut(StoredPoint<'a>),
    ) {
        for piece in &chunk.pieces {
            let part = &self.parts[piece.part];
            let bytes = &part.metric(chunk.spec.id as usize)[piece.range.clone()];
            for (point, _) in part.points(bytes) {
                each(point);
            }
        }
    }
}

/// A `NumberDataPoint`'s two timestamps (fixed64 each, with their keys), written at export.
pub(super) const TIMESTAMPS_LEN: usize = 2 * 9;

pub(super) fn goes_first(spec: &MetricSpec) -> bool {
    spec.name == "qdrant.up" || spec.name.starts_with("qdrant.agent.")
}

pub(super) fn number_value(spec: &MetricSpec, value: f64) -> number_data_point::Value {
    match (spec.value_type, spec.instrument) {
        (ValueType::Double, _) => number_data_point::Value::AsDouble(value),
        // A counter's integer is never negative (the SDK's u64 counter).
        (ValueType::Int, Instrument::Counter) => {
            number_data_point::Value::AsInt(rounded(value.max(0.0)))
        }
        (ValueType::Int, _) => number_data_point::Value::AsInt(rounded(value)),
    }
}

/// `value.round() as i64`, without the call to libm's `round` (x86_64's baseline has no
/// rounding instruction) for the whole numbers nearly every count is.
fn rounded(value: f64) -> i64 {
    let truncated = value as i64;
    if truncated as f64 == value {
        truncated
    } else {
        value.round() as i64
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

/// The `AnyValue` of an attribute: an int_value (3) for the keys the semantic conventions
/// type as int, else a string_value (1). Inside a oneof, even 0 and "" are written.
fn any_value_len(key: &str, value: &str) -> usize {
    match attr::int_value(key, value) {
        Some(int) => 1 + prost::encoding::encoded_len_varint(int as u64),
        None => field_len(value.len()),
    }
}

/// A `KeyValue`: its key and its `AnyValue`.
fn attribute_len(key: &str, value: &str) -> usize {
    string_field_len(key) + field_len(any_value_len(key, value))
}

/// A `Metric` without its data (name, description, unit).
pub(super) fn metric_header_len(spec: &MetricSpec) -> usize {
    string_field_len(spec.name) + string_field_len(spec.description) + string_field_len(spec.unit)
}

/// The fields of a `Sum` besides its points: temporality and monotonicity.
pub(super) fn sum_fields_len(spec: &MetricSpec) -> usize {
    match spec.instrument {
        Instrument::Gauge => 0,
        Instrument::Counter => 4,
        Instrument::UpDownCounter => 2,
    }
}

/// The encoded `Resource` and `InstrumentationScope` every request starts with.
pub(super) fn encode_resource_and_scope(resource: &[KeyValue]) -> (Vec<u8>, Vec<u8>) {
    let resource = Resource {
        attributes: resource.to_vec(),
        ..Resource::default()
    };
    let scope = InstrumentationScope {
        name: "qdrant-otel-agent".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        ..InstrumentationScope::default()
    };
    (resource.encode_to_vec(), scope.encode_to_vec())
}

/// The fixed part of every request, with the three enclosing length prefixes at their largest
/// (5 bytes each).
pub(super) fn fixed_request_len(resource: &[u8], scope: &[u8]) -> usize {
    3 * (1 + 5)
        + field_len(resource.len())
        + field_len(scope.len())
        + string_field_len(SEMCONV_SCHEMA_URL)
}

/// The timestamps of one export.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stamps {
    /// The agent's start (the exporter's creation): where the agent's own counters and every
    /// level count from.
    pub agent_start: u64,
    /// The export time: every point's `time_unix_nano`.
    pub time: u64,
}

/// The start time of a metric's points: the agent's, or for Qdrant's own counters Qdrant's
/// start (the agent's while unknown), never after the export time.
pub(super) fn start_time(spec: &MetricSpec, qdrant_start: Option<u64>, stamps: Stamps) -> u64 {
    match spec.counts_from {
        CountsFrom::Agent => stamps.agent_start,
        CountsFrom::QdrantStart => qdrant_start.unwrap_or(stamps.agent_start).min(stamps.time),
    }
}

/// One request of the layout, stamped with `stamps`; the metrics with an entry in `deltas` go
/// out as delta sums of the points it keeps. `None` when nothing is left to send (every point
/// of the request left out).
pub(super) fn encode_request(
    layout: &Layout,
    request: usize,
    stamps: Stamps,
    deltas: &Deltas,
) -> Option<Vec<u8>> {
    let chunks = &layout.requests[request];
    let emits = |i: usize| deltas.get(i).and_then(Option::as_deref);
    // Each metric's `Gauge`/`Sum` body and whole `Metric`, computed once (0: left out): the
    // length prefixes come before the bytes they measure.
    let (data_lens, metric_lens): (Vec<usize>, Vec<usize>) = chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let points_len = match emits(i) {
                None => chunk.points_len,
                Some(emits) => delta_points_len(layout, chunk, emits),
            };
            if points_len == 0 {
                return (0, 0);
            }
            let data = points_len + sum_fields_len(chunk.spec);
            (data, metric_header_len(chunk.spec) + field_len(data))
        })
        .unzip();
    if metric_lens.iter().all(|&len| len == 0) {
        return None;
    }
    let scope_metrics_len = field_len(layout.scope.len())
        + metric_lens
            .iter()
            .filter(|&&len| len > 0)
            .map(|&len| field_len(len))
            .sum::<usize>()
        + string_field_len(SEMCONV_SCHEMA_URL);
    let resource_metrics_len = field_len(layout.resource.len()) + field_len(scope_metrics_len);
    let total = field_len(resource_metrics_len);

    let mut buf = Vec::with_capacity(total);
    // ExportMetricsServiceRequest.resource_metrics (1) → ResourceMetrics
    put_key_len(&mut buf, 1, resource_metrics_len);
    put_bytes(&mut buf, 1, &layout.resource);
    // ResourceMetrics.scope_metrics (2) → ScopeMetrics
    put_key_len(&mut buf, 2, scope_metrics_len);
    put_bytes(&mut buf, 1, &layout.scope);
    for (i, chunk) in chunks.iter().enumerate() {
        if metric_lens[i] > 0 {
            let lens = (data_lens[i], metric_lens[i]);
            write_metric(&mut buf, layout, chunk, lens, stamps, emits(i));
        }
    }
    // ScopeMetrics.schema_url (3), after its metrics.
    put_str(&mut buf, 3, SEMCONV_SCHEMA_URL);
    debug_assert_eq!(buf.len(), total);
    Some(buf)
}

/// The encoded size of the points of a delta metric that go out.
fn delta_points_len(layout: &Layout, chunk: &MetricChunk, emits: &[Emit]) -> usize {
    layout
        .chunk_points(chunk)
        .zip(emits)
        .filter(|(_, emit)| matches!(emit, Emit::Delta { .. }))
        .map(|(point, _)| field_len(TIMESTAMPS_LEN + point.body_len))
        .sum()
}

/// One `Metric` (2 of `ScopeMetrics`) of `data_len` and `metric_len` bytes: cumulative, or with
/// `emits`, the delta of each point (or nothing, for a point left out).
fn write_metric(
    buf: &mut Vec<u8>,
    layout: &Layout,
    chunk: &MetricChunk,
    (data_len, metric_len): (usize, usize),
    stamps: Stamps,
    emits: Option<&[Emit]>,
) {
    let spec = chunk.spec;
    put_key_len(buf, 2, metric_len);
    put_str(buf, 1, spec.name);
    put_str(buf, 2, spec.description);
    put_str(buf, 3, spec.unit);
    // Metric.gauge (5) or Metric.sum (7)
    let data_field = if spec.instrument == Instrument::Gauge {
        5
    } else {
        7
    };
    put_key_len(buf, data_field, data_len);
    match emits {
        // The common path, kept a tight loop: every point cumulative, from one start.
        None => {
            let start = start_time(spec, layout.qdrant_start, stamps);
            layout.for_each_point(chunk, |point| {
                put_timestamps(buf, point.body_len, start, stamps.time);
                point.write_body(buf);
            });
        }
        Some(emits) => {
            for (point, emit) in layout.chunk_points(chunk).zip(emits) {
                if let Emit::Delta { start, value } = emit {
                    put_timestamps(buf, point.body_len, *start, stamps.time);
                    value.put(buf);
                    point.write_attributes(buf);
                }
            }
        }
    }
    if spec.instrument != Instrument::Gauge {
        // Sum.aggregation_temporality (2); Sum.is_monotonic (3).
        let temporality = if emits.is_some() {
            AggregationTemporality::Delta
        } else {
            AggregationTemporality::Cumulative
        };
        put_key(buf, 2, VARINT);
        buf.push(temporality as u8);
        if spec.instrument == Instrument::Counter {
            put_key(buf, 3, VARINT);
            buf.push(1);
        }
    }
}

/// Gauge/Sum.data_points (1) → NumberDataPoint of `body_len` after its start_time_unix_nano
/// (2) and time_unix_nano (3), fixed64 both; the value and attributes follow.
fn put_timestamps(buf: &mut Vec<u8>, body_len: usize, start: u64, time: u64) {
    put_key_len(buf, 1, TIMESTAMPS_LEN + body_len);
    put_key(buf, 2, I64);
    buf.extend_from_slice(&start.to_le_bytes());
    put_key(buf, 3, I64);
    buf.extend_from_slice(&time.to_le_bytes());
}

/// The encoded size of a `NumberDataPoint`'s value field.
pub(super) const fn value_len() -> usize {
    9
}

/// A `NumberDataPoint`'s value: as_double (4), a double, or as_int (6), an sfixed64 — the
/// field prost writes after the timestamps.
pub(super) fn put_value(buf: &mut Vec<u8>, spec: &MetricSpec, value: f64) {
    match number_value(spec, value) {
        number_data_point::Value::AsDouble(value) => {
            put_key(buf, 4, I64);
            buf.extend_from_slice(&value.to_le_bytes());
        }
        number_data_point::Value::AsInt(value) => {
            put_key(buf, 6, I64);
            buf.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// One of a `NumberDataPoint`'s attributes (7): a `KeyValue` { key (1), value (2) →
/// `AnyValue` { string_value (1) or int_value (3) } }.
pub(super) fn put_attribute(buf: &mut Vec<u8>, key: &str, value: &str) {
    put_key_len(buf, 7, attribute_len(key, value));
    put_str(buf, 1, key);
    put_key_len(buf, 2, any_value_len(key, value));
    match attr::int_value(key, value) {
        Some(int) => {
            put_key(buf, 3, VARINT);
            put_varint(buf, int as u64);
        }
        None => {
            put_key_len(buf, 1, value.len());
            buf.extend_from_slice(value.as_bytes());
        }
    }
}

pub(super) fn put_key(buf: &mut Vec<u8>, field: u8, wire_type: u8) {
    buf.push(field << 3 | wire_type);
}

fn put_key_len(buf: &mut Vec<u8>, field: u8, len: usize) {
    put_key(buf, field, LEN);
    put_varint(buf, len as u64);
}

/// A varint, as prost writes it; most are below 128, one byte. Written here rather than with
/// prost's generic `encode_varint`, which is slower for `Vec<u8>` (docs/performance.md).
pub(super) fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        buf.push(value as u8 | 0x80);
        value >>= 7;
    }
    buf.push(value as u8);
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

#[cfg(test)]
mod tests {
    /// The shortcut for whole numbers reads every value as `round() as i64` does.
    #[test]
    fn rounded_is_round_as_i64() {
        let values = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            1e-300,
            42.0,
            -42.0,
            9.007_199_254_740_993e15,
            9.2e18,
            i64::MAX as f64,
            i64::MIN as f64,
            1e19,
            -1e19,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for value in values {
            assert_eq!(super::rounded(value), value.round() as i64, "{value}");
        }
    }
}
