//! The sources the agent polls (DESIGN §2), and the poll of one node: sources run in parallel,
//! each reports its own duration and error, and together they fill one [`NodeSnapshot`].

mod app;
mod cluster;
mod collections;
mod ready;
mod telemetry;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crate::qdrant::{Client, ErrorType, QdrantError};
use crate::snapshot::{AgentStats, NodeSnapshot, SourceReport};

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
            SourceId::Agent => "(the agent itself)",
        }
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of the poll that do not change between polls.
#[derive(Debug, Clone)]
pub struct PollSettings {
    /// Read level-4 telemetry every Nth poll (the first poll is always one).
    pub detail_every: u32,
    /// Bound on concurrent per-collection requests.
    pub max_concurrency: usize,
}

/// What the agent remembers about one node between polls.
#[derive(Debug, Default)]
pub struct NodeState {
    polls: u64,
    detail: Option<Arc<BTreeMap<String, crate::snapshot::CollectionDetail>>>,
    /// Last error per source, to log only changes of state.
    last_error: BTreeMap<SourceId, Option<ErrorType>>,
    last_up: Option<bool>,
    pub agent: AgentStats,
}

impl NodeState {
    /// Remember a source's outcome; log when it changes (not on every poll).
    fn note(&mut self, instance: &str, source: SourceId, result: Result<(), &QdrantError>) {
        let error = result.err().map(QdrantError::error_type);
        let previous = self.last_error.insert(source, error);
        if let Err(err) = result {
            *self
                .agent
                .poll_errors
                .entry((source, err.error_type()))
                .or_insert(0) += 1;
            if previous != Some(error) {
                tracing::warn!(node = %instance, source = %source, error.type = %err.error_type(), error = %err, "Source failed.");
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
}

/// Poll one node once: every source, in parallel where independent.
pub async fn poll_node(
    client: &Client,
    instance: &str,
    settings: &PollSettings,
    state: &mut NodeState,
) -> NodeSnapshot {
    let detail_due = state.polls % u64::from(settings.detail_every.max(1)) == 0;
    state.polls += 1;
    let telemetry_source = if detail_due {
        SourceId::TelemetryDetail
    } else {
        SourceId::Telemetry
    };

    let (app, ready, telemetry, cluster) = tokio::join!(
        timed(app::fetch(client)),
        timed(ready::fetch(client)),
        timed(telemetry::fetch(client, detail_due)),
        timed(cluster::fetch(client)),
    );
    let read_at = SystemTime::now();

    let mut snapshot = NodeSnapshot {
        instance: instance.to_string(),
        ..NodeSnapshot::default()
    };
    let mut reports = Vec::new();
    let mut record = |state: &mut NodeState,
                      source: SourceId,
                      duration: Duration,
                      result: Result<(), &QdrantError>| {
        state.note(instance, source, result);
        reports.push(SourceReport {
            source,
            duration,
            error: result.err().map(QdrantError::error_type),
        });
    };

    let (app_duration, app) = app;
    record(state, SourceId::App, app_duration, app.as_ref().map(|_| ()));
    snapshot.app = app.ok();

    let (ready_duration, ready) = ready;
    record(
        state,
        SourceId::Ready,
        ready_duration,
        ready.as_ref().map(|_| ()),
    );
    snapshot.ready = ready.ok();

    let (cluster_duration, cluster) = cluster;
    record(
        state,
        SourceId::Cluster,
        cluster_duration,
        cluster.as_ref().map(|_| ()),
    );
    snapshot.cluster = cluster.ok();

    let (telemetry_duration, telemetry) = telemetry;
    record(
        state,
        telemetry_source,
        telemetry_duration,
        telemetry.as_ref().map(|_| ()),
    );
    let mut needs_fallback = matches!(&telemetry, Err(QdrantError::Forbidden { .. }));
    match telemetry {
        Ok(telemetry) => {
            if detail_due {
                state.detail = Some(Arc::new(telemetry::collection_details(&telemetry)));
            }
            snapshot.uptime_seconds = telemetry::uptime_seconds(&telemetry, read_at);
            needs_fallback |= !telemetry::has_collections(&telemetry);
            snapshot.telemetry = Some(Arc::new(telemetry));
        }
        Err(_) => {
            // A failed slow read drops what the previous one said rather than repeat stale data.
            if detail_due {
                state.detail = None;
            }
        }
    }
    snapshot.detail = state.detail.clone();

    if needs_fallback {
        let (duration, collections) =
            timed(collections::fetch(client, settings.max_concurrency)).await;
        record(
            state,
            SourceId::Collections,
            duration,
            collections.as_ref().map(|_| ()),
        );
        snapshot.collections = collections.ok().map(Arc::new);
    }

    snapshot.up = snapshot.app.is_some()
        && (snapshot.telemetry.is_some() && !needs_fallback || snapshot.collections.is_some());
    state.note_up(instance, snapshot.up);
    snapshot.sources = reports;
    snapshot.agent = state.agent.clone();
    snapshot
}

async fn timed<T>(future: impl std::future::Future<Output = T>) -> (Duration, T) {
    let start = Instant::now();
    let value = future.await;
    (start.elapsed(), value)
}
