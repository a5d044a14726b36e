//! A telemetry collection's `shards` read with the pull reader (`scan/`) in place of serde's
//! derive (`scan_de.rs` asks for them by [`SHARDS`]), level-4 segments summed in place as they
//! are read (`segment_scan.rs`).
//!
//! Why by hand: shards are most of a level-3 body's keys, every one small, and serde's derive
//! spends several times the reader's own cost on each key and leaf (field matching, visitors,
//! `Option` wrappers). Read leniently, as `lenient.rs` reads leaves: a value of an unexpected
//! shape (a shard that is not an object, a count that is not a number) reads as absent and
//! costs only itself, never the response.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use smol_str::SmolStr;

use super::segment_scan::read_segments;
use super::{
    LocalShardTelemetry, OperationDurations, OptimizerStatus, OptimizerTelemetry,
    ReplicaSetTelemetry, UpdateQueueInfo, VecMap,
};
use crate::qdrant::scan::{Scan, ScanError};
use crate::qdrant::scan_de::{take_shards, SHARDS};

type Result<T> = std::result::Result<T, ScanError>;

/// A collection's `shards` (a list; anything else reads as absent).
pub fn read_shards(scan: &mut Scan) -> Result<Option<Vec<ReplicaSetTelemetry>>> {
    let mut shards = Vec::new();
    let listed = scan.array_or_skip(|scan| {
        let mut shard = ReplicaSetTelemetry::default();
        let described = scan.object_or_skip(|scan, key| {
            match &*key {
                "id" => shard.id = scan.number()?,
                "local" => shard.local = read_local(scan)?.map(Box::new),
                "replicate_states" => shard.replicate_states = read_map(scan, Scan::text)?,
                _ => scan.skip()?,
            }
            Ok(())
        })?;
        if described {
            shards.push(shard);
        }
        Ok(())
    })?;
    Ok(listed.then_some(shards))
}

/// A replica held by the node that answered (an object; anything else reads as absent).
fn read_local(scan: &mut Scan) -> Result<Option<LocalShardTelemetry>> {
    let mut local = LocalShardTelemetry::default();
    let described = scan.object_or_skip(|scan, key| {
        match &*key {
            "status" => local.status = scan.text()?,
            "total_optimized_points" => local.total_optimized_points = scan.number()?,
            "vectors_size_bytes" => local.vectors_size_bytes = scan.number()?,
            "payloads_size_bytes" => local.payloads_size_bytes = scan.number()?,
            "num_points" => local.num_points = scan.number()?,
            "num_vectors" => local.num_vectors = scan.number()?,
            "num_vectors_by_name" => local.num_vectors_by_name = read_map(scan, Scan::number)?,
            "segments" => local.segments = read_segments(scan)?.map(Box::new),
            "optimizations" => local.optimizations = read_optimizer(scan)?,
            "update_queue" => {
                let queue = read_pair(scan, ["length", "deferred_points"])?;
                local.update_queue = queue.map(|[length, deferred_points]| UpdateQueueInfo {
                    length,
                    deferred_points,
                });
            }
            _ => scan.skip()?,
        }
        Ok(())
    })?;
    Ok(described.then_some(local))
}

/// A shard's optimizer: its `status` (`"ok"`, anything else but `null` an error, as
/// [`OptimizerStatus`] reads it) and the durations of finished optimizations.
fn read_optimizer(scan: &mut Scan) -> Result<Option<OptimizerTelemetry>> {
    let mut optimizer = OptimizerTelemetry::default();
    let described = scan.object_or_skip(|scan, key| {
        match &*key {
            "status" if scan.peek()? == b'n' => scan.skip()?,
            "status" => {
                optimizer.status = Some(match scan.text()?.as_deref() {
                    Some("ok") => OptimizerStatus::Ok,
                    _ => OptimizerStatus::Error,
                });
            }
            "optimizations" => {
                let durations = read_pair(scan, ["count", "total_duration_micros"])?;
                optimizer.optimizations =
                    durations.map(|[count, total_duration_micros]| OperationDurations {
                        count,
                        total_duration_micros,
                    });
            }
            _ => scan.skip()?,
        }
        Ok(())
    })?;
    Ok(described.then_some(optimizer))
}

/// An object of names to leaves read by `leaf` (an object; anything else reads as absent), a
/// leaf `leaf` reads as absent left out.
fn read_map<'a, V>(
    scan: &mut Scan<'a>,
    leaf: impl Fn(&mut Scan<'a>) -> Result<Option<V>>,
) -> Result<Option<VecMap<SmolStr, V>>> {
    let mut pairs = Vec::new();
    let listed = scan.object_or_skip(|scan, name| {
        if let Some(value) = leaf(scan)? {
            pairs.push((SmolStr::new(name), value));
        }
        Ok(())
    })?;
    Ok(listed.then(|| pairs.into_iter().collect()))
}

/// An object's two numbers named `keys` (an object; anything else reads as absent).
fn read_pair(scan: &mut Scan, keys: [&str; 2]) -> Result<Option<[Option<f64>; 2]>> {
    let mut numbers = [None; 2];
    let described = scan.object_or_skip(|scan, key| {
        match keys.iter().position(|k| *k == key) {
            Some(i) => numbers[i] = scan.number()?,
            None => scan.skip()?,
        }
        Ok(())
    })?;
    Ok(described.then_some(numbers))
}

/// `shards` of a collection, read by [`read_shards`]: in place when the pull reader reads the
/// telemetry (`scan_de.rs`, as the client does), else (serde_json, a test's value) read as a
/// JSON value first and its text read again, so that one reader decides what every shard holds.
pub(super) fn fold_shards<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<Vec<ReplicaSetTelemetry>>, D::Error> {
    struct Fold;
    impl<'de> Visitor<'de> for Fold {
        type Value = Option<Vec<ReplicaSetTelemetry>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of shards")
        }
        fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
            Ok(take_shards())
        }
        fn visit_newtype_struct<D: Deserializer<'de>>(
            self,
            d: D,
        ) -> std::result::Result<Self::Value, D::Error> {
            let text = serde_json::Value::deserialize(d)?.to_string();
            read_shards(&mut Scan::new(&text)).map_err(de::Error::custom)
        }
    }
    deserializer.deserialize_newtype_struct(SHARDS, Fold)
}

#[cfg(test)]
mod tests {
    use super::super::Telemetry;
    use crate::qdrant::decode_telemetry;

    /// Shards of every odd shape a newer, older or broken Qdrant could send, between two
    /// collections of the usual shape. Before shards were read by hand, a count written as a
    /// word failed the whole response, every collection's numbers with it.
    const ODD: &str = r#"{"collections": {"collections": [
        {"id": "odd", "shards": [
            7,
            {"id": "1", "replicate_states": {"17": "Active", "18": 4, "19": null},
             "local": {"num_points": "12", "num_vectors": true, "status": 3,
                "num_vectors_by_name": {"": 5, "text": "many", "image": null},
                "optimizations": {"status": {"error": "disk full"}, "optimizations": []},
                "update_queue": "full", "segments": {"not": "a list"}}},
            {"id": 2, "local": null, "replicate_states": ["Active"]},
            {"local": {"optimizations": {"status": null}}, "later": {"deep": [1, {"x": 2}]}}
        ]},
        {"id": "no list", "shards": {"not": "a list"}},
        {"id": "usual", "shards": [{"id": 0, "local": {"num_points": 3, "status": "green",
            "optimizations": {"status": "ok", "optimizations": {"count": 2,
                "total_duration_micros": 90}}, "update_queue": {"length": 1}}}]}
    ]}}"#;

    #[test]
    fn odd_shards_cost_only_themselves_by_either_reader() {
        let scanned = decode_telemetry(format!(r#"{{"result": {ODD}}}"#).as_bytes())
            .expect("one odd collection does not fail the response");
        let odd = scanned.collection_list().next().expect("listed");
        let shards = odd.shards.as_deref().expect("a list");
        assert_eq!(shards.len(), 3, "a shard that is not an object is left out");

        let first = &shards[0];
        assert_eq!(first.id, Some(1.0), "a number written as a string is read");
        let states: Vec<_> = first.replicate_states.iter().flatten().collect();
        assert_eq!(format!("{states:?}"), r#"[("17", "Active"), ("18", "4")]"#);
        let local = first.local.as_deref().expect("an object");
        assert_eq!((local.num_points, local.num_vectors), (Some(12.0), None));
        assert_eq!(local.status.as_deref(), Some("3"));
        let by_name: Vec<_> = local.num_vectors_by_name.iter().flatten().collect();
        assert_eq!(format!("{by_name:?}"), r#"[("", 5.0)]"#);
        let optimizer = local.optimizations.as_ref().expect("an object");
        assert_eq!(optimizer.status, Some(super::OptimizerStatus::Error));
        assert!(optimizer.optimizations.is_none() && local.update_queue.is_none());
        assert!(local.segments.is_none());

        assert!(shards[1].local.is_none() && shards[1].replicate_states.is_none());
        let last = shards[2].local.as_deref().expect("an object");
        assert_eq!(last.optimizations.as_ref().map(|o| o.status), Some(None));

        let [_, no_list, usual] = scanned.collection_list().collect::<Vec<_>>()[..] else {
            panic!("three collections");
        };
        assert!(no_list.shards.is_none());
        let local = usual.local_shards().next().expect("a local shard");
        let optimizer = local.optimizations.as_ref().expect("an object");
        assert_eq!(optimizer.status, Some(super::OptimizerStatus::Ok));
        let finished = optimizer.optimizations.as_ref().expect("durations");
        assert_eq!(
            (finished.count, finished.total_duration_micros),
            (Some(2.0), Some(90.0))
        );
        assert_eq!(
            local.update_queue.as_ref().and_then(|q| q.length),
            Some(1.0)
        );

        let by_serde: Telemetry = serde_json::from_str(ODD).expect("parses");
        assert_eq!(
            format!("{by_serde:?}"),
            format!("{scanned:?}"),
            "one reader decides"
        );
    }
}
