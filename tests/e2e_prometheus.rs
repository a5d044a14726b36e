//! End to end on the real pipeline, with real third-party servers and no Docker
//! (docs/architecture.md, "Tests"): recorded Qdrant nodes served over HTTP → the agent binary →
//! OTLP → the OpenTelemetry Collector running the **shipped** `otel-collector/config.yaml` →
//! its prometheus exporter → Prometheus 3 running the shipped `prometheus/prometheus.yml` and
//! rules. The Collector's prometheus receiver scrapes the recorded `/metrics` as the shipped
//! config says.
//!
//! Two Collectors, two agents, one Prometheus, all under the one `job="qdrant"`:
//! - a single node and the leader of a cluster with a dead node, keyless: the agent pushes over
//!   OTLP/HTTP, the Collector scrapes `/metrics` without a key;
//! - the three nodes of a healthy cluster behind an API key: the agent (its own `cluster.name`)
//!   pushes over OTLP/gRPC, the Collector scrapes `/metrics` with `QDRANT_API_KEY` (the test
//!   server answers 401 without it, and the test checks the header each scrape carried).
//!
//! Then every PromQL expression of every Grafana dashboard must return data (every variable on
//! "All", and again with one node of the healthy cluster selected), every alerting and
//! recording rule must evaluate without error, key series must equal the recorded truth,
//! every metric must land under its documented Prometheus name, the `target_info` join that
//! docs/deployment.md gives must work, and `promtool check metrics` on what the Collector serves
//! must raise nothing but the findings docs/dashboards.md explains.
//!
//! The servers are built from their Go modules by `scripts/fetch-e2e-servers.sh` (`make test`
//! runs it). Without them the test is skipped with a message, unless `CI` is set: then it fails.

mod e2e_bins;
mod e2e_stack;
mod harness;
mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use e2e_stack::{regex_escape, Collector, DashboardQuery, Prometheus};
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
/// The healthy cluster's API key: its nodes answer 401 to requests without it.
const API_KEY: &str = "e2e-cluster-key";

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

/// The alerts that go pending on these recordings (alert, node or cluster, why); any other is a
/// false alarm, and a missing one a rule that no longer sees what it is for. `for:` holds them
/// pending for the test's short life.
const EXPECTED_ALERTS: [(&str, &str, &str); 6] = [
    (
        "QdrantCollectionGrey",
        "single",
        "collection busy is grey in the recording",
    ),
    (
        "QdrantDeadReplicas",
        "qdrant-cluster",
        "node3 of that cluster is down: its replicas of docs are dead",
    ),
    (
        "QdrantAgentPollErrors",
        "degraded-leader",
        "/collections/*/optimizations answers 500: node3 is unreachable",
    ),
    (
        "QdrantAgentPollErrors",
        "degraded-leader",
        "/collections/*/memory answers 500 for the same reason",
    ),
    (
        "QdrantNodeNotReady",
        "node2",
        "its /readyz answered 503 (some shards are not ready) when recorded",
    ),
    (
        "QdrantNodeNotReady",
        "node3",
        "its /readyz answered 503 (some shards are not ready) when recorded",
    ),
];

/// Recording rules allowed to record nothing on these recordings (rule, why).
const RECORDING_RULES_WITHOUT_DATA: [(&str, &str); 0] = [];

const LOGS: [&str; 5] = [
    "agent",
    "agent-cluster",
    "otelcol",
    "otelcol-cluster",
    "prometheus",
];

struct Stack {
    work: tempfile::TempDir,
    nodes: Vec<FixtureServer>,
    cluster: Vec<FixtureServer>,
    prometheus: Prometheus,
    _running: Vec<e2e_stack::Running>,
    collectors: Vec<Collector>,
}

impl Stack {
    fn logs(&self) -> String {
        e2e_stack::logs(self.work.path(), &LOGS)
    }

    fn instances(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.addr().to_string()).collect()
    }

    fn cluster_instances(&self) -> Vec<String> {
        self.cluster.iter().map(|n| n.addr().to_string()).collect()
    }
}

/// Recorded nodes, two Collectors on the shipped config, Prometheus 3 on the shipped config and
/// rules, and the two agents; returns once every node's `qdrant_up` and the healthy cluster's
/// cluster-wide series are in Prometheus.
async fn start_stack(bins: &Path) -> Stack {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let nodes: Vec<FixtureServer> = futures::future::join_all(SETS.map(FixtureServer::start)).await;
    let cluster: Vec<FixtureServer> =
        futures::future::join_all(CLUSTER.map(FixtureServer::start)).await;
    for node in &cluster {
        node.require_api_key(API_KEY);
    }
    let addrs = |servers: &[FixtureServer]| -> Vec<String> {
        servers.iter().map(|n| n.addr().to_string()).collect()
    };
    let collector = Collector::start(bins, dir, "otelcol", &addrs(&nodes), None).await;
    let cluster_collector = Collector::start(
        bins,
        dir,
        "otelcol-cluster",
        &addrs(&cluster),
        Some(API_KEY),
    )
    .await;
    let (prometheus, prometheus_child) = e2e_stack::start_prometheus(
        bins,
        dir,
        &[&collector, &cluster_collector]
            .iter()
            .flat_map(|c| [c.exporter, c.qdrant_exporter])
            .map(|port| format!("127.0.0.1:{port}"))
            .collect::<Vec<_>>(),
        &[],
    );
    let urls = |servers: &[FixtureServer]| -> String {
        servers
            .iter()
            .map(FixtureServer::url)
            .collect::<Vec<_>>()
            .join(",")
    };
    // As users configure it: the standard OTEL_* variables, QDRANT_URL and QDRANT_API_KEY.
    let agent = e2e_stack::start_agent(
        dir,
        "agent",
        &[
            ("QDRANT_URL", urls(&nodes)),
            ("QDRANT_OTEL_OTLP__TRACES", "true".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", collector.otlp_http),
            ),
        ],
    );
    let cluster_agent = e2e_stack::start_agent(
        dir,
        "agent-cluster",
        &[
            ("QDRANT_URL", urls(&cluster)),
            ("QDRANT_API_KEY", API_KEY.into()),
            ("QDRANT_OTEL_CLUSTER__NAME", CLUSTER_NAME.into()),
            ("QDRANT_OTEL_OTLP__TRACES", "true".into()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", cluster_collector.otlp_grpc),
            ),
        ],
    );
    let stack = Stack {
        work,
        nodes,
        cluster,
        prometheus,
        _running: vec![prometheus_child, agent, cluster_agent],
        collectors: vec![collector, cluster_collector],
    };
    for (expr, what) in [
        (
            "count(qdrant_up == 1) >= 5".to_string(),
            "qdrant_up 1 for all five nodes",
        ),
        (
            format!(r#"qdrant_collection_logical_points{{instance="{CLUSTER_NAME}"}}"#),
            "the healthy cluster's cluster-wide series",
        ),
        (
            "count(collections_total) >= 5".to_string(),
            "Qdrant's /metrics of all five nodes",
        ),
    ] {
        let found = stack
            .prometheus
            .query_until_data(&expr, Duration::from_secs(90))
            .await;
        assert!(!found.is_empty(), "no {what} within 90 s\n{}", stack.logs());
    }
    // Rates need two samples in their window.
    tokio::time::sleep(Duration::from_secs(4)).await;
    stack
}

#[tokio::test(flavor = "multi_thread")]
async fn the_shipped_collector_and_prometheus_3_serve_every_dashboard_and_rule() {
    // Without the servers: skipped with a message, or a failure under CI (see tests/e2e_bins).
    let Some(bins) = e2e_bins::require(
        "the_shipped_collector_and_prometheus_3_serve_every_dashboard_and_rule",
        &["otelcol", "prometheus", "promtool"],
    ) else {
        return;
    };
    let stack = start_stack(&bins).await;
    every_dashboard_query_returns_data(&stack).await;
    every_rule_evaluates(&stack).await;
    alerts_are_what_the_recordings_show(&stack).await;
    key_series_equal_the_recordings(&stack).await;
    cluster_counts_equal_the_recordings(&stack).await;
    scrapes_carry_the_api_key_only_where_set(&stack);
    the_documented_target_info_join_works(&stack).await;
    promtool_finds_only_what_the_docs_explain(&stack, &bins).await;
    metrics_land_under_their_documented_names(&stack).await;
    thecollectors_take_the_traces_of_the_polls(&stack).await;
}

/// Both agents trace their polls (`otlp.traces`): the shipped config's `traces` pipeline takes
/// the spans, over OTLP/HTTP and gRPC, and refuses none.
async fn thecollectors_take_the_traces_of_the_polls(stack: &Stack) {
    let http = reqwest::Client::new();
    for (collector, transport) in stack.collectors.iter().zip(["http", "grpc"]) {
        let url = format!("http://127.0.0.1:{}/metrics", collector.own_metrics);
        let label = format!("transport=\"{transport}\"");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let text = match http.get(&url).send().await {
                Ok(response) => response.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let sum = |name: &str| -> f64 {
                text.lines()
                    .filter(|line| line.starts_with(name) && line.contains(&label))
                    .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
                    .sum()
            };
            let accepted = sum("otelcol_receiver_accepted_spans");
            let refused = sum("otelcol_receiver_refused_spans");
            assert_eq!(refused, 0.0, "{transport}: spans refused\n{}", stack.logs());
            if accepted > 0.0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{transport}: no span accepted within 30 s\n{}",
                stack.logs()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// (a) Every dashboard query returns data: with every variable on "All", and with the job and
/// one node of the healthy cluster (its leader) selected, as a user looking at a cluster node
/// would. Panels whose data the cluster's recordings do not hold are listed in
/// NO_DATA_ON_THE_CLUSTER_NODE; they must have data with "All" and none on the node (so the
/// list cannot go stale).
async fn every_dashboard_query_returns_data(stack: &Stack) {
    let leader = regex_escape(&stack.cluster_instances()[0]);
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
        for DashboardQuery { file, panel, expr } in e2e_stack::dashboard_queries(&variables) {
            let exempt = on_cluster_node
                && NO_DATA_ON_THE_CLUSTER_NODE
                    .iter()
                    .any(|(f, p, _)| *f == file && *p == panel);
            let result = stack
                .prometheus
                .query_until_data(&expr, Duration::from_secs(if exempt { 0 } else { 15 }))
                .await;
            if exempt && !result.is_empty() {
                failing.push(format!(
                    "{file} / {panel} has data on the cluster node now: remove it from NO_DATA_ON_THE_CLUSTER_NODE"
                ));
            } else if !exempt && result.is_empty() {
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
        stack.logs()
    );
}

/// (b) Every alerting and recording rule of `prometheus/rules/` was loaded and evaluated by
/// Prometheus 3 without error, and every recording rule recorded a series (except those in
/// RECORDING_RULES_WITHOUT_DATA, with the reason).
async fn every_rule_evaluates(stack: &Stack) {
    let expected = shipped_rule_names();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rules = loop {
        let body = stack.prometheus.get("/api/v1/rules").await;
        let rules: Vec<serde_json::Value> = body["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .collect();
        let evaluated = rules.iter().all(|r| {
            !r["lastEvaluation"]
                .as_str()
                .unwrap_or("")
                .starts_with("0001")
        });
        if (evaluated && rules.len() == expected.len()) || std::time::Instant::now() > deadline {
            break rules;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let loaded: BTreeSet<String> = rules
        .iter()
        .map(|r| r["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        loaded, expected,
        "rules Prometheus loaded vs the rule files"
    );
    let mut failing = Vec::new();
    for rule in &rules {
        let name = rule["name"].as_str().unwrap_or("");
        if rule["health"] != "ok" {
            failing.push(format!(
                "{name}: health {} {}",
                rule["health"], rule["lastError"]
            ));
        }
        let exempt = RECORDING_RULES_WITHOUT_DATA.iter().any(|(r, _)| *r == name);
        if rule["type"] == "recording" && !exempt {
            let recorded = stack
                .prometheus
                .query_until_data(&format!("count({name})"), Duration::from_secs(10))
                .await;
            if recorded.is_empty() {
                failing.push(format!("{name}: recorded nothing"));
            }
        }
    }
    assert!(
        failing.is_empty(),
        "rules failing:\n{}\n{}",
        failing.join("\n"),
        stack.logs()
    );
}

/// (b2) The alerts pending or firing are exactly EXPECTED_ALERTS: on the two clusters sharing
/// `job="qdrant"` no raft alert fires, and no agent is reported absent.
async fn alerts_are_what_the_recordings_show(stack: &Stack) {
    let mut roles: Vec<(String, &str)> = vec![
        (stack.instances()[0].clone(), "single"),
        (stack.instances()[1].clone(), "degraded-leader"),
        ("qdrant-cluster".to_string(), "qdrant-cluster"),
        (CLUSTER_NAME.to_string(), CLUSTER_NAME),
    ];
    for (instance, role) in stack
        .cluster_instances()
        .into_iter()
        .zip(["node1", "node2", "node3"])
    {
        roles.push((instance, role));
    }
    let role = |instance: &str| {
        roles
            .iter()
            .find(|(i, _)| i == instance)
            .map_or(instance.to_string(), |(_, r)| r.to_string())
    };
    let mut seen: Vec<(String, String)> = stack
        .prometheus
        .query("ALERTS")
        .await
        .iter()
        .map(|a| {
            let metric = &a["metric"];
            let alert = metric["alertname"].as_str().unwrap_or("").to_string();
            (alert, role(metric["instance"].as_str().unwrap_or("")))
        })
        .collect();
    seen.sort();
    let mut expected: Vec<(String, String)> = EXPECTED_ALERTS
        .iter()
        .map(|(a, r, _)| (a.to_string(), r.to_string()))
        .collect();
    expected.sort();
    assert_eq!(
        seen,
        expected,
        "alerts (alert, node) on the recordings\n{}",
        stack.logs()
    );
}

/// The name of every rule in `prometheus/rules/*.yml`.
fn shipped_rule_names() -> BTreeSet<String> {
    let dir = e2e_stack::root().join("prometheus/rules");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let doc: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for group in doc["groups"].as_sequence().unwrap() {
            for rule in group["rules"].as_sequence().unwrap() {
                let name = rule["alert"].as_str().or(rule["record"].as_str()).unwrap();
                names.insert(name.to_string());
            }
        }
    }
    names
}

/// (c) Key series equal the recorded truth, with the labels a scrape of the node would get.
async fn key_series_equal_the_recordings(stack: &Stack) {
    let instances = stack.instances();
    let single = &instances[0];
    let cluster_node = &stack.cluster_instances()[1];
    for (expr, truth) in [
        (format!(r#"qdrant_up{{job="qdrant",instance="{single}"}}"#), 1.0),
        (format!(r#"qdrant_up{{job="qdrant",instance="{}"}}"#, instances[1]), 1.0),
        (format!(r#"qdrant_up{{job="qdrant",instance="{cluster_node}"}}"#), 1.0),
        (format!(r#"qdrant_collection_points{{instance="{single}",db_collection_name="articles"}}"#), 2850.0),
        (format!(r#"qdrant_collection_points{{instance="{single}",db_collection_name="busy"}}"#), 12000.0),
        (format!(r#"qdrant_collection_status{{instance="{single}",db_collection_name="busy",state="grey"}}"#), 1.0),
        (format!(r#"qdrant_collection_status{{instance="{single}",db_collection_name="busy",state="green"}}"#), 0.0),
        (r#"qdrant_collection_replicas{job="qdrant",instance="qdrant-cluster",db_collection_name="docs",state="dead"}"#.to_string(), 2.0),
        (format!(r#"qdrant_cluster_message_send_failures_total{{instance="{}"}}"#, instances[1]), 52.0),
        // Qdrant's own /metrics, scraped by the Collector under the same job and instance,
        // without a key and with one.
        (format!(r#"collections_total{{job="qdrant",instance="{single}"}}"#), 5.0),
        (format!(r#"up{{job="qdrant",instance="{cluster_node}"}}"#), 1.0),
    ] {
        assert_eq!(stack.prometheus.value(&expr).await, Some(truth), "{expr}\n{}", stack.logs());
    }
    // The agents' own telemetry (OpenTelemetry SDK, over HTTP and gRPC) under its own job:
    // every instrument of the catalogue, and the polls of each node it counted.
    let own = stack
        .prometheus
        .query_until_data(
            r#"count by (__name__) ({job="qdrant-otel-agent"})"#,
            Duration::from_secs(15),
        )
        .await;
    let names: Vec<&str> = own
        .iter()
        .filter_map(|s| s["metric"]["__name__"].as_str())
        .collect();
    for spec in qdrant_otel_agent::telemetry::catalogue::ALL {
        let name = match spec.kind {
            qdrant_otel_agent::telemetry::catalogue::Kind::Histogram => {
                format!("{}_bucket", spec.prometheus_name())
            }
            _ => spec.prometheus_name(),
        };
        assert!(
            names.contains(&name.as_str()),
            "{name} not under job=\"qdrant-otel-agent\": {names:?}\n{}",
            stack.logs()
        );
    }
    for node in [single.as_str(), cluster_node.as_str()] {
        let polls = format!(
            r#"qdrant_agent_poll_duration_seconds_count{{job="qdrant-otel-agent",qdrant_instance="{node}"}}"#
        );
        let count = stack.prometheus.value(&polls).await;
        assert!(count.is_some_and(|c| c >= 1.0), "{polls}: {count:?}");
    }
    // Both agents' exports, over HTTP and gRPC, were accepted by the Collector.
    let failures = stack
        .prometheus
        .query("qdrant_agent_export_failures_total > 0")
        .await;
    assert!(
        failures.is_empty(),
        "exports failed: {failures:?}\n{}",
        stack.logs()
    );
}

/// (d) The healthy cluster: the logical count of a collection is one series, on the cluster's
/// resource, equal to what every node's /collections/docs says; no node carries it; the
/// node-local counts equal each node's telemetry (the sum of its local shards' points).
async fn cluster_counts_equal_the_recordings(stack: &Stack) {
    let prometheus = &stack.prometheus;
    let logical = prometheus
        .query_until_data(
            &format!(
                r#"qdrant_collection_logical_points{{job="qdrant",instance="{CLUSTER_NAME}",db_collection_name="docs"}}"#
            ),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(logical.len(), 1, "{logical:?}");
    assert_eq!(
        stack.cluster[0].points_count("docs"),
        2000.0,
        "the recording"
    );
    for server in &stack.cluster {
        assert_eq!(
            logical[0]["value"][1].as_str().and_then(|v| v.parse().ok()),
            Some(server.points_count("docs")),
            "logical points of docs vs {}'s /collections/docs\n{logical:?}",
            server.addr()
        );
    }
    let on_nodes = format!(
        r#"qdrant_collection_logical_points{{instance=~"{}"}}"#,
        stack
            .cluster_instances()
            .iter()
            .map(|i| regex_escape(i))
            .collect::<Vec<_>>()
            .join("|")
    );
    assert!(
        prometheus.query(&on_nodes).await.is_empty(),
        "cluster-wide series on a node's resource: {on_nodes}"
    );
    for (server, instance) in stack.cluster.iter().zip(stack.cluster_instances()) {
        let expr = format!(
            r#"sum by (instance) (qdrant_collection_points{{job="qdrant",instance="{instance}",db_collection_name="docs"}})"#
        );
        assert_eq!(
            prometheus.value(&expr).await,
            Some(server.local_points("docs")),
            "{expr}\n{}",
            stack.logs()
        );
    }
}

/// (e) Every metric the agent produced from these recordings reached Prometheus under the name
/// docs/metrics.md gives it; Qdrant's counters without `_total` gain it through the Collector,
/// as docs/comparison.md says.
async fn metrics_land_under_their_documented_names(stack: &Stack) {
    let mut names = BTreeSet::new();
    for server in stack.nodes.iter() {
        for point in harness::poll_once(&server.url()).await.all() {
            names.insert(point.spec().prometheus_name());
        }
    }
    let missing = stack.prometheus.missing(&names).await;
    assert!(
        missing.is_empty(),
        "not in Prometheus under their documented names: {missing:?}"
    );
    let comparison = std::fs::read_to_string(e2e_stack::root().join("docs/comparison.md")).unwrap();
    for name in ["collection_hardware_metric_cpu_total"] {
        assert!(
            !stack
                .prometheus
                .query(&format!("count({name})"))
                .await
                .is_empty(),
            "{name} is not in Prometheus"
        );
        assert!(
            comparison.contains(name),
            "docs/comparison.md does not name {name}"
        );
    }
}

/// (f) The Collector's scrape of `/metrics` carried `Authorization: Bearer <key>` to the keyed
/// cluster (which answers 401 without it) and no credential to the keyless nodes.
fn scrapes_carry_the_api_key_only_where_set(stack: &Stack) {
    let authorization = |server: &FixtureServer| -> Vec<Option<String>> {
        server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/metrics")
            .map(|r| {
                r.headers
                    .into_iter()
                    .find(|(k, _)| k == "authorization")
                    .map(|(_, v)| v)
            })
            .collect()
    };
    for server in &stack.cluster {
        let seen = authorization(server);
        assert!(!seen.is_empty(), "{} was never scraped", server.addr());
        let bearer = Some(format!("Bearer {API_KEY}"));
        assert!(
            seen.iter().all(|a| *a == bearer),
            "{}: {seen:?}",
            server.addr()
        );
    }
    // Without a key the variable expands to nothing and the scrape carries a bare `Bearer`
    // (no token), which a Qdrant without an API key ignores: never a credential.
    for server in &stack.nodes {
        let seen = authorization(server);
        assert!(!seen.is_empty(), "{} was never scraped", server.addr());
        assert!(
            seen.iter()
                .all(|a| a.as_deref().is_none_or(|v| v.trim() == "Bearer")),
            "{}: {seen:?}",
            server.addr()
        );
    }
}

/// (g) The `target_info` join docs/deployment.md gives returns every node's series with its
/// `qdrant_version`, and `target_info` keeps the other resource attributes (`qdrant_peer_id`).
async fn the_documented_target_info_join_works(stack: &Stack) {
    let join = e2e_stack::documented_target_info_join();
    let result = stack
        .prometheus
        .try_query(&join)
        .await
        .unwrap_or_else(|e| panic!("the documented join fails on the Collector path: {e}"));
    let versions: BTreeSet<(String, String)> = result
        .iter()
        .map(|s| {
            (
                s["metric"]["instance"].as_str().unwrap_or("").to_string(),
                s["metric"]["qdrant_version"]
                    .as_str()
                    .unwrap_or("")
                    .to_string(),
            )
        })
        .collect();
    for instance in stack.instances().iter().chain(&stack.cluster_instances()) {
        assert!(
            versions.contains(&(instance.clone(), "1.18.3".to_string())),
            "{join}: no series of {instance} with qdrant_version 1.18.3 in {versions:?}"
        );
    }
    // The rest of the resource is there too: each cluster node's raft peer id.
    for instance in stack.cluster_instances() {
        let expr = format!(r#"target_info{{instance="{instance}",qdrant_peer_id!=""}}"#);
        assert_eq!(stack.prometheus.query(&expr).await.len(), 1, "{expr}");
    }
}

/// (h) `promtool check metrics` on the agent's families as the Collector's exporter serves them
/// (with HELP and TYPE): only the findings docs/dashboards.md explains.
async fn promtool_finds_only_what_the_docs_explain(stack: &Stack, bins: &Path) {
    let targets = stack.prometheus.get("/api/v1/targets").await;
    let mut findings = Vec::new();
    let mut checked = 0;
    for target in targets["data"]["activeTargets"].as_array().unwrap() {
        let url = target["scrapeUrl"].as_str().unwrap();
        let body = reqwest::get(url).await.unwrap().text().await.unwrap();
        let text = agent_families(&body);
        if !text.is_empty() {
            checked += 1;
            findings.extend(promtool_findings(&bins.join("promtool"), &text));
        }
    }
    assert_eq!(
        checked, 2,
        "the agent's metrics are on both Collectors' exporters"
    );
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

/// The lines of an exposition that belong to the agent's families (`qdrant_*`).
fn agent_families(text: &str) -> String {
    text.lines()
        .filter(|line| {
            let name = line
                .strip_prefix("# HELP ")
                .or_else(|| line.strip_prefix("# TYPE "))
                .unwrap_or(line);
            name.starts_with("qdrant_")
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// `promtool check metrics` on exposition text: its findings, one per line.
fn promtool_findings(promtool: &Path, text: &str) -> Vec<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
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
    let doc = std::fs::read_to_string(e2e_stack::root().join("docs/dashboards.md")).unwrap();
    let section = doc.split("## promtool findings").nth(1).unwrap_or("");
    section
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("- `"))
        .filter_map(|l| l.split('`').next())
        .map(String::from)
        .collect()
}
