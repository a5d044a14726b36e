//! Sources `telemetry` (`/telemetry?details_level=3`, every poll) and `telemetry_detail`
//! (`details_level=4`, every Nth poll: adds segments). One response describes every
//! collection, so the request count does not grow with the number of collections. A slow poll
//! reads level 4 *instead of* level 3, since it carries everything level 3 does.
//! Never asks for `anonymize=true`: it truncates numbers and hashes names.

use std::collections::BTreeMap;
use std::time::SystemTime;

use crate::qdrant::models::Telemetry;
use crate::qdrant::{Client, QdrantError};
use crate::snapshot::CollectionDetail;

pub const ENDPOINT: &str = "/telemetry?details_level=3";
pub const DETAIL_ENDPOINT: &str = "/telemetry?details_level=4";

/// `per_collection` adds per-collection request statistics (1.17.1+; older versions ignore it).
pub async fn fetch(
    client: &Client,
    detail: bool,
    per_collection: bool,
) -> Result<Telemetry, QdrantError> {
    let path = if detail { DETAIL_ENDPOINT } else { ENDPOINT };
    if per_collection {
        client
            .get_json(&format!("{path}&per_collection=true"))
            .await
    } else {
        client.get_json(path).await
    }
}

/// Whether the response lists collections in full (a key scoped away from telemetry, or a
/// server that leaves them out, yields none).
pub fn has_collections(telemetry: &Telemetry) -> bool {
    telemetry
        .collections
        .as_ref()
        .and_then(|c| c.collections.as_ref())
        .is_some_and(|list| list.iter().all(|c| c.id.is_some()))
}

/// Seconds between the process start that telemetry reports and `now`.
pub fn uptime_seconds(telemetry: &Telemetry, now: SystemTime) -> Option<f64> {
    let startup = telemetry.app.as_ref()?.startup.as_deref()?;
    let started = humantime::parse_rfc3339_weak(startup).ok()?;
    Some(now.duration_since(started).ok()?.as_secs_f64())
}

/// Sum each collection's segment statistics over its local shards.
pub fn collection_details(telemetry: &Telemetry) -> BTreeMap<String, CollectionDetail> {
    let mut details = BTreeMap::new();
    let collections = telemetry
        .collections
        .as_ref()
        .and_then(|c| c.collections.as_ref());
    for collection in collections.into_iter().flatten() {
        let Some(name) = &collection.id else { continue };
        let mut detail = CollectionDetail::default();
        let mut saw_segments = false;
        let locals = collection
            .shards
            .iter()
            .flatten()
            .filter_map(|shard| shard.local.as_ref());
        for local in locals {
            for segment in local.segments.iter().flatten() {
                for index in segment.vector_index_searches.iter().flatten() {
                    add_searches(&mut detail, index);
                }
                let Some(info) = &segment.info else { continue };
                saw_segments = true;
                let kind = info.segment_type.as_deref().unwrap_or("unknown");
                *detail.segments.entry(kind.to_string()).or_default() += 1.0;
                if let Some(deferred) = info.num_deferred_points {
                    *detail.deferred_points.get_or_insert(0.0) += deferred;
                }
                for (field, index) in info.index_schema.iter().flatten() {
                    if let Some(points) = index.points {
                        let kind = index.data_type.clone().unwrap_or_default();
                        *detail
                            .payload_index_points
                            .entry((field.clone(), kind))
                            .or_default() += points;
                    }
                }
                for (vector, data) in info.vector_data.iter().flatten() {
                    if let Some(n) = data.num_indexed_vectors {
                        *detail.indexed_vectors.entry(vector.clone()).or_default() += n;
                    }
                    if let Some(n) = data.num_deleted_vectors {
                        *detail.deleted_vectors.entry(vector.clone()).or_default() += n;
                    }
                }
            }
        }
        if saw_segments {
            details.insert(name.clone(), detail);
        }
    }
    details
}

/// One vector index's search statistics: `index_name` plus one entry per search path.
fn add_searches(detail: &mut CollectionDetail, index: &BTreeMap<String, serde_json::Value>) {
    let vector = index
        .get("index_name")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    for (path, stats) in index {
        let Some(count) = stats.get("count").and_then(serde_json::Value::as_f64) else {
            continue;
        };
        let micros = stats
            .get("total_duration_micros")
            .and_then(serde_json::Value::as_f64)
            .unwrap_or(0.0);
        let entry = detail
            .searches
            .entry((vector.clone(), path.clone()))
            .or_default();
        entry.0 += count;
        entry.1 += micros / 1e6;
    }
}
