//! Arbitrary bytes as a Qdrant REST response body, for every response model the agent reads.
//!
//! Each model is parsed twice, the way the client reads it: bare (`GET /` answers a bare object)
//! and wrapped in Qdrant's `{"result": ..., "status": ..., "time": ...}` envelope (every other
//! endpoint); telemetry also as the client reads it (`decode_telemetry`).
//! Whatever parses goes through the agent's pure, I/O-free code: `Version::parse` and
//! `metrics::record` on a `NodeSnapshot` built from all of it, the segment summary of the
//! telemetry (`collection_details`) included. (The helper that derives uptime lives in the
//! private `sources::telemetry` module: not reachable from here, so `uptime_seconds` stays unset.)
//! Parse errors are expected; a panic (or an abort, an overflow in debug builds, a hang) is a bug.

#![no_main]

use std::collections::BTreeMap;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use qdrant_otel_agent::metrics::registry::MetricSelection;
use qdrant_otel_agent::metrics::{self, RecordOptions};
use qdrant_otel_agent::qdrant::models::{
    collection_details, AppInfo, ClusterInfo, CollectionInfo, CollectionMemory, CollectionsList, IssuesReport,
    OptimizationsInfo, QuotaStatus, SnapshotDescription, Telemetry,
};
use qdrant_otel_agent::snapshot::{AgentStats, NodeSnapshot};
use qdrant_otel_agent::qdrant::{decode_telemetry, Version};

/// The client's private envelope (`src/qdrant/client.rs`), restated: only `result` is read.
#[derive(Deserialize)]
struct Envelope<T> {
    result: Option<T>,
}

/// Bare, else enveloped: the first that parses.
fn parse<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    let bare = serde_json::from_slice::<T>(data).ok();
    let wrapped = serde_json::from_slice::<Envelope<T>>(data)
        .ok()
        .and_then(|e| e.result);
    wrapped.or(bare)
}

/// The one place that calls the conversion, so a change of `record`'s signature is a one-line
/// change here.
fn convert(snapshot: &NodeSnapshot, options: &RecordOptions) -> usize {
    let recorded = metrics::record(snapshot, &AgentStats::default(), options);
    recorded.node.len() + recorded.cluster.len()
}

fuzz_target!(|data: &[u8]| {
    let app: Option<AppInfo> = parse(data);
    if let Some(version) = app.as_ref().and_then(|a| a.version.as_deref()) {
        let _ = Version::parse(version);
    }
    // Telemetry as the client reads it (taken apart at its collection list, each collection
    // read by the pull reader, `scan_de.rs`), else bare.
    let mut telemetry: Option<Telemetry> = decode_telemetry(data).ok().or_else(|| parse(data));

    // Per-collection responses are keyed by the names `/collections` gave (or one made-up name).
    let mut names: Vec<String> = parse::<CollectionsList>(data)
        .map(|list| list.collections.into_iter().map(|c| c.name).collect())
        .unwrap_or_default();
    if names.is_empty() {
        names.push("fuzz".to_string());
    }
    names.truncate(16);
    fn keyed<T: Clone>(names: &[String], value: Option<T>) -> Option<Arc<BTreeMap<String, T>>> {
        let value = value?;
        Some(Arc::new(
            names.iter().map(|n| (n.clone(), value.clone())).collect(),
        ))
    }

    let collections = keyed(&names, parse::<CollectionInfo>(data));
    let optimizations = keyed(&names, parse::<OptimizationsInfo>(data));
    let memory = keyed(&names, parse::<CollectionMemory>(data));
    let snapshots: Option<Vec<SnapshotDescription>> = parse(data);
    let collection_snapshots = keyed(&names, snapshots.clone());

    let snapshot = NodeSnapshot {
        instance: "fuzz:6333".to_string(),
        up: true,
        app,
        ready: Some(data.len() % 2 == 0),
        detail: telemetry
            .as_mut()
            .map(|t| Arc::new(collection_details(t))),
        telemetry: telemetry.map(Arc::new),
        collections,
        cluster: parse::<ClusterInfo>(data),
        optimizations,
        memory,
        collection_snapshots,
        storage_snapshots: snapshots.map(Arc::new),
        issues: parse::<IssuesReport>(data).map(Arc::new),
        quotas: parse::<QuotaStatus>(data),
        ..NodeSnapshot::default()
    };

    // Every metric, opt-in ones included, with and without hashed collection names.
    let mut options = RecordOptions {
        selection: MetricSelection::all(),
        ..RecordOptions::default()
    };
    let _ = convert(&snapshot, &options);
    options.hash_collection_names = true;
    let _ = convert(&snapshot, &options);

    // The telemetry path is skipped when the fallback's collections are present: cover it too.
    let without_fallback = NodeSnapshot {
        collections: None,
        ..snapshot
    };
    let _ = convert(&without_fallback, &options);
});
