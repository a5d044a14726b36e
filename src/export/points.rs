//! Points kept as OTLP protobuf from the moment they are recorded: [`EncodedPoints`] is the
//! [`PointSink`] the agent records into. Each point becomes the bytes of its
//! `NumberDataPoint` except the two timestamps (known only at export), grouped by metric, so
//! an export only frames and copies them (`encode.rs`), and a poll's points take ~40 bytes
//! each instead of a `Point`'s ~100 plus the layout the exporter built from them
//! (docs/performance.md).
//!
//! Per metric, the points are one byte buffer: each point's body length as a varint, then the
//! body — its value field, then its attributes — exactly the bytes prost writes after the
//! timestamps.

use super::encode::{attribute_len, field_len, put_attribute, put_value, value_len};
use crate::metrics::registry::REGISTRY;
use crate::metrics::{Point, PointSink};

/// One resource's recorded points, encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedPoints {
    /// Indexed by [`MetricId`]: the metric's points, each `varint(len) body`.
    by_metric: Vec<Vec<u8>>,
    count: usize,
}

impl Default for EncodedPoints {
    fn default() -> Self {
        EncodedPoints::new()
    }
}

impl EncodedPoints {
    pub fn new() -> EncodedPoints {
        EncodedPoints {
            by_metric: vec![Vec::new(); REGISTRY.len()],
            count: 0,
        }
    }

    /// Room for `sizes` bytes per metric (what [`EncodedPoints::sizes`] said of the last poll),
    /// and a little more: a steady poll records about the same points as the one before, so
    /// its buffers are neither regrown (copied) nor up to twice too big.
    pub fn with_sizes(sizes: &[usize]) -> EncodedPoints {
        let mut points = EncodedPoints::new();
        for (bytes, &size) in points.by_metric.iter_mut().zip(sizes) {
            bytes.reserve_exact(size + size / 32);
        }
        points
    }

    /// Bytes held per metric.
    pub fn sizes(&self) -> Vec<usize> {
        self.by_metric.iter().map(Vec::len).collect()
    }

    /// How many points.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes held (measurements).
    pub fn byte_len(&self) -> usize {
        self.by_metric.iter().map(Vec::len).sum()
    }

    /// The encoded points of one metric.
    pub(super) fn metric(&self, metric: usize) -> &[u8] {
        &self.by_metric[metric]
    }
}

impl From<&[Point]> for EncodedPoints {
    fn from(points: &[Point]) -> EncodedPoints {
        let mut encoded = EncodedPoints::new();
        for point in points {
            encoded.push(point.clone());
        }
        encoded
    }
}

impl PointSink for EncodedPoints {
    fn push(&mut self, point: Point) {
        let spec = point.spec();
        let body_len = value_len()
            + point
                .attributes
                .iter()
                .map(|(key, value)| field_len(attribute_len(key, value)))
                .sum::<usize>();
        let buf = &mut self.by_metric[point.metric as usize];
        prost::encoding::encode_varint(body_len as u64, buf);
        put_value(buf, spec, point.value);
        for (key, value) in &point.attributes {
            put_attribute(buf, key, value);
        }
        self.count += 1;
    }
}

/// The bodies in `bytes` (a run of one metric's encoded points), with the offset after each.
pub(super) fn bodies(bytes: &[u8]) -> impl Iterator<Item = (&[u8], usize)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let mut rest = bytes.get(at..).filter(|rest| !rest.is_empty())?;
        let before = rest.len();
        // Written by `push` above: a varint always precedes a body of that length.
        let len = prost::encoding::decode_varint(&mut rest).ok()? as usize;
        let start = at + (before - rest.len());
        let body = bytes.get(start..start + len)?;
        at = start + len;
        Some((body, at))
    })
}
