//! One poll of one node: the fast sources in parallel, the `/collections` fallback when
//! telemetry cannot describe the collections, then (on slow polls) the per-collection sources.
//! Every source called yields a [`SourceReport`]; together they fill one [`NodeSnapshot`].

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::trace::get_active_span;
use opentelemetry::KeyValue;

use super::backlog;
use super::per_collection::{self, Kind};
use super::state::NodeState;
use super::{collections, telemetry, PollSettings};
use crate::qdrant::models::{collection_details, OptimizerStatus, Telemetry};
use crate::qdrant::models::{AppInfo, ClusterInfo, IssuesReport, QuotaStatus, SnapshotDescription};
use crate::qdrant::{Client, QdrantError};
use crate::snapshot::{ClusterRole, NodeSnapshot, SourceOutcome, SourceReport};
use crate::source_id::SourceId;

type Timed<T> = (Duration, Result<T, QdrantError>);

/// Which sources this poll calls.
struct Calls {
    /// Telemetry at level 4 (slow polls) rather than 3.
    detail: bool,
    per_collection_responses: bool,
    ready: bool,
    cluster: bool,
    quotas: bool,
    issues: bool,
    storage_snapshots: bool,
}

impl Calls {
    fn plan(state: &NodeState, settings: &PollSettings, slow_due: bool) -> Calls {
        let call = |source| state.may_call(source, &settings.plan);
        Calls {
            detail: slow_due && call(SourceId::TelemetryDetail),
            per_collection_responses: call(SourceId::TelemetryPerCollection),
            ready: call(SourceId::Ready),
            cluster: call(SourceId::Cluster),
            quotas: call(SourceId::Quotas),
            issues: slow_due && call(SourceId::Issues),
            storage_snapshots: slow_due && call(SourceId::StorageSnapshots),
        }
    }

    fn telemetry_source(&self) -> SourceId {
        if self.detail {
            SourceId::TelemetryDetail
        } else {
            SourceId::Telemetry
        }
    }
}

/// What the fast sources returned; `None` for a source not called.
struct Fast {
    app: Timed<AppInfo>,
    ready: Option<Timed<bool>>,
    telemetry: Timed<Telemetry>,
    cluster: Option<Timed<ClusterInfo>>,
    quotas: Option<Timed<QuotaStatus>>,
    issues: Option<Timed<IssuesReport>>,
    storage_snapshots: Option<Timed<Vec<SnapshotDescription>>>,
}

async fn fetch_fast(client: &Client, calls: &Calls) -> Fast {
    let (app, ready, telemetry, cluster, quotas, issues, storage_snapshots) = tokio::join!(
        timed(client.app_info()),
        optional(calls.ready, client.ready()),
        timed(client.telemetry(calls.detail, calls.per_collection_responses)),
        optional(calls.cluster, client.cluster()),
        optional(calls.quotas, client.quotas()),
        optional(calls.issues, client.issues()),
        optional(calls.storage_snapshots, client.storage_snapshots()),
    );
    Fast {
        app,
        ready,
        telemetry,
        cluster,
        quotas,
        issues,
        storage_snapshots,
    }
}

/// The snapshot being filled and the reports of the sources called.
struct Poll {
    snapshot: NodeSnapshot,
}

impl Poll {
    /// Report a source's outcome; a 404 from a gated endpoint marks it unsupported.
    fn report<T>(
        &mut self,
        state: &mut NodeState,
        source: SourceId,
        duration: Duration,
        result: &Result<T, QdrantError>,
    ) {
        let outcome = match result {
            Ok(_) => {
                if matches!(
                    source,
                    SourceId::TelemetryDetail | SourceId::Issues | SourceId::StorageSnapshots
                ) {
                    state.slow.read_at.insert(source, SystemTime::now());
                }
                SourceOutcome::Ok
            }
            Err(QdrantError::NotFound { .. }) if source.is_gated() => {
                state.mark_unsupported(source);
                SourceOutcome::Unsupported
            }
            Err(error) => SourceOutcome::Failed(error.clone()),
        };
        self.snapshot.sources.push(SourceReport {
            source,
            duration,
            outcome,
        });
    }

    fn optional<T>(
        &mut self,
        state: &mut NodeState,
        source: SourceId,
        timed: Option<Timed<T>>,
    ) -> Option<T> {
        let (duration, result) = timed?;
        self.report(state, source, duration, &result);
        result.ok()
    }

    /// Take the fast sources' results; returns whether the fallback is needed.
    fn accept_fast(&mut self, state: &mut NodeState, fast: Fast, calls: &Calls) -> bool {
        let read_at = SystemTime::now();
        let (duration, app) = fast.app;
        self.report(state, SourceId::App, duration, &app);
        self.snapshot.app = app.ok();
        state.set_version(
            self.snapshot
                .app
                .as_ref()
                .and_then(|a| a.version.as_deref()),
        );
        self.snapshot.ready = self.optional(state, SourceId::Ready, fast.ready);
        self.snapshot.cluster = self.optional(state, SourceId::Cluster, fast.cluster);
        self.snapshot.quotas = self.optional(state, SourceId::Quotas, fast.quotas);
        if let Some(issues) = self.optional(state, SourceId::Issues, fast.issues) {
            state.slow.issues = Some(Arc::new(issues));
        }
        if let Some(list) = self.optional(state, SourceId::StorageSnapshots, fast.storage_snapshots)
        {
            state.slow.storage_snapshots = Some(Arc::new(list));
        }
        let (duration, telemetry) = fast.telemetry;
        self.report(state, calls.telemetry_source(), duration, &telemetry);
        match telemetry {
            Ok(mut telemetry) => {
                self.snapshot.uptime_seconds = telemetry::uptime_seconds(&telemetry, read_at);
                self.snapshot.process_start = telemetry::process_start(&telemetry, read_at);
                let complete = telemetry::has_collections(&telemetry);
                if calls.detail {
                    state.slow.detail = Some(Arc::new(collection_details(&mut telemetry)));
                }
                self.snapshot.telemetry = Some(Arc::new(telemetry));
                !complete
            }
            Err(error) => {
                // A failed slow read drops what the previous one said rather than repeat stale data.
                if calls.detail {
                    state.slow.detail = None;
                }
                // Forbidden (a collection-scoped key) or unreadable: the collections may still
                // be read one by one. Unreachable or slow: the fallback would fare no better.
                matches!(
                    error,
                    QdrantError::Forbidden { .. }
                        | QdrantError::Unauthorized { .. }
                        | QdrantError::Decode { .. }
                )
            }
        }
    }

    /// The collections the fast path knows about, filtered.
    fn collection_names(&self, settings: &PollSettings) -> Vec<String> {
        let from_info = self
            .snapshot
            .collections
            .as_ref()
            .map(|c| c.keys().cloned().collect());
        let names: Vec<String> = from_info.unwrap_or_else(|| {
            self.snapshot
                .telemetry
                .iter()
                .flat_map(|t| t.collection_list())
                .filter_map(|c| c.id.as_ref().map(|id| String::from(id.as_str())))
                .collect()
        });
        names
            .into_iter()
            .filter(|name| settings.collections.includes(name))
            .collect()
    }

    fn finish(mut self, state: &NodeState) -> NodeSnapshot {
        let slow = &state.slow;
        self.snapshot.detail = slow.detail.clone();
        self.snapshot.optimizations = state.spread.optimizations.clone();
        self.snapshot.memory = state.spread.memory.clone();
        self.snapshot.collection_snapshots = state.spread.snapshots.clone();
        let now = SystemTime::now();
        let slow_ages = slow.read_at.iter().map(|(source, at)| {
            let age = now.duration_since(*at).unwrap_or_default();
            (*source, age.as_secs_f64())
        });
        self.snapshot.data_age = slow_ages.chain(state.spread.ages(now)).collect();
        self.snapshot.storage_snapshots = slow.storage_snapshots.clone();
        self.snapshot.issues = slow.issues.clone();
        self.snapshot
    }
}

/// Poll one node once.
pub async fn poll_node(
    client: &Client,
    instance: &str,
    settings: &PollSettings,
    state: &mut NodeState,
) -> NodeSnapshot {
    let slow_due = state.begin_poll(settings.detail_every);
    // On the poll's span, when traces are on: whether this poll reads the slow sources.
    get_active_span(|span| span.set_attribute(KeyValue::new("qdrant.poll.slow", slow_due)));
    let calls = Calls::plan(state, settings, slow_due);
    let fast = fetch_fast(client, &calls).await;
    let mut poll = Poll {
        snapshot: NodeSnapshot {
            instance: instance.to_string(),
            ..NodeSnapshot::default()
        },
    };
    let needs_fallback = poll.accept_fast(state, fast, &calls);
    if needs_fallback && poll.snapshot.app.is_some() {
        let (duration, collections) =
            timed(collections::fetch(client, settings.max_concurrency)).await;
        poll.report(state, SourceId::Collections, duration, &collections);
        poll.snapshot.collections = collections.ok().map(Arc::new);
    }
    // The cluster's view is read from the leader alone, once this poll knows who leads.
    if poll.snapshot.cluster_role() == ClusterRole::Leader
        && state.may_call(SourceId::ClusterTelemetry, &settings.plan)
    {
        let (duration, view) = timed(client.cluster_telemetry()).await;
        poll.report(state, SourceId::ClusterTelemetry, duration, &view);
        poll.snapshot.cluster_telemetry = view.ok().map(Arc::new);
    }
    let snapshot = &mut poll.snapshot;
    snapshot.up = snapshot.app.is_some()
        && (snapshot.telemetry.is_some() && !needs_fallback || snapshot.collections.is_some());
    // Decided after `/` answered: the version gates these on the first poll too.
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|kind| state.may_call(kind.source(), &settings.plan))
        .collect();
    if poll.snapshot.up {
        poll_per_collection(client, settings, state, &mut poll, &kinds).await;
    }
    let mut snapshot = poll.finish(state);
    let at = state.clock();
    let samples = backlog::samples(&snapshot, at);
    let estimates = state.backlog.observe(snapshot.process_start, samples);
    snapshot.optimizer_estimates = Some(Arc::new(estimates));
    snapshot
}

/// This poll's share of the per-collection reads (see `spread`).
async fn poll_per_collection(
    client: &Client,
    settings: &PollSettings,
    state: &mut NodeState,
    poll: &mut Poll,
    kinds: &[Kind],
) {
    let names = poll.collection_names(settings);
    let read_all = settings.read_all_at_start && state.is_first_poll();
    let budget = settings.collection_requests;
    let kinds = if budget == 0 && !read_all {
        &[][..]
    } else {
        kinds
    };
    let busy = busy_collections(&poll.snapshot);
    let jobs = state.spread.choose(&names, kinds, &busy, budget, read_all);
    let results = per_collection::fetch(
        client,
        jobs,
        settings.max_concurrency,
        settings.read_all_within,
    )
    .await;
    for kind in kinds {
        if !results.asked(*kind) {
            continue;
        }
        let (duration, result) = results.summary(*kind);
        poll.report(state, kind.source(), duration, &result);
    }
    state
        .spread
        .merge(&names, kinds, results, SystemTime::now());
}

/// Collections whose optimizer state is worth reading now: telemetry shows a local shard not
/// green, an optimizer error or queued updates (or the fallback shows it not green).
fn busy_collections(snapshot: &NodeSnapshot) -> BTreeSet<String> {
    let mut busy = BTreeSet::new();
    if let Some(collections) = &snapshot.collections {
        for (name, info) in collections.iter() {
            if info.status.as_deref().is_some_and(|s| s != "green") {
                busy.insert(name.clone());
            }
        }
    }
    let listed = snapshot.telemetry.iter().flat_map(|t| t.collection_list());
    for collection in listed {
        let Some(name) = &collection.id else { continue };
        let is_busy = collection.local_shards().any(|local| {
            local.status.as_deref().is_some_and(|s| s != "green")
                || local
                    .optimizations
                    .as_ref()
                    .and_then(|o| o.status.as_ref())
                    .is_some_and(|status| *status != OptimizerStatus::Ok)
                || local
                    .update_queue
                    .as_ref()
                    .and_then(|q| q.length)
                    .is_some_and(|n| n > 0.0)
        });
        if is_busy {
            busy.insert(String::from(name.as_str()));
        }
    }
    busy
}

async fn timed<T>(future: impl Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let value = future.await;
    (start.elapsed(), value)
}

async fn optional<T>(wanted: bool, future: impl Future<Output = T>) -> Option<(Duration, T)> {
    if wanted {
        Some(timed(future).await)
    } else {
        None
    }
}
