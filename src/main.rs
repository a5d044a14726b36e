//! Entry point: parse the command line, load the configuration, start logging, run the chosen
//! command. Exit codes: 0 success, 1 runtime failure, 2 invalid configuration (including what
//! only shows when the settings are put to use: building the Qdrant clients and the exporter).

use std::process::ExitCode;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use qdrant_otel_agent::agent;
use qdrant_otel_agent::cli::{Cli, Command, OutputFormat};
use qdrant_otel_agent::config::{self, ConfigSources, LogFormat, Settings};
use qdrant_otel_agent::export::OtlpClient;
use qdrant_otel_agent::metrics::render;
use qdrant_otel_agent::qdrant::Client;

const EXIT_RUNTIME: u8 = 1;
const EXIT_CONFIG: u8 = 2;

fn main() -> ExitCode {
    let (cli, flags) = Cli::parse_with_flags();
    if let Some(Command::Docs { output, config_doc }) = &cli.command {
        return match write_docs(output, config_doc) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: {error:#}");
                ExitCode::from(EXIT_RUNTIME)
            }
        };
    }
    let sources = ConfigSources::from_process(cli.config.clone(), flags);
    let (raw, settings) = match config::load(&sources) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprint!("error: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    // Built once, here, so that a bad URL or TLS file is a configuration error.
    let clients = match agent::build_clients(&settings.nodes) {
        Ok(clients) => clients,
        Err(error) => {
            eprintln!("error: invalid configuration: {error}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    if let Some(Command::CheckConfig) = &cli.command {
        println!("{}", config::render_effective(&raw));
        eprintln!(
            "configuration is valid: {} Qdrant node(s)",
            settings.nodes.len()
        );
        return ExitCode::SUCCESS;
    }
    init_logging(&settings);
    agent::configure_allocator();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_RUNTIME);
        }
    };
    let result = match cli.command {
        Some(Command::Once { format }) => runtime.block_on(once(&settings, clients, format)),
        _ => {
            let built = {
                let _context = runtime.enter();
                OtlpClient::build(settings.otlp.clone())
            };
            match built {
                Ok(otlp) => runtime.block_on(run(settings, clients, otlp)),
                Err(error) => {
                    eprintln!("error: invalid configuration: {error}");
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
        }
    };
    // Export tasks still waiting on a hung Collector must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

fn write_docs(output: &std::path::Path, config_doc: &std::path::Path) -> anyhow::Result<()> {
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(output, qdrant_otel_agent::metrics_doc())
        .with_context(|| format!("writing {}", output.display()))?;
    eprintln!("wrote {}", output.display());
    let current = std::fs::read_to_string(config_doc)
        .with_context(|| format!("reading {}", config_doc.display()))?;
    let rendered = config::keys::render_config_doc(&current).map_err(anyhow::Error::msg)?;
    std::fs::write(config_doc, rendered)
        .with_context(|| format!("writing {}", config_doc.display()))?;
    eprintln!("wrote {}", config_doc.display());
    Ok(())
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colour only for a person at a terminal, never into a file or a log collector.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

async fn run(settings: Settings, clients: Vec<Client>, otlp: OtlpClient) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("Shutting down: stopping polls and flushing.");
        signal.cancel();
    });
    tracing::info!(
        nodes = settings.nodes.len(),
        interval = %humantime::format_duration(settings.interval),
        "Starting."
    );
    let grace = agent::SHUTDOWN_GRACE;
    let run = agent::run(settings, clients, otlp, shutdown.clone());
    tokio::pin!(run);
    tokio::select! {
        () = &mut run => {}
        _ = async { shutdown.cancelled().await; tokio::time::sleep(grace).await } => {
            tracing::warn!("Shutdown grace period elapsed; exiting without waiting further.");
        }
    }
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn once(
    settings: &Settings,
    clients: Vec<Client>,
    format: OutputFormat,
) -> anyhow::Result<()> {
    let results = agent::poll_once(settings, clients).await;
    match format {
        OutputFormat::Json => {
            let nodes: Vec<serde_json::Value> = results
                .iter()
                .map(|(instance, snapshot, recorded)| {
                    serde_json::json!({
                        "instance": instance,
                        "up": snapshot.up,
                        "cluster_role": format!("{:?}", recorded.cluster_role).to_lowercase(),
                        "points": render::json(&recorded.all()),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&nodes)?);
        }
        OutputFormat::Table => {
            for (instance, snapshot, recorded) in &results {
                println!("# {instance} (up: {})", snapshot.up);
                println!("{}", render::table(&recorded.node));
                if !recorded.cluster.is_empty() {
                    println!("# {instance}: cluster-wide, as the raft leader");
                    println!("{}", render::table(&recorded.cluster));
                }
            }
        }
    }
    Ok(())
}
