//! The second path of docs/deployment.md: the agent pushing straight to Prometheus 3's own OTLP
//! receiver (`--web.enable-otlp-receiver`, as a cloud Prometheus takes OTLP), no Collector in
//! between. Prometheus turns `service.name` into `job` and `service.instance.id` into
//! `instance`, so the series carry the same labels as on the Collector path; the rest of the
//! resource lands on `target_info`, and the join docs/deployment.md gives reads it there.
//!
//! Checked: key series equal the recordings, every metric lands under its documented
//! Prometheus name, the documented `target_info` join works, and every dashboard query built
//! only on the agent's metrics returns data (those on Qdrant's own `/metrics` need the
//! Collector's scrape, which this path does not have).

mod e2e_bins;
mod e2e_stack;
mod harness;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use support::FixtureServer;

const SETS: [&str; 2] = [
    "qdrant-1.18.3/single",
    "qdrant-1.18.3/cluster-node3-down/node1",
];

/// The metric names in a recorded `/metrics` exposition.
fn qdrant_own_metric_names(server: &FixtureServer) -> BTreeSet<String> {
    server
        .fixture_body("/metrics")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split(['{', ' ']).next())
        .flat_map(|name| {
            // A histogram's series and the family name the dashboards may use.
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            [name.to_string(), family.to_string()]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_pushes_straight_to_prometheus_3_over_otlp() {
    let Some(bins) = e2e_bins::require(
        "the_agent_pushes_straight_to_prometheus_3_over_otlp",
        &["prometheus"],
    ) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let nodes: Vec<FixtureServer> = futures::future::join_all(SETS.map(FixtureServer::start)).await;
    let (prometheus, _prometheus) =
        e2e_stack::start_prometheus(&bins, dir, &[], &["--web.enable-otlp-receiver"]);
    let urls: Vec<String> = nodes.iter().map(FixtureServer::url).collect();
    let _agent = e2e_stack::start_agent(
        dir,
        "agent",
        &[
            ("QDRANT_URL", urls.join(",")),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("{}/api/v1/otlp", prometheus.base),
            ),
        ],
    );
    let logs = || e2e_stack::logs(dir, &["agent", "prometheus"]);
    let up = prometheus
        .query_until_data("count(qdrant_up == 1) >= 2", Duration::from_secs(60))
        .await;
    assert!(!up.is_empty(), "no qdrant_up for both nodes\n{}", logs());
    tokio::time::sleep(Duration::from_secs(4)).await;

    // Key series, with the job and instance a scrape of the node would get.
    let single = nodes[0].addr().to_string();
    for (expr, truth) in [
        (format!(r#"qdrant_up{{job="qdrant",instance="{single}"}}"#), 1.0),
        (format!(r#"qdrant_collection_points{{job="qdrant",instance="{single}",db_collection_name="articles"}}"#), 2850.0),
        (r#"qdrant_collection_replicas{job="qdrant",instance="qdrant-cluster",db_collection_name="docs",state="dead"}"#.to_string(), 2.0),
        (format!(r#"qdrant_cluster_message_send_failures_total{{instance="{}"}}"#, nodes[1].addr()), 52.0),
    ] {
        assert_eq!(prometheus.value(&expr).await, Some(truth), "{expr}\n{}", logs());
    }

    // Every metric under its documented name.
    let mut names = BTreeSet::new();
    for url in &urls {
        for point in harness::poll_once(url).await.all() {
            names.insert(point.spec().prometheus_name());
        }
    }
    let missing = prometheus.missing(&names).await;
    assert!(
        missing.is_empty(),
        "not under their documented names: {missing:?}"
    );

    // The documented target_info join.
    let join = e2e_stack::documented_target_info_join();
    let joined = prometheus
        .try_query(&join)
        .await
        .unwrap_or_else(|e| panic!("the documented join fails on the direct path: {e}"));
    for node in &nodes {
        let instance = node.addr().to_string();
        assert!(
            joined
                .iter()
                .any(|s| s["metric"]["instance"] == instance.as_str()
                    && s["metric"]["qdrant_version"] == "1.18.3"),
            "{join}: no series of {instance} with its qdrant_version: {joined:?}"
        );
    }

    // Dashboard queries on the agent's metrics alone.
    let qdrant_own = qdrant_own_metric_names(&nodes[0]);
    let mut failing = Vec::new();
    let mut checked = 0;
    let all = [("job", ".*"), ("instance", ".*"), ("collection", ".*")];
    for query in e2e_stack::dashboard_queries(&all) {
        let uses_qdrant_own = query
            .expr
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .any(|word| qdrant_own.contains(word));
        if uses_qdrant_own {
            continue;
        }
        checked += 1;
        let result = prometheus
            .query_until_data(&query.expr, Duration::from_secs(10))
            .await;
        if result.is_empty() {
            failing.push(format!("{} / {}: {}", query.file, query.panel, query.expr));
        }
    }
    assert!(
        checked > 30,
        "only {checked} dashboard queries on the agent's metrics"
    );
    assert!(
        failing.is_empty(),
        "queries without data on the direct path:\n{}\n{}",
        failing.join("\n"),
        logs()
    );
}
