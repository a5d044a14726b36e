//! Clusters, with the recordings of a real 3-node Qdrant 1.18.3 cluster served by three test
//! servers and a real OTLP receiver: logical (cluster-wide) counts equal what Qdrant's own
//! `/collections/{name}` says, node-local counts equal each node's telemetry, and every
//! cluster-wide series is exported exactly once — whether one agent polls the three nodes or
//! three agents poll one node each — and stays continuous when leadership moves.

mod harness;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use support::{flatten, FixtureServer, FlatPoint, OtlpReceiver};

const NODES: [&str; 3] = [
    "qdrant-1.18.3/cluster/node1",
    "qdrant-1.18.3/cluster/node2",
    "qdrant-1.18.3/cluster/node3",
];
const COLLECTIONS: [&str; 2] = ["docs", "images"];
const CLUSTER: &str = "qdrant-cluster";

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

fn agent_settings(urls: &str, receiver: &OtlpReceiver) -> qdrant_otel_agent::config::Settings {
    harness::settings(&[
        ("QDRANT_URL", urls),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
    ])
}

fn on_resource<'a>(points: &'a [FlatPoint], instance: &str) -> Vec<&'a FlatPoint> {
    points
        .iter()
        .filter(|p| p.resource.get("service.instance.id").map(String::as_str) == Some(instance))
        .collect()
}

/// Per exported request: the cluster resource's series keys, and the metrics with a
/// collection attribute counted per (metric, collection).
fn cluster_series(points: &[&FlatPoint]) -> BTreeMap<(String, BTreeMap<String, String>), usize> {
    let mut series = BTreeMap::new();
    for point in points {
        *series
            .entry((point.metric.clone(), point.attributes.clone()))
            .or_insert(0) += 1;
    }
    series
}

async fn start_nodes() -> Vec<FixtureServer> {
    let mut servers = Vec::new();
    for set in NODES {
        servers.push(FixtureServer::start(set).await);
    }
    servers
}

/// Check the exports of a run: logical counts, local counts, and each cluster-wide series once.
fn check_exports(receiver: &OtlpReceiver, servers: &[FixtureServer]) {
    let requests = receiver.requests();
    let points = flatten(&requests);
    // The newest export of the cluster resource.
    let last_cluster = requests
        .iter()
        .rev()
        .map(|r| flatten(std::slice::from_ref(r)))
        .find(|p| !on_resource(p, CLUSTER).is_empty())
        .expect("the cluster resource was exported");
    let cluster = on_resource(&last_cluster, CLUSTER);
    for (key, count) in cluster_series(&cluster) {
        assert_eq!(count, 1, "{key:?} exported {count} times in one export");
    }
    for collection in COLLECTIONS {
        let logical: Vec<f64> = cluster
            .iter()
            .filter(|p| {
                p.metric == "qdrant.collection.logical_points"
                    && p.attributes["db.collection.name"] == collection
            })
            .map(|p| p.value)
            .collect();
        for server in servers {
            assert_eq!(
                logical,
                vec![server.points_count(collection)],
                "{collection}"
            );
        }
        for server in servers {
            let node = on_resource(&points, &instance(server));
            let local = node
                .iter()
                .rev()
                .find(|p| {
                    p.metric == "qdrant.collection.points"
                        && p.attributes["db.collection.name"] == collection
                })
                .map(|p| p.value);
            let expected = server.local_points(collection);
            if expected > 0.0 {
                assert_eq!(
                    local,
                    Some(expected),
                    "{collection} on {}",
                    instance(server)
                );
            }
            // Node-local series never carry cluster-wide metrics in a cluster.
            assert!(node
                .iter()
                .all(|p| !p.metric.starts_with("qdrant.collection.logical")));
        }
    }
    // Only the cluster resource carries cluster-wide metrics: no other resource has them.
    let stray: BTreeSet<&str> = points
        .iter()
        .filter(|p| p.metric == "qdrant.collection.logical_points")
        .filter_map(|p| p.resource.get("service.instance.id").map(String::as_str))
        .collect();
    assert_eq!(stray, BTreeSet::from([CLUSTER]));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_agent_polling_three_nodes() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let urls: Vec<String> = servers.iter().map(FixtureServer::url).collect();
    let agent = harness::RunningAgent::start(agent_settings(&urls.join(","), &receiver));
    receiver.wait_for_requests(8, Duration::from_secs(20)).await;
    agent.stop().await;
    check_exports(&receiver, &servers);
}

#[tokio::test(flavor = "multi_thread")]
async fn three_sidecar_agents_one_node_each() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let agents: Vec<harness::RunningAgent> = servers
        .iter()
        .map(|server| harness::RunningAgent::start(agent_settings(&server.url(), &receiver)))
        .collect();
    receiver.wait_for_requests(8, Duration::from_secs(20)).await;
    for agent in agents {
        agent.stop().await;
    }
    check_exports(&receiver, &servers);
}

/// The configured `cluster.name` is the `qdrant.cluster.name` attribute of every per-node
/// cluster point (its Prometheus label `qdrant_cluster_name` is what the raft rules and the
/// dashboards group by, so clusters sharing one job stay apart), equal to the node resource's
/// attribute of the same name.
#[tokio::test(flavor = "multi_thread")]
async fn per_node_cluster_points_name_their_cluster() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let urls: Vec<String> = servers.iter().map(FixtureServer::url).collect();
    let settings = harness::settings(&[
        ("QDRANT_URL", &urls.join(",")),
        ("QDRANT_OTEL_CLUSTER__NAME", "prod-eu"),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
    ]);
    let agent = harness::RunningAgent::start(settings);
    receiver.wait_for_requests(4, Duration::from_secs(20)).await;
    agent.stop().await;
    let points = flatten(&receiver.requests());
    for server in &servers {
        let raft: Vec<&FlatPoint> = on_resource(&points, &instance(server))
            .into_iter()
            .filter(|p| p.metric.starts_with("qdrant.cluster."))
            .collect();
        assert!(
            raft.iter()
                .any(|p| p.metric == "qdrant.cluster.raft.commit"),
            "{}: no raft commit",
            instance(server)
        );
        for point in raft {
            for labels in [&point.attributes, &point.resource] {
                assert_eq!(
                    labels.get("qdrant.cluster.name").map(String::as_str),
                    Some("prod-eu"),
                    "{} on {}",
                    point.metric,
                    instance(server)
                );
            }
        }
    }
}

/// Make a node report `role` in `/cluster` and telemetry.
fn set_role(server: &FixtureServer, role: &str, leader: u64) {
    let mut cluster: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/cluster")).unwrap();
    cluster["result"]["raft_info"]["role"] = role.into();
    cluster["result"]["raft_info"]["leader"] = leader.into();
    server.set_response("/cluster", 200, "application/json", cluster.to_string());
    for level in [3, 4] {
        let path = format!("/telemetry?details_level={level}");
        let mut telemetry: serde_json::Value =
            serde_json::from_str(&server.fixture_body(&path)).unwrap();
        telemetry["result"]["cluster"]["status"]["role"] = role.into();
        server.set_response(&path, 200, "application/json", telemetry.to_string());
    }
}

fn peer_id(server: &FixtureServer) -> u64 {
    let cluster: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/cluster")).unwrap();
    cluster["result"]["peer_id"].as_u64().unwrap()
}

/// Leadership moves from node1 to node2 in the middle of a run: the cluster-wide series keep
/// their labels, never appear twice in one export, and have no gap longer than a poll or two.
#[tokio::test(flavor = "multi_thread")]
async fn leadership_moves_without_a_gap_or_a_duplicate() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let urls: Vec<String> = servers.iter().map(FixtureServer::url).collect();
    let agent = harness::RunningAgent::start(agent_settings(&urls.join(","), &receiver));
    let started = Instant::now();
    let mut arrivals: Vec<(Duration, Vec<FlatPoint>)> = Vec::new();
    let mut seen = 0;
    let mut moved = false;
    while started.elapsed() < Duration::from_secs(6) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let requests = receiver.requests();
        for request in &requests[seen..] {
            let points = flatten(std::slice::from_ref(request));
            if !on_resource(&points, CLUSTER).is_empty() {
                arrivals.push((started.elapsed(), points));
            }
        }
        seen = requests.len();
        if !moved && started.elapsed() > Duration::from_secs(3) {
            let new_leader = peer_id(&servers[1]);
            set_role(&servers[0], "Follower", new_leader);
            set_role(&servers[1], "Leader", new_leader);
            set_role(&servers[2], "Follower", new_leader);
            moved = true;
        }
    }
    agent.stop().await;
    let after_move: Vec<&(Duration, Vec<FlatPoint>)> = arrivals
        .iter()
        .filter(|(at, _)| *at > Duration::from_secs(3))
        .collect();
    assert!(
        after_move.len() >= 4,
        "the new leader speaks: {} exports",
        after_move.len()
    );
    let label_sets = |points: &[FlatPoint]| -> BTreeSet<BTreeMap<String, String>> {
        on_resource(points, CLUSTER)
            .iter()
            .filter(|p| p.metric == "qdrant.collection.logical_points")
            .map(|p| p.attributes.clone())
            .collect()
    };
    let first = label_sets(&arrivals[0].1);
    assert_eq!(first.len(), COLLECTIONS.len());
    for (at, points) in &arrivals {
        assert_eq!(label_sets(points), first, "same series at {at:?}");
        for (key, count) in cluster_series(&on_resource(points, CLUSTER)) {
            assert_eq!(count, 1, "{key:?} twice in one export at {at:?}");
        }
    }
    for pair in arrivals.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap < Duration::from_millis(900),
            "a gap of {gap:?} at {:?}",
            pair[1].0
        );
    }
    // The new leader, not the old one, reads the cluster's view now.
    let before = servers[1].request_count("/cluster/telemetry?details_level=3");
    assert!(
        before >= 3,
        "node2 read the cluster view as leader: {before}"
    );
}

/// Sidecars: each agent polls `localhost`-like URLs but carries its pod's identity (here from
/// `OTEL_RESOURCE_ATTRIBUTES`, as the downward API sets it), so that its series join the
/// Collector's scrape of that pod's `/metrics`; cluster-wide series are still exported once.
#[tokio::test(flavor = "multi_thread")]
async fn sidecars_carry_the_pod_identity() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let pods = ["10.0.0.1:6333", "10.0.0.2:6333", "10.0.0.3:6333"];
    let agents: Vec<harness::RunningAgent> = servers
        .iter()
        .zip(pods)
        .map(|(server, pod)| {
            let attributes = format!("service.instance.id={pod},k8s.pod.name=qdrant-x");
            let settings = harness::settings(&[
                ("QDRANT_URL", &server.url()),
                ("OTEL_RESOURCE_ATTRIBUTES", &attributes),
                ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
                ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
                ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
            ]);
            harness::RunningAgent::start(settings)
        })
        .collect();
    receiver.wait_for_requests(8, Duration::from_secs(20)).await;
    for agent in agents {
        agent.stop().await;
    }
    let points = flatten(&receiver.requests());
    let instances: BTreeSet<&str> = points
        .iter()
        .filter(|p| p.metric == "qdrant.up")
        .filter_map(|p| p.resource.get("service.instance.id").map(String::as_str))
        .collect();
    assert_eq!(instances, BTreeSet::from(pods));
    let last_cluster = receiver
        .requests()
        .iter()
        .rev()
        .map(|r| flatten(std::slice::from_ref(r)))
        .find(|p| !on_resource(p, CLUSTER).is_empty())
        .expect("the cluster resource was exported");
    for (key, count) in cluster_series(&on_resource(&last_cluster, CLUSTER)) {
        assert_eq!(count, 1, "{key:?}");
    }
}

/// The latest export's value of `metric` on the resource `instance`.
fn latest(receiver: &OtlpReceiver, instance: &str, metric: &str) -> Option<f64> {
    receiver
        .requests()
        .iter()
        .rev()
        .map(|r| flatten(std::slice::from_ref(r)))
        .find_map(|points| {
            on_resource(&points, instance)
                .into_iter()
                .find(|p| p.metric == metric)
                .map(|p| p.value)
        })
}

/// A node goes down and rejoins: it reads `up` 0 meanwhile, the others and the cluster-wide
/// series carry on, and it reads `up` 1 again when it is back.
#[tokio::test(flavor = "multi_thread")]
async fn a_node_goes_down_and_rejoins() {
    let servers = start_nodes().await;
    let receiver = OtlpReceiver::start_http().await;
    let urls: Vec<String> = servers.iter().map(FixtureServer::url).collect();
    let agent = harness::RunningAgent::start(agent_settings(&urls.join(","), &receiver));
    receiver.wait_for_requests(6, Duration::from_secs(20)).await;
    let down = instance(&servers[2]);
    assert_eq!(latest(&receiver, &down, "qdrant.up"), Some(1.0));

    servers[2].set_fault("", support::Fault::Reset);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        latest(&receiver, &down, "qdrant.up"),
        Some(0.0),
        "the node reads down"
    );
    assert_eq!(
        latest(&receiver, &instance(&servers[1]), "qdrant.up"),
        Some(1.0)
    );
    let before = receiver.requests().len();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let cluster_exports = receiver.requests()[before..]
        .iter()
        .filter(|r| !on_resource(&flatten(std::slice::from_ref(*r)), CLUSTER).is_empty())
        .count();
    assert!(
        cluster_exports >= 2,
        "the leader still speaks for the cluster: {cluster_exports}"
    );

    servers[2].clear_faults();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    agent.stop().await;
    assert_eq!(
        latest(&receiver, &down, "qdrant.up"),
        Some(1.0),
        "the node rejoined"
    );
}

/// Qdrant Cloud: each node by its own URL, with an API key that every node requires.
#[tokio::test(flavor = "multi_thread")]
async fn each_node_by_its_own_url_with_an_api_key() {
    let servers = start_nodes().await;
    for server in &servers {
        server.require_api_key("cloud-key");
    }
    let receiver = OtlpReceiver::start_http().await;
    let urls: Vec<String> = servers.iter().map(FixtureServer::url).collect();
    let settings = harness::settings(&[
        ("QDRANT_URL", &urls.join(",")),
        ("QDRANT_API_KEY", "cloud-key"),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
    ]);
    let agent = harness::RunningAgent::start(settings);
    receiver.wait_for_requests(8, Duration::from_secs(20)).await;
    agent.stop().await;
    for server in &servers {
        assert_eq!(latest(&receiver, &instance(server), "qdrant.up"), Some(1.0));
    }
    check_exports(&receiver, &servers);
}
