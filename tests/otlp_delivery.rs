//! Delivery to the Collector: an OTLP partial success is a delivery (the rejected points are
//! counted, nothing is sent again), over HTTP and gRPC.

mod harness;
mod support;

use std::time::Duration;

use support::{exports_for, find_point, FixtureServer, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

/// The Collector accepts every export in part, rejecting 3 points each time. Each export is
/// delivered once: the node's exports carry the rejected points counted so far — 0, 3, 6, … —
/// with no export repeated (the final export at shutdown sends nothing already delivered) and
/// no export failure.
async fn partial_success_is_delivered_and_counted(receiver: OtlpReceiver, protocol: &str) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    receiver.answer_partial_success(3, "metric x: unsupported unit", usize::MAX);
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &server.url(),
        &receiver.endpoint(),
        protocol,
        "400ms",
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
    let exports = exports_for(&receiver.requests(), &instance);
    let mut rejected = Vec::new();
    for export in &exports {
        assert_eq!(export.len(), 1, "one request per export");
        let points = &export[0];
        assert_eq!(
            find_point(points, "qdrant.agent.export.failures", &[]).value,
            0.0,
            "{protocol}: a partial success is not a failure"
        );
        let point = find_point(points, "qdrant.agent.export.rejected_points", &[]);
        assert_eq!(point.kind, support::Kind::Sum { monotonic: true });
        rejected.push(point.value);
    }
    let expected: Vec<f64> = (0..exports.len()).map(|k| 3.0 * k as f64).collect();
    assert_eq!(
        rejected, expected,
        "{protocol}: each export counts the points rejected before it, and none is sent twice"
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
