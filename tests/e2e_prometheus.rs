//! End to end, with real third-party servers and no Docker (docs/architecture.md, "Tests"): recorded Qdrant nodes
//! served over HTTP → the real agent binary → OTLP/HTTP → vmagent (relabelled the way the
//! Collector's prometheus exporter labels series) → remote write → Prometheus. vmagent also
//! scrapes the recorded `/metrics`, standing in for the Collector's prometheus receiver.
//! Three topologies push into one Prometheus under the one `job="qdrant"` (the job the scrape of
//! Qdrant's /metrics gets too): a single node, the leader of a cluster with a dead node (one
//! agent polls both), and all three nodes of a healthy cluster (a second agent, with its own
//! `cluster.name`, so each cluster's cluster-wide series have their own `instance`).
//! Then every PromQL expression of every Grafana dashboard must return data (with every variable
//! on "All", and again with one node of the healthy cluster selected), key series must
//! equal the recorded truth, logical and node-local counts of the cluster must equal what each
//! node's recordings say, every metric name must be the documented Prometheus name, and
//! `promtool check metrics` must raise nothing but the documented findings.
//!
//! The servers come from Debian packages: run `scripts/fetch-e2e-servers.sh` (`make test` does).
//! Without them the test is skipped with a message, unless `CI` is set: then it fails.

mod e2e_bins;
mod harness;
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::FixtureServer;

/// Polled by the first agent, with the default cluster name (`qdrant-cluster`).
const SETS: [&str; 2] = [
    "qdrant-1.18.3/single",
    "qdrant-1.18.3/cluster-node3-down/node1",
];
/// The three nodes of a healthy cluster (node1 is the raft leader), polled by a second agent.
const CLUSTER: [&str; 3] = [
    "qdrant-1.18.3/cluster/node1",
    "qdrant-1.18.3/cluster/node2",
    "qdrant-1.18.3/cluster/node3",
];
/// `cluster.name` of the second agent: the `instance` of that cluster's cluster-wide series.
const CLUSTER_NAME: &str = "e2e-cluster";

/// Dashboard panels (file, title) allowed no data when a node of the healthy cluster is
/// selected, because its recordings hold nothing for them (why). With every variable on "All"
/// they must have data like every other panel.
const NO_DATA_ON_THE_CLUSTER_NODE: [(&str, &str, &str); 2] = [
    (
        "collection.json",
        "Age of newest snapshot",
        "the recorded cluster has no snapshots",
    ),
    (
        "requests.json",
        "gRPC p95 latency (Qdrant /metrics)",
        "the recorded cluster served no gRPC requests: its /metrics has no gRPC histograms",
    ),
];

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(name: &'static str, program: &Path, args: &[String], dir: &Path) -> Running {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    Running(child)
}

struct Prometheus {
    base: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// Instant query; the result vector.
    async fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        let response = self
            .http
            .get(
                url::Url::parse_with_params(
                    &format!("{}/api/v1/query", self.base),
                    [("query", expr)],
                )
                .unwrap(),
            )
            .send()
            .await;
        let Ok(response) = response else {
            return Vec::new();
        };
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_ne!(body["status"], "error", "{expr}: {body}");
        body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Query until the result is not empty, for at most `within`.
    async fn query_until_data(&self, expr: &str, within: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let result = self.query(expr).await;
            if !result.is_empty() || Instant::now() > deadline {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    async fn value(&self, expr: &str) -> Option<f64> {
        let result = self.query_until_data(expr, Duration::from_secs(10)).await;
        result.first()?["value"][1].as_str()?.parse().ok()
    }
}

/// Every `expr` in a dashboard JSON, with Grafana's interval variables substituted and the
/// template variables (`$job`, `$instance`, `$collection`) replaced by `variables`' values.
fn dashboard_queries(dir: &Path, variables: &[(&str, &str)]) -> Vec<(String, String, String)> {
    let mut queries = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    for file in files {
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap();
                let mut concrete = expr
                    .replace("$__rate_interval", "1m")
                    .replace("$__interval", "1m")
                    .replace("$__range", "5m");
                for (name, value) in variables {
                    concrete = concrete.replace(&format!("${name}"), value);
                }
                assert!(
                    !concrete.contains('$'),
                    "{}: a variable left in {concrete}",
                    file.display()
                );
                queries.push((
                    file.file_name().unwrap().to_string_lossy().to_string(),
                    panel["title"].as_str().unwrap().to_string(),
                    concrete,
                ));
            }
        }
    }
    queries
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboards_get_data_through_vmagent_and_prometheus() {
    // Without the servers: skipped with a message, or a failure under CI (see tests/e2e_bins).
    let Some(bins) = e2e_bins::require(
        "dashboards_get_data_through_vmagent_and_prometheus",
        &["prometheus", "promtool", "vmagent"],
    ) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let nodes: Vec<FixtureServer> = futures::future::join_all(SETS.map(FixtureServer::start)).await;
    let cluster: Vec<FixtureServer> =
        futures::future::join_all(CLUSTER.map(FixtureServer::start)).await;
    let instances: Vec<String> = nodes.iter().map(|n| n.addr().to_string()).collect();
    let cluster_instances: Vec<String> = cluster.iter().map(|n| n.addr().to_string()).collect();

    // Prometheus, receiving remote writes.
    let prometheus_port = free_port();
    std::fs::write(
        dir.join("prometheus.yml"),
        "global:\n  scrape_interval: 15s\n",
    )
    .unwrap();
    let _prometheus = spawn(
        "prometheus",
        &bins.join("prometheus"),
        &[
            format!("--config.file={}", dir.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", dir.join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prometheus_port}"),
            "--web.enable-remote-write-receiver".into(),
        ],
        dir,
    );

    // vmagent: OTLP in, Collector-style labels, remote write out; scrapes the recorded /metrics.
    let vmagent_port = free_port();
    let targets: Vec<String> = instances
        .iter()
        .chain(&cluster_instances)
        .map(|i| format!("\"{i}\""))
        .collect();
    std::fs::write(
        dir.join("scrape.yml"),
        format!(
            "scrape_configs:\n  - job_name: qdrant\n    scrape_interval: 1s\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .unwrap();
    let _vmagent = spawn(
        "vmagent",
        &bins.join("vmagent"),
        &[
            format!("-httpListenAddr=127.0.0.1:{vmagent_port}"),
            "-opentelemetry.usePrometheusNaming".into(),
            format!("-remoteWrite.url=http://127.0.0.1:{prometheus_port}/api/v1/write"),
            "-remoteWrite.forcePromProto".into(),
            format!(
                "-remoteWrite.relabelConfig={}",
                Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/e2e/vmagent-relabel.yml")
                    .display()
            ),
            format!(
                "-remoteWrite.tmpDataPath={}",
                dir.join("vmagent-data").display()
            ),
            "-remoteWrite.flushInterval=1s".into(),
            format!("-promscrape.config={}", dir.join("scrape.yml").display()),
            "-loggerLevel=WARN".into(),
        ],
        dir,
    );

    // The agent itself, as users run it: one for the single node and the degraded cluster's
    // leader, one for the healthy cluster, each cluster with its own name and all under the one
    // job the scrape of /metrics gets.
    let urls: Vec<String> = nodes.iter().map(FixtureServer::url).collect();
    let cluster_urls: Vec<String> = cluster.iter().map(FixtureServer::url).collect();
    let start_agent = |log_name: &str, urls: &[String], cluster_name: Option<&str>| {
        let log = std::fs::File::create(dir.join(format!("{log_name}.log"))).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("QDRANT_URL", urls.join(","))
            .env("QDRANT_OTEL_POLL__INTERVAL", "1s")
            .env("QDRANT_OTEL_QDRANT__TIMEOUT", "800ms")
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env(
                "QDRANT_OTEL_OTLP__ENDPOINT",
                format!("http://127.0.0.1:{vmagent_port}/opentelemetry"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        if let Some(name) = cluster_name {
            command.env("QDRANT_OTEL_CLUSTER__NAME", name);
        }
        Running(command.spawn().unwrap())
    };
    let _agent = start_agent("agent", &urls, None);
    let _cluster_agent = start_agent("agent-cluster", &cluster_urls, Some(CLUSTER_NAME));

    let prometheus = Prometheus {
        base: format!("http://127.0.0.1:{prometheus_port}"),
        http: reqwest::Client::new(),
    };
    let logs = || {
        ["agent", "agent-cluster", "vmagent", "prometheus"]
            .map(|n| {
                format!(
                    "--- {n}.log:\n{}",
                    std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default()
                )
            })
            .join("\n")
    };
    let up = prometheus
        .query_until_data("count(qdrant_up == 1) >= 5", Duration::from_secs(60))
        .await;
    assert!(
        !up.is_empty(),
        "no qdrant_up for all five nodes within 60 s\n{}",
        logs()
    );
    let cluster_wide = prometheus
        .query_until_data(
            &format!(r#"qdrant_collection_logical_points{{instance="{CLUSTER_NAME}"}}"#),
            Duration::from_secs(30),
        )
        .await;
    assert!(
        !cluster_wide.is_empty(),
        "no cluster-wide series of {CLUSTER_NAME} within 30 s\n{}",
        logs()
    );
    // Rates need two samples in their window.
    tokio::time::sleep(Duration::from_secs(4)).await;

    // (a) Every dashboard query returns data: with every variable on "All", and with the job
    // and one node of the healthy cluster (its leader) selected, as a user looking at a cluster
    // node would.
    // Panels whose data the cluster's recordings do not hold are listed in
    // NO_DATA_ON_THE_CLUSTER_NODE; they must have data with "All" and none on the node (so the
    // list cannot go stale).
    let leader = regex_escape(&cluster_instances[0]);
    let mut failing = Vec::new();
    for (on_cluster_node, variables) in [
        (
            false,
            [("job", ".*"), ("instance", ".*"), ("collection", ".*")],
        ),
        (
            true,
            [
                ("job", "qdrant"),
                ("instance", leader.as_str()),
                ("collection", "docs"),
            ],
        ),
    ] {
        for (file, panel, expr) in dashboard_queries(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards"),
            &variables,
        ) {
            let exempt = on_cluster_node
                && NO_DATA_ON_THE_CLUSTER_NODE
                    .iter()
                    .any(|(f, p, _)| *f == file && *p == panel);
            if exempt {
                if !prometheus.query(&expr).await.is_empty() {
                    failing.push(format!(
                        "{file} / {panel} has data on the cluster node now: remove it from NO_DATA_ON_THE_CLUSTER_NODE"
                    ));
                }
            } else if prometheus
                .query_until_data(&expr, Duration::from_secs(15))
                .await
                .is_empty()
            {
                let selected = if on_cluster_node {
                    "a node of the healthy cluster"
                } else {
                    "All"
                };
                failing.push(format!("{file} / {panel} ({selected}): {expr}"));
            }
        }
    }
    assert!(
        failing.is_empty(),
        "queries without data:\n{}\n{}",
        failing.join("\n"),
        logs()
    );

    // (b) Key series equal the recorded truth, with the labels a scrape of the node would get.
    let single = &instances[0];
    for (expr, truth) in [
        (format!(r#"qdrant_up{{job="qdrant",instance="{single}"}}"#), 1.0),
        (format!(r#"qdrant_up{{job="qdrant",instance="{}"}}"#, instances[1]), 1.0),
        (format!(r#"qdrant_collection_points{{instance="{single}",db_collection_name="articles"}}"#), 2850.0),
        (format!(r#"qdrant_collection_points{{instance="{single}",db_collection_name="busy"}}"#), 12000.0),
        (format!(r#"qdrant_collection_status{{instance="{single}",db_collection_name="busy",state="grey"}}"#), 1.0),
        (format!(r#"qdrant_collection_status{{instance="{single}",db_collection_name="busy",state="green"}}"#), 0.0),
        (r#"qdrant_collection_replicas{job="qdrant",instance="qdrant-cluster",db_collection_name="docs",state="dead"}"#.to_string(), 2.0),
        (format!(r#"qdrant_cluster_message_send_failures_total{{instance="{}"}}"#, instances[1]), 52.0),
        // Qdrant's own /metrics, scraped under the same job and instance.
        (format!(r#"collections_total{{job="qdrant",instance="{single}"}}"#), 5.0),
    ] {
        assert_eq!(prometheus.value(&expr).await, Some(truth), "{expr}\n{}", logs());
    }

    // (b2) The healthy cluster: the logical count of a collection is one series, on the cluster's
    // resource, equal to what every node's /collections/docs says; no node carries it; the
    // node-local counts equal each node's telemetry (the sum of its local shards' points).
    let logical = prometheus
        .query_until_data(
            &format!(
                r#"qdrant_collection_logical_points{{job="qdrant",instance="{CLUSTER_NAME}",db_collection_name="docs"}}"#
            ),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(logical.len(), 1, "{logical:?}");
    assert_eq!(cluster[0].points_count("docs"), 2000.0, "the recording");
    for server in &cluster {
        assert_eq!(
            logical[0]["value"][1].as_str().and_then(|v| v.parse().ok()),
            Some(server.points_count("docs")),
            "logical points of docs vs {}'s /collections/docs\n{logical:?}",
            server.addr()
        );
    }
    let on_nodes = format!(
        r#"qdrant_collection_logical_points{{instance=~"{}"}}"#,
        cluster_instances
            .iter()
            .map(|i| regex_escape(i))
            .collect::<Vec<_>>()
            .join("|")
    );
    assert!(
        prometheus.query(&on_nodes).await.is_empty(),
        "cluster-wide series on a node's resource: {on_nodes}"
    );
    for (server, instance) in cluster.iter().zip(&cluster_instances) {
        let expr = format!(
            r#"sum by (instance) (qdrant_collection_points{{job="qdrant",instance="{instance}",db_collection_name="docs"}})"#
        );
        assert_eq!(
            prometheus.value(&expr).await,
            Some(server.local_points("docs")),
            "{expr}\n{}",
            logs()
        );
    }

    // (c) Every metric the agent produced from these recordings reached Prometheus under the
    // name docs/metrics.md gives it.
    let mut names = BTreeSet::new();
    for url in urls.iter().chain(&cluster_urls) {
        for point in harness::poll_once(url).await.all() {
            names.insert(point.spec().prometheus_name());
        }
    }
    let mut missing = Vec::new();
    for name in &names {
        if prometheus
            .query_until_data(&format!("count({name})"), Duration::from_secs(15))
            .await
            .is_empty()
        {
            missing.push(name.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "not in Prometheus under their documented names: {missing:?}"
    );

    // (d) promtool check metrics on what Prometheus holds for the agent.
    let federated = prometheus
        .http
        .get(
            url::Url::parse_with_params(
                &format!("{}/federate", prometheus.base),
                [("match[]", r#"{job="qdrant",__name__=~"qdrant_.*"}"#)],
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        federated.contains("qdrant_collection_points"),
        "{federated}"
    );
    let findings = promtool_findings(&bins.join("promtool"), &federated);
    let explained = explained_findings();
    let unexplained: Vec<&String> = findings
        .iter()
        .filter(|f| !explained.iter().any(|e| f.contains(e.as_str())))
        .collect();
    assert!(
        unexplained.is_empty(),
        "promtool findings not explained in docs/dashboards.md: {unexplained:#?}"
    );
}

/// A literal as a regular expression inside a PromQL double-quoted string, as Grafana
/// substitutes a variable in `=~"$var"`: `127.0.0.1` becomes `127\\.0\\.0\\.1`.
fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !(c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_');
            let backslashes = if escape { "\\\\" } else { "" };
            backslashes.chars().chain([c])
        })
        .collect()
}

/// `promtool check metrics` on exposition text: its findings, one per line.
fn promtool_findings(promtool: &Path, text: &str) -> Vec<String> {
    use std::io::Write;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&output.stderr).lines())
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// The findings docs/dashboards.md explains: the backticked texts of its "promtool findings"
/// list.
fn explained_findings() -> Vec<String> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboards.md"))
            .unwrap();
    let section = doc.split("## promtool findings").nth(1).unwrap_or("");
    section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect()
}
