//! The scheduler: one poll task per Qdrant node (see `node`) and one export task per exported
//! resource (see `exporter`), so that nodes never wait on each other and polls never wait on
//! the Collector. On shutdown the poll tasks stop and the export tasks deliver the points not
//! yet delivered, within a bounded grace period. With discovery (see `discovery`), the nodes are
//! started and stopped as the cluster's membership changes (see `fleet`).

mod discovery;
mod exporter;
mod fleet;
mod memory;
mod node;
mod process_start;
mod stats;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::Resource;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::{NodeSettings, Settings};
use crate::export::OtlpClient;
use crate::metrics::{record, Recorded};
use crate::qdrant::client::{memory_budget, ClientBuildError};
use crate::qdrant::Client;
use crate::resource::BaseAttributes;
use crate::snapshot::NodeSnapshot;
use crate::sources::{poll_node, NodeState};
use crate::telemetry::{agent_resource, Observed, SelfTelemetry, Traces};
use discovery::Discovery;
use fleet::Fleet;
pub use memory::configure_allocator;
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

/// Run until `shutdown` is cancelled, with the nodes' clients from [`build_clients`] and the
/// connection to the Collector from [`OtlpClient::build`]: built once, by the caller, which
/// reports a failure as a configuration error before anything runs.
pub async fn run(
    settings: Settings,
    clients: Vec<Client>,
    otlp: OtlpClient,
    shutdown: CancellationToken,
) {
    let budget = clients
        .first()
        .map_or_else(|| budget_for(&settings.nodes), |c| Arc::clone(c.budget()));
    let settings = Arc::new(settings);
    let base = Arc::new(BaseAttributes::new(&settings.resource_attributes));
    // One connection to the Collector for every export task and the agent's own telemetry.
    let resource = agent_resource(&settings.resource_attributes);
    let telemetry = start_telemetry(&settings, &otlp, &budget, resource.clone());
    let mut recorder = telemetry
        .as_ref()
        .map(SelfTelemetry::recorder)
        .unwrap_or_default();
    let traces = start_traces(&otlp, resource);
    if let Some(traces) = &traces {
        recorder = recorder.with_tracer(traces.tracer());
    }
    let mut fleet = Fleet::new(
        Arc::clone(&settings),
        base,
        budget,
        (otlp, recorder),
        shutdown.clone(),
    );
    let seeds: Vec<(NodeSettings, Client)> = settings.nodes.iter().cloned().zip(clients).collect();
    for (node, client) in &seeds {
        fleet.start(node.clone(), client.clone());
    }
    if let Some(discovery) = &settings.discovery {
        Discovery::new(discovery.clone(), seeds)
            .follow(&mut fleet, settings.initial_delay, &shutdown)
            .await;
    }
    // Without discovery, the poll tasks run until shutdown; then the final exports.
    fleet.finish().await;
    if let Some(telemetry) = telemetry {
        telemetry.shutdown(SHUTDOWN_GRACE).await;
    }
    if let Some(traces) = traces {
        traces.shutdown(SHUTDOWN_GRACE).await;
    }
}

/// The traces of the polls, if asked for; the agent runs without them when they cannot start.
fn start_traces(otlp: &OtlpClient, resource: Resource) -> Option<Traces> {
    match Traces::start(otlp, resource)? {
        Ok(traces) => Some(traces),
        Err(error) => {
            tracing::warn!(%error, "Running without the traces of the polls.");
            None
        }
    }
}

/// The agent's own telemetry, if enabled; the agent runs without it when it cannot start.
fn start_telemetry(
    settings: &Settings,
    otlp: &OtlpClient,
    budget: &Arc<Semaphore>,
    resource: Resource,
) -> Option<SelfTelemetry> {
    if !settings.self_telemetry {
        return None;
    }
    let observed = Observed {
        budget: Arc::clone(budget),
        budget_bytes: settings
            .nodes
            .first()
            .map_or(0, |n| n.client.max_response_bytes),
    };
    let interval = settings.interval;
    match SelfTelemetry::start(otlp, interval, resource, observed) {
        Ok(telemetry) => Some(telemetry),
        Err(error) => {
            tracing::warn!(%error, "Running without the agent's own telemetry.");
            None
        }
    }
}

/// One memory bound for the response bodies of all nodes.
fn budget_for(nodes: &[NodeSettings]) -> Arc<Semaphore> {
    memory_budget(nodes.first().map_or(0, |n| n.client.max_response_bytes))
}

/// One client per node, all sharing one memory bound for response bodies.
pub fn build_clients(nodes: &[NodeSettings]) -> Result<Vec<Client>, AgentError> {
    let budget = budget_for(nodes);
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

/// One poll of every node with its client from [`build_clients`], no export: the `once`
/// command.
pub async fn poll_once(
    settings: &Settings,
    clients: Vec<Client>,
) -> Vec<(String, NodeSnapshot, Recorded)> {
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
    futures::future::join_all(polls).await
}
