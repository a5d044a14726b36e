//! The switches of the metric catalogue: `metrics.<name>.enabled` (a disabled metric's source is
//! not called), `collections.include` / `exclude` globs, `privacy.hash_collection_names`, and a
//! collection-scoped JWT that may not read global endpoints.

mod harness;
mod support;

use harness::{points_named, value, Poller};
use support::{Fault, FixtureServer};

fn collections_in(
    points: &[qdrant_otel_agent::metrics::Point],
) -> std::collections::BTreeSet<String> {
    points
        .iter()
        .flat_map(|p| p.attributes.iter())
        .filter(|(k, _)| *k == "db.collection.name")
        .map(|(_, v)| v.to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn include_and_exclude_globs() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let settings = harness::settings_with_yaml(
        "collections:\n  include: ['*']\n  exclude: ['busy', 's*']\n",
        &[("QDRANT_URL", &server.url())],
    );
    let points = Poller::new(settings).poll().await.all();
    assert_eq!(
        collections_in(&points),
        ["articles", "empty_collection", "products"]
            .map(String::from)
            .into(),
    );
    // Excluded collections cost no per-collection request either.
    assert_eq!(server.request_count("/collections/busy/memory"), 0);
    assert_eq!(
        server.request_count("/collections/sharded/optimizations"),
        0
    );
    assert_eq!(server.request_count("/collections/articles/memory"), 1);

    let settings = harness::settings_with_yaml(
        "collections:\n  include: ['prod*', 'art*']\n",
        &[("QDRANT_URL", &server.url())],
    );
    let points = Poller::new(settings).poll().await.all();
    assert_eq!(
        collections_in(&points),
        ["articles", "products"].map(String::from).into()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn collection_names_can_be_hashed() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let settings = harness::settings_with_yaml(
        "privacy:\n  hash_collection_names: true\n",
        &[("QDRANT_URL", &server.url())],
    );
    let points = Poller::new(settings).poll().await.all();
    let names = collections_in(&points);
    assert_eq!(names.len(), 5);
    assert!(!names.contains("articles"));
    let hashed = qdrant_otel_agent::metrics::record::hash_name("articles");
    assert_eq!(hashed.len(), 16);
    assert_eq!(
        value(
            &points,
            "qdrant.collection.points",
            &[("db.collection.name", &hashed)]
        ),
        Some(2850.0),
        "the same collection always maps to the same stand-in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_metrics_cost_no_request() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let settings = harness::settings_with_yaml(
        "metrics:
  qdrant.collection.disk.usage: {enabled: false}
  qdrant.collection.ram.usage: {enabled: false}
  qdrant.collection.page_cache.usage: {enabled: false}
  qdrant.collection.page_cache.expected_usage: {enabled: false}
  qdrant.collection.points: {enabled: false}
  qdrant.collection.searches: {enabled: true}
",
        &[
            ("QDRANT_URL", &server.url()),
            // The environment form: dots become underscores.
            ("QDRANT_OTEL_METRICS__QDRANT_ISSUES__ENABLED", "false"),
        ],
    );
    let points = Poller::new(settings).poll().await.all();
    assert!(points_named(&points, "qdrant.collection.points").is_empty());
    assert!(points_named(&points, "qdrant.collection.disk.usage").is_empty());
    assert!(
        !points_named(&points, "qdrant.collection.searches").is_empty(),
        "opt-in enabled"
    );
    let memory_requests = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/memory"))
        .count();
    assert_eq!(
        memory_requests, 0,
        "no metric needs /memory, so it is not called"
    );
    assert_eq!(server.request_count("/issues"), 0);
    assert_eq!(
        server.request_count("/collections/articles/optimizations"),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_metric_names_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.yaml");
    std::fs::write(
        &path,
        "metrics:\n  qdrant.collection.pointz: {enabled: false}\n",
    )
    .unwrap();
    let sources = qdrant_otel_agent::config::ConfigSources {
        file: Some(path.clone()),
        ..Default::default()
    };
    let error = qdrant_otel_agent::config::load(&sources).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].key, "metrics.qdrant.collection.pointz");
    assert_eq!(
        error.problems[0].message,
        "is not a metric of this agent (see docs/metrics.md for the names)"
    );
}

/// A collection-scoped JWT: Qdrant leaves `cluster`, `requests` and `memory` out of telemetry
/// and answers 403 on global endpoints. The agent reports what it may see, stays up, and says
/// once per source what it cannot read.
#[tokio::test(flavor = "multi_thread")]
async fn collection_scoped_jwt() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJhY2Nlc3MiOlt7ImNvbGxlY3Rpb24iOiJhcnRpY2xlcyIsImFjY2VzcyI6InIifV19.sig";
    server.require_api_key(token);
    for level in [3, 4] {
        let path = format!("/telemetry?details_level={level}");
        let mut body: serde_json::Value =
            serde_json::from_str(&server.fixture_body(&path)).unwrap();
        let result = body["result"].as_object_mut().unwrap();
        for hidden in ["cluster", "requests", "memory", "hardware"] {
            result.remove(hidden);
        }
        server.set_response(&path, 200, "application/json", body.to_string());
    }
    for global in ["/cluster", "/issues", "/snapshots", "/quotas"] {
        server.set_fault(global, Fault::Status(403));
    }
    let settings = harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_QDRANT__JWT", token),
    ]);
    let mut poller = Poller::new(settings);
    let mut points = Vec::new();
    for _ in 0..3 {
        points = poller.poll().await.all();
        assert_eq!(value(&points, "qdrant.up", &[]), Some(1.0));
    }
    assert_eq!(
        value(
            &points,
            "qdrant.collection.points",
            &[("db.collection.name", "articles")]
        ),
        Some(2850.0)
    );
    assert!(points_named(&points, "qdrant.memory.active").is_empty());
    assert!(points_named(&points, "qdrant.rest.responses").is_empty());
    assert_eq!(
        value(
            &points,
            "qdrant.agent.poll.errors",
            &[
                ("qdrant.agent.source", "cluster"),
                ("error.type", "forbidden")
            ]
        ),
        Some(3.0)
    );
    // Every request carried the token as a bearer token.
    assert!(server.requests().iter().all(|r| r
        .headers
        .iter()
        .any(|(k, v)| k == "authorization" && v == &format!("Bearer {token}"))));
}
