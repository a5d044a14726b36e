//! The agent's own telemetry through the OpenTelemetry SDK, against a real OTLP receiver
//! (HTTP and gRPC): its own resource and scope, every instrument of the catalogue with the
//! values the run explains, the configured headers and temporality, the data path's
//! connection, and the node's data beside it unchanged.

mod harness;
mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use qdrant_otel_agent::config::DEFAULT_MAX_RESPONSE_BYTES;
use qdrant_otel_agent::telemetry::catalogue::{self, Kind as OwnKind};
use support::{agent_points, exports_for, FixtureServer, FlatPoint, Kind, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);

/// Runs the agent on the recorded single node until the node has `exports` exports, and
/// returns the receiver's requests after shutdown (which sends the agent's last telemetry).
async fn run(
    receiver: &OtlpReceiver,
    protocol: &str,
    more: &[(&str, &str)],
) -> (String, Vec<FlatPoint>) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let instance = server.url().trim_start_matches("http://").to_string();
    let mut env = vec![(harness::SELF_TELEMETRY, "true")];
    env.extend_from_slice(more);
    let agent = harness::RunningAgent::start(harness::agent_settings_with(
        &server.url(),
        &receiver.endpoint(),
        protocol,
        "400ms",
        &env,
    ));
    let deadline = tokio::time::Instant::now() + WAIT;
    while exports_for(&receiver.requests(), &instance).len() < 4
        || agent_points(&receiver.requests()).is_empty()
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{protocol}: exports"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.stop().await;
    let requests = receiver.requests();
    let polls = exports_for(&requests, &instance).len();
    assert!(polls >= 4);
    (instance, agent_points(&requests))
}

/// The newest point of one series.
fn newest<'a>(points: &'a [FlatPoint], metric: &str, attrs: &[(&str, &str)]) -> &'a FlatPoint {
    points
        .iter()
        .filter(|p| {
            p.metric == metric
                && attrs
                    .iter()
                    .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
        })
        .max_by_key(|p| p.time_unix_nano)
        .unwrap_or_else(|| panic!("no {metric} {attrs:?}"))
}

async fn own_telemetry(receiver: OtlpReceiver, protocol: &str) {
    let (instance, points) = run(&receiver, protocol, &[]).await;

    // Its own resource and scope.
    let resource = &points[0].resource;
    assert_eq!(resource["service.name"], "qdrant-otel-agent");
    assert_eq!(resource["service.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(resource["telemetry.sdk.language"], "rust");
    assert_eq!(resource["service.instance.id"].len(), 36, "a UUID");
    assert!(
        points.iter().all(|p| &p.resource == resource),
        "one resource"
    );
    assert!(points
        .iter()
        .all(|p| p.schema_url == qdrant_otel_agent::telemetry::SCHEMA_URL));

    // Every instrument of the catalogue, as the catalogue describes it.
    let names: BTreeSet<&str> = points.iter().map(|p| p.metric.as_str()).collect();
    for spec in catalogue::ALL {
        assert!(
            names.contains(spec.name),
            "{protocol}: {} missing",
            spec.name
        );
        let point = points.iter().find(|p| p.metric == spec.name).unwrap();
        assert_eq!(point.unit, spec.unit, "{}", spec.name);
        let kind = match spec.kind {
            OwnKind::Histogram => Kind::Histogram,
            OwnKind::Counter | OwnKind::ObservableCounter => Kind::Sum { monotonic: true },
            OwnKind::ObservableUpDownCounter => Kind::Sum { monotonic: false },
            OwnKind::ObservableGauge => Kind::Gauge,
        };
        assert_eq!(point.kind, kind, "{}", spec.name);
    }

    // Values the run explains.
    let node = [("qdrant.instance", instance.as_str())];
    let polls = newest(&points, "qdrant.agent.poll.duration", &node).value;
    assert!(polls >= 4.0, "{protocol}: {polls} polls counted");
    let resource_of_node = [("qdrant.resource", instance.as_str())];
    let exports = newest(&points, "qdrant.agent.export.duration", &resource_of_node).value;
    assert!(exports >= 4.0, "{protocol}: {exports} exports counted");
    let bytes = newest(&points, "qdrant.agent.export.bytes", &resource_of_node).value;
    assert!(bytes > 10_000.0 * exports, "{protocol}: {bytes} bytes");
    assert_eq!(
        newest(&points, "qdrant.agent.export.failures", &resource_of_node).value,
        0.0
    );
    for mode in ["user", "system"] {
        newest(&points, "process.cpu.time", &[("cpu.mode", mode)]);
    }
    assert!(newest(&points, "process.cpu.time", &[("cpu.mode", "user")]).value > 0.0);
    assert!(newest(&points, "process.memory.usage", &[]).value > 1e6);
    assert_eq!(
        newest(&points, "qdrant.agent.responses.limit", &[]).value,
        DEFAULT_MAX_RESPONSE_BYTES as f64,
        "qdrant.max_response_bytes' default"
    );
    let held = newest(&points, "qdrant.agent.responses.held", &[]).value;
    assert!((0.0..=DEFAULT_MAX_RESPONSE_BYTES as f64).contains(&held));
}

#[tokio::test(flavor = "multi_thread")]
async fn http_own_telemetry() {
    own_telemetry(OtlpReceiver::start_http().await, "http/protobuf").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_own_telemetry() {
    own_telemetry(OtlpReceiver::start_grpc().await, "grpc").await;
}

/// Over gRPC the data and the agent's own telemetry share one channel: one connection.
#[tokio::test(flavor = "multi_thread")]
async fn grpc_own_telemetry_shares_the_data_connection() {
    let receiver = OtlpReceiver::start_grpc().await;
    run(&receiver, "grpc", &[]).await;
    assert_eq!(receiver.connections(), 1);
}

/// The configured headers (here a secret token) reach the receiver on the agent's own
/// requests too, and the SDK adds none of its own reading of the environment.
#[tokio::test(flavor = "multi_thread")]
async fn own_telemetry_carries_the_configured_headers() {
    for (receiver, protocol) in [
        (OtlpReceiver::start_http().await, "http/protobuf"),
        (OtlpReceiver::start_grpc().await, "grpc"),
    ] {
        run(
            &receiver,
            protocol,
            &[("QDRANT_OTEL_OTLP__HEADERS__X_TOKEN", "s3cret")],
        )
        .await;
        let requests = receiver.requests();
        let headers = receiver.headers();
        let own: Vec<&Vec<(String, String)>> = requests
            .iter()
            .zip(&headers)
            .filter(|(request, _)| !agent_points(std::slice::from_ref(request)).is_empty())
            .map(|(_, headers)| headers)
            .collect();
        assert!(!own.is_empty(), "{protocol}");
        for headers in own {
            let tokens: Vec<&str> = headers
                .iter()
                .filter(|(name, _)| name == "x-token")
                .map(|(_, value)| value.as_str())
                .collect();
            assert_eq!(tokens, ["s3cret"], "{protocol}: {headers:?}");
        }
    }
}

/// With `delta` temporality the agent's own counters and histograms are deltas too.
#[tokio::test(flavor = "multi_thread")]
async fn own_telemetry_follows_the_temporality_preference() {
    const DELTA: i32 = 1;
    const CUMULATIVE: i32 = 2;
    for (preference, expected) in [("delta", DELTA), ("cumulative", CUMULATIVE)] {
        let receiver = OtlpReceiver::start_http().await;
        let (_, points) = run(
            &receiver,
            "http/protobuf",
            &[("QDRANT_OTEL_OTLP__TEMPORALITY_PREFERENCE", preference)],
        )
        .await;
        for metric in ["qdrant.agent.poll.duration", "qdrant.agent.export.bytes"] {
            let point = points.iter().find(|p| p.metric == metric).unwrap();
            assert_eq!(point.temporality, expected, "{preference}: {metric}");
        }
    }
}
