//! The configuration as written, and the one place every key is declared: field, type, default,
//! doc, variables, flag and check. [`sections!`] makes each declaration a serde field and a
//! [`Key`] entry, which the docs, flags, secrets and [`super::checks`] all read.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::DEFAULT_MAX_RESPONSE_BYTES;

/// What a key's value must be, checked by [`super::checks`] wherever the value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    None,
    /// A number at least this.
    AtLeast(u64),
    /// A number or duration above zero.
    Positive,
    /// A duration of at least this many milliseconds.
    AtLeastMillis(u64),
    /// A duration below `poll.interval`, or zero.
    BelowInterval,
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// Not blank.
    NotEmpty,
    /// A readable file of PEM certificates.
    Certificates,
    /// A readable file holding a PEM private key.
    PrivateKey,
}

/// One field of a section: a key, or (with `sub`) a nested section.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub field: &'static str,
    /// Added to the name of a map-valued key: `<name>.enabled` for `metrics`.
    pub suffix: &'static str,
    pub doc: &'static str,
    /// The keys of a nested section.
    pub sub: &'static [Key],
    /// Variables layered like `QDRANT_OTEL_…` ones, below them (`QDRANT_URL`).
    pub alias: &'static [&'static str],
    /// Standard variables read when the key is not set, the first set one wins.
    pub fallback: &'static [&'static str],
    pub flag: &'static str,
    /// The default as documented; empty: rendered from `RawConfig::default()`.
    pub shown: &'static str,
    pub check: Check,
    /// Never parsed from a variable, never shown.
    pub secret: bool,
}

impl Key {
    pub const fn new(field: &'static str, doc: &'static str) -> Key {
        Key {
            field,
            suffix: "",
            doc,
            sub: &[],
            alias: &[],
            fallback: &[],
            flag: "",
            shown: "",
            check: Check::None,
            secret: false,
        }
    }
}

/// Section structs and their [`Key`]s from one declaration per field: doc, serde attributes,
/// `name: Type = default`, then the entry's options (`flag: "--x"`, `check: …`).
macro_rules! sections {
    ($(
        $(#[doc = $section_doc:literal])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $(#[serde($($serde:tt)*)])*
                $field:ident: $ty:ty = $default:expr $(; $($option:ident: $value:expr),+)?,
            )+
        }
    )+) => {$(
        $(#[doc = $section_doc])*
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $name {
            $($(#[doc = $doc])+ $(#[serde($($serde)*)])* pub $field: $ty,)+
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $($field: $default,)+ }
            }
        }

        impl $name {
            pub const KEYS: &'static [Key] = &[$(Key {
                $($($option: $value,)+)?
                ..Key::new(stringify!($field), concat!($($doc),+))
            },)+];
        }
    )+};
}

sections! {
    /// The whole configuration as written by the user.
    pub struct RawConfig {
        /// The Qdrant nodes to poll and how to reach them.
        qdrant: QdrantConfig = QdrantConfig::default(); sub: QdrantConfig::KEYS,
        /// When to poll.
        poll: PollConfig = PollConfig::default(); sub: PollConfig::KEYS,
        /// Which collections to report.
        collections: CollectionsConfig = CollectionsConfig::default(); sub: CollectionsConfig::KEYS,
        /// switch a metric (name with dots, or `_` in their place); a source no enabled metric
        /// needs is not called
        metrics: BTreeMap<String, MetricToggle> = BTreeMap::new();
            suffix: "<name>.enabled", shown: "per metric ([metrics.md](metrics.md))",
        /// What not to reveal.
        privacy: PrivacyConfig = PrivacyConfig::default(); sub: PrivacyConfig::KEYS,
        /// Where and how to export.
        otlp: OtlpConfig = OtlpConfig::default(); sub: OtlpConfig::KEYS,
        /// Extra resource attributes.
        resource: ResourceConfig = ResourceConfig::default(); sub: ResourceConfig::KEYS,
        /// The cluster's identity.
        cluster: ClusterConfig = ClusterConfig::default(); sub: ClusterConfig::KEYS,
        /// The agent's own logs.
        log: LogConfig = LogConfig::default(); sub: LogConfig::KEYS,
    }

    pub struct QdrantConfig {
        /// REST URL of each node to poll (a list, or comma-separated); its `host:port` is the
        /// node's `service.instance.id`. `QDRANT_URL` set but empty is an error
        url: OneOrMany = OneOrMany::One("http://localhost:6333".into());
            alias: &["QDRANT_URL"], flag: "--qdrant-url",
        /// API key (read-only is enough), sent as `api-key`; an all-digit key stays a string.
        /// `QDRANT_API_KEY` empty: unset
        #[serde(skip_serializing_if = "Option::is_none")]
        api_key: Option<Secret> = None; alias: &["QDRANT_API_KEY"], secret: true,
        /// file holding the key (a mounted secret), whitespace trimmed; read and checked at start
        #[serde(skip_serializing_if = "Option::is_none")]
        api_key_file: Option<PathBuf> = None,
        /// JWT sent as `Authorization: Bearer` (set only one of the three)
        #[serde(skip_serializing_if = "Option::is_none")]
        jwt: Option<Secret> = None; secret: true,
        /// per-request timeout; for a body over 8 MiB, parsed as it arrives, it covers the
        /// parsing too; when set, it must be below `poll.interval`
        #[serde(with = "humantime_serde")]
        timeout: Duration = Duration::from_secs(5); shown: "`5s`, at most `poll.interval`",
        /// TLS towards Qdrant.
        tls: TlsConfig = TlsConfig::default(); sub: TlsConfig::KEYS,
        /// concurrent per-collection requests per node
        max_concurrency: usize = 8; check: Check::AtLeast(1),
        /// largest response accepted, in bytes; also the bound on all response bodies in memory
        /// at once
        max_response_bytes: u64 = DEFAULT_MAX_RESPONSE_BYTES; check: Check::AtLeast(1024),
        /// the node's `service.instance.id` when the agent polls one node (a sidecar: the pod's
        /// `ip:port`); also from `service.instance.id` in `resource.attributes` or
        /// `OTEL_RESOURCE_ATTRIBUTES`
        #[serde(skip_serializing_if = "Option::is_none")]
        instance: Option<String> = None; shown: "`host:port` of the URL",
        /// Find the other nodes of the cluster from the `/cluster` peers of the URLs (the seeds).
        discovery: DiscoveryConfig = DiscoveryConfig::default(); sub: DiscoveryConfig::KEYS,
        /// follow redirects within the same origin (scheme, host, port); off: a redirect is an
        /// error
        follow_redirects: bool = false,
    }

    pub struct TlsConfig {
        /// extra CA certificates (PEM) to trust; read and checked at start
        #[serde(skip_serializing_if = "Option::is_none")]
        ca_file: Option<PathBuf> = None; check: Check::Certificates,
        /// accept any certificate (testing only)
        insecure_skip_verify: bool = false,
    }

    pub struct DiscoveryConfig {
        /// the URLs are seeds: poll every peer their `/cluster` lists, and follow peers joining
        /// and leaving (seeds are always polled)
        enabled: bool = false,
        /// a peer's REST URL: its p2p URI's host with this port, in the scheme of the seed
        rest_port: u16 = 6333; check: Check::Positive,
        /// a peer's p2p `host:port` → its REST URL, over the port rule (NAT, port mappings); in
        /// the variable `host:port=url` pairs, comma-separated
        #[serde(deserialize_with = "super::qdrant::address_list")]
        addresses: BTreeMap<String, String> = BTreeMap::new(),
        /// how often membership is re-read (at least `poll.interval`)
        #[serde(with = "humantime_serde")]
        every: Duration = Duration::from_secs(60),
    }

    pub struct PollConfig {
        /// time between polls of a node (≥ 100ms)
        #[serde(with = "humantime_serde")]
        interval: Duration = Duration::from_secs(15);
            flag: "--poll-interval", check: Check::AtLeastMillis(100),
        /// wait before the first poll
        #[serde(with = "humantime_serde")]
        initial_delay: Duration = Duration::ZERO,
        /// random extra delay before each node's first poll
        #[serde(with = "humantime_serde")]
        jitter: Duration = Duration::ZERO; check: Check::BelowInterval,
        /// slow sources (level-4 telemetry: segments; issues; full-storage snapshots) every Nth
        /// poll; the first poll always
        detail_every: u32 = 4; check: Check::AtLeast(1),
        /// most per-collection requests (optimizations, memory, snapshots) per poll, spread
        /// round-robin, busy collections first; 0 = none
        // 16: with the 4–6 fixed requests, a poll stays near 20.
        collection_requests: u32 = 16,
        /// the first poll (and `once`) reads every per-collection endpoint, bounded by
        /// `qdrant.max_concurrency` and one interval
        read_all_at_start: bool = false,
    }

    pub struct CollectionsConfig {
        /// globs of collections to report (a list, or comma-separated)
        include: OneOrMany = OneOrMany::default(); shown: "all",
        /// globs of collections not to report (a list, or comma-separated)
        exclude: OneOrMany = OneOrMany::default(),
    }

    pub struct PrivacyConfig {
        /// replace collection names by a stable hash (16 hex digits of SHA-256)
        hash_collection_names: bool = false,
    }

    pub struct OtlpConfig {
        /// Collector URL; for HTTP a base URL (`/v1/metrics` is appended unless present; the
        /// `METRICS_` variable is the full URL, used verbatim). Unset:
        /// `http://localhost:4318` / `http://localhost:4317`
        #[serde(skip_serializing_if = "Option::is_none")]
        endpoint: Option<String> = None; flag: "--otlp-endpoint",
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"],
        /// `grpc` or `http/protobuf` (`http/json` is not supported)
        #[serde(skip_serializing_if = "Option::is_none")]
        protocol: Option<String> = None; shown: "`http/protobuf`", flag: "--otlp-protocol",
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"],
            check: Check::OneOf(&["grpc", "http/protobuf"]),
        /// extra headers, added to the variable's (`key=value` pairs, comma-separated, values
        /// percent-encoded; same name: this wins); secrets, redacted everywhere. In a variable
        /// name `_` stands for `-` (`…__HEADERS__X_TOKEN` is `x-token`); file and flag names are
        /// kept as written
        headers: BTreeMap<String, Secret> = BTreeMap::new(); suffix: "<name>", secret: true,
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"],
        /// `gzip` or `none` (`zstd` is not supported)
        #[serde(skip_serializing_if = "Option::is_none")]
        compression: Option<String> = None; shown: "`gzip`",
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "OTEL_EXPORTER_OTLP_COMPRESSION"],
            check: Check::OneOf(&["gzip", "none"]),
        /// export timeout (in the variables: milliseconds)
        #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
        timeout: Option<Duration> = None; shown: "`10s`",
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"],
        /// TLS towards the Collector (an `https` endpoint).
        tls: OtlpTlsConfig = OtlpTlsConfig::default(); sub: OtlpTlsConfig::KEYS,
        /// `cumulative`, `delta` or `lowmemory` (any case), as the OpenTelemetry specification
        /// defines them per instrument kind. Every sum the agent exports is observed (an
        /// asynchronous instrument): `delta` exports counters as deltas (each point counts since
        /// the previous one, across Qdrant restarts) and keeps up-down counters cumulative;
        /// `lowmemory` keeps asynchronous counters cumulative, so here it exports as
        /// `cumulative` does (see below)
        #[serde(skip_serializing_if = "Option::is_none")]
        temporality_preference: Option<String> = None; shown: "`cumulative`",
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE"],
        /// also export the agent's own metrics (poll and export durations, bytes, failures,
        /// dropped points, memory held, process CPU and memory) as service `qdrant-otel-agent`,
        /// to the same endpoint over the same connection, every `poll.interval`
        /// ([metrics.md](metrics.md#the-agents-own-metrics))
        self_telemetry: bool = true,
        /// also export a trace of each poll as service `qdrant-otel-agent`: a span per node
        /// poll with a client span per request to Qdrant (HTTP semantic conventions), to the
        /// same Collector over the same connection (for HTTP, `/v1/traces` beside
        /// `/v1/metrics`). Every poll is traced: sample in the Collector if needed
        /// ([metrics.md](metrics.md#traces-of-the-polls))
        traces: bool = false,
    }

    pub struct OtlpTlsConfig {
        /// CA certificates (PEM) to trust besides the system's, for an `https` endpoint; read
        /// and checked at start
        #[serde(skip_serializing_if = "Option::is_none")]
        ca_file: Option<PathBuf> = None; check: Check::Certificates,
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", "OTEL_EXPORTER_OTLP_CERTIFICATE"],
        /// client certificate (PEM) for mutual TLS, with `otlp.tls.key_file`; read and checked
        /// at start
        #[serde(skip_serializing_if = "Option::is_none")]
        cert_file: Option<PathBuf> = None; check: Check::Certificates,
            fallback: &[
                "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
                "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            ],
        /// the client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1); read and checked
        /// at start, its content never shown
        #[serde(skip_serializing_if = "Option::is_none")]
        key_file: Option<PathBuf> = None; check: Check::PrivateKey,
            fallback: &["OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", "OTEL_EXPORTER_OTLP_CLIENT_KEY"],
    }

    pub struct ResourceConfig {
        /// extra resource attributes on everything exported, over the variable's (`key=value`
        /// pairs, comma-separated, values percent-encoded); `OTEL_SERVICE_NAME` sets
        /// `service.name` (default `qdrant`)
        attributes: BTreeMap<String, String> = BTreeMap::new(); suffix: "<key>",
            fallback: &["OTEL_RESOURCE_ATTRIBUTES", "OTEL_SERVICE_NAME"],
    }

    pub struct ClusterConfig {
        /// `service.instance.id` of cluster-wide metrics, `qdrant.cluster.name` on clustered
        /// nodes
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String> = None; shown: "`qdrant-cluster`", check: Check::NotEmpty,
    }

    pub struct LogConfig {
        /// level or tracing filter
        level: String = "info".into(); flag: "--log-level",
        /// `text` or `json` (logs go to stderr)
        format: String = "text".into(); flag: "--log-format", check: Check::OneOf(&["text", "json"]),
    }
}

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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricToggle {
    /// Whether the metric is recorded and exported.
    pub enabled: bool,
}

/// A secret string: never shown by `Debug`, `Display` or `check-config`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

impl<'de> Deserialize<'de> for Secret {
    /// Accepts any scalar: an all-digit key written unquoted in a file is still a key.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Scalar {
            Text(String),
            Unsigned(u64),
            Signed(i64),
            Float(f64),
            Bool(bool),
        }
        Ok(Secret(match Scalar::deserialize(deserializer)? {
            Scalar::Text(s) => s,
            Scalar::Unsigned(n) => n.to_string(),
            Scalar::Signed(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }))
    }
}

/// A key of the whole configuration: its dotted name (a `<…>` segment stands for any name).
#[derive(Debug, Clone)]
pub struct Entry {
    pub name: String,
    pub key: &'static Key,
}

impl Entry {
    /// Whether a path of names is this key.
    pub fn matches(&self, path: &[&str]) -> bool {
        let pattern: Vec<&str> = self.name.split('.').collect();
        pattern.len() == path.len()
            && pattern
                .iter()
                .zip(path)
                .all(|(p, g)| p.starts_with('<') || p == g)
    }
}

/// Every key, in documentation order.
pub fn keys() -> Vec<Entry> {
    fn walk(prefix: &str, keys: &'static [Key], out: &mut Vec<Entry>) {
        for key in keys {
            let name = [prefix, key.field, key.suffix]
                .into_iter()
                .filter(|part| !part.is_empty())
                .collect::<Vec<_>>()
                .join(".");
            match key.sub {
                [] => out.push(Entry { name, key }),
                sub => walk(&name, sub, out),
            }
        }
    }
    let mut out = Vec::new();
    walk("", RawConfig::KEYS, &mut out);
    out
}
