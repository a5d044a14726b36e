//! A level-4 telemetry's segments read with the pull reader (`scan/`) and summed as they are
//! read into a shard's [`ShardSegments`] (`shard_scan.rs` reads a shard's `segments` with it).
//!
//! Why not serde: segments are nearly all of a level-4 body (~13 of 15 MB at 1,000 varied
//! collections), and serde_json spends on each value it skips about what it spends on one it
//! reads (docs/performance.md). Read leniently, as the serde models are: a value of an
//! unexpected shape costs that value (read as absent), never the response.

use std::borrow::Cow;

use smol_str::SmolStr;

use super::{CollectionDetail, ShardSegments, VecMap};
use crate::qdrant::scan::{Scan, ScanError};

type Result<T> = std::result::Result<T, ScanError>;

/// A shard's `segments` (a list; anything else reads as absent), summed.
pub fn read_segments(scan: &mut Scan) -> Result<Option<ShardSegments>> {
    let mut summary = ShardSegments::default();
    let listed = scan.array_or_skip(|scan| {
        let segment = |scan: &mut Scan, key: Cow<str>| match &*key {
            "info" => {
                summary.saw_segments |= read_info(scan, &mut summary.detail)?;
                Ok(())
            }
            "config" => read_config(scan, &mut summary.detail),
            "vector_index_searches" => read_searches(scan, &mut summary.detail),
            _ => scan.skip(),
        };
        scan.object_or_skip(segment).map(drop)
    })?;
    Ok(listed.then_some(summary))
}

/// A segment's `info`: its type, deferred points, payload indexes and vector counts. True when
/// it was an object (a segment described).
fn read_info(scan: &mut Scan, detail: &mut CollectionDetail) -> Result<bool> {
    let mut kind = None;
    let described = scan.object_or_skip(|scan, key| {
        match &*key {
            "segment_type" => kind = scan.text()?,
            "num_deferred_points" => {
                if let Some(n) = scan.number()? {
                    *detail.deferred_points.get_or_insert(0.0) += n;
                }
            }
            "index_schema" => {
                scan.object_or_skip(|scan, field| read_payload_index(scan, &field, detail))?;
            }
            "payload_storage_io_backend" => {
                count(&mut detail.io_backends, "payload", scan.text()?);
            }
            "vector_data" => {
                scan.object_or_skip(|scan, vector| read_vector_data(scan, &vector, detail))?;
            }
            _ => scan.skip()?,
        }
        Ok(())
    })?;
    if described {
        let kind = kind.unwrap_or_else(|| SmolStr::new_static("unknown"));
        *detail.segments.entry_or_default(kind) += 1.0;
    }
    Ok(described)
}

/// One payload index of `index_schema`: points covered by (field, type), and its placement.
fn read_payload_index(scan: &mut Scan, field: &str, detail: &mut CollectionDetail) -> Result<()> {
    let (mut data_type, mut points, mut memory) = (None, None, None);
    scan.object_or_skip(|scan, key| {
        match &*key {
            "data_type" => data_type = scan.text()?,
            "points" => points = scan.number()?,
            "params" => memory = read_memory(scan)?,
            _ => scan.skip()?,
        }
        Ok(())
    })?;
    if let Some(points) = points {
        let key = (SmolStr::new(field), data_type.unwrap_or_default());
        *detail.payload_index_points.entry_or_default(key) += points;
    }
    count(&mut detail.placements, "payload_index", memory);
    Ok(())
}

/// One vector's counts in `info.vector_data`, and its storage's I/O backend (1.19+).
fn read_vector_data(scan: &mut Scan, vector: &str, detail: &mut CollectionDetail) -> Result<()> {
    let (mut backend, mut indexed, mut deleted) = (None, None, None);
    scan.object_or_skip(|scan, key| {
        match &*key {
            "io_backend" => backend = scan.text()?,
            "num_indexed_vectors" => indexed = scan.number()?,
            "num_deleted_vectors" => deleted = scan.number()?,
            _ => scan.skip()?,
        }
        Ok(())
    })?;
    count(&mut detail.io_backends, "vector_storage", backend);
    if let Some(n) = indexed {
        *detail.indexed_vectors.entry_or_default_by(vector) += n;
    }
    if let Some(n) = deleted {
        *detail.deleted_vectors.entry_or_default_by(vector) += n;
    }
    Ok(())
}

/// A segment's `config`: the memory placements (1.19+) of HNSW graphs, quantized vectors and
/// sparse indexes. A config without a `"memory"` key anywhere has none to count: it is passed
/// over by counting brackets and searched for the key, several times cheaper than reading it
/// key by key (and it is most configs: every one before 1.19). Qdrant writes keys unescaped.
fn read_config(scan: &mut Scan, detail: &mut CollectionDetail) -> Result<()> {
    scan.peek()?;
    let start = scan.clone();
    scan.skip()?;
    if !scan.since(&start).contains("\"memory\"") {
        return Ok(());
    }
    let mut again = start;
    read_placements(&mut again, detail)
}

fn read_placements(scan: &mut Scan, detail: &mut CollectionDetail) -> Result<()> {
    scan.object_or_skip(|scan, key| match &*key {
        "vector_data" => scan
            .object_or_skip(|scan, _| read_vector_config(scan, detail))
            .map(drop),
        "sparse_vector_data" => scan
            .object_or_skip(|scan, _| {
                let mut index = None;
                scan.object_or_skip(|scan, key| match &*key {
                    "index" => read_memory(scan).map(|memory| index = memory),
                    _ => scan.skip(),
                })?;
                count(&mut detail.placements, "sparse_vector_index", index);
                Ok(())
            })
            .map(drop),
        _ => scan.skip(),
    })
    .map(drop)
}

/// A dense vector's config: a plain index has no graph to place; only HNSW options carry a
/// placement. Of quantization variants, the first with a placement counts.
fn read_vector_config(scan: &mut Scan, detail: &mut CollectionDetail) -> Result<()> {
    let (mut kind, mut graph, mut quantized) = (None, None, None);
    scan.object_or_skip(|scan, key| match &*key {
        "index" => scan
            .object_or_skip(|scan, key| {
                match &*key {
                    "type" => kind = scan.text()?,
                    "options" => graph = read_memory(scan)?,
                    _ => scan.skip()?,
                }
                Ok(())
            })
            .map(drop),
        "quantization_config" => scan
            .object_or_skip(|scan, _| {
                let memory = read_memory(scan)?;
                quantized = quantized.take().or(memory);
                Ok(())
            })
            .map(drop),
        _ => scan.skip(),
    })?;
    if kind.as_deref() == Some("hnsw") {
        count(&mut detail.placements, "vector_index", graph);
    }
    count(&mut detail.placements, "vector_quantized", quantized);
    Ok(())
}

/// An object's `memory` placement, if it is an object and has one.
fn read_memory(scan: &mut Scan) -> Result<Option<SmolStr>> {
    let mut memory = None;
    scan.object_or_skip(|scan, key| match &*key {
        "memory" => scan.text().map(|text| memory = text),
        _ => scan.skip(),
    })?;
    Ok(memory)
}

/// `vector_index_searches`: per vector index, its `index_name` and, per search path, the count
/// and total duration of searches. A path without a count is skipped; an index without a name
/// is the unnamed vector.
fn read_searches(scan: &mut Scan, detail: &mut CollectionDetail) -> Result<()> {
    scan.array_or_skip(|scan| {
        let mut name = SmolStr::default();
        let mut paths: Vec<(SmolStr, f64, f64)> = Vec::new();
        scan.object_or_skip(|scan, key| {
            let is_name = key == "index_name";
            if is_name {
                name = SmolStr::default();
            }
            match scan.peek()? {
                b'"' if is_name => name = SmolStr::new(scan.string()?),
                b'{' => {
                    let (mut count, mut micros) = (None, None);
                    scan.object(|scan, key| match &*key {
                        "count" => scan.number().map(|n| count = n),
                        "total_duration_micros" => scan.number().map(|n| micros = n),
                        _ => scan.skip(),
                    })?;
                    if let Some(count) = count {
                        paths.push((SmolStr::new(key), count, micros.unwrap_or(0.0)));
                    }
                }
                _ => scan.skip()?,
            }
            Ok(())
        })?;
        for (path, count, micros) in paths {
            let entry = detail.searches.entry_or_default((name.clone(), path));
            entry.0 += count;
            entry.1 += micros;
        }
        Ok(())
    })
    .map(drop)
}

/// One more `component` under `label`, when there is a label (a component that reports no
/// backend or placement is not counted: older versions, or storages without a choice).
fn count(
    map: &mut VecMap<(SmolStr, SmolStr), f64>,
    component: &'static str,
    label: Option<SmolStr>,
) {
    if let Some(label) = label {
        *map.entry_or_default((SmolStr::new_static(component), label)) += 1.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qdrant::models::Stat;

    fn summary(segments: &str) -> ShardSegments {
        read_segments(&mut Scan::new(segments))
            .unwrap()
            .expect("a list")
    }

    fn stats(detail: &CollectionDetail, stat: Stat) -> Vec<(String, String, f64)> {
        let mut rows = Vec::new();
        detail.for_each(|kind, first, second, value, _| {
            if kind == stat {
                rows.push((first.to_string(), second.to_string(), value));
            }
        });
        rows
    }

    #[test]
    fn placements_are_read_where_the_spec_puts_them_and_odd_shapes_cost_only_themselves() {
        let read = summary(
            r#"[{"config": {
                "vector_data": {
                    "": {"index": {"type": "hnsw", "options": {"m": 16, "memory": "cold"}},
                         "quantization_config": {"scalar": {"type": "int8", "memory": "pinned"},
                                                 "binary": {"memory": "cached"}}},
                    "odd": {"index": {"type": "hnsw", "options": "cold"},
                            "quantization_config": ["scalar"]},
                    "num": {"index": {"options": {"memory": 3}, "type": "hnsw"}},
                    "plain": {"index": {"type": "plain", "options": {"memory": "cold"}}},
                    "bad": 7
                },
                "sparse_vector_data": {"kw": {"index": {"index_type": "Mmap", "memory": "cached"}},
                                       "none": {"index": null}},
                "payload_storage_type": {"type": "mmap"}
            }}, {"config": {"vector_data": [1, 2]}}, {"config": "x"}]"#,
        );
        let row = |a: &str, b: &str, n: f64| (a.to_string(), b.to_string(), n);
        assert_eq!(
            stats(&read.detail, Stat::MemoryPlacements),
            [
                row("sparse_vector_index", "cached", 1.0),
                row("vector_index", "3", 1.0),
                row("vector_index", "cold", 1.0),
                row("vector_quantized", "pinned", 1.0),
            ],
            "a plain index has no graph to place; the first quantization with a placement counts"
        );
        assert!(!read.saw_segments, "no segment carried its info");
    }
}
