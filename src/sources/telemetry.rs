//! Sources `telemetry` (`/telemetry?details_level=3`, every poll) and `telemetry_detail`
//! (`details_level=4`, every Nth poll: adds segments). One response describes every
//! collection, so the request count does not grow with the number of collections. A slow poll
//! reads level 4 *instead of* level 3, since it carries everything level 3 does.
//! Never asks for `anonymize=true`: it truncates numbers and hashes names.

use std::time::SystemTime;

use crate::qdrant::models::Telemetry;
use crate::qdrant::{Client, QdrantError};

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
