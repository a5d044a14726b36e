//! Points kept as OTLP protobuf from the moment they are recorded: [`EncodedPoints`] is the
//! [`PointSink`] the agent records into. Each point becomes the bytes of its
//! `NumberDataPoint` except the two timestamps (known only at export), grouped by metric, so
//! an export only frames and copies them (`encode.rs`).
//!
//! Per metric, the points are one byte buffer: each point is its stored length as a varint,
//! its value field (always 9 bytes), a reference to its collection attribute (a varint: 0 for
//! none, else 1 + its index in the collection table), then its other attributes. The
//! collection attribute — most points' first and largest, ~32 bytes — is encoded once per
//! collection in the table instead of once per point, which halves a poll's points in memory
//! (docs/performance.md). Expanded, a point is exactly the bytes prost writes after the
//! timestamps: value, then the attributes in order.

use std::collections::HashMap;
use std::ops::Range;

use smol_str::SmolStr;

use super::encode::{attribute_len, field_len, put_attribute, put_value, put_varint, value_len};
use crate::metrics::registry::{attr, REGISTRY};
use crate::metrics::{Point, PointSink};

/// One resource's recorded points, encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedPoints {
    /// Indexed by [`MetricId`]: the metric's points, in the stored form above.
    by_metric: Vec<Vec<u8>>,
    count: usize,
    collections: CollectionTable,
}

/// Each collection's attribute, encoded once.
#[derive(Debug, Clone, PartialEq, Default)]
struct CollectionTable {
    /// The encoded attribute fields, one after the other.
    bytes: Vec<u8>,
    /// Where each collection's attribute lies in `bytes`.
    spans: Vec<Range<u32>>,
    /// A collection's reference (1 + its index) by name.
    index: HashMap<SmolStr, u32>,
    /// The last name looked up and its reference: a collection's points come together.
    last: Option<(SmolStr, u32)>,
}

impl CollectionTable {
    /// The reference of `name`'s attribute, encoding it the first time.
    fn reference(&mut self, name: &SmolStr) -> u32 {
        if let Some((last, reference)) = &self.last {
            if last == name {
                return *reference;
            }
        }
        let reference = match self.index.get(name) {
            Some(&reference) => reference,
            None => {
                let start = self.bytes.len() as u32;
                put_attribute(&mut self.bytes, attr::COLLECTION, name);
                self.spans.push(start..self.bytes.len() as u32);
                let reference = self.spans.len() as u32;
                self.index.insert(name.clone(), reference);
                reference
            }
        };
        self.last = Some((name.clone(), reference));
        reference
    }

    /// The encoded attribute a reference stands for (empty for 0).
    fn attribute(&self, reference: u64) -> &[u8] {
        let span = (reference as usize)
            .checked_sub(1)
            .and_then(|index| self.spans.get(index));
        span.and_then(|span| self.bytes.get(span.start as usize..span.end as usize))
            .unwrap_or_default()
    }
}

/// One stored point, in the three pieces its `NumberDataPoint` body is written from.
pub(super) struct StoredPoint<'a> {
    pub value: &'a [u8],
    pub collection: &'a [u8],
    pub rest: &'a [u8],
}

impl StoredPoint<'_> {
    /// The length of the body it expands to.
    pub fn body_len(&self) -> usize {
        self.value.len() + self.collection.len() + self.rest.len()
    }
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
            collections: CollectionTable::default(),
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
        self.by_metric.iter().map(Vec::len).sum::<usize>() + self.collections.bytes.len()
    }

    /// The stored points of one metric.
    pub(super) fn metric(&self, metric: usize) -> &[u8] {
        &self.by_metric[metric]
    }

    /// The points stored in `bytes` (a run of one metric's points from [`Self::metric`]), with
    /// the offset in `bytes` after each.
    pub(super) fn points<'a>(
        &'a self,
        bytes: &'a [u8],
    ) -> impl Iterator<Item = (StoredPoint<'a>, usize)> + 'a {
        let mut at = 0;
        std::iter::from_fn(move || {
            let mut rest = bytes.get(at..).filter(|rest| !rest.is_empty())?;
            let before = rest.len();
            // Written by `push` below: a varint always precedes a point of that length, which
            // starts with its value and its collection's reference.
            let len = prost::encoding::decode_varint(&mut rest).ok()? as usize;
            let start = at + (before - rest.len());
            let stored = bytes.get(start..start + len)?;
            at = start + len;
            let (value, mut attributes) = stored.split_at_checked(value_len())?;
            let reference = prost::encoding::decode_varint(&mut attributes).ok()?;
            let point = StoredPoint {
                value,
                collection: self.collections.attribute(reference),
                rest: attributes,
            };
            Some((point, at))
        })
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
        let mut attributes = &point.attributes[..];
        // Only a first attribute can be taken out of line: the order is the body's.
        let reference = match attributes.split_first() {
            Some(((key, name), others)) if *key == attr::COLLECTION => {
                attributes = others;
                self.collections.reference(name)
            }
            _ => 0,
        };
        let stored_len = value_len()
            + prost::encoding::encoded_len_varint(u64::from(reference))
            + attributes
                .iter()
                .map(|(key, value)| field_len(attribute_len(key, value)))
                .sum::<usize>();
        let buf = &mut self.by_metric[point.metric as usize];
        put_varint(buf, stored_len as u64);
        put_value(buf, spec, point.value);
        put_varint(buf, u64::from(reference));
        for (key, value) in attributes {
            put_attribute(buf, key, value);
        }
        self.count += 1;
    }
}
