//! The scheduler: one task per Qdrant node, polling on an interval (after an initial delay and
//! jitter), never overlapping its own previous poll, independent of the other nodes; each poll
//! is recorded and exported right away. On shutdown the tasks stop polling, flush the last
//! points and end.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::{NodeSettings, Settings};
use crate::export::ResourceExporter;
use crate::metrics::{record, ClusterRole, Point, Recorded};
use crate::qdrant::client::ClientBuildError;
use crate::qdrant::Client;
use crate::resource::{cluster_resource, node_resource, BaseAttributes, NodeIdentity};
use crate::snapshot::NodeSnapshot;
use crate::sources::{poll_node, NodeState};

/// How long shutdown waits for the node tasks' final flush.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("Qdrant node {instance}: {source}")]
    Client {
        instance: String,
        source: ClientBuildError,
    },
}

/// Cluster-wide metrics go through one exporter, fed by whichever polled node is the leader.
struct ClusterExporter {
    exporter: ResourceExporter,
    /// The node whose points the exporter currently holds.
    speaker: Option<String>,
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
    let cluster = Arc::new(Mutex::new(ClusterExporter {
        exporter: ResourceExporter::new(settings.otlp.clone()),
        speaker: None,
    }));
    let mut tasks = JoinSet::new();
    for (node, client) in settings.nodes.iter().cloned().zip(clients) {
        tasks.spawn(run_node(
            node,
            client,
            Arc::clone(&settings),
            Arc::clone(&base),
            Arc::clone(&cluster),
            shutdown.clone(),
        ));
    }
    while tasks.join_next().await.is_some() {}
    if let Ok(cluster) = Arc::try_unwrap(cluster) {
        cluster.into_inner().exporter.shutdown().await;
    }
    Ok(())
}

pub fn build_clients(nodes: &[NodeSettings]) -> Result<Vec<Client>, AgentError> {
    nodes
        .iter()
        .map(|node| {
            Client::new(&node.client).map_err(|source| AgentError::Client {
                instance: node.instance.clone(),
                source,
            })
        })
        .collect()
}

async fn run_node(
    node: NodeSettings,
    client: Client,
    settings: Arc<Settings>,
    base: Arc<BaseAttributes>,
    cluster: Arc<Mutex<ClusterExporter>>,
    shutdown: CancellationToken,
) {
    let mut state = NodeState::default();
    let mut exporter = ResourceExporter::new(settings.otlp.clone());
    let mut export_failing = false;

    let jitter = if settings.jitter.is_zero() {
        Duration::ZERO
    } else {
        rand::rng().random_range(Duration::ZERO..settings.jitter)
    };
    tokio::select! {
        _ = tokio::time::sleep(settings.initial_delay + jitter) => {}
        _ = shutdown.cancelled() => return,
    }
    let mut ticker = tokio::time::interval(settings.interval);
    // A poll that overruns the interval delays the next one instead of stacking them.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.cancelled() => break,
        }
        let snapshot = tokio::select! {
            snapshot = poll_node(&client, &node.instance, &settings.poll, &mut state) => snapshot,
            _ = shutdown.cancelled() => break,
        };
        let recorded = record(&snapshot, &settings.record);
        let result = export(
            &node,
            &snapshot,
            &recorded,
            &settings,
            &base,
            &mut exporter,
            &cluster,
        )
        .await;
        match result {
            Ok(points) => {
                state.agent.exported_points = Some(points as u64);
                if export_failing {
                    tracing::info!(node = %node.instance, "OTLP export recovered.");
                }
                export_failing = false;
            }
            Err(error) => {
                state.agent.export_failures += 1;
                if !export_failing {
                    tracing::warn!(node = %node.instance, error = %error, "OTLP export failed; retrying on the next poll.");
                }
                export_failing = true;
            }
        }
    }
    tracing::debug!(node = %node.instance, "Stopping: final flush.");
    exporter.shutdown().await;
}

/// Publish and flush one poll's points; returns the number of points of this node.
async fn export(
    node: &NodeSettings,
    snapshot: &NodeSnapshot,
    recorded: &Recorded,
    settings: &Settings,
    base: &BaseAttributes,
    exporter: &mut ResourceExporter,
    cluster: &Mutex<ClusterExporter>,
) -> Result<usize, crate::export::ExportError> {
    let clustered = recorded.cluster_role != ClusterRole::Standalone;
    let identity = NodeIdentity {
        instance: node.instance.clone(),
        address: node.address.clone(),
        port: node.port,
        version: snapshot.app.as_ref().and_then(|a| a.version.clone()),
        peer_id: snapshot.cluster.as_ref().and_then(|c| c.peer_id),
        cluster_name: clustered.then(|| settings.cluster_name.clone()),
    };
    let exported = exporter.publish(node_resource(base, &identity), &recorded.node)?;
    let node_result = exporter.flush().await;

    let mut cluster = cluster.lock().await;
    let speaks = recorded.cluster_role == ClusterRole::Leader;
    let was_speaker = cluster.speaker.as_deref() == Some(node.instance.as_str());
    if speaks || was_speaker {
        let points: &[Point] = if speaks { &recorded.cluster } else { &[] };
        cluster
            .exporter
            .publish(cluster_resource(base, &settings.cluster_name), points)?;
        cluster.speaker = speaks.then(|| node.instance.clone());
        cluster.exporter.flush().await?;
    }
    node_result.map(|()| exported)
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
            let recorded = record(&snapshot, &settings.record);
            (node.instance.clone(), snapshot, recorded)
        });
    Ok(futures::future::join_all(polls).await)
}
