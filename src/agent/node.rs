//! The poll loop of one node: after an initial delay and jitter, poll on an interval, never
//! overlapping its own previous poll; record each snapshot and hand the points to the node's
//! export task (and, while this node leads the raft, to the cluster's) without waiting for
//! any export.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rand::Rng;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::exporter::{Batch, ClusterSlot};
use super::memory;
use super::process_start::ProcessStart;
use super::stats::NodeStats;
use crate::config::{NodeSettings, Settings};
use crate::export::EncodedPoints;
use crate::metrics::{record_into, ClusterRole, RecordSummary};
use crate::qdrant::Client;
use crate::resource::{cluster_resource, node_resource, BaseAttributes, NodeIdentity};
use crate::snapshot::NodeSnapshot;
use crate::sources::{poll_node, NodeState};
use crate::telemetry::{DropReason, Recorder};

/// Everything one node's poll loop needs.
pub struct NodeTask {
    pub node: NodeSettings,
    pub client: Client,
    pub settings: Arc<Settings>,
    pub base: Arc<BaseAttributes>,
    pub exports: watch::Sender<Option<Arc<Batch>>>,
    pub cluster: watch::Sender<ClusterSlot>,
    pub recorder: Recorder,
}

impl NodeTask {
    pub async fn run(self, shutdown: CancellationToken) {
        let settings = Arc::clone(&self.settings);
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
        let mut state = NodeState::default();
        let mut stats = NodeStats::recording(self.recorder.clone());
        let mut qdrant_start = ProcessStart::default();
        let mut polls: u64 = 0;
        // How many bytes the last poll's points took, per metric: the next poll's buffers are
        // made that big at once.
        let mut sizes = (Vec::new(), Vec::new());
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.cancelled() => break,
            }
            let started = std::time::Instant::now();
            let poll = self.recorder.poll(
                self.client.base_url(),
                poll_node(
                    &self.client,
                    &self.node.instance,
                    &settings.poll,
                    &mut state,
                ),
            );
            let snapshot = tokio::select! {
                snapshot = poll => snapshot,
                _ = shutdown.cancelled() => break,
            };
            let seconds = started.elapsed().as_secs_f64();
            self.recorder.poll_finished(&self.node.instance, seconds);
            stats.observe(&snapshot);
            let mut node = EncodedPoints::with_sizes(&sizes.0);
            let mut cluster = EncodedPoints::with_sizes(&sizes.1);
            let summary = record_into(
                &snapshot,
                &stats.stats,
                &settings.record,
                &mut node,
                &mut cluster,
            );
            stats.count_dropped(&self.node.instance, &summary.dropped);
            sizes = (node.sizes(), cluster.sizes());
            let started = qdrant_start.observe(snapshot.process_start, snapshot.uptime_seconds);
            self.hand_over(&snapshot, &summary, started, (node, cluster));
            drop(snapshot);
            polls += 1;
            if memory::trim_due(polls, memory::heap_usage()) {
                memory::release_free_memory();
                if let Some((in_use, size)) = memory::heap_usage() {
                    tracing::debug!(
                        polls,
                        heap.in_use = in_use,
                        heap.size = size,
                        "Heap trimmed."
                    );
                }
            }
        }
    }

    /// A batch handed over earlier and not yet taken by its export task is replaced: its
    /// points will never be delivered.
    fn replaced(&self, resource: &str, unsent: Option<Arc<Batch>>) {
        if let Some(batch) = unsent {
            let points = batch.points.len() as u64;
            self.recorder
                .points_dropped(resource, points, DropReason::Replaced);
        }
    }

    /// Give the points to the export tasks; never waits for an export.
    /// `qdrant_start` is when the node's Qdrant process started (the start time of its own
    /// counters); the cluster's points have none (no cluster-wide metric counts from it).
    fn hand_over(
        &self,
        snapshot: &NodeSnapshot,
        recorded: &RecordSummary,
        qdrant_start: Option<SystemTime>,
        (node, cluster): (EncodedPoints, EncodedPoints),
    ) {
        let clustered = recorded.cluster_role != ClusterRole::Standalone;
        let identity = NodeIdentity {
            instance: self.node.instance.clone(),
            address: self.node.address.clone(),
            port: self.node.port,
            version: snapshot.app.as_ref().and_then(|a| a.version.clone()),
            peer_id: snapshot.cluster.as_ref().and_then(|c| c.peer_id),
            cluster_name: clustered.then(|| self.settings.cluster_name.clone()),
        };
        let unsent = self.exports.send_replace(Some(Arc::new(Batch {
            resource: node_resource(&self.base, &identity),
            points: Arc::new(node),
            qdrant_start,
        })));
        self.replaced(&self.node.instance, unsent);
        let me = &self.node.instance;
        let leads = recorded.cluster_role == ClusterRole::Leader;
        let resource = || cluster_resource(&self.base, &self.settings.cluster_name);
        self.cluster.send_if_modified(|slot| {
            if leads {
                slot.speaker = Some(me.clone());
                let unsent = slot.batch.replace(Arc::new(Batch {
                    resource: resource(),
                    points: Arc::new(cluster),
                    qdrant_start: None,
                }));
                self.replaced(&self.settings.cluster_name, unsent);
                true
            } else if slot.speaker.as_ref() == Some(me) {
                // No longer the leader: it stops speaking, and the last points stay until the
                // new leader's replace them (no gap, no duplicate when leadership moves).
                slot.speaker = None;
                false
            } else {
                false
            }
        });
    }
}
