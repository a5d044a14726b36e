//! Laying published points out in requests, in two plain steps: size each metric's points
//! ([`for_each_sized_point`]), then pack them in order into requests that fit the limit ([`Packer`]).
//! The requests are written at each export by `encode.rs` from this layout.

use std::sync::Arc;

use super::encode::*;
use super::points::EncodedPoints;
use crate::metrics::registry::{MetricSpec, REGISTRY};
use crate::resource::KeyValue;

/// Group the points by metric and pack them, in order, into as few requests as fit
/// `max_bytes` each (a single data point larger than that still goes out, alone).
pub(super) fn layout(
    resource: &[KeyValue],
    parts: Vec<Arc<EncodedPoints>>,
    qdrant_start: Option<u64>,
    max_bytes: usize,
) -> Layout {
    let (resource, scope) = encode_resource_and_scope(resource);
    // `qdrant.up` and the agent's own metrics first: they go out in the first request.
    let (first, rest): (Vec<_>, Vec<_>) = REGISTRY
        .iter()
        .filter(|spec| {
            parts
                .iter()
                .any(|part| !part.metric(spec.id as usize).is_empty())
        })
        .partition(|spec| goes_first(spec));
    let mut packer = Packer::new(max_bytes.saturating_sub(fixed_request_len(&resource, &scope)));
    for spec in first.into_iter().chain(rest) {
        packer.add_metric(spec, &parts);
    }
    Layout {
        parts,
        qdrant_start,
        resource,
        scope,
        requests: packer.finish(),
    }
}

/// One stored point of a metric: where it is and what it costs in a request.
struct SizedPoint {
    part: usize,
    range: std::ops::Range<usize>,
    /// Its `data_points` field, timestamps included.
    cost: usize,
}

/// Step one: every point of `spec`, part after part, with its encoded size, handed to `each`
/// (plain loops: this runs for every point of every export's layout).
fn for_each_sized_point(
    spec: &MetricSpec,
    parts: &[Arc<EncodedPoints>],
    mut each: impl FnMut(SizedPoint),
) {
    let id = spec.id as usize;
    for (part, points) in parts.iter().enumerate() {
        let mut start = 0;
        for (point, end) in points.points(points.metric(id)) {
            each(SizedPoint {
                part,
                range: start..end,
                cost: field_len(TIMESTAMPS_LEN + point.body_len),
            });
            start = end;
        }
    }
}

/// Step two: points packed into requests in order, a new request when the next point (with
/// its metric's fields, if it opens the metric in this request) would pass the budget.
struct Packer {
    budget: usize,
    requests: Vec<Vec<MetricChunk>>,
    current: Vec<MetricChunk>,
    size: usize,
}

impl Packer {
    fn new(budget: usize) -> Packer {
        Packer {
            budget,
            requests: Vec::new(),
            current: Vec::new(),
            size: 0,
        }
    }

    fn add_metric(&mut self, spec: &'static MetricSpec, parts: &[Arc<EncodedPoints>]) {
        // The metric's own fields, its and its data's key and length prefix at their largest.
        let overhead = metric_header_len(spec) + sum_fields_len(spec) + 2 * (1 + 5);
        let mut chunk = MetricChunk::new(spec);
        for_each_sized_point(spec, parts, |point| {
            let open = if chunk.pieces.is_empty() { overhead } else { 0 };
            if self.size > 0 && self.size + open + point.cost > self.budget {
                if !chunk.pieces.is_empty() {
                    self.current
                        .push(std::mem::replace(&mut chunk, MetricChunk::new(spec)));
                }
                self.requests.push(std::mem::take(&mut self.current));
                self.size = 0;
            }
            if chunk.pieces.is_empty() {
                self.size += overhead;
            }
            self.size += point.cost;
            chunk.add(point);
        });
        if !chunk.pieces.is_empty() {
            self.current.push(chunk);
        }
    }

    fn finish(mut self) -> Vec<Vec<MetricChunk>> {
        if !self.current.is_empty() {
            self.requests.push(self.current);
        }
        self.requests
    }
}

impl MetricChunk {
    fn new(spec: &'static MetricSpec) -> MetricChunk {
        MetricChunk {
            spec,
            pieces: Vec::new(),
            points_len: 0,
        }
    }

    /// The next point: it extends the last piece when it follows it in the same part.
    fn add(&mut self, point: SizedPoint) {
        self.points_len += point.cost;
        match self.pieces.last_mut() {
            Some(last) if last.part == point.part && last.range.end == point.range.start => {
                last.range.end = point.range.end;
            }
            _ => self.pieces.push(Piece {
                part: point.part,
                range: point.range,
            }),
        }
    }
}
