//! Points → OTLP protobuf: one metric per registry entry, data points stamped with the
//! export time, and the split of a large export into requests under the size limit.

use super::*;

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

/// A metric of `spec` with these data points.
pub(super) fn metric_of(spec: &MetricSpec, data_points: Vec<NumberDataPoint>) -> Metric {
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

pub(super) fn request_of(
    resource: &[KeyValue],
    metrics: Vec<Metric>,
) -> ExportMetricsServiceRequest {
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
pub(super) fn field_len(len: usize) -> usize {
    1 + prost::encoding::encoded_len_varint(len as u64) + len
}

/// Pack the metrics' data points, in order, into as few requests as fit `max_bytes` each
/// (a single data point larger than that still goes out, alone).
pub(super) fn split_requests<'a>(
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
pub(super) fn stamp(request: &mut ExportMetricsServiceRequest, time_unix_nano: u64) {
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
