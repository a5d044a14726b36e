//! Slow-cadence, per-collection reads (kept until their source runs again), for the
//! collections the fast path still knows: optimizations queued and running with their
//! progress, the optimizer's throughput and ETA over successive polls (`sources::backlog`),
//! memory by component, and the collection's snapshot files.

use smol_str::SmolStr;

use std::collections::BTreeMap;

use super::out::{collection_base, with, Out};
use super::util::unix_seconds;
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{
    CollectionMemory, MemoryUsage, OptimizationsInfo, RunningOptimization, SnapshotDescription,
};
use crate::snapshot::NodeSnapshot;

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot, names: &[&str]) {
    for &name in names {
        let base = collection_base(name);
        if let Some(info) = snapshot.optimizations.as_ref().and_then(|m| m.get(name)) {
            record_optimizations(out, info, &base);
        }
        let estimate = snapshot
            .optimizer_estimates
            .as_ref()
            .and_then(|m| m.get(name));
        if let Some(estimate) = estimate {
            out.push_opt(
                MetricId::OptimizationThroughput,
                estimate.throughput,
                base.clone(),
            );
            out.push_opt(MetricId::OptimizationEta, estimate.eta, base.clone());
        }
        if let Some(memory) = snapshot.memory.as_ref().and_then(|m| m.get(name)) {
            record_memory(out, memory, &base);
        }
        if let Some(list) = snapshot
            .collection_snapshots
            .as_ref()
            .and_then(|m| m.get(name))
        {
            record_snapshot_files(
                out,
                list,
                [
                    MetricId::SnapshotCount,
                    MetricId::SnapshotSize,
                    MetricId::SnapshotLastCreated,
                ],
                &base,
            );
        }
    }
}

fn record_optimizations(out: &mut Out, info: &OptimizationsInfo, base: &Attributes) {
    if let Some(summary) = &info.summary {
        for (metric, value) in [
            (MetricId::OptimizationQueued, summary.queued_optimizations),
            (
                MetricId::OptimizationQueuedSegments,
                summary.queued_segments,
            ),
            (MetricId::OptimizationQueuedPoints, summary.queued_points),
            (MetricId::OptimizationIdleSegments, summary.idle_segments),
        ] {
            out.push_opt(metric, value, base.clone());
        }
    }
    if let Some(running) = &info.running {
        record_running(out, running, base);
    }
}

/// Running optimizations by optimizer, with their progress over the work they track.
fn record_running(out: &mut Out, running: &[RunningOptimization], base: &Attributes) {
    // optimizer → (running, done, total)
    let mut by_optimizer: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
    for optimization in running {
        let name = optimization.optimizer.as_deref().unwrap_or("unknown");
        let entry = by_optimizer.entry(name).or_default();
        entry.0 += 1.0;
        if let Some(progress) = &optimization.progress {
            let (done, total) = progress_work(progress);
            entry.1 += done;
            entry.2 += total;
        }
    }
    for (optimizer, (count, done, total)) in by_optimizer {
        let attributes = with(base, attr::OPTIMIZER, optimizer);
        out.push(MetricId::OptimizationRunning, count, attributes.clone());
        if total > 0.0 {
            out.push(
                MetricId::OptimizationProgress,
                (done / total).clamp(0.0, 1.0),
                attributes,
            );
        }
    }
}

/// Sum `done`/`total` over the progress tree's nodes that track work.
fn progress_work(node: &serde_json::Value) -> (f64, f64) {
    let mut work = match (
        node.get("done").and_then(serde_json::Value::as_f64),
        node.get("total").and_then(serde_json::Value::as_f64),
    ) {
        (Some(done), Some(total)) => (done, total),
        _ => (0.0, 0.0),
    };
    for child in node
        .get("children")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
    {
        let (done, total) = progress_work(child);
        work.0 += done;
        work.1 += total;
    }
    work
}

/// Disk, RAM and page cache by component (vectors, payload, payload indexes, …).
fn record_memory(out: &mut Out, memory: &CollectionMemory, base: &Attributes) {
    let mut emit =
        |component: String, extra: Option<(&'static str, SmolStr)>, usage: &MemoryUsage| {
            let mut attributes = with(base, attr::COMPONENT, component);
            attributes.extend(extra);
            for (metric, value) in [
                (MetricId::DiskUsage, usage.disk_bytes),
                (MetricId::RamUsage, usage.ram_bytes),
                (MetricId::PageCacheUsage, usage.cached_bytes),
                (MetricId::PageCacheExpected, usage.expected_cache_bytes),
            ] {
                out.push_opt(metric, value, attributes.clone());
            }
        };
    for (prefix, vectors) in [
        ("vector", &memory.vectors),
        ("sparse_vector", &memory.sparse_vectors),
    ] {
        for vector in vectors {
            for (part, value) in &vector.parts {
                if let Some(usage) = MemoryUsage::from_value(value) {
                    emit(
                        format!("{prefix}_{part}"),
                        Some((attr::VECTOR_NAME, SmolStr::new(&vector.name))),
                        &usage,
                    );
                }
            }
        }
    }
    if let Some(payload) = &memory.payload {
        emit("payload".into(), None, payload);
    }
    for index in &memory.payload_index {
        if let Some(usage) = &index.usage {
            emit(
                "payload_index".into(),
                Some((attr::PAYLOAD_FIELD, SmolStr::new(&index.name))),
                usage,
            );
        }
    }
    for (component, value) in &memory.other {
        if let Some(usage) = MemoryUsage::from_value(value) {
            emit(component.clone(), None, &usage);
        }
    }
}

/// Count, total size and newest creation time of a list of snapshot files.
pub(super) fn record_snapshot_files(
    out: &mut Out,
    list: &[SnapshotDescription],
    [count, size, last_created]: [MetricId; 3],
    base: &Attributes,
) {
    out.push(count, list.len() as f64, base.clone());
    out.push(size, list.iter().filter_map(|s| s.size).sum(), base.clone());
    let newest = list
        .iter()
        .filter_map(|s| s.creation_time.as_deref())
        .filter_map(unix_seconds)
        .reduce(f64::max);
    out.push_opt(last_created, newest, base.clone());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_sums_tracked_work() {
        let tree = serde_json::json!({"children": [{"done": 5, "total": 10}, {"children": [{"done": 1, "total": 10}]}, {"name": "x"}]});
        assert_eq!(progress_work(&tree), (6.0, 20.0));
    }
}
