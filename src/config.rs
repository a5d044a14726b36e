//! Configuration: the raw, documented keys (serde, `deny_unknown_fields`), layered by figment —
//! built-in defaults < config file < environment < command-line flags — and turned into
//! validated [`Settings`] at one boundary. Validation reports every problem at once, each naming
//! the key and where its value came from.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use figment::providers::{Format, Serialized, Toml, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider, Source};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

use crate::metrics::registry::{MetricSelection, MetricSpec};
use crate::metrics::RecordOptions;
use crate::qdrant::{Auth, ClientSettings};
use crate::sources::{CollectionFilter, PollSettings};

/// Qdrant's default REST address.
pub const DEFAULT_QDRANT_URL: &str = "http://localhost:6333";
/// How often each node is polled.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15);
/// Per-request timeout towards Qdrant.
pub const DEFAULT_QDRANT_TIMEOUT: Duration = Duration::from_secs(5);
/// Level-4 telemetry (segments) is read every this many polls.
pub const DEFAULT_DETAIL_EVERY: u32 = 4;
/// Concurrent per-collection requests per node (fallback path only).
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// Largest accepted response body. Level-4 telemetry of 10,000 collections is ~60 MB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// Prefix of the agent's own environment variables (never `QDRANT__`: Qdrant reads that).
pub const ENV_PREFIX: &str = "QDRANT_OTEL_";

/// A secret string (API key, token, header value): never shown by `Debug`, `Display` or
/// `check-config`.
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

/// One value or a list (`qdrant.url`). A single string may also hold a comma-separated list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
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
    pub qdrant: QdrantConfig,
    pub poll: PollConfig,
    pub otlp: OtlpConfig,
    pub resource: ResourceConfig,
    pub cluster: ClusterConfig,
    pub log: LogConfig,
    pub collections: CollectionsConfig,
    /// `metrics.<name>.enabled`: switch single metrics on or off (name as in docs/metrics.md,
    /// with dots, or with `_` in their place).
    pub metrics: BTreeMap<String, MetricToggle>,
    pub privacy: PrivacyConfig,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CollectionsConfig {
    /// Globs of collection names to report (all when empty).
    pub include: Vec<String>,
    /// Globs of collection names not to report (applied after `include`).
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricToggle {
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
    /// Per-request timeout (humantime: `5s`, `500ms`). Must be below `poll.interval`.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    pub tls: TlsConfig,
    /// Concurrent per-collection requests per node.
    pub max_concurrency: usize,
    /// Largest response body accepted from Qdrant, in bytes.
    pub max_response_bytes: u64,
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
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            interval: DEFAULT_POLL_INTERVAL,
            initial_delay: Duration::ZERO,
            jitter: Duration::ZERO,
            detail_every: DEFAULT_DETAIL_EVERY,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OtlpConfig {
    /// Collector endpoint (`http://host:4318` for HTTP, `http://host:4317` for gRPC). Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)ENDPOINT`, then the OTLP default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// `grpc` or `http/protobuf`. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL`, then `http/protobuf`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// Extra request headers (e.g. an authorization header for a cloud backend). Unset:
    /// `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS`.
    pub headers: BTreeMap<String, Secret>,
    /// `gzip` or `none`. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)COMPRESSION`, then `gzip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    /// Export timeout. Unset: `OTEL_EXPORTER_OTLP_(METRICS_)TIMEOUT`, then 10s.
    #[serde(with = "humantime_serde", skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Duration>,
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

/// Values given on the command line; each is the highest-precedence layer for its key.
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    /// `(dotted key, flag as typed, value)`.
    pub entries: Vec<(&'static str, &'static str, Value)>,
}

/// Where the configuration comes from: the process environment and the command line.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    pub flags: FlagValues,
    /// Environment variables (usually `std::env::vars()`).
    pub env: HashMap<String, String>,
}

impl ConfigSources {
    pub fn from_process(file: Option<PathBuf>, flags: FlagValues) -> ConfigSources {
        ConfigSources {
            file,
            flags,
            env: std::env::vars().collect(),
        }
    }
}

/// One configuration problem: the key, where its value came from, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub origin: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.key, self.origin, self.message)
    }
}

/// Every problem found, listed one per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        writeln!(
            f,
            "invalid configuration ({count} problem{}):",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

/// A provider for values given one by one (raw environment variables, flags), remembering the
/// name each came from so errors can cite it.
struct Explicit {
    layer: &'static str,
    key: String,
    label: String,
    value: Value,
}

impl Provider for Explicit {
    fn metadata(&self) -> Metadata {
        let label = self.label.clone();
        Metadata::named(self.layer).interpolater(move |_: &Profile, _: &[&str]| label.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = match figment::util::nest(&self.key, self.value.clone()) {
            Value::Dict(_, dict) => dict,
            _ => Dict::new(),
        };
        Ok(Profile::Default.collect(dict))
    }
}

const LAYER_ENV: &str = "environment variable";
const LAYER_FLAG: &str = "command-line flag";

/// Keys whose environment values are taken verbatim (never parsed as numbers or lists).
fn is_secret_env_key(var: &str) -> bool {
    let key = var.to_ascii_lowercase();
    key == "qdrant__api_key" || key == "qdrant__jwt" || key.starts_with("otlp__headers__")
}

/// Layer the sources into one figment.
pub fn figment(sources: &ConfigSources) -> Result<Figment, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = &sources.file {
        if !path.is_file() {
            return Err(ConfigError {
                problems: vec![Problem {
                    key: "--config".into(),
                    origin: LAYER_FLAG.into(),
                    message: format!(
                        "config file {} does not exist or is not a file",
                        path.display()
                    ),
                }],
            });
        }
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        figment = match extension {
            "yaml" | "yml" => figment.merge(Yaml::file_exact(path)),
            "toml" => figment.merge(Toml::file_exact(path)),
            _ => {
                return Err(ConfigError {
                    problems: vec![Problem {
                        key: "--config".into(),
                        origin: LAYER_FLAG.into(),
                        message: format!(
                            "config file {} must end in .yaml, .yml or .toml",
                            path.display()
                        ),
                    }],
                })
            }
        };
    }

    // The documented short names, as the original exporter read them.
    let env_value = |name: &str| sources.env.get(name).filter(|v| !v.is_empty());
    if let Some(url) = env_value("QDRANT_URL") {
        figment = figment.merge(explicit(
            LAYER_ENV,
            "qdrant.url",
            "QDRANT_URL",
            Value::from(url.clone()),
        ));
    }
    if let Some(key) = env_value("QDRANT_API_KEY") {
        figment = figment.merge(explicit(
            LAYER_ENV,
            "qdrant.api_key",
            "QDRANT_API_KEY",
            Value::from(key.clone()),
        ));
    }
    // QDRANT_OTEL_<SECTION>__<KEY>, parsed (numbers, booleans) except for secrets.
    figment = figment.merge(PrefixedEnv {
        env: sources.env.clone(),
    });
    let mut secret_vars: Vec<(&String, &String)> = sources
        .env
        .iter()
        .filter(|(name, _)| name.strip_prefix(ENV_PREFIX).is_some_and(is_secret_env_key))
        .collect();
    secret_vars.sort();
    for (name, value) in secret_vars {
        let key = name[ENV_PREFIX.len()..]
            .to_ascii_lowercase()
            .replace("__", ".");
        figment = figment.merge(Explicit {
            layer: LAYER_ENV,
            key,
            label: name.clone(),
            value: Value::from(value.clone()),
        });
    }

    for (key, flag, value) in &sources.flags.entries {
        figment = figment.merge(explicit(LAYER_FLAG, key, flag, value.clone()));
    }
    Ok(figment)
}

fn explicit(layer: &'static str, key: &str, label: &str, value: Value) -> Explicit {
    Explicit {
        layer,
        key: key.to_string(),
        label: label.to_string(),
        value,
    }
}

/// `QDRANT_OTEL_<SECTION>__<KEY>` variables, values parsed like figment's `Env` does (numbers,
/// booleans, lists), read from a given map so tests need not touch the process environment.
struct PrefixedEnv {
    env: HashMap<String, String>,
}

impl Provider for PrefixedEnv {
    fn metadata(&self) -> Metadata {
        Metadata::named(LAYER_ENV).interpolater(|_: &Profile, keys: &[&str]| {
            format!("{ENV_PREFIX}{}", keys.join("__").to_ascii_uppercase())
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, value) in &self.env {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let key = rest.to_ascii_lowercase();
            if key.is_empty() || is_secret_env_key(&key) {
                continue;
            }
            let parsed: Value = value.parse().unwrap_or_else(|_| Value::from(value.clone()));
            let nested = figment::util::nest(&key.replace("__", "."), parsed);
            if let Value::Dict(_, nested) = nested {
                merge_dicts(&mut dict, nested);
            }
        }
        Ok(Profile::Default.collect(dict))
    }
}

fn merge_dicts(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => {
                merge_dicts(existing, nested)
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Describe where `key`'s value came from.
///
/// Map keys may themselves hold dots (metric and attribute names), so a key that cannot be
/// found is looked up by its longest known prefix.
fn origin(figment: &Figment, key: &str) -> String {
    let keys: Vec<&str> = key.split('.').collect();
    (1..=keys.len())
        .rev()
        .find_map(|n| {
            let prefix = keys[..n].join(".");
            figment
                .find_metadata(&prefix)
                .map(|metadata| describe_metadata(Some(metadata), &keys[..n]))
        })
        .unwrap_or_else(|| describe_metadata(None, &keys))
}

fn describe_metadata(metadata: Option<&Metadata>, keys: &[&str]) -> String {
    let Some(metadata) = metadata else {
        return "built-in default".into();
    };
    if let Some(Source::File(path)) = &metadata.source {
        return format!("config file {}", path.display());
    }
    match metadata.name.as_ref() {
        LAYER_ENV | LAYER_FLAG => format!(
            "{} {}",
            metadata.name,
            metadata.interpolate(&Profile::Default, keys)
        ),
        _ => "built-in default".into(),
    }
}

/// Load and validate.
pub fn load(sources: &ConfigSources) -> Result<(RawConfig, Settings), ConfigError> {
    let figment = figment(sources)?;
    let raw: RawConfig = figment.extract().map_err(|error| ConfigError {
        problems: error
            .into_iter()
            .map(|e| {
                let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
                Problem {
                    key: if keys.is_empty() {
                        "(config)".into()
                    } else {
                        keys.join(".")
                    },
                    origin: describe_metadata(e.metadata.as_ref(), &keys),
                    message: e.kind.to_string(),
                }
            })
            .collect(),
    })?;
    let settings = validate(&raw, &figment, &sources.env)?;
    Ok((raw, settings))
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// One Qdrant node to poll.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// `host:port`: the node's `service.instance.id`.
    pub instance: String,
    pub address: String,
    pub port: u16,
    pub client: ClientSettings,
}

/// OTLP settings: `None` means "not set by the agent's config", leaving the standard
/// `OTEL_EXPORTER_OTLP_*` variables (read by the exporter itself) in charge.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub protocol: OtlpProtocol,
    pub endpoint: Option<String>,
    pub headers: Option<Vec<(String, Secret)>>,
    pub compression: Option<Compression>,
    pub timeout: Option<Duration>,
}

/// Validated, ready-to-run settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub nodes: Vec<NodeSettings>,
    pub interval: Duration,
    pub initial_delay: Duration,
    pub jitter: Duration,
    pub poll: PollSettings,
    pub otlp: OtlpSettings,
    /// Resource attributes from the config (highest precedence below the per-node identity).
    pub resource_attributes: Vec<(String, String)>,
    pub cluster_name: String,
    pub log_level: String,
    pub log_format: LogFormat,
    /// What `record` emits: enabled metrics, included collections, name hashing.
    pub record: RecordOptions,
}

/// Default `qdrant.cluster.name`.
pub const DEFAULT_CLUSTER_NAME: &str = "qdrant-cluster";

fn validate(
    raw: &RawConfig,
    figment: &Figment,
    env: &HashMap<String, String>,
) -> Result<Settings, ConfigError> {
    let mut problems = Vec::new();
    let mut problem = |key: &str, message: String| {
        problems.push(Problem {
            key: key.to_string(),
            origin: origin(figment, key),
            message,
        })
    };

    // --- qdrant ---
    let auth = {
        let given: Vec<&str> = [
            raw.qdrant.api_key.as_ref().map(|_| "qdrant.api_key"),
            raw.qdrant
                .api_key_file
                .as_ref()
                .map(|_| "qdrant.api_key_file"),
            raw.qdrant.jwt.as_ref().map(|_| "qdrant.jwt"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() > 1 {
            problem(given[1], format!("set only one of {}", given.join(", ")));
        }
        if let Some(key) = &raw.qdrant.api_key {
            if key.expose().trim().is_empty() {
                problem("qdrant.api_key", "must not be empty".into());
            }
            Auth::ApiKey(key.expose().trim().to_string())
        } else if let Some(path) = &raw.qdrant.api_key_file {
            match std::fs::read_to_string(path) {
                Ok(text) if !text.trim().is_empty() => Auth::ApiKey(text.trim().to_string()),
                Ok(_) => {
                    problem(
                        "qdrant.api_key_file",
                        format!("{} is empty", path.display()),
                    );
                    Auth::None
                }
                Err(e) => {
                    problem(
                        "qdrant.api_key_file",
                        format!("cannot read {}: {e}", path.display()),
                    );
                    Auth::None
                }
            }
        } else if let Some(jwt) = &raw.qdrant.jwt {
            Auth::Jwt(jwt.expose().trim().to_string())
        } else {
            Auth::None
        }
    };
    if let Some(path) = &raw.qdrant.tls.ca_file {
        if !path.is_file() {
            problem(
                "qdrant.tls.ca_file",
                format!("{} does not exist or is not a file", path.display()),
            );
        }
    }
    if raw.qdrant.timeout.is_zero() {
        problem("qdrant.timeout", "must be greater than 0".into());
    } else if raw.qdrant.timeout >= raw.poll.interval && !raw.poll.interval.is_zero() {
        problem(
            "qdrant.timeout",
            format!(
                "must be below poll.interval ({} >= {})",
                humantime::format_duration(raw.qdrant.timeout),
                humantime::format_duration(raw.poll.interval)
            ),
        );
    }
    if raw.qdrant.max_concurrency == 0 {
        problem("qdrant.max_concurrency", "must be at least 1".into());
    }
    if raw.qdrant.max_response_bytes < 1024 {
        problem("qdrant.max_response_bytes", "must be at least 1024".into());
    }
    let mut nodes: Vec<NodeSettings> = Vec::new();
    let urls = raw.qdrant.url.to_vec();
    if urls.is_empty() {
        problem("qdrant.url", "at least one Qdrant URL is required".into());
    }
    for text in urls {
        match parse_http_url(&text) {
            Ok((url, address, port)) => {
                let instance = format!("{}:{port}", url.host_str().unwrap_or_default());
                if nodes.iter().any(|n| n.instance == instance) {
                    problem("qdrant.url", format!("{text:?} is listed twice"));
                    continue;
                }
                nodes.push(NodeSettings {
                    instance,
                    address,
                    port,
                    client: ClientSettings {
                        base_url: url,
                        auth: auth.clone(),
                        timeout: raw.qdrant.timeout,
                        max_response_bytes: raw.qdrant.max_response_bytes,
                        ca_file: raw.qdrant.tls.ca_file.clone(),
                        insecure_skip_verify: raw.qdrant.tls.insecure_skip_verify,
                    },
                });
            }
            Err(message) => problem("qdrant.url", format!("{text:?}: {message}")),
        }
    }

    // --- poll ---
    if raw.poll.interval < Duration::from_millis(100) {
        problem("poll.interval", "must be at least 100ms".into());
    }
    if raw.poll.jitter >= raw.poll.interval && !raw.poll.jitter.is_zero() {
        problem("poll.jitter", "must be below poll.interval".into());
    }
    if raw.poll.detail_every == 0 {
        problem("poll.detail_every", "must be at least 1".into());
    }

    // --- otlp ---
    let env_var = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| env.get(*n).filter(|v| !v.trim().is_empty()).cloned())
    };
    let protocol_text = raw.otlp.protocol.clone().or_else(|| {
        env_var([
            "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ])
    });
    let protocol = match protocol_text.as_deref().map(str::trim) {
        None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
        Some("grpc") => OtlpProtocol::Grpc,
        Some(other) => {
            let key = if raw.otlp.protocol.is_some() {
                "otlp.protocol"
            } else {
                "OTEL_EXPORTER_OTLP_PROTOCOL"
            };
            problem(
                key,
                format!("{other:?} is not supported: use grpc or http/protobuf"),
            );
            OtlpProtocol::HttpProtobuf
        }
    };
    let endpoint = raw
        .otlp
        .endpoint
        .as_ref()
        .and_then(|text| match parse_http_url(text) {
            Ok((url, _, _)) => Some(match protocol {
                // Same meaning as OTEL_EXPORTER_OTLP_ENDPOINT: a base URL to which the signal path
                // is appended (the exporter would use a programmatic URL verbatim).
                OtlpProtocol::HttpProtobuf if !url.path().ends_with("/v1/metrics") => {
                    format!("{}/v1/metrics", url.as_str().trim_end_matches('/'))
                }
                _ => url.as_str().trim_end_matches('/').to_string(),
            }),
            Err(message) => {
                problem("otlp.endpoint", format!("{text:?}: {message}"));
                None
            }
        });
    let compression = match raw.otlp.compression.as_deref() {
        Some("gzip") => Some(Compression::Gzip),
        Some("none") => Some(Compression::None),
        Some(other) => {
            problem(
                "otlp.compression",
                format!("{other:?} is not supported: use gzip or none"),
            );
            None
        }
        // gzip by default, unless the standard variable says otherwise.
        None if env_var([
            "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
            "OTEL_EXPORTER_OTLP_COMPRESSION",
        ])
        .is_some() =>
        {
            None
        }
        None => Some(Compression::Gzip),
    };
    if raw.otlp.timeout.is_some_and(|t| t.is_zero()) {
        problem("otlp.timeout", "must be greater than 0".into());
    }
    for (name, value) in &raw.otlp.headers {
        if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
            problem(
                &format!("otlp.headers.{name}"),
                "is not a valid HTTP header name".into(),
            );
        }
        if reqwest::header::HeaderValue::from_str(value.expose()).is_err() {
            problem(
                &format!("otlp.headers.{name}"),
                "the value holds characters not allowed in an HTTP header".into(),
            );
        }
    }
    let headers = (!raw.otlp.headers.is_empty()).then(|| {
        raw.otlp
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });

    // --- resource, cluster, log ---
    for key in raw.resource.attributes.keys() {
        if key.trim().is_empty() {
            problem(
                "resource.attributes",
                "attribute names must not be empty".into(),
            );
        } else if key == "service.instance.id" {
            problem(
                &format!("resource.attributes.{key}"),
                "is set per node by the agent (host:port) and cannot be overridden".into(),
            );
        }
    }
    let cluster_name = raw
        .cluster
        .name
        .clone()
        .unwrap_or_else(|| DEFAULT_CLUSTER_NAME.to_string());
    if cluster_name.trim().is_empty() {
        problem("cluster.name", "must not be empty".into());
    }
    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        problem(
            "log.level",
            format!(
                "{:?} is not a level (error, warn, info, debug, trace) or a tracing filter",
                raw.log.level
            ),
        );
    }
    let log_format = match raw.log.format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            problem(
                "log.format",
                format!("{other:?} is not supported: use text or json"),
            );
            LogFormat::Text
        }
    };

    let mut selection = MetricSelection::default();
    for (name, toggle) in &raw.metrics {
        match MetricSpec::find(name) {
            Some(spec) => selection.set(spec.id, toggle.enabled),
            None => problem(
                &format!("metrics.{name}"),
                "is not a metric of this agent (see docs/metrics.md for the names)".into(),
            ),
        }
    }
    let collection_filter =
        match CollectionFilter::new(&raw.collections.include, &raw.collections.exclude) {
            Ok(filter) => filter,
            Err(message) => {
                problem("collections.include", format!("invalid glob {message}"));
                CollectionFilter::default()
            }
        };

    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }
    Ok(Settings {
        nodes,
        interval: raw.poll.interval,
        initial_delay: raw.poll.initial_delay,
        jitter: raw.poll.jitter,
        poll: PollSettings {
            detail_every: raw.poll.detail_every,
            max_concurrency: raw.qdrant.max_concurrency,
            plan: selection.source_plan(),
            collections: collection_filter.clone(),
        },
        otlp: OtlpSettings {
            protocol,
            endpoint,
            headers,
            compression,
            timeout: raw.otlp.timeout,
        },
        resource_attributes: raw
            .resource
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        cluster_name,
        log_level: raw.log.level.clone(),
        log_format,
        record: RecordOptions {
            selection,
            collections: collection_filter,
            hash_collection_names: raw.privacy.hash_collection_names,
        },
    })
}

/// An absolute http(s) URL with a host; returns it with the host and the (default) port.
fn parse_http_url(text: &str) -> Result<(Url, String, u16), String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "scheme must be http or https, not {:?}",
            url.scheme()
        ));
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    Ok((url, host, port))
}

/// The effective configuration as pretty JSON, secrets redacted (for `check-config`).
pub fn render_effective(raw: &RawConfig) -> String {
    serde_json::to_string_pretty(raw).unwrap_or_default()
}
