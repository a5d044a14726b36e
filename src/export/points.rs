//! Points kept as OTLP protobuf from the moment they are recorded: [`EncodedPoints`] is the
//! [`PointSink`] the agent records into. Each point becomes the bytes of its
//! `NumberDataPoint` except the two timestamps (known only at export), grouped by metric, so
//! an export only frames and copies them (`encode.rs`).
//!
//! Per metric, the points are one byte buffer: each point is its stored length and the length
//! of the body it expands to (varints, so that an export lays requests out without expanding
//! anything), its value field (always 9 bytes), then one varint per attribute: the index of
//! that attribute (key and value), encoded once, in the attribute table. A poll's points repeat
//! few distinct attributes — each collection's name, a handful of states, vector names — so an
//! attribute takes a byte or two per point instead of its ~20–40 encoded bytes
//! (docs/performance.md).
//! Expanded, a point is exactly the bytes prost writes after the timestamps: value, then the
//! attributes in order.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;
use smallvec::SmallVec;
use smol_str::SmolStr;

use super::encode::{put_attribute, put_value, put_varint, value_len};
use crate::metrics::registry::{MetricSpec, REGISTRY};
use crate::metrics::{Attributes, MetricId, Point, PointSink};

/// One resource's recorded points, encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedPoints {
    /// Indexed by [`MetricId`]: the metric's points, in the stored form above.
    by_metric: Vec<Vec<u8>>,
    count: usize,
    attributes: AttributeTable,
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Each distinct attribute of the points, encoded once.
#[derive(Debug, Clone, PartialEq, Default)]
struct AttributeTable {
    /// The encoded `KeyValue` fields, one after the other.
    bytes: Vec<u8>,
    /// Where each attribute lies in `bytes`, by index.
    spans: Vec<(u32, u32)>,
    /// Per key (a few dozen at most), its values' indexes.
    by_key: Vec<KeyValues>,
    /// Each key's position in `by_key`, by the address and length of its text.
    by_address: FxHashMap<(usize, usize), usize>,
    /// The key last seen at each place of a point's attributes (its address and length) and
    /// its position in `by_key`: a metric's points have the same keys in the same order, and
    /// most points have the collection first, so most keys are found here without hashing.
    by_place: [(usize, usize, usize); PLACES],
}

/// Places of a point's attributes with a remembered key (points have one to four).
const PLACES: usize = 4;

/// One attribute key's values and their indexes.
#[derive(Debug, Clone, PartialEq)]
struct KeyValues {
    key: &'static str,
    values: FxHashMap<SmolStr, Indexed>,
    /// The value last looked up and its index: a collection's points come together, and so
    /// do a state set's or a vector's, so most lookups end here without hashing.
    last: Option<(SmolStr, Indexed)>,
}

/// An attribute's index in the table and its encoded length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Indexed {
    index: u32,
    len: u32,
}

impl AttributeTable {
    /// The index of the attribute `key` = `value`, the `place`-th of its point, encoding it
    /// the first time, and its encoded length.
    fn index(&mut self, place: usize, key: &'static str, value: &SmolStr) -> Indexed {
        let position = self.key_position(place, key);
        let keyed = &mut self.by_key[position];
        if let Some((last, indexed)) = &keyed.last {
            if last == value {
                return *indexed;
            }
        }
        let indexed = match keyed.values.get(value.as_str()) {
            Some(&indexed) => indexed,
            None => {
                let start = self.bytes.len();
                put_attribute(&mut self.bytes, key, value);
                self.spans.push((start as u32, self.bytes.len() as u32));
                let indexed = Indexed {
                    index: self.spans.len() as u32 - 1,
                    len: (self.bytes.len() - start) as u32,
                };
                keyed.values.insert(value.clone(), indexed);
                indexed
            }
        };
        keyed.last = Some((value.clone(), indexed));
        indexed
    }

    /// Where `key`, the `place`-th attribute of its point, is in `by_key`, added if it is new.
    /// Looked up by the key's address (keys are the registry's `attr` constants, and several
    /// are the same length, so comparing their text costs a `memcmp` a point); an address not
    /// seen before is matched by text once (a constant may have a copy per codegen unit).
    #[inline]
    fn key_position(&mut self, place: usize, key: &'static str) -> usize {
        let address = (key.as_ptr() as usize, key.len());
        let remembered = self.by_place.get_mut(place);
        if let Some((at, len, position)) = remembered {
            if (*at, *len) == address {
                return *position;
            }
        }
        let position = self.key_position_by_address(address, key);
        if let Some(remembered) = self.by_place.get_mut(place) {
            *remembered = (address.0, address.1, position);
        }
        position
    }

    fn key_position_by_address(&mut self, address: (usize, usize), key: &'static str) -> usize {
        if let Some(&position) = self.by_address.get(&address) {
            return position;
        }
        let position = match self.by_key.iter().position(|k| k.key == key) {
            Some(position) => position,
            None => {
                self.by_key.push(KeyValues {
                    key,
                    values: FxHashMap::default(),
                    last: None,
                });
                self.by_key.len() - 1
            }
        };
        self.by_address.insert(address, position);
        position
    }

    /// The encoded attribute at `index` (empty if there is none: never, for what `push` wrote).
    fn attribute(&self, index: u64) -> &[u8] {
        let span = self.spans.get(index as usize);
        span.and_then(|&(start, end)| self.bytes.get(start as usize..end as usize))
            .unwrap_or_default()
    }
}

/// One stored point: its value field and its attributes' indexes.
pub(super) struct StoredPoint<'a> {
    /// The length of the body it expands to.
    pub body_len: usize,
    value: &'a [u8],
    indexes: &'a [u8],
    table: &'a AttributeTable,
}

impl<'a> StoredPoint<'a> {
    fn attributes(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (mut indexes, table) = (self.indexes, self.table);
        std::iter::from_fn(move || {
            let index = take_varint(&mut indexes)?;
            Some(table.attribute(index))
        })
    }

    /// Append the body: the value field, then the attributes.
    pub fn write_body(&self, buf: &mut Vec<u8>) {
        buf.extend_from_slice(self.value);
        self.write_attributes(buf);
    }

    /// Append the encoded attributes: after the value field, or as the series' identity.
    pub fn write_attributes(&self, buf: &mut Vec<u8>) {
        for attribute in self.attributes() {
            buf.extend_from_slice(attribute);
        }
    }

    /// The value field as recorded (9 bytes: as_double or as_int, and the number).
    pub fn value(&self) -> &'a [u8] {
        self.value
    }
}

/// Read a varint written by `put_varint`; `None` at the end (or on a truncated one).
fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let (&first, rest) = bytes.split_first()?;
    if first < 0x80 {
        *bytes = rest;
        return Some(u64::from(first));
    }
    prost::encoding::decode_varint(bytes).ok()
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
            attributes: AttributeTable::default(),
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
        self.by_metric.iter().map(Vec::len).sum::<usize>() + self.attributes.bytes.len()
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
            let mut rest = bytes.get(at..)?;
            let before = rest.len();
            // Written by `push` below: a varint always precedes a point of that length, which
            // starts with its body's length and its value.
            let len = take_varint(&mut rest)? as usize;
            let start = at + (before - rest.len());
            let mut stored = bytes.get(start..start + len)?;
            at = start + len;
            let body_len = take_varint(&mut stored)? as usize;
            let (value, indexes) = stored.split_at_checked(value_len())?;
            let point = StoredPoint {
                body_len,
                value,
                indexes,
                table: &self.attributes,
            };
            Some((point, at))
        })
    }
}

impl From<&[Point]> for EncodedPoints {
    fn from(points: &[Point]) -> EncodedPoints {
        let mut encoded = EncodedPoints::new();
        for point in points {
            encoded.push(point.metric, point.value, &point.attributes);
        }
        encoded
    }
}

impl PointSink for EncodedPoints {
    fn push(&mut self, metric: MetricId, value: f64, attributes: &Attributes) {
        // Each index a varint: a few bytes in all, kept inline.
        let mut indexes: SmallVec<[u8; 16]> = SmallVec::new();
        let mut body_len = value_len();
        for (place, (key, value)) in attributes.iter().enumerate() {
            let Indexed { mut index, len } = self.attributes.index(place, key, value);
            body_len += len as usize;
            // `put_varint`'s loop, written again: this is the hottest loop of recording, and a
            // writer generic over `Extend` measured slower here (docs/performance.md).
            while index >= 0x80 {
                indexes.push(index as u8 | 0x80);
                index >>= 7;
            }
            indexes.push(index as u8);
        }
        let buf = &mut self.by_metric[metric as usize];
        let stored_len =
            prost::encoding::encoded_len_varint(body_len as u64) + value_len() + indexes.len();
        put_varint(buf, stored_len as u64);
        put_varint(buf, body_len as u64);
        put_value(buf, MetricSpec::get(metric), value);
        buf.extend_from_slice(&indexes);
        self.count += 1;
    }
}
