//! Golden files: each recorded Qdrant response set, served by a real HTTP server, polled once,
//! rendered as sorted text (clock-dependent values masked). Review changes with
//! `INSTA_UPDATE=always cargo test --test golden` and `git diff tests/snapshots`.

mod harness;
mod support;

use qdrant_otel_agent::metrics::registry::Scope;
use qdrant_otel_agent::metrics::{render, ClusterRole, Point, Recorded};
use support::FixtureServer;

/// The sets the goldens above record, and those the every-metric goldens record.
const GOLDEN_SETS: [&str; 5] = [
    "qdrant-1.18.3/single",
    "qdrant-1.18.3/single-busy",
    "qdrant-1.18.3/cluster/node1",
    "qdrant-1.18.3/cluster/node2",
    "qdrant-1.18.3/cluster-node3-down/node1",
];
const EVERY_METRIC_SETS: [&str; 7] = [
    "qdrant-1.18.3/single",
    "qdrant-1.18.3/single-busy",
    "qdrant-1.18.3/cluster/node1",
    "qdrant-1.18.3/cluster-node3-down/node1",
    "qdrant-1.19.0/single",
    "qdrant-1.19.0/cluster/node1",
    "qdrant-1.19.0/cluster-node3-down/node1",
];

/// Polls with every metric enabled, twice (the optimizer's throughput needs two polls); the
/// 1.18.3 recordings get the hand-made extras, the 1.19 sets answer `/quotas` themselves.
async fn poll_every_metric(set: &str) -> Recorded {
    let server = FixtureServer::start(set).await;
    if set.starts_with("qdrant-1.18.3/") {
        serve_synthetic_extras(&server);
    } else {
        serve_level4_per_collection(&server, |_| {});
    }
    harness::poll_all_metrics_n(&server.url(), 2).await
}

async fn golden(set: &str) -> (String, ClusterRole) {
    let server = FixtureServer::start(set).await;
    let recorded = harness::poll_once(&server.url()).await;
    (render::golden(&recorded.all()), recorded.cluster_role)
}

#[tokio::test(flavor = "multi_thread")]
async fn single() {
    let (text, role) = golden("qdrant-1.18.3/single").await;
    assert_eq!(role, ClusterRole::Standalone);
    insta::assert_snapshot!("single", text);
}

#[tokio::test(flavor = "multi_thread")]
async fn single_busy() {
    let (text, role) = golden("qdrant-1.18.3/single-busy").await;
    assert_eq!(role, ClusterRole::Standalone);
    insta::assert_snapshot!("single_busy", text);
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_leader() {
    let (text, role) = golden("qdrant-1.18.3/cluster/node1").await;
    assert_eq!(role, ClusterRole::Leader);
    insta::assert_snapshot!("cluster_node1", text);
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_follower() {
    let (text, role) = golden("qdrant-1.18.3/cluster/node2").await;
    assert_eq!(role, ClusterRole::Follower);
    assert!(
        !text.contains("qdrant.collection.replicas"),
        "a follower leaves cluster-wide metrics to the leader"
    );
    insta::assert_snapshot!("cluster_node2", text);
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_with_a_dead_node() {
    let (text, role) = golden("qdrant-1.18.3/cluster-node3-down/node1").await;
    assert_eq!(role, ClusterRole::Leader);
    insta::assert_snapshot!("cluster_node3_down_node1", text);
}

/// Responses no recording holds (the recorded server had no issues, no full-storage snapshot,
/// no quotas, and `details_level=4` was not recorded together with `per_collection=true`),
/// made by hand following Qdrant's OpenAPI schemas and the recorded bodies.
fn serve_synthetic_extras(server: &FixtureServer) {
    server.set_response(
        "/issues",
        200,
        "application/json",
        r#"{"result":{"issues":[{"id":"UNINDEXED_FIELD/articles/year","description":"Unindexed field 'year' might be slowing queries down in collection 'articles'","solution":"Create an index","timestamp":"2026-11-22T11:30:00Z"}]},"status":"ok","time":0.0001}"#,
    );
    server.set_response(
        "/snapshots",
        200,
        "application/json",
        r#"{"result":[{"name":"full-snapshot-2026-11-22-11-30-00.snapshot","creation_time":"2026-11-22T11:30:00","size":123456}],"status":"ok","time":0.0001}"#,
    );
    server.set_response(
        "/quotas",
        200,
        "application/json",
        r#"{"result":{"config":{"enabled":true,"max_resident_memory_percent":90,"max_disk_usage_percent":80},"usage":{"resident_memory_percent":1,"disk_usage_percent":45}},"status":"ok","time":0.0001}"#,
    );
    serve_level4_per_collection(server, |level4| {
        level4["result"]["quota"] = serde_json::json!({
            "config": {"enabled": true, "max_resident_memory_percent": 90, "max_disk_usage_percent": 80},
            "exceeded": {"resident_memory": false, "disk_usage": null}
        });
    });
}

/// `details_level=4` with `per_collection=true` (what a poll with every metric asks for): no
/// set recorded it, so it is the level-4 body with the per-collection requests of level 3.
fn serve_level4_per_collection(server: &FixtureServer, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut level4: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/telemetry?details_level=4")).unwrap();
    let per_collection: serde_json::Value = serde_json::from_str(
        &server.fixture_body("/telemetry?details_level=3&per_collection=true"),
    )
    .unwrap();
    level4["result"]["requests"] = per_collection["result"]["requests"].clone();
    edit(&mut level4);
    server.set_response(
        "/telemetry?details_level=4&per_collection=true",
        200,
        "application/json",
        level4.to_string(),
    );
}

/// Every metric in the registry is produced from the recordings (plus the hand-made extras
/// above) and the derived 1.19 sets, except the export task's own two, which exist only once exports ran (the OTLP tests
/// check them on the wire).
#[tokio::test(flavor = "multi_thread")]
async fn every_registered_metric_is_produced_by_the_fixtures() {
    let mut seen = std::collections::BTreeSet::new();
    for set in EVERY_METRIC_SETS {
        for point in poll_every_metric(set).await.all() {
            seen.insert(point.spec().name);
        }
    }
    let missing: Vec<&str> = qdrant_otel_agent::metrics::REGISTRY
        .iter()
        .map(|spec| spec.name)
        .filter(|name| {
            !seen.contains(name)
                // Added by the export task, not by recording.
                && *name != "qdrant.agent.exported_points"
        })
        .collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
}

/// Opt-in metrics from the recorded sets: payload indexes, searches by path, hardware and
/// per-collection requests.
#[tokio::test(flavor = "multi_thread")]
async fn single_with_every_metric() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    serve_synthetic_extras(&server);
    let recorded = harness::poll_all_metrics(&server.url()).await;
    insta::assert_snapshot!("single_all_metrics", render::golden(&recorded.all()));
}

/// Every point's attribute keys are declared in its metric's spec (once each), and
/// cluster-scoped points sit where the node's role puts them: only in `cluster` for the raft
/// leader, only in `node` for a standalone node, nowhere for a follower.
#[tokio::test(flavor = "multi_thread")]
async fn points_carry_declared_attributes_and_sit_on_their_scope() {
    for set in GOLDEN_SETS {
        let server = FixtureServer::start(set).await;
        check_recorded(set, &harness::poll_once(&server.url()).await);
    }
    for set in EVERY_METRIC_SETS {
        check_recorded(set, &poll_every_metric(set).await);
    }
}

fn check_recorded(set: &str, recorded: &Recorded) {
    for point in recorded.node.iter().chain(&recorded.cluster) {
        check_attributes(set, point);
    }
    let cluster_scoped = |points: &[Point]| {
        points
            .iter()
            .filter(|p| p.spec().scope == Scope::Cluster)
            .count()
    };
    let (in_node, in_cluster) = (
        cluster_scoped(&recorded.node),
        cluster_scoped(&recorded.cluster),
    );
    match recorded.cluster_role {
        ClusterRole::Leader => {
            assert_eq!(
                in_node, 0,
                "{set}: a leader puts cluster-wide points on the node"
            );
            assert!(
                in_cluster > 0,
                "{set}: a leader records no cluster-wide points"
            );
            assert_eq!(
                in_cluster,
                recorded.cluster.len(),
                "{set}: node-scoped points on the cluster's resource"
            );
        }
        ClusterRole::Standalone => {
            assert!(
                in_node > 0,
                "{set}: a single node records no cluster-wide points"
            );
            assert!(
                recorded.cluster.is_empty(),
                "{set}: a single node has no cluster resource"
            );
        }
        ClusterRole::Follower => {
            assert_eq!(
                in_node + recorded.cluster.len(),
                0,
                "{set}: a follower speaks for the cluster"
            );
        }
    }
}

fn check_attributes(set: &str, point: &Point) {
    let spec = point.spec();
    for (i, (key, _)) in point.attributes.iter().enumerate() {
        assert!(
            spec.attributes.contains(key),
            "{set}: {} has undeclared attribute {key}",
            spec.name
        );
        assert!(
            !point.attributes[..i].iter().any(|(k, _)| k == key),
            "{set}: {} repeats attribute {key}",
            spec.name
        );
    }
}
