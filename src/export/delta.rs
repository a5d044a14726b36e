//! Delta temporality (`delta` in `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`): a counter's
//! point says how much it counted since the previous point of its series, which starts where
//! that one ended. The agent's counters are all observed (asynchronous counters), so under
//! `delta` every monotonic sum goes out as a delta; up-down counters stay cumulative, as the
//! specification says for both kinds of up-down counter.
//!
//! Deltas are taken against the last point *delivered* of each series (its cumulative value
//! and time), per request, when it is delivered: a failed export loses no count (the next
//! delta spans the gap) and a request sent again counts nothing twice.
//!
//! - Same start time as before: the delta is the increase; a value below the last one is a
//!   reset the start did not show, and the delta is the new value.
//! - The start moved (Qdrant restarted): the delta is the new value, all counted since the
//!   restart, never a negative number.
//! - A series not seen before goes out whole only if it started counting after the agent
//!   started (the agent's own counters, Qdrant's after a restart); otherwise its first value
//!   holds counts from before the agent watched, and is only remembered (as the Collector's
//!   cumulativetodelta processor does with `initial_value: auto`).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

use super::encode::{put_key, Layout, I64};
use crate::metrics::registry::{CountsFrom, Instrument};

/// A series absent from every delivered export for this long is forgotten (deleted
/// collections must not be held forever); if it comes back, its first value is only
/// remembered again.
const FORGET_AFTER_NANOS: u64 = 3_600 * 1_000_000_000;

/// One point of a delta metric in a request: left out, or its delta.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Emit {
    Skip,
    Delta { start: u64, value: Value },
}

/// Per metric of a request: `None` for a cumulative one, else each point's [`Emit`] in order.
pub(super) type Deltas = Vec<Option<Vec<Emit>>>;

/// A recorded value, in the type it is encoded as.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Value {
    Int(i64),
    Double(f64),
}

/// The value field's key: `NumberDataPoint.as_double` (4) or `.as_int` (6), both fixed 64-bit.
const AS_DOUBLE: u8 = 4 << 3 | I64;
const AS_INT: u8 = 6 << 3 | I64;

impl Value {
    /// Read a recorded value field.
    fn decode(field: &[u8]) -> Option<Value> {
        let (&key, number) = field.split_first()?;
        let bytes: [u8; 8] = number.try_into().ok()?;
        match key {
            AS_DOUBLE => Some(Value::Double(f64::from_le_bytes(bytes))),
            AS_INT => Some(Value::Int(i64::from_le_bytes(bytes))),
            _ => None,
        }
    }

    /// What was counted since `earlier`; `None` if the value went down (a reset).
    fn since(self, earlier: Value) -> Option<Value> {
        match (self, earlier) {
            (Value::Int(now), Value::Int(then)) if now >= then => Some(Value::Int(now - then)),
            (Value::Double(now), Value::Double(then)) if now >= then => {
                Some(Value::Double(now - then))
            }
            _ => None,
        }
    }

    /// Write the value field.
    pub(super) fn put(self, buf: &mut Vec<u8>) {
        match self {
            Value::Double(value) => {
                put_key(buf, 4, I64);
                buf.extend_from_slice(&value.to_le_bytes());
            }
            Value::Int(value) => {
                put_key(buf, 6, I64);
                buf.extend_from_slice(&value.to_le_bytes());
            }
        }
    }
}

/// The last delivered point of a series.
#[derive(Debug, Clone, Copy)]
struct Last {
    /// Its cumulative start time (`None`: Qdrant's start was unknown).
    start: Option<u64>,
    value: Value,
    time: u64,
}

/// What a request's delivery establishes: each of its counters' series, at the export time.
#[derive(Debug, Default)]
pub(super) struct Pending(Vec<(Box<[u8]>, Last)>);

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One resource's delivered counters.
#[derive(Debug)]
pub(super) struct DeltaState {
    /// When the agent (its exporter) started: what counted since went out whole.
    agent_start: u64,
    /// By series: the metric's id (2 bytes), then its encoded attributes.
    series: FxHashMap<Box<[u8]>, Last>,
}

impl DeltaState {
    pub(super) fn new(agent_start: u64) -> DeltaState {
        DeltaState {
            agent_start,
            series: FxHashMap::default(),
        }
    }

    /// The deltas of one request's counters at export time `time`, and what its delivery
    /// establishes.
    pub(super) fn plan(&self, layout: &Layout, request: usize, time: u64) -> (Deltas, Pending) {
        let mut deltas = Vec::new();
        let mut pending = Vec::new();
        let mut key = Vec::new();
        for chunk in &layout.requests[request] {
            let spec = chunk.spec;
            if spec.instrument != Instrument::Counter {
                deltas.push(None);
                continue;
            }
            let start = match spec.counts_from {
                CountsFrom::Agent => Some(self.agent_start),
                CountsFrom::QdrantStart => layout.qdrant_start,
            };
            let emits = layout.chunk_points(chunk).map(|point| {
                let Some(value) = Value::decode(point.value()) else {
                    return Emit::Skip;
                };
                key.clear();
                key.extend_from_slice(&(spec.id as u16).to_le_bytes());
                point.write_attributes(&mut key);
                pending.push((key.as_slice().into(), Last { start, value, time }));
                self.emit(&key, start, value)
            });
            deltas.push(Some(emits.collect()));
        }
        (deltas, Pending(pending))
    }

    /// The point of a series whose cumulative start is `start` and value `value` now.
    fn emit(&self, key: &[u8], start: Option<u64>, value: Value) -> Emit {
        match self.series.get(key) {
            Some(last) => {
                let restarted = matches!((last.start, start), (Some(a), Some(b)) if a != b);
                let counted = if restarted {
                    value
                } else {
                    value.since(last.value).unwrap_or(value)
                };
                Emit::Delta {
                    start: last.time,
                    value: counted,
                }
            }
            None => match start {
                Some(start) if start >= self.agent_start => Emit::Delta { start, value },
                _ => Emit::Skip,
            },
        }
    }

    /// A request was delivered: its series' points are the ones to count from.
    pub(super) fn delivered(&mut self, pending: Pending) {
        self.series.extend(pending.0);
    }

    /// An export at `time` was delivered whole: forget the series it has not seen for long.
    pub(super) fn export_delivered(&mut self, time: u64) {
        self.series
            .retain(|_, last| time.saturating_sub(last.time) <= FORGET_AFTER_NANOS);
    }

    /// How many series are remembered (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.series.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value;
    use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
    use prost::Message;
    use smallvec::smallvec;
    use smol_str::SmolStr;

    use super::super::encode::{encode_request, Stamps};
    use super::super::pack::layout;
    use super::super::{EncodedPoints, MAX_REQUEST_BYTES};
    use super::*;
    use crate::metrics::registry::attr;
    use crate::metrics::{MetricId, Point};

    const S: u64 = 1_000_000_000;
    const AGENT_START: u64 = 1_000 * S;

    /// One point of a metric: (name, status attribute or "", start, value, temporality).
    type Seen = (String, String, u64, f64, i32);

    fn responses(status: &str, value: f64) -> Point {
        Point {
            metric: MetricId::RestResponses,
            attributes: smallvec![
                (attr::HTTP_METHOD, SmolStr::new_static("GET")),
                (attr::HTTP_STATUS, SmolStr::new(status)),
            ],
            value,
        }
    }

    fn plain(metric: MetricId, value: f64) -> Point {
        Point {
            metric,
            attributes: smallvec![],
            value,
        }
    }

    /// Export these points at `time` (seconds), delivered or not; what went out.
    fn export(
        state: &mut DeltaState,
        points: &[Point],
        qdrant_start: Option<u64>,
        (time, delivered): (u64, bool),
    ) -> Vec<Seen> {
        let parts = vec![Arc::new(EncodedPoints::from(points))];
        let layout = layout(&[], parts, qdrant_start.map(|s| s * S), MAX_REQUEST_BYTES);
        let stamps = Stamps {
            agent_start: AGENT_START,
            time: time * S,
        };
        let (deltas, pending) = state.plan(&layout, 0, stamps.time);
        let body = encode_request(&layout, 0, stamps, &deltas).expect("something to send");
        let request = ExportMetricsServiceRequest::decode(&body[..]).unwrap();
        assert_eq!(body, request.encode_to_vec(), "what prost writes");
        if delivered {
            state.delivered(pending);
            state.export_delivered(stamps.time);
        }
        seen(&request, stamps.time)
    }

    fn seen(request: &ExportMetricsServiceRequest, time: u64) -> Vec<Seen> {
        let mut out = Vec::new();
        for metric in &request.resource_metrics[0].scope_metrics[0].metrics {
            let (points, temporality) = match metric.data.as_ref().unwrap() {
                metric::Data::Sum(sum) => (&sum.data_points, sum.aggregation_temporality),
                metric::Data::Gauge(gauge) => (&gauge.data_points, 0),
                _ => unreachable!(),
            };
            for point in points {
                assert_eq!(point.time_unix_nano, time);
                let status = point
                    .attributes
                    .iter()
                    .find(|kv| kv.key == attr::HTTP_STATUS)
                    .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                    .map(|value| match value {
                        any_value::Value::IntValue(code) => code.to_string(),
                        other => format!("not an int: {other:?}"),
                    });
                let value = match point.value.unwrap() {
                    number_data_point::Value::AsInt(v) => v as f64,
                    number_data_point::Value::AsDouble(v) => v,
                };
                out.push((
                    metric.name.clone(),
                    status.unwrap_or_default(),
                    point.start_time_unix_nano / S,
                    value,
                    temporality,
                ));
            }
        }
        out
    }

    const DELTA: i32 = 1;
    const CUMULATIVE: i32 = 2;

    fn rest(code: i64, start: u64, value: f64) -> Seen {
        let name = "qdrant.rest.responses".to_string();
        (name, code.to_string(), start, value, DELTA)
    }

    fn errors(start: u64, value: f64) -> Seen {
        let name = "qdrant.agent.poll.errors".to_string();
        (name, String::new(), start, value, DELTA)
    }

    #[test]
    fn counters_go_out_as_deltas_across_polls_and_a_restart() {
        let mut state = DeltaState::new(AGENT_START);
        // Qdrant started at 500 s, before the agent (1,000 s): its counts so far are history.
        let points = [responses("200", 10.0), plain(MetricId::PollErrors, 2.0)];
        let first = export(&mut state, &points, Some(500), (1_010, true));
        assert_eq!(first, [errors(1_000, 2.0)], "the agent's own count is new");

        let points = [
            responses("200", 15.0),
            responses("503", 1.0),
            plain(MetricId::PollErrors, 2.0),
            plain(MetricId::CollectionCount, 7.0),
        ];
        let second = export(&mut state, &points, Some(500), (1_020, true));
        let name = "qdrant.collection.count".to_string();
        let count = (name, String::new(), 1_000, 7.0, CUMULATIVE);
        assert_eq!(
            second,
            [errors(1_010, 0.0), count, rest(200, 1_010, 5.0)],
            "a new series from before the agent is only remembered; up-down counters stay cumulative"
        );

        // Restarted at 1,025 s: everything counted since the restart; a new series whole.
        let points = [
            responses("200", 3.0),
            responses("503", 0.0),
            responses("404", 2.0),
        ];
        let third = export(&mut state, &points, Some(1_025), (1_030, true));
        let expected = [
            rest(200, 1_020, 3.0),
            rest(503, 1_020, 0.0),
            rest(404, 1_025, 2.0),
        ];
        assert_eq!(third, expected);
    }

    #[test]
    fn a_failed_export_loses_no_count_and_absent_series_are_forgotten() {
        let mut state = DeltaState::new(AGENT_START);
        // Qdrant started after the agent: its counts are all new.
        let points = [responses("200", 3.0), responses("404", 2.0)];
        let first = export(&mut state, &points, Some(1_025), (1_030, true));
        assert_eq!(first, [rest(200, 1_025, 3.0), rest(404, 1_025, 2.0)]);

        // Not delivered: the next delta spans the gap. A drop under the same start is a reset.
        let points = [responses("200", 8.0)];
        let lost = export(&mut state, &points, Some(1_025), (1_040, false));
        assert_eq!(lost, [rest(200, 1_030, 5.0)]);
        let points = [responses("200", 9.0), responses("404", 1.0)];
        let third = export(&mut state, &points, Some(1_025), (1_050, true));
        assert_eq!(third, [rest(200, 1_030, 6.0), rest(404, 1_030, 1.0)]);
        assert_eq!(state.len(), 2);

        // An hour without it: forgotten.
        let later = export(&mut state, &points[..1], Some(1_025), (1_050 + 3_601, true));
        assert_eq!(later, [rest(200, 1_050, 0.0)]);
        assert_eq!(state.len(), 1, "the other is forgotten");
    }

    #[test]
    fn nothing_to_send_when_every_point_is_left_out() {
        let state = DeltaState::new(AGENT_START);
        let parts = vec![Arc::new(EncodedPoints::from(&[responses("200", 3.0)][..]))];
        let layout = layout(&[], parts, Some(10 * S), MAX_REQUEST_BYTES);
        let stamps = Stamps {
            agent_start: AGENT_START,
            time: 1_010 * S,
        };
        let (deltas, pending) = state.plan(&layout, 0, stamps.time);
        assert_eq!(pending.0.len(), 1);
        assert_eq!(encode_request(&layout, 0, stamps, &deltas), None);
    }

    #[test]
    fn values_decode_as_they_were_recorded() {
        for value in [Value::Int(-3), Value::Int(1 << 40), Value::Double(0.125)] {
            let mut field = Vec::new();
            value.put(&mut field);
            assert_eq!(Value::decode(&field), Some(value));
        }
        assert_eq!(Value::Int(5).since(Value::Int(3)), Some(Value::Int(2)));
        assert_eq!(Value::Int(2).since(Value::Int(3)), None, "a reset");
        assert_eq!(
            Value::Double(0.5).since(Value::Double(0.25)),
            Some(Value::Double(0.25))
        );
    }
}
