//! The scheduler: one poll task per Qdrant node (see `node`) and one export task per exported
//! resource (see `exporter`), so that nodes never wait on each other and polls never wait on
//! the Collector. On shutdown the poll tasks stop and the export tasks send the newest points
//! once more, within a bounded grace period.

mod exporter;
mod node;
mod stats;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{NodeSettings, Settings};
use crate::metrics::{record, Recorded};
use crate::qdrant::client::{memory_budget, ClientBuildError};
use crate::qdrant::Client;
use crate::resource::BaseAttributes;
use crate::snapshot::NodeSnapshot;
use crate::sources::{poll_node, NodeState};
use exporter::{ClusterSlot, ExportTask};
use node::NodeTask;
pub use stats::NodeStats;

/// How long shutdown waits for the final exports.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("Qdrant node {instance}: {source}")]
    Client {
        instance: String,
        source: ClientBuildError,
    },
}

/// Run until `shutdown` is cancelled.
pub async fn run(
    settings: Settings,
    env: HashMap<String, String>,
    shutdown: CancellationToken,
) -> Result<(), AgentError> {
    let clients = build_clients(&settings.nodes)?;
    let settings = Arc::new(settings);
    let base = Arc::new(BaseAttributes::new(&env, &settings.resource_attributes));
    // Export tasks stop after the poll tasks, so that they send the newest points.
    let exports_stop = CancellationToken::new();
    let mut exports = JoinSet::new();
    let (cluster, cluster_latest) = watch::channel(ClusterSlot::default());
    exports.spawn(
        ExportTask {
            label: settings.cluster_name.clone(),
            otlp: settings.otlp.clone(),
            own_metrics: None,
        }
        .run(cluster_latest, exports_stop.clone()),
    );
    let mut polls = JoinSet::new();
    for (node, client) in settings.nodes.iter().cloned().zip(clients) {
        let (node_exports, latest) = watch::channel(None);
        exports.spawn(
            ExportTask {
                label: node.instance.clone(),
                otlp: settings.otlp.clone(),
                own_metrics: Some(settings.record.selection.clone()),
            }
            .run(latest, exports_stop.clone()),
        );
        let task = NodeTask {
            node,
            client,
            settings: Arc::clone(&settings),
            base: Arc::clone(&base),
            exports: node_exports,
            cluster: cluster.clone(),
        };
        polls.spawn(task.run(shutdown.clone()));
    }
    while polls.join_next().await.is_some() {}
    // The final exports get the grace period, whatever the OTLP timeout; a hung Collector
    // does not hold the exit.
    exports_stop.cancel();
    let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while exports.join_next().await.is_some() {}
    })
    .await;
    if finished.is_err() {
        tracing::warn!(grace = ?SHUTDOWN_GRACE, "Final exports did not finish within the shutdown grace period.");
        exports.abort_all();
    }
    Ok(())
}

/// One client per node, all sharing one memory bound for response bodies.
pub fn build_clients(nodes: &[NodeSettings]) -> Result<Vec<Client>, AgentError> {
    let limit = nodes.first().map_or(0, |n| n.client.max_response_bytes);
    let budget = memory_budget(limit);
    nodes
        .iter()
        .map(|node| {
            Client::with_budget(&node.client, Arc::clone(&budget)).map_err(|source| {
                AgentError::Client {
                    instance: node.instance.clone(),
                    source,
                }
            })
        })
        .collect()
}

/// One poll of every node, no export: the `once` command.
pub async fn poll_once(
    settings: &Settings,
) -> Result<Vec<(String, NodeSnapshot, Recorded)>, AgentError> {
    let clients = build_clients(&settings.nodes)?;
    let polls = settings
        .nodes
        .iter()
        .zip(clients)
        .map(|(node, client)| async move {
            let mut state = NodeState::default();
            let snapshot = poll_node(&client, &node.instance, &settings.poll, &mut state).await;
            let mut stats = NodeStats::default();
            stats.observe(&snapshot);
            let recorded = record(&snapshot, &stats.stats, &settings.record);
            (node.instance.clone(), snapshot, recorded)
        });
    Ok(futures::future::join_all(polls).await)
}
