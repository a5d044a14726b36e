//! Runs the agent in-process for integration tests: settings from a test's own environment map
//! (never the process environment), a running agent with a stop handle, and one-shot polls.
#![allow(dead_code)]

use std::collections::HashMap;

use qdrant_otel_agent::config::{self, ConfigSources, Settings};
use qdrant_otel_agent::metrics::{Point, Recorded};
use tokio_util::sync::CancellationToken;

/// The variable that switches the agent's own telemetry.
pub const SELF_TELEMETRY: &str = "QDRANT_OTEL_OTLP__SELF_TELEMETRY";

/// Settings as if these variables were the whole environment. The agent's own telemetry is
/// off unless the test sets [`SELF_TELEMETRY`]: most tests look at the Qdrant data's requests
/// alone, and the tests of the agent's own telemetry switch it on.
pub fn settings(env: &[(&str, &str)]) -> Settings {
    let mut env = env_map(env);
    env.entry(SELF_TELEMETRY.to_string())
        .or_insert_with(|| "false".to_string());
    let sources = ConfigSources {
        env,
        ..ConfigSources::default()
    };
    match config::load(&sources) {
        Ok((_, settings)) => settings,
        Err(error) => panic!("test configuration is invalid: {error}"),
    }
}

pub fn env_map(env: &[(&str, &str)]) -> HashMap<String, String> {
    env.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Settings that poll `qdrant_urls` every `interval` and push to `otlp_endpoint`.
pub fn agent_settings(
    qdrant_urls: &str,
    otlp_endpoint: &str,
    protocol: &str,
    interval: &str,
) -> Settings {
    agent_settings_with(qdrant_urls, otlp_endpoint, protocol, interval, &[])
}

/// [`agent_settings`] with more variables.
pub fn agent_settings_with(
    qdrant_urls: &str,
    otlp_endpoint: &str,
    protocol: &str,
    interval: &str,
    more: &[(&str, &str)],
) -> Settings {
    let mut env = vec![
        ("QDRANT_URL", qdrant_urls),
        ("QDRANT_OTEL_POLL__INTERVAL", interval),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", otlp_endpoint),
        ("QDRANT_OTEL_OTLP__PROTOCOL", protocol),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
    ];
    env.extend_from_slice(more);
    settings(&env)
}

pub struct RunningAgent {
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl RunningAgent {
    pub fn start(settings: Settings) -> RunningAgent {
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let clients = qdrant_otel_agent::agent::build_clients(&settings.nodes).expect("clients");
        let otlp = qdrant_otel_agent::export::OtlpClient::build(settings.otlp.clone())
            .unwrap_or_else(|e| panic!("exporter: {e}"));
        let task = tokio::spawn(qdrant_otel_agent::agent::run(
            settings, clients, otlp, token,
        ));
        RunningAgent { shutdown, task }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task)
            .await
            .expect("agent stops within 10 s")
            .expect("agent task");
    }
}

/// One poll of the node at `url` (the first poll also reads level-4 telemetry).
pub async fn poll_once(url: &str) -> Recorded {
    let settings = settings(&[("QDRANT_URL", url), ("QDRANT_OTEL_QDRANT__TIMEOUT", "2s")]);
    let clients = qdrant_otel_agent::agent::build_clients(&settings.nodes).expect("clients");
    let mut results = qdrant_otel_agent::agent::poll_once(&settings, clients).await;
    results.remove(0).2
}

pub fn points_named<'a>(points: &'a [Point], name: &str) -> Vec<&'a Point> {
    points.iter().filter(|p| p.spec().name == name).collect()
}

/// One poll of the node at `url` with every metric enabled, opt-in ones included.
pub async fn poll_all_metrics(url: &str) -> Recorded {
    poll_all_metrics_n(url, 1).await
}

/// `polls` polls of the node at `url` (one state between them, as the agent keeps it) with
/// every metric enabled: what the last one recorded. Metrics computed over successive polls
/// (the optimizer's throughput) need two.
pub async fn poll_all_metrics_n(url: &str, polls: usize) -> Recorded {
    use qdrant_otel_agent::metrics::registry::MetricSelection;
    use qdrant_otel_agent::metrics::RecordOptions;
    use qdrant_otel_agent::sources::{poll_node, NodeState, PollSettings};
    let settings = settings(&[("QDRANT_URL", url), ("QDRANT_OTEL_QDRANT__TIMEOUT", "2s")]);
    let client = qdrant_otel_agent::agent::build_clients(&settings.nodes)
        .expect("client")
        .remove(0);
    let selection = MetricSelection::all();
    let poll = PollSettings {
        plan: selection.source_plan(),
        ..PollSettings::default()
    };
    let mut state = NodeState::default();
    let mut snapshot = poll_node(&client, &settings.nodes[0].instance, &poll, &mut state).await;
    for _ in 1..polls {
        snapshot = poll_node(&client, &settings.nodes[0].instance, &poll, &mut state).await;
    }
    let options = RecordOptions {
        selection,
        ..RecordOptions::default()
    };
    let mut stats = qdrant_otel_agent::agent::NodeStats::default();
    stats.observe(&snapshot);
    qdrant_otel_agent::metrics::record(&snapshot, &stats.stats, &options)
}

/// Settings from a YAML config file (written to a temp dir) plus environment variables.
pub fn settings_with_yaml(yaml: &str, env: &[(&str, &str)]) -> Settings {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("agent.yaml");
    std::fs::write(&path, yaml).expect("write config");
    let sources = ConfigSources {
        file: Some(path),
        env: env_map(env),
        ..ConfigSources::default()
    };
    match config::load(&sources) {
        Ok((_, settings)) => settings,
        Err(error) => panic!("test configuration is invalid: {error}"),
    }
}

/// Polls one node repeatedly the way the agent does (same settings, same state between polls),
/// without exporting.
pub struct Poller {
    settings: Settings,
    client: qdrant_otel_agent::qdrant::Client,
    state: qdrant_otel_agent::sources::NodeState,
    stats: qdrant_otel_agent::agent::NodeStats,
}

impl Poller {
    pub fn new(settings: Settings) -> Poller {
        let client = qdrant_otel_agent::agent::build_clients(&settings.nodes)
            .expect("client")
            .remove(0);
        Poller {
            settings,
            client,
            state: Default::default(),
            stats: Default::default(),
        }
    }

    pub async fn poll(&mut self) -> Recorded {
        let snapshot = qdrant_otel_agent::sources::poll_node(
            &self.client,
            &self.settings.nodes[0].instance,
            &self.settings.poll,
            &mut self.state,
        )
        .await;
        self.stats.observe(&snapshot);
        let recorded =
            qdrant_otel_agent::metrics::record(&snapshot, &self.stats.stats, &self.settings.record);
        self.stats
            .count_dropped(&self.settings.nodes[0].instance, &recorded.dropped);
        recorded
    }
}

/// The value of the one point named `name` whose attributes include `attrs`.
pub fn value(points: &[Point], name: &str, attrs: &[(&str, &str)]) -> Option<f64> {
    points
        .iter()
        .find(|p| {
            p.spec().name == name
                && attrs
                    .iter()
                    .all(|(k, v)| p.attributes.iter().any(|(pk, pv)| pk == k && pv == v))
        })
        .map(|p| p.value)
}
