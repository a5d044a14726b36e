//! Server-wide reads: issues (by type and, when one is named, collection), full-storage
//! snapshots, and quotas (1.19+: usage, limits and release margin from `/quotas`, exceeded
//! from telemetry, and — cluster-wide — each peer's usage and state from `/quotas`' `peers`).

use smallvec::smallvec;
use smol_str::SmolStr;

use std::collections::BTreeMap;

use super::out::Out;
use super::per_collection::record_snapshot_files;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{IssuesReport, QuotaStatus};
use crate::snapshot::NodeSnapshot;

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot, collections: &[&str]) {
    if let Some(report) = &snapshot.issues {
        record_issues(out, report, collections);
    }
    if let Some(list) = &snapshot.storage_snapshots {
        record_snapshot_files(
            out,
            list,
            [
                MetricId::StorageSnapshotCount,
                MetricId::StorageSnapshotSize,
                MetricId::StorageSnapshotLastCreated,
            ],
            &smallvec![],
        );
    }
    if let Some(quotas) = &snapshot.quotas {
        record_quotas(out, quotas);
    }
    // Which resources this node refuses work over: from telemetry (1.19+).
    let exceeded = snapshot
        .telemetry
        .as_ref()
        .and_then(|t| t.quota.as_ref())
        .and_then(|q| q.exceeded.as_ref());
    for (resource, state) in exceeded.into_iter().flatten() {
        if let Some(state) = state {
            out.push(
                MetricId::QuotaExceeded,
                f64::from(u8::from(*state)),
                smallvec![(attr::QUOTA_RESOURCE, quota_resource(resource))],
            );
        }
    }
}

/// The quota's resource as Qdrant's own `/metrics` names it (`memory`, `disk`), not by the key
/// of telemetry's `exceeded` map (`resident_memory`, `disk_usage`); a key Qdrant adds later
/// keeps its name.
fn quota_resource(key: &str) -> SmolStr {
    match key {
        "resident_memory" => SmolStr::new_static("memory"),
        "disk_usage" => SmolStr::new_static("disk"),
        other => SmolStr::new(other),
    }
}

/// `UNINDEXED_FIELD/<collection>/<field>` → type and, when it names a known collection, the
/// collection.
fn record_issues(out: &mut Out, report: &IssuesReport, collections: &[&str]) {
    let mut counts: BTreeMap<(String, String), f64> = BTreeMap::new();
    for issue in &report.issues {
        let mut parts = issue.id.split('/');
        let kind = parts.next().unwrap_or_default().to_string();
        let collection = parts
            .next()
            .filter(|c| collections.iter().any(|name| name == c))
            .unwrap_or_default()
            .to_string();
        *counts.entry((kind, collection)).or_default() += 1.0;
    }
    for ((kind, collection), count) in counts {
        let mut attributes = smallvec![(attr::ISSUE_TYPE, SmolStr::from(kind))];
        if !collection.is_empty() {
            attributes.push((attr::COLLECTION, collection.into()));
        }
        out.push(MetricId::Issues, count, attributes);
    }
}

/// Usage and, when quotas are enabled, limits: percentages as ratios.
fn record_quotas(out: &mut Out, quotas: &QuotaStatus) {
    let percent = |v: Option<f64>| v.map(|p| p / 100.0);
    if let Some(usage) = &quotas.usage {
        out.push_opt(
            MetricId::QuotaMemoryUsage,
            percent(usage.resident_memory_percent),
            smallvec![],
        );
        out.push_opt(
            MetricId::QuotaDiskUsage,
            percent(usage.disk_usage_percent),
            smallvec![],
        );
    }
    if let Some(config) = quotas.config.as_ref().filter(|c| c.enabled == Some(true)) {
        out.push_opt(
            MetricId::QuotaMemoryLimit,
            percent(config.max_resident_memory_percent),
            smallvec![],
        );
        out.push_opt(
            MetricId::QuotaDiskLimit,
            percent(config.max_disk_usage_percent),
            smallvec![],
        );
        out.push_opt(
            MetricId::QuotaReleaseMargin,
            percent(config.release_margin_percent),
            smallvec![],
        );
    }
    record_peers(out, quotas);
}

/// What each peer that answered reports (distributed mode): cluster-scoped, so `Out` keeps
/// them to the raft leader's agent.
fn record_peers(out: &mut Out, quotas: &QuotaStatus) {
    for (peer, usage) in quotas.peers.iter().flatten() {
        // A key that is not a peer id is not a peer: nothing to name the series by.
        let Ok(peer) = peer.trim().parse::<u64>() else {
            continue;
        };
        let peer = SmolStr::from(peer.to_string());
        for (resource, value) in [
            ("memory", usage.resident_memory_percent),
            ("disk", usage.disk_usage_percent),
        ] {
            out.push_opt(
                MetricId::QuotaPeerUsage,
                value.map(|p| p / 100.0),
                smallvec![
                    (attr::PEER_ID, peer.clone()),
                    (attr::QUOTA_RESOURCE, SmolStr::new_static(resource)),
                ],
            );
        }
        out.push_opt(
            MetricId::QuotaPeerExceeded,
            usage.exceeded.map(|e| f64::from(u8::from(e))),
            smallvec![(attr::PEER_ID, peer)],
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::metrics::{record, MetricId, RecordOptions};
    use crate::qdrant::models::{QuotaStatus, Telemetry};
    use crate::snapshot::{AgentStats, NodeSnapshot};

    /// `/quotas` as the raft leader of a 3-peer cluster serves it when peer 3 did not answer,
    /// peer 2's platform hides its disk usage, and a key is not a peer id.
    #[test]
    fn peers_that_answered_are_reported_once_for_the_cluster() {
        let quotas: QuotaStatus = serde_json::from_value(serde_json::json!({
            "config": {"enabled": true, "max_resident_memory_percent": 90, "release_margin_percent": 5},
            "usage": {"resident_memory_percent": 91, "disk_usage_percent": null},
            "peers": {
                "1": {"exceeded": true, "resident_memory_percent": 91, "disk_usage_percent": 40},
                "2": {"exceeded": false, "resident_memory_percent": 50, "disk_usage_percent": null},
                "not-a-peer": {"exceeded": true, "resident_memory_percent": 1}
            }
        }))
        .unwrap();
        let cluster: crate::qdrant::models::ClusterInfo =
            serde_json::from_value(serde_json::json!({
                "status": "enabled", "peer_id": 1, "raft_info": {"role": "Leader", "leader": 1}
            }))
            .unwrap();
        let snapshot = NodeSnapshot {
            quotas: Some(quotas),
            cluster: Some(cluster),
            ..NodeSnapshot::default()
        };
        let recorded = record(&snapshot, &AgentStats::default(), &RecordOptions::default());
        let points = |metric| -> Vec<(Vec<String>, f64)> {
            let mut found: Vec<(Vec<String>, f64)> = recorded
                .cluster
                .iter()
                .filter(|p| p.metric == metric)
                .map(|p| {
                    (
                        p.attributes.iter().map(|a| a.1.to_string()).collect(),
                        p.value,
                    )
                })
                .collect();
            found.sort_by(|a, b| a.0.cmp(&b.0));
            found
        };
        let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            points(MetricId::QuotaPeerUsage),
            [
                (labels(&["1", "disk"]), 0.4),
                (labels(&["1", "memory"]), 0.91),
                (labels(&["2", "memory"]), 0.5),
            ],
            "no point for a null usage, none for a key that is not a peer id"
        );
        assert_eq!(
            points(MetricId::QuotaPeerExceeded),
            [(labels(&["1"]), 1.0), (labels(&["2"]), 0.0)]
        );
        let on_node = |metric| {
            recorded
                .node
                .iter()
                .find(|p| p.metric == metric)
                .map(|p| p.value)
        };
        assert_eq!(on_node(MetricId::QuotaReleaseMargin), Some(0.05));
        assert_eq!(
            on_node(MetricId::QuotaPeerUsage),
            None,
            "cluster-wide, not per node"
        );
    }

    #[test]
    fn quota_resources_are_named_as_qdrant_metrics_name_them() {
        let telemetry: Telemetry = serde_json::from_value(serde_json::json!({
            "quota": {"exceeded": {"resident_memory": true, "disk_usage": false, "gpu": false}}
        }))
        .unwrap();
        let snapshot = NodeSnapshot {
            telemetry: Some(Arc::new(telemetry)),
            ..NodeSnapshot::default()
        };
        let recorded = record(&snapshot, &AgentStats::default(), &RecordOptions::default());
        let mut exceeded: Vec<(String, f64)> = recorded
            .node
            .iter()
            .filter(|p| p.metric == MetricId::QuotaExceeded)
            .map(|p| (p.attributes[0].1.to_string(), p.value))
            .collect();
        exceeded.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            exceeded,
            [
                ("disk".into(), 0.0),
                ("gpu".into(), 0.0),
                ("memory".into(), 1.0)
            ]
        );
    }
}
