//! Slow-cadence sources read once per collection, with bounded concurrency:
//! `optimizations` (`/collections/{name}/optimizations`, 1.17+: the optimizer backlog and
//! running jobs), `memory` (`/collections/{name}/memory`, 1.18+: disk, RAM and page cache per
//! component) and `snapshots` (`/collections/{name}/snapshots`). Each can be switched off by
//! disabling its metrics; none runs on the fast path.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};

use super::SourceId;
use crate::qdrant::models::{CollectionMemory, OptimizationsInfo, SnapshotDescription};
use crate::qdrant::{Client, QdrantError};

pub const OPTIMIZATIONS_ENDPOINT: &str = "/collections/{name}/optimizations";
pub const MEMORY_ENDPOINT: &str = "/collections/{name}/memory";
pub const SNAPSHOTS_ENDPOINT: &str = "/collections/{name}/snapshots, /snapshots";

/// What one per-collection request returned.
pub enum Reply {
    Optimizations(OptimizationsInfo),
    Memory(CollectionMemory),
    Snapshots(Vec<SnapshotDescription>),
}

/// The outcome of one per-collection source over all collections.
pub struct Outcome<T> {
    pub by_collection: BTreeMap<String, T>,
    /// Total time spent in this source's requests (they overlap with other sources').
    pub duration: Duration,
    /// The first error, and whether every request failed with 404.
    pub first_error: Option<QdrantError>,
    pub all_not_found: bool,
}

impl<T> Default for Outcome<T> {
    fn default() -> Self {
        Outcome {
            by_collection: BTreeMap::new(),
            duration: Duration::ZERO,
            first_error: None,
            all_not_found: true,
        }
    }
}

/// The results of all per-collection sources of one slow poll.
#[derive(Default)]
pub struct Results {
    pub optimizations: Outcome<OptimizationsInfo>,
    pub memory: Outcome<CollectionMemory>,
    pub snapshots: Outcome<Vec<SnapshotDescription>>,
}

/// Run `sources` for each of `collections`, at most `max_concurrency` requests at a time.
pub async fn fetch(
    client: &Client,
    collections: &[String],
    sources: &[SourceId],
    max_concurrency: usize,
) -> Results {
    let jobs: Vec<(String, SourceId)> = collections
        .iter()
        .flat_map(|name| sources.iter().map(|source| (name.clone(), *source)))
        .collect();
    // A named async fn (not a closure's async block) keeps the future `Send` for any lifetime.
    let replies: Vec<(String, SourceId, Duration, Result<Reply, QdrantError>)> = stream::iter(
        jobs.into_iter()
            .map(|(name, source)| timed_fetch(client, name, source)),
    )
    .buffer_unordered(max_concurrency.max(1))
    .collect()
    .await;

    let mut results = Results::default();
    for (name, source, duration, reply) in replies {
        match reply {
            Ok(Reply::Optimizations(info)) => {
                accept(&mut results.optimizations, name, duration, info)
            }
            Ok(Reply::Memory(memory)) => accept(&mut results.memory, name, duration, memory),
            Ok(Reply::Snapshots(list)) => accept(&mut results.snapshots, name, duration, list),
            Err(error) => match source {
                SourceId::Optimizations => reject(&mut results.optimizations, duration, error),
                SourceId::Memory => reject(&mut results.memory, duration, error),
                _ => reject(&mut results.snapshots, duration, error),
            },
        }
    }
    results
}

fn accept<T>(outcome: &mut Outcome<T>, name: String, duration: Duration, value: T) {
    outcome.duration += duration;
    outcome.all_not_found = false;
    outcome.by_collection.insert(name, value);
}

fn reject<T>(outcome: &mut Outcome<T>, duration: Duration, error: QdrantError) {
    outcome.duration += duration;
    if !matches!(error, QdrantError::NotFound { .. }) {
        outcome.all_not_found = false;
    }
    if outcome.first_error.is_none() {
        outcome.first_error = Some(error);
    }
}

async fn timed_fetch(
    client: &Client,
    name: String,
    source: SourceId,
) -> (String, SourceId, Duration, Result<Reply, QdrantError>) {
    let started = Instant::now();
    let result = fetch_one(client, &name, source).await;
    (name, source, started.elapsed(), result)
}

async fn fetch_one(client: &Client, name: &str, source: SourceId) -> Result<Reply, QdrantError> {
    let collection = super::collections::encode_path_segment(name);
    Ok(match source {
        SourceId::Optimizations => Reply::Optimizations(
            client
                .get_json(&format!("/collections/{collection}/optimizations"))
                .await?,
        ),
        SourceId::Memory => Reply::Memory(
            client
                .get_json(&format!("/collections/{collection}/memory"))
                .await?,
        ),
        _ => Reply::Snapshots(
            client
                .get_json(&format!("/collections/{collection}/snapshots"))
                .await?,
        ),
    })
}
