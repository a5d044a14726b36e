//! The running nodes: one poll task and one export task per node, plus the cluster's export
//! task; the export tasks share one connection to the Collector. Nodes can be started and
//! stopped while the agent runs (discovery); each node has its own cancellation tokens,
//! children of the agent's, so that stopping one node ends its poll loop and lets its export
//! task deliver its last points, while shutdown still stops them all.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::exporter::{ClusterSlot, ExportTask, Handover};
use super::node::NodeTask;
use super::{AgentError, SHUTDOWN_GRACE};
use crate::config::{NodeSettings, Settings};
use crate::export::OtlpClient;
use crate::qdrant::Client;
use crate::resource::BaseAttributes;
use crate::telemetry::Recorder;

/// One running node's stop handles.
struct Running {
    poll: CancellationToken,
    export: CancellationToken,
}

pub struct Fleet {
    settings: Arc<Settings>,
    base: Arc<BaseAttributes>,
    /// The memory bound for response bodies, shared by every node's client.
    budget: Arc<Semaphore>,
    /// The connection to the Collector, shared by every export task: one pool, not one per
    /// resource.
    otlp: OtlpClient,
    /// The agent's own telemetry, shared by every task.
    recorder: Recorder,
    cluster: watch::Sender<ClusterSlot>,
    shutdown: CancellationToken,
    /// Export tasks stop after the poll tasks, so that they send the newest points.
    exports_stop: CancellationToken,
    polls: JoinSet<()>,
    exports: JoinSet<()>,
    running: HashMap<String, Running>,
}

impl Fleet {
    /// No node yet; the cluster's export task is started.
    pub fn new(
        settings: Arc<Settings>,
        base: Arc<BaseAttributes>,
        budget: Arc<Semaphore>,
        (otlp, recorder): (OtlpClient, Recorder),
        shutdown: CancellationToken,
    ) -> Fleet {
        let exports_stop = CancellationToken::new();
        let mut exports = JoinSet::new();
        let (cluster, _) = watch::channel(ClusterSlot::default());
        exports.spawn(
            ExportTask {
                label: settings.cluster_name.clone(),
                client: otlp.clone(),
                own_metrics: None,
                recorder: recorder.clone(),
            }
            .run(Handover::new(&cluster), exports_stop.clone()),
        );
        Fleet {
            settings,
            base,
            budget,
            otlp,
            recorder,
            cluster,
            shutdown,
            exports_stop,
            polls: JoinSet::new(),
            exports,
            running: HashMap::new(),
        }
    }

    /// A client for `node`, sharing the fleet's memory bound.
    pub fn client(&self, node: &NodeSettings) -> Result<Client, AgentError> {
        Client::with_budget(&node.client, Arc::clone(&self.budget)).map_err(|source| {
            AgentError::Client {
                instance: node.instance.clone(),
                source,
            }
        })
    }

    pub fn is_running(&self, instance: &str) -> bool {
        self.running.contains_key(instance)
    }

    /// The instances of the running nodes.
    pub fn instances(&self) -> Vec<String> {
        self.running.keys().cloned().collect()
    }

    /// Start polling `node` and exporting its points (nothing if it runs already).
    pub fn start(&mut self, node: NodeSettings, client: Client) {
        if self.is_running(&node.instance) {
            return;
        }
        let running = Running {
            poll: self.shutdown.child_token(),
            export: self.exports_stop.child_token(),
        };
        let (node_exports, _) = watch::channel(None);
        self.exports.spawn(
            ExportTask {
                label: node.instance.clone(),
                client: self.otlp.clone(),
                own_metrics: Some(self.settings.record.selection.clone()),
                recorder: self.recorder.clone(),
            }
            .run(Handover::new(&node_exports), running.export.clone()),
        );
        let instance = node.instance.clone();
        let task = NodeTask {
            node,
            client,
            settings: Arc::clone(&self.settings),
            base: Arc::clone(&self.base),
            exports: node_exports,
            cluster: self.cluster.clone(),
            recorder: self.recorder.clone(),
        };
        self.polls.spawn(task.run(running.poll.clone()));
        self.running.insert(instance, running);
    }

    /// Stop polling the node; its export task delivers its last points (if not yet) and ends.
    pub fn stop(&mut self, instance: &str) {
        let Some(running) = self.running.remove(instance) else {
            return;
        };
        running.poll.cancel();
        running.export.cancel();
        // A node that left no longer speaks for the cluster; the next leader takes over.
        self.cluster.send_if_modified(|slot| {
            if slot.speaker.as_deref() == Some(instance) {
                slot.speaker = None;
            }
            false
        });
    }

    /// Forget the tasks of stopped nodes that have ended.
    pub fn reap(&mut self) {
        while self.polls.try_join_next().is_some() {}
        while self.exports.try_join_next().is_some() {}
    }

    /// After shutdown: wait for the poll tasks, then give the final exports the grace period,
    /// whatever the OTLP timeout; a hung Collector does not hold the exit.
    pub async fn finish(mut self) {
        while self.polls.join_next().await.is_some() {}
        self.exports_stop.cancel();
        let exports = &mut self.exports;
        let finished = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while exports.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(grace = ?SHUTDOWN_GRACE, "Final exports did not finish within the shutdown grace period.");
            self.exports.abort_all();
        }
    }
}
