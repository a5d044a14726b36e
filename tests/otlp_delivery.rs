//! Delivery to the Collector: an OTLP partial success is a delivery (the rejected points are
//! counted, nothing is sent again), over HTTP and gRPC.

mod harness;
mod support;

use std::time::Duration;

use support::{exports_for, find_point, last_agent_value, FixtureServer, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

/// The Collector accepts every export in part, rejecting 3 points each time. Each export is
/// delivered once (no request of an export repeated; the final export at shutdown sends
/// nothing already delivered), and the agent's own telemetry counts 3 rejected points per
/// export of the node and no export failure.
async fn partial_success_is_delivered_and_counted(receiver: OtlpReceiver, protocol: &str) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    receiver.answer_partial_success(3, "metric x: unsupported unit", usize::MAX);
    let agent = harness::RunningAgent::start(harness::agent_settings_with(
        &server.url(),
        &receiver.endpoint(),
        protocol,
        "400ms",
        &[(harness::SELF_TELEMETRY, "true")],
    ));
    let instance = instance(&server);
    let deadline = tokio::time::Instant::now() + WAIT;
    while exports_for(&receiver.requests(), &instance).len() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "3 exports of {instance}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.stop().await;
    let requests = receiver.requests();
    let exports = exports_for(&requests, &instance);
    for export in &exports {
        assert_eq!(
            export.len(),
            1,
            "{protocol}: one request per export, never sent twice"
        );
    }
    let resource = [("qdrant.resource", instance.as_str())];
    let rejected = last_agent_value(&requests, "qdrant.agent.export.rejected_points", &resource);
    assert_eq!(
        rejected,
        Some(3.0 * exports.len() as f64),
        "{protocol}: 3 rejected points counted per export of the node"
    );
    assert_eq!(
        last_agent_value(&requests, "qdrant.agent.export.failures", &resource),
        Some(0.0),
        "{protocol}: a partial success is not a failure"
    );
    let last = &exports.last().unwrap()[0];
    assert!(
        find_point(last, "qdrant.agent.exported_points", &[]).value > 100.0,
        "{protocol}: the exports counted as delivered"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_partial_success_is_delivered_and_counted() {
    partial_success_is_delivered_and_counted(OtlpReceiver::start_http().await, "http/protobuf")
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_partial_success_is_delivered_and_counted() {
    partial_success_is_delivered_and_counted(OtlpReceiver::start_grpc().await, "grpc").await;
}

/// Two nodes and their cluster: three resources exporting to one Collector. The requests of
/// each resource, with the connection each came on, once every resource exported `n` times.
async fn exports_of_three_resources(
    receiver: &OtlpReceiver,
    protocol: &str,
    n: usize,
) -> Vec<(String, usize)> {
    let leader = FixtureServer::start("qdrant-1.18.3/cluster/node1").await;
    let follower = FixtureServer::start("qdrant-1.18.3/cluster/node2").await;
    let urls = format!("{},{}", leader.url(), follower.url());
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &urls,
        &receiver.endpoint(),
        protocol,
        "400ms",
    ));
    let resources = [
        instance(&leader),
        instance(&follower),
        "qdrant-cluster".into(),
    ];
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let requests = receiver.requests();
        let done = resources
            .iter()
            .all(|r| exports_for(&requests, r).len() >= n);
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} exports of each resource"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.stop().await;
    let requests = receiver.requests();
    let connections = receiver.request_connections();
    assert_eq!(requests.len(), connections.len());
    requests
        .iter()
        .zip(connections)
        .flat_map(|(request, connection)| {
            support::instances_of(request)
                .into_iter()
                .map(move |instance| (instance, connection))
        })
        .collect()
}

/// gRPC: the three resources' exports share one channel, so the Collector sees one TCP
/// connection (one client per resource made three).
#[tokio::test(flavor = "multi_thread")]
async fn grpc_exports_of_every_resource_share_one_connection() {
    let receiver = OtlpReceiver::start_grpc().await;
    let exports = exports_of_three_resources(&receiver, "grpc", 4).await;
    assert_eq!(
        receiver.connections(),
        1,
        "one connection for three resources: {exports:?}"
    );
}

/// HTTP/1.1: the resources' exports share one connection pool, so a connection carries the
/// requests of several resources (with one client per resource, each connection carried the
/// requests of one resource only), and there are no more connections than senders that can be
/// in flight at once: the three resources and the agent's own telemetry, which the SDK exports
/// over the same pool every interval (a fourth connection opens when all four send at once).
#[tokio::test(flavor = "multi_thread")]
async fn http_exports_of_every_resource_share_one_pool() {
    let receiver = OtlpReceiver::start_http().await;
    let exports = exports_of_three_resources(&receiver, "http/protobuf", 4).await;
    let mut by_connection: std::collections::BTreeMap<usize, std::collections::BTreeSet<String>> =
        Default::default();
    for (instance, connection) in exports {
        by_connection
            .entry(connection)
            .or_default()
            .insert(instance);
    }
    assert!(
        by_connection.values().any(|instances| instances.len() >= 2),
        "no connection was shared between resources: {by_connection:?}"
    );
    assert!(receiver.connections() <= 4, "{by_connection:?}");
}
