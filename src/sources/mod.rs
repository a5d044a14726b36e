//! The sources the agent polls (DESIGN §2), and the poll of one node: sources run in parallel,
//! each reports its own duration and error, and together they fill one [`NodeSnapshot`].
//!
//! Cadence: `app`, `ready`, `telemetry`, `cluster` and `quotas` every poll; `telemetry_detail`,
//! the per-collection sources, `issues` and full-storage snapshots every `detail_every`-th poll
//! (the first poll included), their results kept in between so their series never blink.
//! Version: a source newer than the server (by the version `/` reports) is not called, and a
//! 404 marks a source unsupported until the version changes — neither counts as an error.

mod app;
mod cluster;
mod collections;
mod per_collection;
mod ready;
mod server;
mod telemetry;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::qdrant::{Client, ErrorType, QdrantError};
use crate::snapshot::{AgentStats, NodeSnapshot, SourceReport};

pub use collections::CollectionFilter;

/// Identifies a source (and, for `Agent`, the agent's own metrics) in the registry and in the
/// `qdrant.agent.source` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SourceId {
    App,
    Ready,
    Telemetry,
    TelemetryDetail,
    Collections,
    Cluster,
    Optimizations,
    Memory,
    Snapshots,
    Issues,
    Quotas,
    Agent,
}

impl SourceId {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceId::App => "app",
            SourceId::Ready => "ready",
            SourceId::Telemetry => "telemetry",
            SourceId::TelemetryDetail => "telemetry_detail",
            SourceId::Collections => "collections",
            SourceId::Cluster => "cluster",
            SourceId::Optimizations => "optimizations",
            SourceId::Memory => "memory",
            SourceId::Snapshots => "snapshots",
            SourceId::Issues => "issues",
            SourceId::Quotas => "quotas",
            SourceId::Agent => "agent",
        }
    }

    /// The endpoint(s) the source reads, for docs.
    pub fn endpoint(self) -> &'static str {
        match self {
            SourceId::App => app::ENDPOINT,
            SourceId::Ready => ready::ENDPOINT,
            SourceId::Telemetry => telemetry::ENDPOINT,
            SourceId::TelemetryDetail => telemetry::DETAIL_ENDPOINT,
            SourceId::Collections => collections::ENDPOINT,
            SourceId::Cluster => cluster::ENDPOINT,
            SourceId::Optimizations => per_collection::OPTIMIZATIONS_ENDPOINT,
            SourceId::Memory => per_collection::MEMORY_ENDPOINT,
            SourceId::Snapshots => per_collection::SNAPSHOTS_ENDPOINT,
            SourceId::Issues => server::ISSUES_ENDPOINT,
            SourceId::Quotas => server::QUOTAS_ENDPOINT,
            SourceId::Agent => "(the agent itself)",
        }
    }

    /// First Qdrant version that has the endpoint.
    pub fn since(self) -> Version {
        match self {
            SourceId::Optimizations => Version(1, 17, 0),
            SourceId::Memory => Version(1, 18, 0),
            SourceId::Quotas => Version(1, 19, 0),
            _ => Version(0, 0, 0),
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Qdrant version, `major.minor.patch` (pre-release suffixes ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().trim_start_matches('v').split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        Some(Version(
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

/// Which sources a poll may call, from the metrics that are enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePlan {
    pub wanted: BTreeSet<SourceId>,
    /// Ask telemetry for per-collection request statistics (`per_collection=true`, 1.17.1+).
    pub per_collection_responses: bool,
}

impl SourcePlan {
    /// Every source.
    pub fn all() -> SourcePlan {
        SourcePlan {
            wanted: [
                SourceId::Ready,
                SourceId::TelemetryDetail,
                SourceId::Cluster,
                SourceId::Optimizations,
                SourceId::Memory,
                SourceId::Snapshots,
                SourceId::Issues,
                SourceId::Quotas,
            ]
            .into(),
            per_collection_responses: false,
        }
    }

    fn wants(&self, source: SourceId) -> bool {
        self.wanted.contains(&source)
    }
}

/// Settings of the poll that do not change between polls.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Run the slow sources every Nth poll (the first poll always does).
    pub detail_every: u32,
    /// Bound on concurrent per-collection requests.
    pub max_concurrency: usize,
    pub plan: SourcePlan,
    /// Collections to read per-collection sources for.
    pub collections: CollectionFilter,
}

impl Default for PollSettings {
    fn default() -> Self {
        PollSettings {
            detail_every: 4,
            max_concurrency: 8,
            plan: SourcePlan::all(),
            collections: CollectionFilter::default(),
        }
    }
}

/// Slow-cadence reads kept between slow polls.
#[derive(Debug, Default)]
struct SlowData {
    detail: Option<Arc<crate::qdrant::models::Telemetry>>,
    optimizations: Option<Arc<BTreeMap<String, crate::qdrant::models::OptimizationsInfo>>>,
    memory: Option<Arc<BTreeMap<String, crate::qdrant::models::CollectionMemory>>>,
    collection_snapshots:
        Option<Arc<BTreeMap<String, Vec<crate::qdrant::models::SnapshotDescription>>>>,
    storage_snapshots: Option<Arc<Vec<crate::qdrant::models::SnapshotDescription>>>,
    issues: Option<Arc<crate::qdrant::models::IssuesReport>>,
}

/// What the agent remembers about one node between polls.
#[derive(Debug, Default)]
pub struct NodeState {
    polls: u64,
    slow: SlowData,
    /// The version `/` reported last.
    version: Option<String>,
    /// Sources that answered 404, with the version they did it on.
    unsupported: BTreeMap<SourceId, Option<String>>,
    /// Last error per source, to log only changes of state.
    last_error: BTreeMap<SourceId, Option<ErrorType>>,
    last_up: Option<bool>,
    pub agent: AgentStats,
}

impl NodeState {
    /// Whether `source` may be called on this node: wanted, new enough, not known missing.
    fn may_call(&self, source: SourceId, plan: &SourcePlan) -> bool {
        if !plan.wants(source) {
            return false;
        }
        if self
            .unsupported
            .get(&source)
            .is_some_and(|v| *v == self.version)
        {
            return false;
        }
        match self.version.as_deref().and_then(Version::parse) {
            Some(version) => version >= source.since(),
            None => true,
        }
    }

    /// Remember a source's outcome; log when it changes (not on every poll). A 404 from a
    /// whole endpoint means "this server does not have it": remembered, not an error.
    fn note(&mut self, instance: &str, source: SourceId, result: Result<(), &QdrantError>) {
        if let Err(QdrantError::NotFound { url }) = result {
            if source.since() > Version(0, 0, 0) {
                if self
                    .unsupported
                    .insert(source, self.version.clone())
                    .is_none()
                {
                    tracing::info!(node = %instance, source = %source, url = %url, version = ?self.version, "Source not supported by this Qdrant version; skipping it until the version changes.");
                }
                return;
            }
        }
        let error = result.err().map(QdrantError::error_type);
        let previous = self.last_error.insert(source, error);
        if let Err(err) = result {
            *self
                .agent
                .poll_errors
                .entry((source, err.error_type()))
                .or_insert(0) += 1;
            if previous != Some(error) {
                let hint = match err.error_type() {
                    ErrorType::Forbidden | ErrorType::Unauthorized => {
                        " The metrics of this source are not reported while the key lacks the permission."
                    }
                    _ => "",
                };
                tracing::warn!(node = %instance, source = %source, error.type = %err.error_type(), error = %err, "Source failed.{hint}");
            }
        } else if matches!(previous, Some(Some(_))) {
            tracing::info!(node = %instance, source = %source, "Source recovered.");
        }
    }

    fn note_up(&mut self, instance: &str, up: bool) {
        if self.last_up != Some(up) {
            if up {
                tracing::info!(node = %instance, "Node is up.");
            } else {
                tracing::warn!(node = %instance, "Node is down: it did not answer with its version and collections.");
            }
        }
        self.last_up = Some(up);
    }

    fn set_version(&mut self, version: Option<String>) {
        if version.is_some() && version != self.version {
            // A new version may have the endpoints the old one lacked.
            self.unsupported.clear();
            self.version = version;
        }
    }
}

/// Collects the per-source reports of one poll and keeps the node state's error bookkeeping.
struct Reports<'a> {
    instance: &'a str,
    reports: Vec<SourceReport>,
}

impl Reports<'_> {
    fn record<T>(
        &mut self,
        state: &mut NodeState,
        source: SourceId,
        duration: Duration,
        result: &Result<T, QdrantError>,
    ) {
        let result = result.as_ref().map(|_| ());
        state.note(self.instance, source, result);
        let error = match result {
            Err(QdrantError::NotFound { .. }) if source.since() > Version(0, 0, 0) => None,
            other => other.err().map(QdrantError::error_type),
        };
        self.reports.push(SourceReport {
            source,
            duration,
            error,
        });
    }
}

/// Poll one node once.
pub async fn poll_node(
    client: &Client,
    instance: &str,
    settings: &PollSettings,
    state: &mut NodeState,
) -> NodeSnapshot {
    let slow_due = state.polls % u64::from(settings.detail_every.max(1)) == 0;
    state.polls += 1;
    let plan = &settings.plan;
    let detail = slow_due && plan.wants(SourceId::TelemetryDetail);
    let telemetry_source = if detail {
        SourceId::TelemetryDetail
    } else {
        SourceId::Telemetry
    };
    let per_collection_responses = plan.per_collection_responses
        && state
            .version
            .as_deref()
            .and_then(Version::parse)
            .is_none_or(|v| v >= Version(1, 17, 1));
    let call = |source| state.may_call(source, plan);
    let (want_ready, want_cluster, want_quotas) = (
        call(SourceId::Ready),
        call(SourceId::Cluster),
        call(SourceId::Quotas),
    );
    let want_issues = slow_due && call(SourceId::Issues);
    let want_snapshots = slow_due && call(SourceId::Snapshots);

    let (app, ready, telemetry, cluster, quotas, issues, storage_snapshots) = tokio::join!(
        timed(app::fetch(client)),
        optional(want_ready, ready::fetch(client)),
        timed(telemetry::fetch(client, detail, per_collection_responses)),
        optional(want_cluster, cluster::fetch(client)),
        optional(want_quotas, server::quotas(client)),
        optional(want_issues, server::issues(client)),
        optional(want_snapshots, server::storage_snapshots(client)),
    );
    let read_at = SystemTime::now();

    let mut snapshot = NodeSnapshot {
        instance: instance.to_string(),
        ..NodeSnapshot::default()
    };
    let mut reports = Reports {
        instance,
        reports: Vec::new(),
    };

    let (duration, app) = app;
    reports.record(state, SourceId::App, duration, &app);
    snapshot.app = app.ok();
    state.set_version(snapshot.app.as_ref().and_then(|a| a.version.clone()));

    if let Some((duration, ready)) = ready {
        reports.record(state, SourceId::Ready, duration, &ready);
        snapshot.ready = ready.ok();
    }
    if let Some((duration, cluster)) = cluster {
        reports.record(state, SourceId::Cluster, duration, &cluster);
        snapshot.cluster = cluster.ok();
    }
    if let Some((duration, quotas)) = quotas {
        reports.record(state, SourceId::Quotas, duration, &quotas);
        snapshot.quotas = quotas.ok();
    }
    if let Some((duration, issues)) = issues {
        reports.record(state, SourceId::Issues, duration, &issues);
        state.slow.issues = issues.ok().map(Arc::new);
    }

    let (duration, telemetry) = telemetry;
    reports.record(state, telemetry_source, duration, &telemetry);
    let mut needs_fallback = matches!(&telemetry, Err(QdrantError::Forbidden { .. }));
    match telemetry {
        Ok(telemetry) => {
            snapshot.uptime_seconds = telemetry::uptime_seconds(&telemetry, read_at);
            needs_fallback |= !telemetry::has_collections(&telemetry);
            let telemetry = Arc::new(telemetry);
            if detail {
                state.slow.detail = Some(Arc::clone(&telemetry));
            }
            snapshot.telemetry = Some(telemetry);
        }
        Err(_) => {
            // A failed slow read drops what the previous one said rather than repeat stale data.
            if detail {
                state.slow.detail = None;
            }
        }
    }

    if needs_fallback {
        let (duration, collections) =
            timed(collections::fetch(client, settings.max_concurrency)).await;
        reports.record(state, SourceId::Collections, duration, &collections);
        snapshot.collections = collections.ok().map(Arc::new);
    }

    snapshot.up = snapshot.app.is_some()
        && (snapshot.telemetry.is_some() && !needs_fallback || snapshot.collections.is_some());

    if slow_due && snapshot.up {
        let names: Vec<String> = collection_names(&snapshot)
            .into_iter()
            .filter(|name| settings.collections.includes(name))
            .collect();
        poll_per_collection(client, settings, state, &mut reports, &names).await;
        if let Some((duration, storage)) = storage_snapshots {
            reports.record(state, SourceId::Snapshots, duration, &storage);
            state.slow.storage_snapshots = storage.ok().map(Arc::new);
        }
    }

    state.note_up(instance, snapshot.up);
    snapshot.detail = state.slow.detail.clone();
    snapshot.optimizations = state.slow.optimizations.clone();
    snapshot.memory = state.slow.memory.clone();
    snapshot.collection_snapshots = state.slow.collection_snapshots.clone();
    snapshot.storage_snapshots = state.slow.storage_snapshots.clone();
    snapshot.issues = state.slow.issues.clone();
    snapshot.sources = reports.reports;
    snapshot.agent = state.agent.clone();
    snapshot
}

async fn poll_per_collection(
    client: &Client,
    settings: &PollSettings,
    state: &mut NodeState,
    reports: &mut Reports<'_>,
    names: &[String],
) {
    let sources: Vec<SourceId> = [
        SourceId::Optimizations,
        SourceId::Memory,
        SourceId::Snapshots,
    ]
    .into_iter()
    .filter(|s| state.may_call(*s, &settings.plan))
    .collect();
    if sources.is_empty() {
        return;
    }
    let results = per_collection::fetch(client, names, &sources, settings.max_concurrency).await;
    for source in sources.iter().copied() {
        let (outcome_error, all_not_found, duration) = match source {
            SourceId::Optimizations => {
                let o = &results.optimizations;
                (&o.first_error, o.all_not_found, o.duration)
            }
            SourceId::Memory => (
                &results.memory.first_error,
                results.memory.all_not_found,
                results.memory.duration,
            ),
            _ => (
                &results.snapshots.first_error,
                results.snapshots.all_not_found,
                results.snapshots.duration,
            ),
        };
        // Every collection answering 404 means the endpoint is missing; a 404 for some
        // collections only means they were deleted meanwhile.
        let result: Result<(), QdrantError> = match outcome_error {
            Some(QdrantError::NotFound { url }) if all_not_found && !names.is_empty() => {
                Err(QdrantError::NotFound { url: url.clone() })
            }
            Some(QdrantError::NotFound { .. }) | None => Ok(()),
            Some(other) => Err(other.clone()),
        };
        if matches!(result, Err(QdrantError::NotFound { .. })) && source.since() == Version(0, 0, 0)
        {
            // An endpoint every version has: the collections vanished; nothing to report.
            reports.record::<()>(state, source, duration, &Ok(()));
            continue;
        }
        reports.record(state, source, duration, &result);
    }
    state.slow.optimizations = Some(Arc::new(results.optimizations.by_collection))
        .filter(|_| sources.contains(&SourceId::Optimizations));
    state.slow.memory = Some(Arc::new(results.memory.by_collection))
        .filter(|_| sources.contains(&SourceId::Memory));
    state.slow.collection_snapshots = Some(Arc::new(results.snapshots.by_collection))
        .filter(|_| sources.contains(&SourceId::Snapshots));
}

/// The collections the fast path knows about.
fn collection_names(snapshot: &NodeSnapshot) -> Vec<String> {
    if let Some(collections) = &snapshot.collections {
        return collections.keys().cloned().collect();
    }
    snapshot
        .telemetry
        .as_ref()
        .and_then(|t| t.collections.as_ref())
        .and_then(|c| c.collections.as_ref())
        .map(|list| list.iter().filter_map(|c| c.id.clone()).collect())
        .unwrap_or_default()
}

async fn timed<T>(future: impl std::future::Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let value = future.await;
    (start.elapsed(), value)
}

async fn optional<T>(
    wanted: bool,
    future: impl std::future::Future<Output = T>,
) -> Option<(Duration, T)> {
    if wanted {
        Some(timed(future).await)
    } else {
        None
    }
}
