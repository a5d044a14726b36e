//! Reading `/telemetry` (level 3 every poll, level 4 on slow polls: adds segments): one response
//! describes every collection, so the request count does not grow with the number of
//! collections. A slow poll reads level 4 *instead of* level 3, since it carries everything
//! level 3 does.

use std::time::SystemTime;

use crate::qdrant::models::Telemetry;

/// Whether the response lists collections in full (a key scoped away from telemetry, or a
/// server that leaves them out, yields none).
pub fn has_collections(telemetry: &Telemetry) -> bool {
    telemetry
        .collections
        .as_ref()
        .and_then(|c| c.collections.as_ref())
        .is_some_and(|list| list.iter().all(|c| c.id.is_some()))
}

/// When the process started, as telemetry reports it (`app.startup`): `now` minus the uptime.
/// `None` when it is not given, or is after `now` (the two clocks apart).
pub fn process_start(telemetry: &Telemetry, now: SystemTime) -> Option<SystemTime> {
    let startup = telemetry.app.as_ref()?.startup.as_deref()?;
    let started = humantime::parse_rfc3339_weak(startup).ok()?;
    (started <= now).then_some(started)
}

/// Seconds between the process start that telemetry reports and `now`.
pub fn uptime_seconds(telemetry: &Telemetry, now: SystemTime) -> Option<f64> {
    let started = process_start(telemetry, now)?;
    Some(now.duration_since(started).ok()?.as_secs_f64())
}
