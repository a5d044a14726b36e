//! The configuration as the user writes it: the serde schema of every key, one documented field
//! each, `deny_unknown_fields` everywhere. Defaults live here (`Default` impls); turning these
//! into ready-to-run settings is the job of each section's `validate`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    Secret, DEFAULT_COLLECTION_REQUESTS, DEFAULT_DETAIL_EVERY, DEFAULT_DISCOVERY_EVERY,
    DEFAULT_MAX_CONCURRENCY, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_POLL_INTERVAL,
    DEFAULT_QDRANT_TIMEOUT, DEFAULT_QDRANT_URL, DEFAULT_REST_PORT,
};

/// One value or a list (`qdrant.url`). A single string may also hold a comma-separated list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => s
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            OneOrMany::Many(list) => list.clone(),
        }
    }
}

/// The whole configuration as written by the user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    /// The Qdrant nodes to poll and how to reach them.
    pub qdrant: QdrantConfig,
    /// When to poll.
    pub poll: PollConfig,
    /// Where and how to export.
    pub otlp: OtlpConfig,
    /// Extra resource attributes.
    pub resource: ResourceConfig,
    /// The cluster's identity.
    pub cluster: ClusterConfig,
    /// The agent's own logs.
    pub log: LogConfig,
    /// Which collections to report.
    pub collections: CollectionsConfig,
    /// `metrics.<name>.enabled`: switch single metrics on or off (name as in docs/metrics.md,
    /// with dots, or with `_` in their place).
    pub metrics: BTreeMap<String, MetricToggle>,
    /// What not to reveal.
    pub privacy: PrivacyConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionsConfig {
    /// Globs of collection names to report (all when empty): a list, or one string of
    /// comma-separated globs (how an environment variable gives them).
    pub include: OneOrMany,
    /// Globs of collection names not to report (applied after `include`).
    pub exclude: OneOrMany,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricToggle {
    /// Whether the metric is recorded and exported.
    pub enabled: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Replace collection names in exported attributes by a stable, irreversible hash.
    pub hash_collection_names: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QdrantConfig {
    /// REST URL of each Qdrant node to poll (one string, a comma-separated string, or a list).
    pub url: OneOrMany,
    /// API key (read-only is enough), sent as the `api-key` header. Env: `QDRANT_API_KEY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// File holding the API key (e.g. a mounted Kubernetes secret); surrounding whitespace is trimmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    /// JWT, sent as `Authorization: Bearer <jwt>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwt: Option<Secret>,
    /// Per-request timeout (humantime: `5s`, `500ms`). Unset: the smaller of 5s and
    /// `poll.interval`; when set, it must be below `poll.interval`.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// TLS towards Qdrant.
    pub tls: TlsConfig,
    /// Concurrent per-collection requests per node.
    pub max_concurrency: usize,
    /// Largest response body accepted from Qdrant, in bytes; also the bound on all response
    /// bodies held in memory at once.
    pub max_response_bytes: u64,
    /// The node's `service.instance.id` (default: `host:port` of its URL). For an agent that
    /// polls one node, e.g. a sidecar polling `localhost:6333` that must carry the pod's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Follow redirects within the same origin. Off: a redirect is an error (Qdrant does not
    /// redirect), and credentials never go to another server.
    pub follow_redirects: bool,
    /// Find the other nodes of the cluster from the `/cluster` peers of the URLs (the seeds).
    pub discovery: DiscoveryConfig,
}

impl Default for QdrantConfig {
    fn default() -> Self {
        QdrantConfig {
            url: OneOrMany::One(DEFAULT_QDRANT_URL.into()),
            api_key: None,
            api_key_file: None,
            jwt: None,
            timeout: DEFAULT_QDRANT_TIMEOUT,
            tls: TlsConfig::default(),
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            follow_redirects: false,
            instance: None,
            discovery: DiscoveryConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiscoveryConfig {
    /// Treat `qdrant.url` as seeds: poll every peer of their `/cluster`, following membership.
    pub enabled: bool,
    /// A peer's REST port: its REST URL is its p2p URI's host with this port, in the scheme of
    /// the seed that listed it.
    pub rest_port: u16,
    /// A peer's p2p `host:port` → its REST URL, over the port rule (NAT, port mappings). In a
    /// variable: `host:port=url` pairs separated by commas.
    pub addresses: BTreeMap<String, String>,
    /// How often membership is re-read (at least `poll.interval`).
    #[serde(with = "humantime_serde")]
    pub every: Duration,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            enabled: false,
            rest_port: DEFAULT_REST_PORT,
            addresses: BTreeMap::new(),
            every: DEFAULT_DISCOVERY_EVERY,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM file with extra CA certificates to trust (added to the system's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Accept any server certificate. Only for testing.
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PollConfig {
    /// Time between two polls of a node.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Wait before the first poll.
    #[serde(with = "humantime_serde")]
    pub initial_delay: Duration,
    /// Up to this much random delay added to the first poll of each node, to spread load.
    #[serde(with = "humantime_serde")]
    pub jitter: Duration,
    /// Read the slow sources (level-4 telemetry: segments) every Nth poll; the first poll always does.
    pub detail_every: u32,
    /// Most per-collection requests (optimizations, memory, snapshots) one poll makes; they
    /// are spread over polls, busy collections first. 0 switches them off.
    pub collection_requests: u32,
    /// Let the first poll read every per-collection endpoint of every collection (bounded by
    /// `qdrant.max_concurrency` and one poll interval), instead of spreading them.
    pub read_all_at_start: bool,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: DEFAULT_POLL_INTERVAL,
            initial_delay: Duration::ZERO,
            jitter: Duration::ZERO,
            detail_every: DEFAULT_DETAIL_EVERY,
            collection_requests: DEFAULT_COLLECTION_REQUESTS,
            read_all_at_start: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Collector endpoint; for HTTP a base URL (`/v1/metrics` is appended). Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT`, then the OTLP default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `grpc` or `http/protobuf`. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL`, then `http/protobuf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Extra request headers (e.g. an authorization header for a cloud backend), added to
    /// `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` (a name set in both takes this value).
    pub headers: BTreeMap<String, Secret>,
    /// `gzip` or `none`. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION`, then `gzip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Export timeout. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT`, then 10s.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
    /// `cumulative`, `delta` or `lowmemory`: with `delta` counters are exported as deltas
    /// (up-down counters stay cumulative). Unset:
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, then `cumulative`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temporality_preference: Option<String>,
    /// TLS towards the Collector (an `https` endpoint).
    pub tls: OtlpTlsConfig,
    /// Export the agent's own metrics (service `qdrant-otel-agent`) to the same endpoint.
    pub self_telemetry: bool,
    /// Export a trace of each poll (a span per poll, a child per Qdrant request) to the same
    /// endpoint.
    pub traces: bool,
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            endpoint: None,
            protocol: None,
            headers: BTreeMap::new(),
            compression: None,
            timeout: None,
            temporality_preference: None,
            tls: OtlpTlsConfig::default(),
            self_telemetry: true,
            traces: false,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpTlsConfig {
    /// PEM file with CA certificates to trust (added to the system's). Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)CERTIFICATE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// PEM file with the client certificate, for mutual TLS (with `key_file`). Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)CLIENT_CERTIFICATE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<PathBuf>,
    /// PEM file with the client certificate's private key. Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)CLIENT_KEY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceConfig {
    /// Extra resource attributes on every exported resource (override `OTEL_RESOURCE_ATTRIBUTES`).
    pub attributes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Name of the Qdrant cluster: `service.instance.id` of cluster-wide metrics and
    /// `qdrant.cluster.name` on every node. Default `qdrant-cluster`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `error`, `warn`, `info`, `debug`, `trace`, or a tracing filter (`qdrant_otel_agent=debug`).
    pub level: String,
    /// `text` or `json`.
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "text".into(),
        }
    }
}
