//! Serde models of `GET /telemetry?details_level=3|4`: the node's process, collections (with
//! their local shards and, at level 4, segments), cluster status, requests and memory.

use std::collections::BTreeMap;

use serde::Deserialize;
use smol_str::SmolStr;

use super::{peer_id, HardwareTelemetry, QuotaTelemetry, SnapshotTelemetry, VecMap};
/// `GET /telemetry?details_level=N` (N = 3 or 4).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Telemetry {
    pub app: Option<AppTelemetry>,
    pub collections: Option<CollectionsTelemetry>,
    pub cluster: Option<ClusterTelemetry>,
    pub requests: Option<RequestsTelemetry>,
    pub memory: Option<MemoryTelemetry>,
    pub hardware: Option<HardwareTelemetry>,
    /// 1.19+.
    pub quota: Option<QuotaTelemetry>,
    /// 1.18+: the adaptive search routing.
    pub search_pool: Option<SearchPoolTelemetry>,
}

/// `SearchThreadPoolTelemetry` (1.18+): the runtime searches are routed to now (`high_cpu` or
/// `high_io`) and the blocking-thread budget of each.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SearchPoolTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub mode: Option<SmolStr>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub high_cpu_threads: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub high_io_threads: Option<f64>,
}

impl Telemetry {
    /// The collections listed in full (details level ≥ 2); none when the list is absent.
    pub fn collection_list(&self) -> impl Iterator<Item = &CollectionTelemetry> {
        self.collections
            .as_ref()
            .and_then(|c| c.collections.as_deref())
            .into_iter()
            .flatten()
    }

    /// The collections listed in full, to take parts out of.
    pub fn collection_list_mut(&mut self) -> impl Iterator<Item = &mut CollectionTelemetry> {
        self.collections
            .as_mut()
            .and_then(|c| c.collections.as_deref_mut())
            .into_iter()
            .flatten()
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AppTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub version: Option<String>,
    /// RFC 3339 start time of the process.
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub startup: Option<String>,
    pub system: Option<SystemTelemetry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct SystemTelemetry {
    /// Since 1.19 said to honour cgroup CPU limits (the spec does not describe it).
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub cores: Option<f64>,
    /// 1.18+: cores the process used over about the last two seconds.
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub cpu_cores_used: Option<f64>,
    /// KiB (Qdrant's own unit for this field). Since 1.19 the cgroup limit when one applies,
    /// else host RAM; before, the host's RAM.
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub ram_size: Option<f64>,
    /// KiB. Since 1.19 the filesystem holding the storage path; before, the host's disk.
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub disk_size: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionsTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub number_of_collections: Option<f64>,
    pub collections: Option<Vec<CollectionTelemetry>>,
    pub snapshots: Option<Vec<SnapshotTelemetry>>,
}

/// One collection at details level ≥ 2. Lower levels yield an "aggregated" shape without `id`,
/// which parses here with `id: None` and is skipped.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionTelemetry {
    /// Held inline (names up to 23 bytes, most): one allocation fewer per collection.
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub id: Option<SmolStr>,
    pub config: Option<CollectionConfig>,
    #[serde(deserialize_with = "super::shard_scan::fold_shards")]
    pub shards: Option<Vec<ReplicaSetTelemetry>>,
    pub transfers: Option<Vec<ShardTransferInfo>>,
}

impl CollectionTelemetry {
    /// The replicas of this collection held by the node that answered.
    pub fn local_shards(&self) -> impl Iterator<Item = &LocalShardTelemetry> {
        self.shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_deref())
    }

    pub(super) fn local_shards_mut(&mut self) -> impl Iterator<Item = &mut LocalShardTelemetry> {
        self.shards
            .iter_mut()
            .flatten()
            .filter_map(|shard| shard.local.as_deref_mut())
    }
}

/// A shard transfer in progress.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ShardTransferInfo {
    #[serde(deserialize_with = "peer_id")]
    pub from: Option<u64>,
    #[serde(deserialize_with = "peer_id")]
    pub to: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionConfig {
    pub params: Option<CollectionParams>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CollectionParams {
    pub vectors: Option<VectorsConfig>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub shard_number: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub replication_factor: Option<f64>,
}

/// Qdrant's `VectorsConfig`: one unnamed vector, or a map of named ones.
#[derive(Debug, Clone)]
pub enum VectorsConfig {
    Single(VectorParams),
    Named(VecMap<SmolStr, VectorParams>),
}

impl VectorsConfig {
    /// `(name, params)` pairs; the unnamed vector is named `""` as Qdrant does.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &VectorParams)> {
        let (single, named) = match self {
            VectorsConfig::Single(params) => (Some(("", params)), None),
            VectorsConfig::Named(map) => (None, Some(map.iter())),
        };
        let named = named.into_iter().flatten();
        single
            .into_iter()
            .chain(named.map(|(k, v)| (k.as_str(), v)))
    }
}

impl<'de> Deserialize<'de> for VectorsConfig {
    /// Read in one pass, as a map of entries: a number at `size` makes it the unnamed vector's
    /// params (a vector named `size` has an object there); otherwise each entry that is an
    /// object with a size is a named vector, and others are left out. serde's `untagged`
    /// would buffer the whole value to try each shape in turn.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = VecMap::<SmolStr, VectorEntry>::deserialize(deserializer)?;
        if let Some(VectorEntry::Number(size)) = entries.get("size") {
            let distance = match entries.get("distance") {
                Some(VectorEntry::Text(distance)) => Some(distance.clone()),
                _ => None,
            };
            let size = *size;
            return Ok(VectorsConfig::Single(VectorParams { size, distance }));
        }
        let named = entries.into_iter().filter_map(|(name, entry)| match entry {
            VectorEntry::Params(params) => Some((name, params)),
            _ => None,
        });
        Ok(VectorsConfig::Named(named.collect()))
    }
}

#[derive(Debug, Clone)]
pub struct VectorParams {
    pub size: f64,
    pub distance: Option<SmolStr>,
}

/// One entry of a `VectorsConfig` object, before its shape is known.
enum VectorEntry {
    Number(f64),
    Text(SmolStr),
    /// An object with a size: a named vector's params.
    Params(VectorParams),
    Other,
}

impl<'de> Deserialize<'de> for VectorEntry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{value::MapAccessDeserializer, IgnoredAny, MapAccess, SeqAccess};
        #[derive(Deserialize)]
        struct Fields {
            #[serde(default, deserialize_with = "crate::qdrant::lenient::number")]
            size: Option<f64>,
            #[serde(default, deserialize_with = "crate::qdrant::lenient::text")]
            distance: Option<SmolStr>,
        }
        struct Entry;
        impl<'de> serde::de::Visitor<'de> for Entry {
            type Value = VectorEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a vector's params or one of their values")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VectorEntry, A::Error> {
                let fields = Fields::deserialize(MapAccessDeserializer::new(map))?;
                Ok(fields.size.map_or(VectorEntry::Other, |size| {
                    VectorEntry::Params(VectorParams {
                        size,
                        distance: fields.distance,
                    })
                }))
            }
            fn visit_f64<E>(self, n: f64) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Number(n))
            }
            fn visit_u64<E>(self, n: u64) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Number(n as f64))
            }
            fn visit_i64<E>(self, n: i64) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Number(n as f64))
            }
            fn visit_str<E>(self, text: &str) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Text(SmolStr::new(text)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Other)
            }
            fn visit_unit<E>(self) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Other)
            }
            fn visit_none<E>(self) -> Result<VectorEntry, E> {
                Ok(VectorEntry::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VectorEntry, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(VectorEntry::Other)
            }
        }
        deserializer.deserialize_any(Entry)
    }
}

/// Read by `shard_scan.rs`.
#[derive(Debug, Clone, Default)]
pub struct ReplicaSetTelemetry {
    pub id: Option<f64>,
    /// Boxed: most shards of a large node are remote or absent, and a shard list is sized for
    /// a few entries.
    pub local: Option<Box<LocalShardTelemetry>>,
    /// peer id (as a decimal string key) → replica state (`Active`, `Dead`, …).
    pub replicate_states: Option<VecMap<SmolStr, SmolStr>>,
}

/// Read by `shard_scan.rs`.
#[derive(Debug, Clone, Default)]
pub struct LocalShardTelemetry {
    /// `green`, `yellow`, …: held inline, as every shard of every collection has one.
    pub status: Option<SmolStr>,
    pub total_optimized_points: Option<f64>,
    pub vectors_size_bytes: Option<f64>,
    pub payloads_size_bytes: Option<f64>,
    pub num_points: Option<f64>,
    pub num_vectors: Option<f64>,
    pub num_vectors_by_name: Option<VecMap<SmolStr, f64>>,
    /// Level 4: the shard's segments, summed as they are read (`qdrant::models::segments`).
    /// Boxed: absent at level 3 (fast polls), and the largest part of a shard when present.
    pub segments: Option<Box<super::ShardSegments>>,
    pub optimizations: Option<OptimizerTelemetry>,
    pub update_queue: Option<UpdateQueueInfo>,
}

/// Read by `shard_scan.rs`.
#[derive(Debug, Clone, Default)]
pub struct OptimizerTelemetry {
    /// `"ok"` or `{"error": "..."}`.
    pub status: Option<OptimizerStatus>,
    pub optimizations: Option<OperationDurations>,
}

/// A shard optimizer's `status`: `"ok"`, or anything else (`{"error": "..."}`) an error. Read
/// without keeping the value: every shard of every collection has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerStatus {
    Ok,
    Error,
}

impl<'de> Deserialize<'de> for OptimizerStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: Option<SmolStr> = crate::qdrant::lenient::text(deserializer)?;
        Ok(match text.as_deref() {
            Some("ok") => OptimizerStatus::Ok,
            _ => OptimizerStatus::Error,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OperationDurations {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub count: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub total_duration_micros: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct UpdateQueueInfo {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub length: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub deferred_points: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PayloadIndexInfo {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub data_type: Option<SmolStr>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub points: Option<f64>,
    /// The index's params (`PayloadSchemaParams`): read for their `memory` placement (1.19+).
    pub params: Option<Placed>,
}

/// A payload index's `params` (`PayloadSchemaParams`), read for their memory placement
/// (`memory`: `cold`, `cached`, `pinned`; 1.19+). A value that is not an object, or a `memory`
/// of another type, reads as no placement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Placed {
    pub memory: Option<SmolStr>,
}

impl<'de> Deserialize<'de> for Placed {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Params {
            #[serde(default, deserialize_with = "crate::qdrant::lenient::text")]
            memory: Option<SmolStr>,
        }
        // A few small objects per collection (`GET /collections/{name}`), so held as a value
        // to be read leniently.
        let value = serde_json::Value::deserialize(deserializer)?;
        let memory = Params::deserialize(value).ok().and_then(|p| p.memory);
        Ok(Placed { memory })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::flag")]
    pub enabled: Option<bool>,
    pub status: Option<ClusterStatusTelemetry>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ClusterStatusTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::text")]
    pub role: Option<String>,
    #[serde(deserialize_with = "peer_id")]
    pub peer_id: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RequestsTelemetry {
    pub rest: Option<ResponsesTelemetry>,
    pub grpc: Option<ResponsesTelemetry>,
}

/// `"GET /collections"` (REST) or `"/qdrant.Points/Search"` (gRPC) → status code → statistics.
pub type Responses = BTreeMap<String, BTreeMap<String, OperationDurations>>;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ResponsesTelemetry {
    pub responses: Responses,
    /// With `per_collection=true` (1.17.1+): collection → responses.
    pub per_collection_responses: Option<BTreeMap<String, Responses>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct MemoryTelemetry {
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub active_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub allocated_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub metadata_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub resident_bytes: Option<f64>,
    #[serde(deserialize_with = "crate::qdrant::lenient::number")]
    pub retained_bytes: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each shape of `vectors`, read by the pull reader (as the client reads telemetry) and by
    /// serde_json alike.
    #[test]
    fn vectors_config_shapes() {
        type Vector<'a> = (&'a str, f64, Option<&'a str>);
        let shapes: [(&str, &[Vector], bool); 5] = [
            (
                r#"{"size": 4, "distance": "Dot", "on_disk": true}"#,
                &[("", 4.0, Some("Dot"))],
                true,
            ),
            (
                r#"{"b": {"size": 8, "distance": "Cosine", "hnsw_config": {"m": 0}}, "a": {"size": "2"}}"#,
                &[("a", 2.0, None), ("b", 8.0, Some("Cosine"))],
                false,
            ),
            (
                r#"{"size": {"size": 3, "distance": "Euclid"}}"#,
                &[("size", 3.0, Some("Euclid"))],
                false,
            ),
            (r#"{}"#, &[], false),
            (
                r#"{"x": [1], "y": null, "z": {"distance": "Dot"}, "w": {"size": 5}}"#,
                &[("w", 5.0, None)],
                false,
            ),
        ];
        for (vectors, expected, single) in shapes {
            let body = format!(
                r#"{{"result": {{"collections": {{"collections": [{{"id": "c", "config": {{"params": {{"vectors": {vectors}}}}}}}]}}}}}}"#
            );
            let scanned = crate::qdrant::decode_telemetry(body.as_bytes()).unwrap();
            let parsed: serde_json::Value = serde_json::from_str(&body).unwrap();
            let parsed: Telemetry = serde_json::from_value(parsed["result"].clone()).unwrap();
            for telemetry in [scanned, parsed] {
                let collection = telemetry.collection_list().next().unwrap();
                let params = collection.config.as_ref().unwrap().params.as_ref().unwrap();
                let config = params.vectors.as_ref().unwrap();
                assert_eq!(
                    matches!(config, VectorsConfig::Single(_)),
                    single,
                    "{vectors}"
                );
                let read: Vec<(&str, f64, Option<&str>)> = config
                    .iter()
                    .map(|(name, p)| (name, p.size, p.distance.as_deref()))
                    .collect();
                assert_eq!(read, expected, "{vectors}");
            }
        }
    }
}
