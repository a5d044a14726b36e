//! Slow-cadence sources read once per collection, with bounded concurrency:
//! `optimizations` (1.17+: the optimizer backlog and running jobs), `memory` (1.18+: disk, RAM
//! and page cache per component) and `snapshots` (the collection's snapshot files). Each can be
//! switched off by disabling its metrics; none runs on the fast path.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use crate::qdrant::models::{CollectionMemory, OptimizationsInfo, SnapshotDescription};
use crate::qdrant::{Client, QdrantError};
use crate::source_id::SourceId;

/// The per-collection sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Kind {
    Optimizations,
    Memory,
    Snapshots,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Optimizations, Kind::Memory, Kind::Snapshots];

    pub fn source(self) -> SourceId {
        match self {
            Kind::Optimizations => SourceId::Optimizations,
            Kind::Memory => SourceId::Memory,
            Kind::Snapshots => SourceId::Snapshots,
        }
    }
}

/// What one per-collection request returned.
enum Reply {
    Optimizations(OptimizationsInfo),
    Memory(CollectionMemory),
    Snapshots(Vec<SnapshotDescription>),
}

/// The outcome of one per-collection source over all collections.
pub(super) struct Outcome<T> {
    pub by_collection: BTreeMap<String, T>,
    /// Total time spent in this source's requests (they overlap with other sources').
    pub duration: Duration,
    /// The first error, and whether every request failed with 404.
    pub first_error: Option<QdrantError>,
    pub all_not_found: bool,
    /// Requests made, and the collections that answered 404 (deleted meanwhile).
    pub requests: usize,
    pub not_found: Vec<String>,
}

impl<T> Default for Outcome<T> {
    fn default() -> Self {
        Outcome {
            by_collection: BTreeMap::new(),
            duration: Duration::ZERO,
            first_error: None,
            all_not_found: true,
            requests: 0,
            not_found: Vec::new(),
        }
    }
}

impl<T> Outcome<T> {
    fn accept(&mut self, name: String, duration: Duration, value: T) {
        self.duration += duration;
        self.requests += 1;
        self.all_not_found = false;
        self.by_collection.insert(name, value);
    }

    fn reject(&mut self, name: String, duration: Duration, error: QdrantError) {
        self.duration += duration;
        self.requests += 1;
        if matches!(error, QdrantError::NotFound { .. }) {
            self.not_found.push(name);
        } else {
            self.all_not_found = false;
        }
        if self.first_error.is_none() {
            self.first_error = Some(error);
        }
    }

    /// Several collections all answering 404 means the endpoint is missing; a 404 for some
    /// (or for the only one asked) means they were deleted meanwhile.
    pub fn result(&self) -> Result<(), QdrantError> {
        match &self.first_error {
            Some(QdrantError::NotFound { url }) if self.all_not_found && self.requests > 1 => {
                Err(QdrantError::NotFound { url: url.clone() })
            }
            Some(QdrantError::NotFound { .. }) | None => Ok(()),
            Some(other) => Err(other.clone()),
        }
    }
}

/// The results of all per-collection sources of one slow poll.
#[derive(Default)]
pub(super) struct Results {
    pub optimizations: Outcome<OptimizationsInfo>,
    pub memory: Outcome<CollectionMemory>,
    pub snapshots: Outcome<Vec<SnapshotDescription>>,
}

impl Results {
    /// `(duration, result)` of one source over all collections.
    pub fn summary(&self, kind: Kind) -> (Duration, Result<(), QdrantError>) {
        match kind {
            Kind::Optimizations => (self.optimizations.duration, self.optimizations.result()),
            Kind::Memory => (self.memory.duration, self.memory.result()),
            Kind::Snapshots => (self.snapshots.duration, self.snapshots.result()),
        }
    }

    /// Whether any request of this kind was made.
    pub fn asked(&self, kind: Kind) -> bool {
        match kind {
            Kind::Optimizations => self.optimizations.requests > 0,
            Kind::Memory => self.memory.requests > 0,
            Kind::Snapshots => self.snapshots.requests > 0,
        }
    }

    fn add(
        &mut self,
        name: String,
        kind: Kind,
        duration: Duration,
        reply: Result<Reply, QdrantError>,
    ) {
        match (reply, kind) {
            (Ok(Reply::Optimizations(info)), _) => self.optimizations.accept(name, duration, info),
            (Ok(Reply::Memory(memory)), _) => self.memory.accept(name, duration, memory),
            (Ok(Reply::Snapshots(list)), _) => self.snapshots.accept(name, duration, list),
            (Err(error), Kind::Optimizations) => self.optimizations.reject(name, duration, error),
            (Err(error), Kind::Memory) => self.memory.reject(name, duration, error),
            (Err(error), Kind::Snapshots) => self.snapshots.reject(name, duration, error),
        }
    }
}

/// Run `jobs`, at most `max_concurrency` requests at a time; requests still waiting when
/// `within` has passed are left for a later poll.
pub(super) async fn fetch(
    client: &Client,
    jobs: Vec<(String, Kind)>,
    max_concurrency: usize,
    within: Duration,
) -> Results {
    let deadline = Box::pin(tokio::time::sleep(within));
    // A named async fn (not a closure's async block) keeps the future `Send` for any lifetime.
    let mut replies = stream::iter(
        jobs.into_iter()
            .map(|(name, kind)| timed_fetch(client, name, kind)),
    )
    .buffer_unordered(max_concurrency.max(1))
    .take_until(deadline);
    let mut results = Results::default();
    while let Some((name, kind, duration, reply)) = replies.next().await {
        results.add(name, kind, duration, reply);
    }
    results
}

async fn timed_fetch(
    client: &Client,
    name: String,
    kind: Kind,
) -> (String, Kind, Duration, Result<Reply, QdrantError>) {
    let started = Instant::now();
    let reply = match kind {
        Kind::Optimizations => client.optimizations(&name).await.map(Reply::Optimizations),
        Kind::Memory => client.collection_memory(&name).await.map(Reply::Memory),
        Kind::Snapshots => client
            .collection_snapshots(&name)
            .await
            .map(Reply::Snapshots),
    };
    (name, kind, started.elapsed(), reply)
}
