//! Command-line interface: subcommands, and the flags that override configuration keys (declared
//! with their keys in the configuration schema).

use std::path::PathBuf;

use clap::{
    Arg, ArgAction, ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};
use figment::value::Value;

use crate::config::schema::keys;
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
    /// Parse the process's arguments: the subcommands above, and a global flag for every key
    /// that declares one in the configuration schema (its doc is the flag's help).
    pub fn parse_with_flags() -> (Cli, FlagValues) {
        let mut command = Cli::command();
        for entry in keys().into_iter().filter(|e| !e.key.flag.is_empty()) {
            let doc = entry.key.doc.trim().trim_end_matches('.');
            let help = format!("{doc}. Key: {}.", entry.name);
            let arg = Arg::new(entry.key.flag.trim_start_matches('-'))
                .long(entry.key.flag.trim_start_matches('-'))
                .global(true)
                .value_name("VALUE")
                .action(ArgAction::Append)
                .help(help);
            command = command.arg(arg);
        }
        let matches = command.get_matches();
        let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
        (cli, flag_values(&matches))
    }
}

/// The flags given, as the highest configuration layer: a flag given twice is a list.
fn flag_values(matches: &ArgMatches) -> FlagValues {
    let mut entries = Vec::new();
    for entry in keys().into_iter().filter(|e| !e.key.flag.is_empty()) {
        let id = entry.key.flag.trim_start_matches('-');
        let Some(values) = matches.get_many::<String>(id) else {
            continue;
        };
        let mut values: Vec<String> = values.cloned().collect();
        let value = match values.len() {
            1 => Value::from(values.remove(0)),
            _ => Value::from(values),
        };
        // Flags are few and parsed once: their key names live as long as the process.
        let key: &'static str = Box::leak(entry.name.into_boxed_str());
        entries.push((key, entry.key.flag, value));
    }
    FlagValues { entries }
}
