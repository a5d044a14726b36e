//! Configuration: every key declared once in [`schema`], layered by figment ([`layers`]: defaults
//! < file < environment < flags), read and checked key by key ([`checks`]) and turned into
//! [`Settings`] by [`load`], with every problem reported at once under its key and origin.
//! [`Context`] is the only reader of the standard `OTEL_*` variables.

mod checks;
pub mod keys;
mod layers;
mod otlp;
mod qdrant;
pub mod schema;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use figment::value::Value;
use figment::{Figment, Metadata, Profile, Source};

pub use layers::figment;
pub use otlp::{Compression, OtlpProtocol, OtlpSettings, OtlpTls, TemporalityPreference};
pub use qdrant::DiscoverySettings;
pub use schema::{
    ClusterConfig, CollectionsConfig, DiscoveryConfig, LogConfig, MetricToggle, OneOrMany,
    OtlpConfig, OtlpTlsConfig, PollConfig, PrivacyConfig, QdrantConfig, RawConfig, ResourceConfig,
    Secret, TlsConfig,
};

use crate::metrics::{RecordOptions, DEFAULT_CLUSTER_NAME};
use crate::qdrant::ClientSettings;
use crate::sources::PollSettings;
use layers::{LAYER_ENV, LAYER_FLAG};

/// Largest accepted response body. Level-4 telemetry of 10,000 collections is ~60 MB.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 256 * 1024 * 1024;
/// Prefix of the agent's own environment variables (never `QDRANT__`: Qdrant reads that).
pub const ENV_PREFIX: &str = "QDRANT_OTEL_";

/// Values given on the command line; each is the highest-precedence layer for its key.
#[derive(Debug, Clone, Default)]
pub struct FlagValues {
    /// `(dotted key, flag as typed, value)`.
    pub entries: Vec<(&'static str, &'static str, Value)>,
}

/// Where the configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    pub file: Option<PathBuf>,
    pub flags: FlagValues,
    /// The only environment read, `OTEL_*` variables included.
    pub env: HashMap<String, String>,
}

impl ConfigSources {
    pub fn from_process(file: Option<PathBuf>, flags: FlagValues) -> ConfigSources {
        ConfigSources {
            file,
            flags,
            // `vars()` panics on a variable that is not UTF-8, even one the agent never reads.
            env: std::env::vars_os()
                .filter_map(|(name, value)| {
                    Some((name.into_string().ok()?, value.into_string().ok()?))
                })
                .collect(),
        }
    }
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

/// Validated, ready-to-run settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The nodes to poll; with discovery, the seeds.
    pub nodes: Vec<NodeSettings>,
    /// Set when discovery is enabled.
    pub discovery: Option<DiscoverySettings>,
    pub interval: Duration,
    pub initial_delay: Duration,
    pub jitter: Duration,
    pub poll: PollSettings,
    pub otlp: OtlpSettings,
    pub self_telemetry: bool,
    /// Resource attributes from the config (below the per-node identity).
    pub resource_attributes: Vec<(String, String)>,
    pub cluster_name: String,
    pub log_level: String,
    pub log_format: LogFormat,
    /// What `record` emits: enabled metrics, included collections, name hashing.
    pub record: RecordOptions,
}

/// Load and validate. The returned raw configuration holds the effective `qdrant.timeout`.
pub fn load(sources: &ConfigSources) -> Result<(RawConfig, Settings), ConfigError> {
    let figment = figment(sources)?;
    let ctx = Context {
        figment: &figment,
        env: &sources.env,
    };
    let mut problems = Problems::default();
    let mut raw = layers::extract(&ctx, &mut problems);
    let settings = validate(&raw, &ctx, &mut problems);
    if let Some(node) = settings.nodes.first() {
        raw.qdrant.timeout = node.client.timeout;
    }
    if problems.problems.is_empty() {
        Ok((raw, settings))
    } else {
        Err(problems)
    }
}

/// The `qdrant` section first (its timeout is bounded by the interval), then every key's own
/// check from the schema, then what spans keys, in the order of the documentation.
fn validate(raw: &RawConfig, ctx: &Context, problems: &mut Problems) -> Settings {
    let interval = raw.poll.interval;
    let mut nodes = raw.qdrant.validate(ctx, interval, problems);
    qdrant::apply_identity(raw, ctx, &mut nodes, problems);
    let json = serde_json::to_value(raw).unwrap_or_default();
    checks::check_all(&json, interval, ctx, problems);
    let discovery = raw.qdrant.discovery.validate(ctx, interval, problems);
    let otlp = raw.otlp.validate(ctx, problems);
    let resource_attributes = raw.resource.validate(ctx, problems);
    let cluster_name = raw.cluster.name.clone();
    let cluster_name = cluster_name.unwrap_or_else(|| DEFAULT_CLUSTER_NAME.into());
    let log_format = raw.log.validate(ctx, problems);
    let selection = checks::validate_metrics(&raw.metrics, ctx, problems);
    let collections = raw.collections.validate(ctx, problems);
    Settings {
        nodes,
        discovery,
        interval,
        initial_delay: raw.poll.initial_delay,
        jitter: raw.poll.jitter,
        poll: PollSettings {
            detail_every: raw.poll.detail_every,
            max_concurrency: raw.qdrant.max_concurrency,
            collection_requests: raw.poll.collection_requests as usize,
            read_all_at_start: raw.poll.read_all_at_start,
            read_all_within: interval,
            plan: selection.source_plan(),
            collections: collections.clone(),
        },
        otlp,
        self_telemetry: raw.otlp.self_telemetry,
        resource_attributes,
        cluster_name: cluster_name.clone(),
        log_level: raw.log.normalized_level(),
        log_format,
        record: RecordOptions {
            selection,
            collections,
            hash_collection_names: raw.privacy.hash_collection_names,
            cluster_name: cluster_name.into(),
        },
    }
}

/// The effective configuration as pretty JSON, secrets redacted (for `check-config`).
pub fn render_effective(raw: &RawConfig) -> String {
    serde_json::to_string_pretty(raw).unwrap_or_default()
}

/// One configuration problem: the key, where its value came from, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub origin: String,
    pub message: String,
}

/// Every problem found, one per line; while validation runs, the [`Problems`] so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub problems: Vec<Problem>,
}

pub type Problems = ConfigError;

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.problems.len();
        let plural = if count == 1 { "" } else { "s" };
        writeln!(f, "invalid configuration ({count} problem{plural}):")?;
        for p in &self.problems {
            writeln!(f, "  - {} ({}): {}", p.key, p.origin, p.message)?;
        }
        Ok(())
    }
}

impl ConfigError {
    pub fn push(&mut self, key: &str, origin: &str, message: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            origin: origin.into(),
            message: message.into(),
        });
    }

    /// A problem with `key`'s value, naming where that value came from.
    pub fn at(&mut self, ctx: &Context, key: &str, message: impl Into<String>) {
        self.push(key, &ctx.origin(key), message);
    }
}

pub(crate) const BUILT_IN: &str = "built-in default";

/// What validation may consult besides the raw values.
pub struct Context<'a> {
    pub figment: &'a Figment,
    pub env: &'a HashMap<String, String>,
}

impl<'a> Context<'a> {
    /// Where `key`'s value came from; map keys may hold dots (metric names), so a key not found
    /// is looked up by its longest known prefix.
    pub fn origin(&self, key: &str) -> String {
        let keys: Vec<&str> = key.split('.').collect();
        describe_metadata(
            (1..=keys.len())
                .rev()
                .find_map(|n| self.figment.find_metadata(&keys[..n].join("."))),
        )
    }

    /// A variable; blank counts as unset, as the OpenTelemetry specification says.
    pub fn env_var(&self, name: &str) -> Option<&'a str> {
        self.env
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// `config file PATH`, `environment variable NAME`, `command-line flag --NAME` or the default.
pub fn describe_metadata(metadata: Option<&Metadata>) -> String {
    let Some(metadata) = metadata else {
        return BUILT_IN.into();
    };
    if let Some(Source::File(path)) = &metadata.source {
        return format!("config file {}", path.display());
    }
    match metadata.name.as_ref() {
        LAYER_ENV | LAYER_FLAG => format!(
            "{} {}",
            metadata.name,
            metadata.interpolate::<&str>(&Profile::Default, &[])
        ),
        _ => BUILT_IN.into(),
    }
}

/// The origin of a standard variable read from the environment.
pub fn env_origin(name: &str) -> String {
    format!("{LAYER_ENV} {name}")
}
