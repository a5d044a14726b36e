//! Golden files: each recorded Qdrant response set, served by a real HTTP server, polled once,
//! rendered as sorted text (clock-dependent values masked). Review changes with
//! `INSTA_UPDATE=always cargo test --test golden` and `git diff tests/snapshots`.

mod harness;
mod support;

use qdrant_otel_agent::metrics::{render, ClusterRole};
use support::FixtureServer;

async fn golden(set: &str) -> (String, ClusterRole) {
    let server = FixtureServer::start(set).await;
    let recorded = harness::poll_once(&server.url()).await;
    (render::golden(&recorded.points), recorded.cluster_role)
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

/// Every metric in the registry is produced by at least one recorded set, except the one that
/// only exists after an export (checked by the OTLP tests).
#[tokio::test(flavor = "multi_thread")]
async fn every_registered_metric_is_produced_by_the_fixtures() {
    let mut seen = std::collections::BTreeSet::new();
    for set in [
        "qdrant-1.18.3/single",
        "qdrant-1.18.3/single-busy",
        "qdrant-1.18.3/cluster/node1",
        "qdrant-1.18.3/cluster-node3-down/node1",
    ] {
        let server = FixtureServer::start(set).await;
        for point in harness::poll_once(&server.url()).await.points {
            seen.insert(point.spec().name);
        }
    }
    let missing: Vec<&str> = qdrant_otel_agent::metrics::REGISTRY
        .iter()
        .map(|spec| spec.name)
        .filter(|name| !seen.contains(name) && *name != "qdrant.agent.exported_points")
        .collect();
    assert!(missing.is_empty(), "never produced: {missing:?}");
}
