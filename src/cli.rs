//! Command-line interface: subcommands and the flags that override configuration keys.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use figment::value::Value;

use crate::config::FlagValues;

/// Polls Qdrant (one node or a cluster) and pushes OpenTelemetry metrics over OTLP.
///
/// Configuration layers, lowest to highest: built-in defaults < --config file < environment
/// (QDRANT_URL, QDRANT_API_KEY, QDRANT_OTEL_<SECTION>__<KEY>, OTEL_EXPORTER_OTLP_*) < flags.
#[derive(Debug, Parser)]
#[command(name = "qdrant-otel-agent", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Config file (YAML or TOML, by extension).
    #[arg(long, short = 'c', global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Qdrant REST URL (repeat for several nodes). Key: qdrant.url.
    #[arg(long = "qdrant-url", global = true, value_name = "URL")]
    pub qdrant_url: Vec<String>,

    /// Time between polls, e.g. 15s. Key: poll.interval.
    #[arg(long, global = true, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub poll_interval: Option<Duration>,

    /// OTLP endpoint, e.g. http://localhost:4318. Key: otlp.endpoint.
    #[arg(long, global = true, value_name = "URL")]
    pub otlp_endpoint: Option<String>,

    /// OTLP protocol. Key: otlp.protocol.
    #[arg(long, global = true, value_name = "PROTOCOL", value_parser = ["grpc", "http/protobuf"])]
    pub otlp_protocol: Option<String>,

    /// Log level or tracing filter. Key: log.level.
    #[arg(long, global = true, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Log format. Key: log.format.
    #[arg(long, global = true, value_name = "FORMAT", value_parser = ["text", "json"])]
    pub log_format: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Poll and export until SIGINT/SIGTERM (the default).
    Run,
    /// Validate the configuration and print it (secrets redacted); contacts nothing.
    CheckConfig,
    /// Poll every node once and print the points; no export.
    Once {
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
    /// Write the generated documentation: the metric reference (docs/metrics.md) from the
    /// registry, and the key table of docs/configuration.md (between its marker comments).
    Docs {
        /// Where to write the metric reference.
        #[arg(long, default_value = crate::metrics::docs::METRICS_DOC_PATH)]
        output: PathBuf,
        /// The configuration document whose key table is regenerated in place.
        #[arg(long, default_value = crate::config::keys::CONFIG_DOC_PATH)]
        config_doc: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

impl Cli {
    /// The flags that set configuration keys, as the highest configuration layer.
    pub fn flag_values(&self) -> FlagValues {
        let mut entries = Vec::new();
        if !self.qdrant_url.is_empty() {
            entries.push((
                "qdrant.url",
                "--qdrant-url",
                Value::from(self.qdrant_url.clone()),
            ));
        }
        if let Some(interval) = self.poll_interval {
            entries.push((
                "poll.interval",
                "--poll-interval",
                Value::from(humantime::format_duration(interval).to_string()),
            ));
        }
        let strings = [
            ("otlp.endpoint", "--otlp-endpoint", &self.otlp_endpoint),
            ("otlp.protocol", "--otlp-protocol", &self.otlp_protocol),
            ("log.level", "--log-level", &self.log_level),
            ("log.format", "--log-format", &self.log_format),
        ];
        for (key, flag, value) in strings {
            if let Some(value) = value {
                entries.push((key, flag, Value::from(value.clone())));
            }
        }
        FlagValues { entries }
    }
}
