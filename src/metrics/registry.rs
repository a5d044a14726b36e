//! The metric registry: every metric the agent can emit, declared once. Export instruments,
//! `docs/metrics.md` and the tests that check coverage are all generated from this table.

use crate::qdrant::endpoints::PER_COLLECTION_TELEMETRY_SINCE;
use crate::qdrant::Version;
use crate::source_id::SourceId;
use crate::sources::SourcePlan;

/// OpenTelemetry instrument kind (all observable: the value lives in Qdrant, not in the agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instrument {
    /// Non-additive value (a state, a ratio, a configuration value).
    Gauge,
    /// Monotonic cumulative sum.
    Counter,
    /// Additive value that can go down (a count or size of things): a non-monotonic sum.
    UpDownCounter,
}

/// Where a sum counts from: the `start_time_unix_nano` of its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountsFrom {
    /// The agent's start (its exporter's creation): the agent's own counters, and every value
    /// that is a level rather than a count (gauges, up-down counters of current sizes).
    Agent,
    /// The Qdrant process's start (poll time − uptime): Qdrant's own counts since it started,
    /// which begin again at 0 when it restarts. The start time moves with each restart, so
    /// that a drop is a reset, never a decrease.
    QdrantStart,
}

/// `counts_from` of a registry entry: `Agent` unless the entry says otherwise.
const fn counts_from(given: &[CountsFrom]) -> CountsFrom {
    match given {
        [from] => *from,
        _ => CountsFrom::Agent,
    }
}

/// Whether values are exported as integers or doubles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    Int,
    Double,
}

/// Which resource a metric belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The Qdrant node that was polled.
    Node,
    /// The whole cluster: emitted once, by whichever node is the raft leader (or by the single
    /// node when cluster mode is off), on a resource named after the cluster.
    Cluster,
}

/// Attribute keys, shared by the registry and the recorder.
pub mod attr {
    pub const COLLECTION: &str = "db.collection.name";
    pub const VECTOR_NAME: &str = "qdrant.vector.name";
    pub const DISTANCE: &str = "qdrant.vector.distance";
    pub const SEGMENT_TYPE: &str = "qdrant.segment.type";
    pub const COMPONENT: &str = "qdrant.component";
    pub const STATE: &str = "state";
    pub const VERSION: &str = "version";
    pub const COMMIT: &str = "commit";
    pub const HTTP_METHOD: &str = "http.request.method";
    pub const HTTP_ROUTE: &str = "http.route";
    pub const HTTP_STATUS: &str = "http.response.status_code";
    pub const RPC_METHOD: &str = "rpc.method";
    pub const GRPC_STATUS: &str = "rpc.grpc.status_code";
    pub const PEER_URI: &str = "qdrant.peer.uri";
    pub const PEER_ID: &str = "qdrant.peer.id";
    /// The agent's `cluster.name`, on every per-node cluster metric: tells apart the nodes of
    /// clusters that share one `service.name` (one Prometheus job).
    pub const CLUSTER_NAME: &str = "qdrant.cluster.name";
    pub const SOURCE: &str = "qdrant.agent.source";
    pub const TRANSFER_DIRECTION: &str = "qdrant.transfer.direction";
    pub const PAYLOAD_FIELD: &str = "qdrant.payload.field";
    pub const PAYLOAD_TYPE: &str = "qdrant.payload.type";
    pub const OPTIMIZER: &str = "qdrant.optimizer";
    pub const SEARCH_PATH: &str = "qdrant.search.path";
    pub const IO_DIRECTION: &str = "qdrant.io.direction";
    pub const IO_TARGET: &str = "qdrant.io.target";
    pub const ISSUE_TYPE: &str = "qdrant.issue.type";
    pub const QUOTA_RESOURCE: &str = "qdrant.quota.resource";
    /// The I/O backend a storage reads its files with (`mmap`, `io_uring`).
    pub const IO_BACKEND: &str = "qdrant.io.backend";
    /// A component's memory placement (`cold`, `cached`, `pinned`).
    pub const MEMORY_PLACEMENT: &str = "qdrant.memory.placement";
    /// One of the two search runtimes (`high_cpu`, `high_io`).
    pub const SEARCH_RUNTIME: &str = "qdrant.search_pool.runtime";
    pub const ERROR_TYPE: &str = "error.type";

    /// Keys the semantic conventions type as integers: exported as int `AnyValue`s (recorded,
    /// rendered and compared as text like every other attribute).
    pub const INT_VALUED: &[&str] = &[HTTP_STATUS, GRPC_STATUS];

    /// The integer an attribute is exported as: for an int-valued key whose value is a whole
    /// number (anything else stays a string).
    pub fn int_value(key: &str, value: &str) -> Option<i64> {
        if INT_VALUED.contains(&key) {
            value.parse().ok()
        } else {
            None
        }
    }
}

/// The semantic conventions version whose names the metrics and resources use, set as the
/// scope's `schema_url`: 1.38.0 has `db.system.name` (1.30.0), `db.collection.name`,
/// `deployment.environment.name`, `http.route`, `http.response.status_code` and
/// `rpc.grpc.status_code` as an int (deprecated in 1.39.0 for a string
/// `rpc.response.status_code`).
pub const SEMCONV_SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.38.0";

/// One metric's declaration.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    pub id: MetricId,
    /// OpenTelemetry name.
    pub name: &'static str,
    pub instrument: Instrument,
    pub value_type: ValueType,
    /// UCUM unit (`s`, `By`, `{point}`) or empty.
    pub unit: &'static str,
    pub attributes: &'static [&'static str],
    /// For state-set metrics: the states always reported (1 for the current one, 0 otherwise).
    pub states: &'static [&'static str],
    pub source: SourceId,
    /// First Qdrant version that provides it.
    pub since: Version,
    pub scope: Scope,
    pub enabled_by_default: bool,
    pub description: &'static str,
    /// The value depends on the wall clock or on timing: masked in golden renderings.
    pub volatile: bool,
    /// Where a sum counts from (`QdrantStart` for Qdrant's own cumulative counts).
    pub counts_from: CountsFrom,
}

impl MetricSpec {
    pub fn get(id: MetricId) -> &'static MetricSpec {
        &REGISTRY[id as usize]
    }

    /// The metric's name after the OTLP → Prometheus translation of the Collector's
    /// prometheus exporter: dots become `_`, `s` adds `_seconds`, `By` adds `_bytes`,
    /// monotonic sums add `_total`, `{x}` units add nothing.
    pub fn prometheus_name(&self) -> String {
        let mut name = self.name.replace('.', "_");
        match self.unit {
            "s" => name.push_str("_seconds"),
            // `{point}/s`: the annotation is dropped and `/s` becomes `_per_second`.
            unit if unit.starts_with('{') && unit.ends_with("}/s") => name.push_str("_per_second"),
            "By" => name.push_str("_bytes"),
            "1" if self.instrument == Instrument::Gauge => name.push_str("_ratio"),
            _ => {}
        }
        if self.instrument == Instrument::Counter {
            name.push_str("_total");
        }
        name
    }
}

/// Which metrics are enabled (`metrics.<name>.enabled`, defaults from the registry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricSelection(Vec<bool>);

impl Default for MetricSelection {
    fn default() -> Self {
        MetricSelection(REGISTRY.iter().map(|s| s.enabled_by_default).collect())
    }
}

impl MetricSelection {
    /// Every metric, opt-in ones included.
    pub fn all() -> MetricSelection {
        MetricSelection(vec![true; REGISTRY.len()])
    }

    pub fn set(&mut self, id: MetricId, enabled: bool) {
        self.0[id as usize] = enabled;
    }

    pub fn is_enabled(&self, id: MetricId) -> bool {
        self.0[id as usize]
    }

    /// The sources the enabled metrics need: a source no enabled metric reads is not called.
    pub fn source_plan(&self) -> SourcePlan {
        let mut wanted: std::collections::BTreeSet<SourceId> = REGISTRY
            .iter()
            .filter(|s| self.is_enabled(s.id))
            .map(|s| s.source)
            .collect();
        // The node's identity, liveness and collection list come from these whatever is enabled.
        wanted.extend([SourceId::App, SourceId::Telemetry]);
        SourcePlan { wanted }
    }
}

impl MetricSpec {
    /// Look a metric up by its OpenTelemetry name, the same with `_` for `.`, or its
    /// Prometheus name (environment variables cannot hold dots).
    pub fn find(name: &str) -> Option<&'static MetricSpec> {
        let wanted = name.trim().to_ascii_lowercase();
        REGISTRY.iter().find(|spec| {
            spec.name == wanted
                || spec.name.replace('.', "_") == wanted
                || spec.prometheus_name() == wanted
        })
    }
}

macro_rules! registry {
    ($(
        $id:ident: $name:literal, $instrument:ident, $value:ident, $unit:literal,
        [$($attr:ident),*], [$($state:literal),*], $source:ident, $since:expr, $scope:ident,
        $enabled:literal, $description:literal $(, volatile = $volatile:literal)?
        $(, from = $from:ident)?;
    )*) => {
        /// Identifies one metric; its discriminant indexes [`REGISTRY`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum MetricId { $($id),* }

        /// Every metric the agent knows, in declaration order.
        pub static REGISTRY: &[MetricSpec] = &[$(
            MetricSpec {
                id: MetricId::$id,
                name: $name,
                instrument: Instrument::$instrument,
                value_type: ValueType::$value,
                unit: $unit,
                attributes: &[$(attr::$attr),*],
                states: &[$($state),*],
                source: SourceId::$source,
                since: $since,
                scope: Scope::$scope,
                enabled_by_default: $enabled,
                description: $description,
                volatile: false $(|| $volatile)?,
                counts_from: counts_from(&[$(CountsFrom::$from)?]),
            }
        ),*];
    };
}

const V1_15: Version = Version(1, 15, 0);
const V1_17: Version = Version(1, 17, 0);
const V1_18: Version = Version(1, 18, 0);
const V1_19: Version = Version(1, 19, 0);
const V1_17_1: Version = PER_COLLECTION_TELEMETRY_SINCE;

registry! {
    // --- node ---------------------------------------------------------------------------------
    Up: "qdrant.up", Gauge, Int, "", [], [], App, V1_15, Node, true,
        "1 if the last poll read the node's version and its collections, else 0.";
    BuildInfo: "qdrant.build.info", Gauge, Int, "", [VERSION, COMMIT], [], App, V1_15, Node, true,
        "Always 1; the Qdrant version and commit are attributes.";
    Uptime: "qdrant.uptime", Gauge, Double, "s", [], [], Telemetry, V1_15, Node, true,
        "Time since the Qdrant process started.", volatile = true;
    Ready: "qdrant.ready", Gauge, Int, "", [], [], Ready, V1_15, Node, true,
        "1 if /readyz answers 200 (all shards ready), else 0.";
    CollectionCount: "qdrant.collection.count", UpDownCounter, Int, "{collection}", [], [], Telemetry, V1_15, Node, true,
        "Number of collections on the node.";
    MemoryActive: "qdrant.memory.active", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Bytes in active pages allocated by the application (jemalloc).";
    MemoryAllocated: "qdrant.memory.allocated", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Bytes allocated by the application (jemalloc).";
    MemoryMetadata: "qdrant.memory.metadata", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Bytes dedicated to allocator metadata (jemalloc).";
    MemoryResident: "qdrant.memory.resident", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Bytes in physically resident data pages mapped by the allocator (jemalloc).";
    MemoryRetained: "qdrant.memory.retained", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Bytes in virtual memory mappings retained by the allocator (jemalloc).";
    SystemCpuCores: "qdrant.system.cpu.cores", UpDownCounter, Int, "{cpu}", [], [], Telemetry, V1_15, Node, true,
        "CPU cores available to Qdrant: before 1.19 the host's cores; 1.19 is said to count a cgroup CPU limit (Qdrant's spec does not describe the field).";
    SystemMemorySize: "qdrant.system.memory.size", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Memory available to Qdrant: since 1.19 the cgroup limit when one applies, else host RAM; before 1.19 the host's RAM.";
    SystemDiskSize: "qdrant.system.disk.size", UpDownCounter, Int, "By", [], [], Telemetry, V1_15, Node, true,
        "Size of the disk holding Qdrant's storage: since 1.19 the filesystem of the storage path (the host's disk if that cannot be read); before 1.19 the host's disk.";
    ProcessCpuCoresUsed: "qdrant.process.cpu.cores_used", Gauge, Double, "{cpu}", [], [], Telemetry, V1_18, Node, true,
        "CPU cores the Qdrant process used, as Qdrant averages it over about the last two seconds; compare with qdrant.system.cpu.cores.";
    SearchPoolMode: "qdrant.search_pool.mode", Gauge, Int, "", [STATE], ["high_cpu", "high_io"], Telemetry, V1_18, Node, true,
        "Search runtime that searches are routed to now: 1 for the current mode, 0 for the other.";
    SearchPoolThreads: "qdrant.search_pool.threads", Gauge, Int, "{thread}", [SEARCH_RUNTIME], [], Telemetry, V1_18, Node, true,
        "Blocking-thread budget of each search runtime (high_cpu, high_io).";
    RestResponses: "qdrant.rest.responses", Counter, Int, "{response}", [HTTP_METHOD, HTTP_ROUTE, HTTP_STATUS], [], Telemetry, V1_15, Node, true,
        "REST responses sent since start, by method, route and status code (every endpoint).", from = QdrantStart;
    RestResponseDuration: "qdrant.rest.response.duration", Counter, Double, "s", [HTTP_METHOD, HTTP_ROUTE, HTTP_STATUS], [], Telemetry, V1_15, Node, true,
        "Sum of REST response times since start; divide its rate by the rate of qdrant.rest.responses for the mean latency.", from = QdrantStart;
    GrpcResponses: "qdrant.grpc.responses", Counter, Int, "{response}", [RPC_METHOD, GRPC_STATUS], [], Telemetry, V1_15, Node, true,
        "gRPC responses sent since start, by method and status code.", from = QdrantStart;
    GrpcResponseDuration: "qdrant.grpc.response.duration", Counter, Double, "s", [RPC_METHOD, GRPC_STATUS], [], Telemetry, V1_15, Node, true,
        "Sum of gRPC response times since start; divide its rate by the rate of qdrant.grpc.responses for the mean latency.", from = QdrantStart;

    // --- cluster, as seen by this node -----------------------------------------------------
    ClusterEnabled: "qdrant.cluster.enabled", Gauge, Int, "", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "1 if the node runs in distributed (cluster) mode.";
    ClusterPeers: "qdrant.cluster.peers", Gauge, Int, "{peer}", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "Peers in the cluster, as known to this node.";
    RaftTerm: "qdrant.cluster.raft.term", Gauge, Int, "{term}", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "Current raft term.";
    RaftCommit: "qdrant.cluster.raft.commit", Gauge, Int, "{operation}", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "Index of the last committed raft operation; a node lagging behind the leader has a lower value.";
    RaftPendingOperations: "qdrant.cluster.raft.pending_operations", Gauge, Int, "{operation}", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "Raft operations waiting to be applied.";
    RaftRole: "qdrant.cluster.raft.role", Gauge, Int, "", [CLUSTER_NAME, STATE], ["leader", "follower", "candidate", "pre_candidate"], Cluster, V1_15, Node, true,
        "Raft role of the node: 1 for the current role, 0 for the others.";
    RaftVoter: "qdrant.cluster.raft.voter", Gauge, Int, "", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "1 if the node is a voting member of the raft group.";
    ConsensusStatus: "qdrant.cluster.consensus.status", Gauge, Int, "", [CLUSTER_NAME, STATE], ["working", "stopped", "stopped_with_err"], Cluster, V1_15, Node, true,
        "State of the node's consensus thread: 1 for the current state, 0 for the others.";
    ConsensusLastUpdate: "qdrant.cluster.consensus.last_update", Gauge, Double, "s", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "Unix time of the consensus thread's last update.";
    ClusterLeader: "qdrant.cluster.leader", Gauge, Int, "", [CLUSTER_NAME], [], Cluster, V1_15, Node, true,
        "1 if this node is the raft leader, else 0.";
    MessageSendFailures: "qdrant.cluster.message_send.failures", Counter, Int, "{failure}", [CLUSTER_NAME, PEER_URI], [], Cluster, V1_15, Node, true,
        "Failed attempts of this node to send consensus messages, by destination peer.", from = QdrantStart;

    // --- collections (this node's local shards) -------------------------------------------
    CollectionPoints: "qdrant.collection.points", UpDownCounter, Int, "{point}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Points in the collection's shards on this node.";
    CollectionVectors: "qdrant.collection.vectors", UpDownCounter, Int, "{vector}", [COLLECTION, VECTOR_NAME], [], Telemetry, V1_15, Node, true,
        "Stored vectors by vector name (\"\" is the unnamed vector), on this node. Before 1.16 Qdrant reports only a total, attributed when the collection has just the unnamed vector.";
    CollectionIndexedVectors: "qdrant.collection.indexed_vectors", UpDownCounter, Int, "{vector}", [COLLECTION, VECTOR_NAME], [], TelemetryDetail, V1_15, Node, true,
        "Vectors covered by a vector index (HNSW), by vector name, on this node. Compare with qdrant.collection.vectors for the indexed share.";
    CollectionDeletedVectors: "qdrant.collection.deleted_vectors", UpDownCounter, Int, "{vector}", [COLLECTION, VECTOR_NAME], [], TelemetryDetail, V1_15, Node, true,
        "Vectors marked deleted but not yet vacuumed by the optimizer, by vector name, on this node.";
    CollectionSegments: "qdrant.collection.segments", UpDownCounter, Int, "{segment}", [COLLECTION, SEGMENT_TYPE], [], TelemetryDetail, V1_15, Node, true,
        "Segments by type (plain, indexed, special), on this node.";
    IoBackendStorages: "qdrant.collection.io_backend.storages", UpDownCounter, Int, "{storage}", [COLLECTION, COMPONENT, IO_BACKEND], [], TelemetryDetail, V1_19, Node, true,
        "Segment storages by the I/O backend that reads their files (mmap, io_uring), on this node: component vector_storage (one per vector per segment) or payload (one per segment). Storages that report no backend (no choice of backend, or before 1.19) are not counted.";
    MemoryPlacementComponents: "qdrant.collection.memory_placement.components", UpDownCounter, Int, "{component}", [COLLECTION, COMPONENT, MEMORY_PLACEMENT], [], TelemetryDetail, V1_19, Node, true,
        "Segment components by memory placement (cold, cached, pinned), on this node: vector_index (HNSW graphs), vector_quantized, sparse_vector_index and payload_index. Components that report no placement (not set, or before 1.19) are not counted.";
    CollectionStatus: "qdrant.collection.status", Gauge, Int, "", [COLLECTION, STATE], ["green", "yellow", "grey", "red"], Telemetry, V1_15, Node, true,
        "Collection status (worst of the local shards): 1 for the current state, 0 for the others. Grey: optimizations pending but not started; yellow: optimizing; red: an operation failed.";
    OptimizerStatus: "qdrant.collection.optimizer.status", Gauge, Int, "", [COLLECTION, STATE], ["ok", "error"], Telemetry, V1_15, Node, true,
        "Optimizer state: 1 for the current state, 0 for the other.";
    UpdateQueueLength: "qdrant.collection.update_queue.length", UpDownCounter, Int, "{operation}", [COLLECTION], [], Telemetry, V1_17, Node, true,
        "Update operations waiting in the local shards' queues.";
    DeferredPoints: "qdrant.collection.deferred_points", UpDownCounter, Int, "{point}", [COLLECTION], [], Telemetry, V1_18, Node, true,
        "Points written but hidden from search until optimized.";
    OptimizedPoints: "qdrant.collection.optimized_points", Counter, Int, "{point}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Points processed by finished optimizations since start.", from = QdrantStart;
    Optimizations: "qdrant.collection.optimizations", Counter, Int, "{optimization}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Finished optimizer runs since start.", from = QdrantStart;
    OptimizationDuration: "qdrant.collection.optimization.duration", Counter, Double, "s", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Total time of finished optimizer runs since start.", from = QdrantStart;
    CollectionSize: "qdrant.collection.size", UpDownCounter, Int, "By", [COLLECTION, COMPONENT], [], Telemetry, V1_15, Node, true,
        "Estimated data size by component (vectors, payload), on this node.";
    ShardTransfers: "qdrant.collection.shard_transfers", UpDownCounter, Int, "{transfer}", [COLLECTION, TRANSFER_DIRECTION], [], Telemetry, V1_15, Node, true,
        "Shard transfers in progress to (incoming) or from (outgoing) this node.";
    VectorDimension: "qdrant.collection.vector.dimension", Gauge, Int, "{dimension}", [COLLECTION, VECTOR_NAME, DISTANCE], [], Telemetry, V1_15, Node, true,
        "Configured dimension of each dense vector, with its distance function.";
    ReplicationFactor: "qdrant.collection.replication_factor", Gauge, Int, "", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Configured replication factor.";

    OptimizationQueued: "qdrant.collection.optimization.queued", UpDownCounter, Int, "{optimization}", [COLLECTION], [], Optimizations, V1_17, Node, true,
        "Optimizations waiting in the queue (the backlog).";
    OptimizationQueuedSegments: "qdrant.collection.optimization.queued_segments", UpDownCounter, Int, "{segment}", [COLLECTION], [], Optimizations, V1_17, Node, true,
        "Unoptimized segments waiting in the queue.";
    OptimizationQueuedPoints: "qdrant.collection.optimization.queued_points", UpDownCounter, Int, "{point}", [COLLECTION], [], Optimizations, V1_17, Node, true,
        "Points in the unoptimized segments waiting in the queue.";
    OptimizationIdleSegments: "qdrant.collection.optimization.idle_segments", UpDownCounter, Int, "{segment}", [COLLECTION], [], Optimizations, V1_17, Node, true,
        "Segments that need no optimization.";
    OptimizationRunning: "qdrant.collection.optimization.running", UpDownCounter, Int, "{optimization}", [COLLECTION, OPTIMIZER], [], Optimizations, V1_17, Node, true,
        "Optimizations running now, by optimizer (indexing, merge, vacuum, …).";
    OptimizationProgress: "qdrant.collection.optimization.progress", Gauge, Double, "1", [COLLECTION, OPTIMIZER], [], Optimizations, V1_17, Node, true,
        "Share of the tracked work done by the running optimizations of each optimizer (from the progress tree's done/total), 0 to 1.";
    OptimizationThroughput: "qdrant.collection.optimization.throughput", Gauge, Double, "{point}/s", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Points optimized per second on this node, from the increase of qdrant.collection.optimized_points over about the last 5 minutes of polls (the agent's own clock). Absent until two polls saw the collection, and again after a Qdrant restart until two polls more.", volatile = true;
    OptimizationEta: "qdrant.collection.optimization.eta", Gauge, Double, "s", [COLLECTION], [], Optimizations, V1_17, Node, true,
        "Expected time until the queued backlog (qdrant.collection.optimization.queued_points) is optimized at qdrant.collection.optimization.throughput; 0 when nothing is queued. Absent when it cannot be known: no throughput yet, nothing optimized over the window (stalled), or the backlog larger than at the window's start (growing). Excludes what running optimizations still have to do.", volatile = true;
    DiskUsage: "qdrant.collection.disk.usage", UpDownCounter, Int, "By", [COLLECTION, COMPONENT, VECTOR_NAME, PAYLOAD_FIELD], [], Memory, V1_18, Node, true,
        "Bytes on disk by component: vector_storage, vector_index, vector_quantized (per vector name), sparse_vector_*, payload, payload_index (per field), id_tracker, ….";
    RamUsage: "qdrant.collection.ram.usage", UpDownCounter, Int, "By", [COLLECTION, COMPONENT, VECTOR_NAME, PAYLOAD_FIELD], [], Memory, V1_18, Node, true,
        "Bytes held in RAM (heap) by component.";
    PageCacheUsage: "qdrant.collection.page_cache.usage", UpDownCounter, Int, "By", [COLLECTION, COMPONENT, VECTOR_NAME, PAYLOAD_FIELD], [], Memory, V1_18, Node, true,
        "Bytes of the component's files currently in the OS page cache.";
    PageCacheExpected: "qdrant.collection.page_cache.expected_usage", UpDownCounter, Int, "By", [COLLECTION, COMPONENT, VECTOR_NAME, PAYLOAD_FIELD], [], Memory, V1_18, Node, true,
        "Bytes of the component's files that should be in the page cache for fast search; above qdrant.collection.page_cache.usage means cold reads.";
    SnapshotCount: "qdrant.collection.snapshot.count", UpDownCounter, Int, "{snapshot}", [COLLECTION], [], Snapshots, V1_15, Node, true,
        "Snapshots of the collection stored on this node.";
    SnapshotSize: "qdrant.collection.snapshot.size", UpDownCounter, Int, "By", [COLLECTION], [], Snapshots, V1_15, Node, true,
        "Total size of the collection's snapshots on this node.";
    SnapshotLastCreated: "qdrant.collection.snapshot.last_created", Gauge, Double, "s", [COLLECTION], [], Snapshots, V1_15, Node, true,
        "Unix time of the newest snapshot of the collection; time() minus it is the snapshot's age.";
    SnapshotRunning: "qdrant.collection.snapshot.running", UpDownCounter, Int, "{snapshot}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Snapshot creations in progress.";
    SnapshotRecoveries: "qdrant.collection.snapshot.running_recoveries", UpDownCounter, Int, "{recovery}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Snapshot recoveries in progress.";
    SnapshotCreations: "qdrant.collection.snapshot.creations", Counter, Int, "{snapshot}", [COLLECTION], [], Telemetry, V1_15, Node, true,
        "Snapshots created since start.", from = QdrantStart;
    PayloadIndexPoints: "qdrant.collection.payload_index.points", UpDownCounter, Int, "{point}", [COLLECTION, PAYLOAD_FIELD, PAYLOAD_TYPE], [], TelemetryDetail, V1_15, Node, false,
        "Points covered by each payload index, by field and type.";
    // Qdrant counts searches per segment: a merge drops the merged segments' counts, so the
    // sum goes down without any restart. The OpenTelemetry data model's monotonic Sum must not
    // decrease within its start time, and the next merge is not a new start: these are
    // non-monotonic cumulative Sums (up-down counters; a Prometheus gauge, no `_total`).
    Searches: "qdrant.collection.searches", UpDownCounter, Int, "{search}", [COLLECTION, VECTOR_NAME, SEARCH_PATH], [], TelemetryDetail, V1_15, Node, false,
        "Searches by vector and search path (unfiltered_hnsw, unfiltered_plain, filtered_*, *_sparse, *_exact) since Qdrant started, summed over the segments alive now: a segment merge drops the merged segments' counts, so the value can go down. Not a monotonic counter, hence no `_total`; compare values with delta() and read a drop as a merge, not as fewer searches.", from = QdrantStart;
    SearchDuration: "qdrant.collection.search.duration", UpDownCounter, Double, "s", [COLLECTION, VECTOR_NAME, SEARCH_PATH], [], TelemetryDetail, V1_15, Node, false,
        "Total time of those searches, summed over the segments alive now: goes down after a segment merge, like qdrant.collection.searches; divide its increase by theirs for the mean latency per search path.", from = QdrantStart;
    HardwareCpu: "qdrant.collection.hardware.cpu", Counter, Int, "{unit}", [COLLECTION], [], Telemetry, V1_15, Node, false,
        "CPU units Qdrant accounted to the collection's requests since start.", from = QdrantStart;
    HardwareIo: "qdrant.collection.hardware.io", Counter, Int, "By", [COLLECTION, IO_DIRECTION, IO_TARGET], [], Telemetry, V1_15, Node, false,
        "Bytes read and written for the collection's requests since start, by direction and target (vector, payload, payload_index).", from = QdrantStart;
    CollectionRestResponses: "qdrant.collection.rest.responses", Counter, Int, "{response}", [COLLECTION, HTTP_METHOD, HTTP_ROUTE, HTTP_STATUS], [], TelemetryPerCollection, V1_17_1, Node, false,
        "REST responses per collection (telemetry with per_collection=true, 1.17.1+).", from = QdrantStart;
    CollectionRestResponseDuration: "qdrant.collection.rest.response.duration", Counter, Double, "s", [COLLECTION, HTTP_METHOD, HTTP_ROUTE, HTTP_STATUS], [], TelemetryPerCollection, V1_17_1, Node, false,
        "Sum of REST response times per collection.", from = QdrantStart;
    CollectionGrpcResponses: "qdrant.collection.grpc.responses", Counter, Int, "{response}", [COLLECTION, RPC_METHOD, GRPC_STATUS], [], TelemetryPerCollection, V1_17_1, Node, false,
        "gRPC responses per collection (per_collection=true, 1.17.1+).", from = QdrantStart;
    CollectionGrpcResponseDuration: "qdrant.collection.grpc.response.duration", Counter, Double, "s", [COLLECTION, RPC_METHOD, GRPC_STATUS], [], TelemetryPerCollection, V1_17_1, Node, false,
        "Sum of gRPC response times per collection.", from = QdrantStart;

    // --- server-wide -------------------------------------------------------------------------
    Issues: "qdrant.issues", UpDownCounter, Int, "{issue}", [ISSUE_TYPE, COLLECTION], [], Issues, V1_15, Node, true,
        "Issues Qdrant reports (/issues: unindexed fields, too many collections, …) by type and collection.";
    StorageSnapshotCount: "qdrant.snapshot.count", UpDownCounter, Int, "{snapshot}", [], [], StorageSnapshots, V1_15, Node, true,
        "Full-storage snapshots on this node.";
    StorageSnapshotSize: "qdrant.snapshot.size", UpDownCounter, Int, "By", [], [], StorageSnapshots, V1_15, Node, true,
        "Total size of the full-storage snapshots.";
    StorageSnapshotLastCreated: "qdrant.snapshot.last_created", Gauge, Double, "s", [], [], StorageSnapshots, V1_15, Node, true,
        "Unix time of the newest full-storage snapshot.";
    QuotaMemoryUsage: "qdrant.quota.memory.usage", Gauge, Double, "1", [], [], Quotas, V1_19, Node, true,
        "Resident memory as a share of the memory available to Qdrant, as the quota measures it.";
    QuotaDiskUsage: "qdrant.quota.disk.usage", Gauge, Double, "1", [], [], Quotas, V1_19, Node, true,
        "Used share of the storage filesystem, as the quota measures it.";
    QuotaMemoryLimit: "qdrant.quota.memory.limit", Gauge, Double, "1", [], [], Quotas, V1_19, Node, true,
        "Configured memory quota (share), when quotas are enabled and a limit is set.";
    QuotaDiskLimit: "qdrant.quota.disk.limit", Gauge, Double, "1", [], [], Quotas, V1_19, Node, true,
        "Configured disk quota (share), when quotas are enabled and a limit is set.";
    QuotaExceeded: "qdrant.quota.exceeded", Gauge, Int, "", [QUOTA_RESOURCE], [], Quotas, V1_19, Node, true,
        "1 while the node refuses updates over a resource's quota (memory, disk), else 0; absent for resources not enforced.";
    QuotaReleaseMargin: "qdrant.quota.release_margin", Gauge, Double, "1", [], [], Quotas, V1_19, Node, true,
        "Configured release margin (share): how far below its limit a resource must fall before the node accepts updates again; when quotas are enabled and the margin is set (unset leaves Qdrant's default, which it does not report).";

    // --- collections, cluster-wide -----------------------------------------------------------
    CollectionShards: "qdrant.collection.shards", UpDownCounter, Int, "{shard}", [COLLECTION], [], Telemetry, V1_15, Cluster, true,
        "Shards of the collection (cluster-wide).";
    CollectionReplicas: "qdrant.collection.replicas", UpDownCounter, Int, "{replica}", [COLLECTION, STATE], ["active", "dead", "partial"], Telemetry, V1_15, Cluster, true,
        "Shard replicas by replica state (cluster-wide). active, dead and partial are always reported; other states (initializing, listener, recovery, resharding, …) when present. Any dead replica deserves attention.";

    LogicalPoints: "qdrant.collection.logical_points", UpDownCounter, Int, "{point}", [COLLECTION], [], ClusterTelemetry, V1_17, Cluster, true,
        "Points in the collection, counting one replica per shard: what GET /collections/{name} reports as points_count (cluster-wide). From /cluster/telemetry on the raft leader; on a single node from its telemetry, at any version.";
    LogicalVectors: "qdrant.collection.logical_vectors", UpDownCounter, Int, "{vector}", [COLLECTION, VECTOR_NAME], [], ClusterTelemetry, V1_17, Cluster, true,
        "Stored vectors by vector name, counting one replica per shard (cluster-wide).";
    ClusterTransfers: "qdrant.collection.cluster_transfers", UpDownCounter, Int, "{transfer}", [COLLECTION], [], ClusterTelemetry, V1_17, Cluster, true,
        "Shard transfers in progress anywhere in the cluster (cluster-wide); a value that stays above 0 for long is a stuck transfer.";
    Reshardings: "qdrant.collection.reshardings", UpDownCounter, Int, "{operation}", [COLLECTION], [], ClusterTelemetry, V1_17, Cluster, true,
        "Resharding operations in progress (cluster-wide).";
    PeerReplicas: "qdrant.collection.peer_replicas", UpDownCounter, Int, "{replica}", [COLLECTION, PEER_ID, STATE], ["active", "dead", "partial"], ClusterTelemetry, V1_17, Cluster, true,
        "Shard replicas of the collection on each peer, by replica state: where the shards live (cluster-wide).";

    QuotaPeerUsage: "qdrant.quota.peer.usage", Gauge, Double, "1", [PEER_ID, QUOTA_RESOURCE], [], Quotas, V1_19, Cluster, true,
        "Each peer's usage of a quota resource (memory, disk) as a share, as that peer reports it to /quotas (cluster-wide). A peer that did not answer is absent: compare the peers listed with qdrant.cluster.peers.";
    QuotaPeerExceeded: "qdrant.quota.peer.exceeded", Gauge, Int, "", [PEER_ID], [], Quotas, V1_19, Cluster, true,
        "1 while a peer is at or over one of its enforced quota limits and refuses updates, else 0 (always 0 while quotas are disabled); cluster-wide, peers that answered /quotas only.";

    // --- the agent itself ---------------------------------------------------------------------
    SourceDuration: "qdrant.agent.source.duration", Gauge, Double, "s", [SOURCE], [], Agent, V1_15, Node, true,
        "Duration of the last request(s) of each source (the whole poll's is `qdrant.agent.poll.duration`, a histogram of the agent's own).", volatile = true;
    PollErrors: "qdrant.agent.poll.errors", Counter, Int, "{error}", [SOURCE, ERROR_TYPE], [], Agent, V1_15, Node, true,
        "Failed polls by source and error type (timeout, connect, http_status, unauthorized, forbidden, not_found, decode, too_large).";
    DataAge: "qdrant.agent.data.age", Gauge, Double, "s", [SOURCE], [], Agent, V1_15, Node, true,
        "Age of the oldest data the series of a slow source still show: for per-collection sources (optimizations, memory, snapshots), the least recently read collection; for telemetry_detail, issues and storage_snapshots, the last good read.", volatile = true;
    ExportedPoints: "qdrant.agent.exported_points", Gauge, Int, "{point}", [], [], Agent, V1_15, Node, true,
        "Data points of this node in the last export.";
}

#[cfg(test)]
mod tests;
