//! Discovery, with the recordings of a real 3-node Qdrant 1.18.3 cluster served by three test
//! servers and a real OTLP receiver: an agent given one node finds the other two from its
//! `/cluster` peers (their p2p URIs mapped to the servers by `qdrant.discovery.addresses`),
//! exports every node and the cluster's series once, and follows membership: a peer gone from
//! `/cluster` stops being exported, and comes back when it rejoins.

mod harness;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use support::{flatten, FixtureServer, OtlpReceiver};

const NODES: [&str; 3] = [
    "qdrant-1.18.3/cluster/node1",
    "qdrant-1.18.3/cluster/node2",
    "qdrant-1.18.3/cluster/node3",
];
/// The peers' p2p addresses in the recordings, node1 to node3.
const P2P: [&str; 3] = ["127.0.0.1:7015", "127.0.0.1:7025", "127.0.0.1:7035"];
const CLUSTER: &str = "qdrant-cluster";
const EVERY: Duration = Duration::from_millis(500);

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

async fn start_nodes() -> Vec<FixtureServer> {
    let mut servers = Vec::new();
    for set in NODES {
        servers.push(FixtureServer::start(set).await);
    }
    servers
}

/// An agent given only node1's URL, discovery on, the p2p addresses mapped to the servers.
fn start_agent(servers: &[FixtureServer], receiver: &OtlpReceiver) -> harness::RunningAgent {
    let addresses: Vec<String> = P2P
        .iter()
        .zip(servers)
        .map(|(p2p, server)| format!("{p2p}={}", server.url()))
        .collect();
    let settings = harness::settings(&[
        ("QDRANT_URL", &servers[0].url()),
        ("QDRANT_OTEL_QDRANT__DISCOVERY__ENABLED", "true"),
        ("QDRANT_OTEL_QDRANT__DISCOVERY__EVERY", "500ms"),
        (
            "QDRANT_OTEL_QDRANT__DISCOVERY__ADDRESSES",
            &addresses.join(","),
        ),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
    ]);
    harness::RunningAgent::start(settings)
}

/// The `service.instance.id`s exported by the requests from the `from`-th on.
fn exported_instances(receiver: &OtlpReceiver, from: usize) -> BTreeSet<String> {
    let requests = receiver.requests();
    flatten(&requests[from.min(requests.len())..])
        .into_iter()
        .filter_map(|p| p.resource.get("service.instance.id").cloned())
        .collect()
}

/// Wait until every one of `instances` was exported by the requests from the `from`-th on.
async fn wait_for_instances(receiver: &OtlpReceiver, from: usize, instances: &[String]) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let seen = exported_instances(receiver, from);
        if instances.iter().all(|i| seen.contains(i)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {instances:?} to be exported, saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_seed_finds_the_other_nodes() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let agent = start_agent(&servers, &receiver);
    let nodes: Vec<String> = servers.iter().map(instance).collect();
    wait_for_instances(&receiver, 0, &nodes).await;
    // A few more rounds, so that every node and the cluster export again.
    let after = receiver.requests().len();
    wait_for_instances(&receiver, after, &nodes).await;
    agent.stop().await;
    let mut expected: BTreeSet<String> = nodes.into_iter().collect();
    expected.insert(CLUSTER.to_string());
    assert_eq!(exported_instances(&receiver, 0), expected);
    // Every cluster-wide series once in each export of the cluster resource, and only there.
    let mut cluster_exports = 0;
    for request in receiver.requests() {
        let points = flatten(std::slice::from_ref(&request));
        let mut series = BTreeMap::new();
        for point in &points {
            let on = point
                .resource
                .get("service.instance.id")
                .map(String::as_str);
            if point.metric.starts_with("qdrant.collection.logical") {
                assert_eq!(on, Some(CLUSTER), "{point:?}");
            }
            if on == Some(CLUSTER) {
                *series
                    .entry((point.metric.clone(), point.attributes.clone()))
                    .or_insert(0) += 1;
            }
        }
        for (key, count) in &series {
            assert_eq!(*count, 1, "{key:?} exported {count} times in one export");
        }
        cluster_exports += usize::from(!series.is_empty());
    }
    assert!(cluster_exports >= 2, "{cluster_exports} cluster exports");
}

/// Make every node's `/cluster` list the peers but `gone` (or all of them again).
fn set_membership(servers: &[FixtureServer], gone: Option<u64>) {
    for server in servers {
        let mut cluster: serde_json::Value =
            serde_json::from_str(&server.fixture_body("/cluster")).unwrap();
        if let Some(peer) = gone {
            let peers = cluster["result"]["peers"].as_object_mut().unwrap();
            assert!(
                peers.remove(&peer.to_string()).is_some(),
                "{peer} is a peer"
            );
        }
        server.set_response("/cluster", 200, "application/json", cluster.to_string());
    }
}

fn peer_id(server: &FixtureServer) -> u64 {
    let cluster: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/cluster")).unwrap();
    cluster["result"]["peer_id"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_that_leaves_membership_stops_and_rejoins() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let agent = start_agent(&servers, &receiver);
    let nodes: Vec<String> = servers.iter().map(instance).collect();
    wait_for_instances(&receiver, 0, &nodes).await;

    set_membership(&servers, Some(peer_id(&servers[2])));
    // Discovery re-reads within `every`; the node's last export follows its stop.
    tokio::time::sleep(2 * EVERY).await;
    let left = receiver.requests().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let seen = exported_instances(&receiver, left);
    assert!(
        !seen.contains(&nodes[2]),
        "node3 left, yet exported: {seen:?}"
    );
    assert!(
        seen.contains(&nodes[0]) && seen.contains(&nodes[1]),
        "the others go on: {seen:?}"
    );

    set_membership(&servers, None);
    let rejoined = receiver.requests().len();
    wait_for_instances(&receiver, rejoined, &nodes).await;
    agent.stop().await;
}
