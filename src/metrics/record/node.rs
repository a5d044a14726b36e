//! The node itself: `qdrant.up`, build info, uptime, readiness, collection count, allocator
//! memory, the machine's size, the process's CPU use and the search pool (from `/`, `/readyz`
//! and telemetry).

use smallvec::smallvec;
use smol_str::SmolStr;

use super::out::Out;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::Telemetry;
use crate::snapshot::NodeSnapshot;

pub(super) fn record(out: &mut Out, snapshot: &NodeSnapshot) {
    out.push(MetricId::Up, f64::from(u8::from(snapshot.up)), smallvec![]);
    if let Some(app) = &snapshot.app {
        if let Some(version) = &app.version {
            let commit = app.commit.clone().unwrap_or_default();
            out.push(
                MetricId::BuildInfo,
                1.0,
                smallvec![
                    (attr::VERSION, SmolStr::new(version)),
                    (attr::COMMIT, commit.into()),
                ],
            );
        }
    }
    out.push_opt(MetricId::Uptime, snapshot.uptime_seconds, smallvec![]);
    out.push_opt(
        MetricId::Ready,
        snapshot.ready.map(|ready| f64::from(u8::from(ready))),
        smallvec![],
    );
    if let Some(telemetry) = snapshot.telemetry.as_deref() {
        record_telemetry(out, telemetry);
    }
}

/// Collection count, allocator memory and system size.
fn record_telemetry(out: &mut Out, telemetry: &Telemetry) {
    if let Some(collections) = &telemetry.collections {
        out.push_opt(
            MetricId::CollectionCount,
            collections.number_of_collections,
            smallvec![],
        );
    }
    if let Some(memory) = &telemetry.memory {
        out.push_opt(MetricId::MemoryActive, memory.active_bytes, smallvec![]);
        out.push_opt(
            MetricId::MemoryAllocated,
            memory.allocated_bytes,
            smallvec![],
        );
        out.push_opt(MetricId::MemoryMetadata, memory.metadata_bytes, smallvec![]);
        out.push_opt(MetricId::MemoryResident, memory.resident_bytes, smallvec![]);
        out.push_opt(MetricId::MemoryRetained, memory.retained_bytes, smallvec![]);
    }
    if let Some(system) = telemetry.app.as_ref().and_then(|a| a.system.as_ref()) {
        const KIB: f64 = 1024.0;
        out.push_opt(MetricId::SystemCpuCores, system.cores, smallvec![]);
        out.push_opt(
            MetricId::SystemMemorySize,
            system.ram_size.map(|k| k * KIB),
            smallvec![],
        );
        out.push_opt(
            MetricId::SystemDiskSize,
            system.disk_size.map(|k| k * KIB),
            smallvec![],
        );
        out.push_opt(
            MetricId::ProcessCpuCoresUsed,
            system.cpu_cores_used,
            smallvec![],
        );
    }
    if let Some(pool) = &telemetry.search_pool {
        if let Some(mode) = &pool.mode {
            out.state_set(MetricId::SearchPoolMode, mode, &smallvec![]);
        }
        for (runtime, threads) in [
            ("high_cpu", pool.high_cpu_threads),
            ("high_io", pool.high_io_threads),
        ] {
            out.push_opt(
                MetricId::SearchPoolThreads,
                threads,
                smallvec![(attr::SEARCH_RUNTIME, SmolStr::new_static(runtime))],
            );
        }
    }
}
