//! What the agent really pushes: a real HTTP server replays recorded Qdrant responses, the
//! agent runs, and in-process OTLP receivers (HTTP/protobuf and gRPC) decode the protobufs.

mod harness;
mod support;

use std::time::Duration;

use support::{
    exports_for, find_point, last_export_for, Answer, FixtureServer, Kind, OtlpReceiver,
};

const WAIT: Duration = Duration::from_secs(20);

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

async fn assert_single_set_export(receiver: &OtlpReceiver, protocol: &str) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &server.url(),
        &receiver.endpoint(),
        protocol,
        "1s",
    ));
    let requests = receiver.wait_for_requests(1, WAIT).await;
    agent.stop().await;
    let instance = instance(&server);
    let points = last_export_for(&requests, &instance);
    assert!(!points.is_empty(), "no export for {instance}");

    // The resource: one per node, identified like a Prometheus scrape of it would be.
    let resource = &points[0].resource;
    assert_eq!(resource["service.name"], "qdrant");
    assert_eq!(resource["service.instance.id"], instance);
    assert_eq!(resource["server.address"], "127.0.0.1");
    assert_eq!(resource["server.port"], server.addr().port().to_string());
    assert_eq!(resource["db.system.name"], "qdrant");
    assert_eq!(resource["qdrant.version"], "1.18.3");
    assert!(!resource.contains_key("service.namespace"));
    assert!(
        !resource.contains_key("qdrant.cluster.name"),
        "single node: not clustered"
    );

    let up = find_point(&points, "qdrant.up", &[]);
    assert_eq!(
        (up.kind.clone(), up.value, up.is_int),
        (Kind::Gauge, 1.0, true)
    );

    let articles = find_point(
        &points,
        "qdrant.collection.points",
        &[("db.collection.name", "articles")],
    );
    assert_eq!(articles.value, 2850.0);
    assert_eq!(articles.unit, "{point}");
    assert_eq!(articles.kind, Kind::Sum { monotonic: false });
    assert!(articles.is_int);

    let grey = find_point(
        &points,
        "qdrant.collection.status",
        &[("db.collection.name", "busy"), ("state", "grey")],
    );
    assert_eq!((grey.kind.clone(), grey.value), (Kind::Gauge, 1.0));
    let green = find_point(
        &points,
        "qdrant.collection.status",
        &[("db.collection.name", "busy"), ("state", "green")],
    );
    assert_eq!(green.value, 0.0);

    let responses = find_point(
        &points,
        "qdrant.rest.responses",
        &[
            ("http.request.method", "GET"),
            ("http.route", "/collections"),
            ("http.response.status_code", "200"),
        ],
    );
    assert_eq!(
        (responses.kind.clone(), responses.value),
        (Kind::Sum { monotonic: true }, 2.0)
    );
    assert_eq!(responses.unit, "{response}");
    // Typed as the semantic conventions type them, under the version the scope names.
    assert_eq!(responses.int_attributes, ["http.response.status_code"]);
    assert_eq!(
        responses.schema_url,
        "https://opentelemetry.io/schemas/1.38.0"
    );
    let duration = find_point(
        &points,
        "qdrant.rest.response.duration",
        &[
            ("http.request.method", "GET"),
            ("http.route", "/collections"),
            ("http.response.status_code", "200"),
        ],
    );
    assert_eq!(duration.unit, "s");
    assert!(!duration.is_int);
    assert!(
        (duration.value - 0.001044).abs() < 1e-9,
        "{}",
        duration.value
    );

    let grpc_not_found = find_point(
        &points,
        "qdrant.grpc.responses",
        &[
            ("rpc.method", "/qdrant.Points/Query"),
            ("rpc.grpc.status_code", "5"),
        ],
    );
    assert_eq!(grpc_not_found.value, 1.0);
    assert_eq!(grpc_not_found.int_attributes, ["rpc.grpc.status_code"]);

    // The first poll reads level-4 telemetry: its numbers are the truth here.
    let truth: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/telemetry?details_level=4")).unwrap();
    let memory = find_point(&points, "qdrant.memory.active", &[]);
    assert_eq!(memory.unit, "By");
    assert_eq!(
        Some(memory.value),
        truth["result"]["memory"]["active_bytes"].as_f64()
    );
    let ram = find_point(&points, "qdrant.system.memory.size", &[]);
    assert_eq!(ram.value, 24_684_092.0 * 1024.0, "KiB converted to bytes");
    let uptime = find_point(&points, "qdrant.uptime", &[]);
    assert_eq!((uptime.unit.as_str(), uptime.is_int), ("s", false));

    let dimension = find_point(
        &points,
        "qdrant.collection.vector.dimension",
        &[
            ("db.collection.name", "products"),
            ("qdrant.vector.name", "text"),
        ],
    );
    assert_eq!(dimension.value, 32.0);
    assert_eq!(dimension.attributes["qdrant.vector.distance"], "euclid");

    let shards = find_point(
        &points,
        "qdrant.collection.shards",
        &[("db.collection.name", "sharded")],
    );
    assert_eq!(shards.value, 3.0);

    let errors = find_point(
        &points,
        "qdrant.agent.poll.errors",
        &[("qdrant.agent.source", "app"), ("error.type", "timeout")],
    );
    assert_eq!(
        (errors.kind.clone(), errors.value),
        (Kind::Sum { monotonic: true }, 0.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn http_protobuf_export_carries_the_recorded_truth() {
    let receiver = OtlpReceiver::start_http().await;
    assert_single_set_export(&receiver, "http/protobuf").await;
    let headers = receiver.headers();
    assert!(
        headers[0]
            .iter()
            .any(|(k, v)| k == "content-encoding" && v == "gzip"),
        "gzip is the default: {:?}",
        headers[0]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_export_carries_the_recorded_truth() {
    let receiver = OtlpReceiver::start_grpc().await;
    assert_single_set_export(&receiver, "grpc").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_headers_are_sent() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let settings = harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "1s"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__HEADERS__X_SCOPE_ORGID", "tenant-1"),
    ]);
    let agent = harness::RunningAgent::start(settings);
    receiver.wait_for_requests(1, WAIT).await;
    agent.stop().await;
    assert!(receiver.headers()[0]
        .iter()
        .any(|(k, v)| k == "x-scope-orgid" && v == "tenant-1"));
}

/// A collection deleted in Qdrant stops being exported on the next poll.
#[tokio::test(flavor = "multi_thread")]
async fn deleted_collection_stops_being_exported() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &server.url(),
        &receiver.endpoint(),
        "http/protobuf",
        "500ms",
    ));
    let first = receiver.wait_for_requests(1, WAIT).await;
    let instance = instance(&server);
    assert!(last_export_for(&first, &instance).iter().any(|p| p
        .attributes
        .get("db.collection.name")
        .map(String::as_str)
        == Some("busy")));

    // Qdrant now answers without `busy`, at every telemetry level.
    for level in [3, 4] {
        let path = format!("/telemetry?details_level={level}");
        let mut body: serde_json::Value =
            serde_json::from_str(&server.fixture_body(&path)).unwrap();
        let collections = &mut body["result"]["collections"];
        collections["collections"]
            .as_array_mut()
            .unwrap()
            .retain(|c| c["id"] != "busy");
        collections["number_of_collections"] = 4.into();
        server.set_response(&path, 200, "application/json", body.to_string());
    }
    receiver.clear();
    let later = receiver.wait_for_requests(2, WAIT).await;
    agent.stop().await;
    let points = last_export_for(&later, &instance);
    let busy: Vec<_> = points
        .iter()
        .filter(|p| p.attributes.get("db.collection.name").map(String::as_str) == Some("busy"))
        .map(|p| p.metric.clone())
        .collect();
    assert!(
        busy.is_empty(),
        "still exported for the deleted collection: {busy:?}"
    );
    assert_eq!(
        find_point(&points, "qdrant.collection.count", &[]).value,
        4.0
    );
    assert!(find_point(&points, "qdrant.agent.exported_points", &[]).value > 100.0);
}

/// 5,000 collections export without hitting the SDK's cardinality limit (2,000 by default).
#[tokio::test(flavor = "multi_thread")]
async fn five_thousand_collections_export_without_overflow() {
    const N: usize = 5_000;
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    for level in [3, 4] {
        server.set_response(
            &format!("/telemetry?details_level={level}"),
            200,
            "application/json",
            support::scaled_telemetry("qdrant-1.18.3/single", level, N),
        );
    }
    // Level 4 at 5,000 collections is 24 MB, parsed as it arrives: the request's timeout covers
    // the parsing, which takes a debug build over a second.
    let agent = harness::RunningAgent::start(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "5s"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "4s"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
    ]));
    receiver.wait_for_requests(1, Duration::from_secs(60)).await;
    agent.stop().await;
    // The final export on shutdown is complete: the export under way finishes first.
    let requests = receiver.requests();
    let points = last_export_for(&requests, &instance(&server));
    let overflow: Vec<_> = points
        .iter()
        .filter(|p| p.attributes.contains_key("otel.metric.overflow"))
        .map(|p| p.metric.clone())
        .collect();
    assert!(overflow.is_empty(), "cardinality overflow in {overflow:?}");
    let collection_points = points
        .iter()
        .filter(|p| p.metric == "qdrant.collection.points")
        .count();
    assert_eq!(collection_points, N);
    let status = points
        .iter()
        .filter(|p| p.metric == "qdrant.collection.status")
        .count();
    assert_eq!(status, N * 4, "four states per collection");
    assert_eq!(
        find_point(
            &points,
            "qdrant.collection.points",
            &[("db.collection.name", "c04999")]
        )
        .value,
        // Collections are cloned round-robin from the 5 recorded ones: 4999 % 5 = 4 → `sharded`.
        500.0
    );

    // Over 4 MiB of protobuf: split into several requests, `qdrant.up` in the first, each
    // request under the limit.
    let exports = exports_for(&requests, &instance(&server));
    let last = exports.last().unwrap();
    assert!(last.len() >= 2, "one export, {} requests", last.len());
    assert!(last[0].iter().any(|p| p.metric == "qdrant.up"));
    for (i, request) in last.iter().enumerate().skip(1) {
        assert!(
            !request.iter().any(|p| p.metric == "qdrant.up"),
            "request {i} repeats qdrant.up"
        );
    }
    let sizes: Vec<usize> = requests.iter().map(prost::Message::encoded_len).collect();
    assert!(
        sizes
            .iter()
            .all(|&size| size <= qdrant_otel_agent::export::MAX_REQUEST_BYTES),
        "{sizes:?}"
    );
}

/// The Collector answers 429 with `Retry-After: 2`: the next attempt waits about 2 s, while
/// polling goes on at its interval. (The failure's count: `collector_outage_is_counted_and_
/// survived`.)
#[tokio::test(flavor = "multi_thread")]
async fn retry_after_delays_the_next_export_not_the_polls() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    receiver.answer_with(Answer {
        status: 429,
        headers: vec![("retry-after".into(), "2".into())],
        times: 1,
    });
    let agent = harness::RunningAgent::start(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "250ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "200ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
    ]));
    let deadline = tokio::time::Instant::now() + WAIT;
    while receiver.attempts().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no export attempt");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let polls_at_refusal = server.request_count("/");
    receiver.wait_for_requests(1, WAIT).await;
    let polls_at_retry = server.request_count("/");
    agent.stop().await;
    let attempts = receiver.attempts();
    let gap = attempts[1] - attempts[0];
    assert!(
        gap >= Duration::from_millis(1900) && gap < Duration::from_millis(3500),
        "the second attempt came {gap:?} after the refused one"
    );
    assert!(
        polls_at_retry >= polls_at_refusal + 5,
        "polls went on while the export waited: {polls_at_refusal} → {polls_at_retry}"
    );
}

/// Cumulative points keep one start time across exports (for Qdrant's own counters, like
/// this one, Qdrant's process start); each export has its own, later time.
#[tokio::test(flavor = "multi_thread")]
async fn cumulative_start_time_is_stable_across_exports() {
    let receiver = OtlpReceiver::start_grpc().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &server.url(),
        &receiver.endpoint(),
        "grpc",
        "500ms",
    ));
    receiver.wait_for_requests(3, WAIT).await;
    agent.stop().await;
    let exports = exports_for(&receiver.requests(), &instance(&server));
    assert!(exports.len() >= 3, "{} exports", exports.len());
    let responses = |export: &Vec<Vec<support::FlatPoint>>| {
        let points: Vec<_> = export.iter().flatten().cloned().collect();
        find_point(
            &points,
            "qdrant.rest.responses",
            &[
                ("http.request.method", "GET"),
                ("http.route", "/collections"),
                ("http.response.status_code", "200"),
            ],
        )
        .clone()
    };
    let first = responses(&exports[0]);
    assert!(first.start_time_unix_nano > 0);
    assert!(first.start_time_unix_nano <= first.time_unix_nano);
    let mut time = first.time_unix_nano;
    for export in &exports[1..] {
        let point = responses(export);
        assert_eq!(point.start_time_unix_nano, first.start_time_unix_nano);
        assert!(point.time_unix_nano > time, "each export has a later time");
        time = point.time_unix_nano;
    }
}

/// Collector down: polling goes on, failures are counted, and exports resume when it returns.
#[tokio::test(flavor = "multi_thread")]
async fn collector_outage_is_counted_and_survived() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let settings = harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "500ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "1s"),
        (harness::SELF_TELEMETRY, "true"),
    ]);
    receiver.set_failing(true);
    let agent = harness::RunningAgent::start(settings);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let polls_during_outage = server.request_count("/");
    assert!(
        polls_during_outage >= 3,
        "polling went on: {polls_during_outage} polls"
    );
    assert!(receiver.requests().is_empty());

    receiver.set_failing(false);
    let instance = instance(&server);
    let deadline = tokio::time::Instant::now() + WAIT;
    while exports_for(&receiver.requests(), &instance).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no export after the outage"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.stop().await;
    let requests = receiver.requests();
    let points = last_export_for(&requests, &instance);
    // The agent's own telemetry, sent at the end at the latest, counted the failures.
    let own = support::agent_points(&requests);
    let failures = own
        .iter()
        .filter(|p| p.metric == "qdrant.agent.export.failures")
        .filter(|p| p.attributes.get("qdrant.resource") == Some(&instance))
        .filter(|p| p.attributes.get("error.type").map(String::as_str) == Some("http_status"))
        .max_by_key(|p| p.time_unix_nano)
        .expect("export failures counted in the agent's own telemetry");
    assert!(
        failures.value >= 1.0,
        "failures counted: {}",
        failures.value
    );
    assert_eq!(failures.kind, Kind::Sum { monotonic: true });
    assert_eq!(
        find_point(
            &points,
            "qdrant.collection.points",
            &[("db.collection.name", "articles")]
        )
        .value,
        2850.0
    );
}

/// Exports are independent: while the Collector holds the cluster resource's export for
/// seconds, both nodes' own exports (the leader's included) keep arriving at the poll interval.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_export_delays_no_other_export() {
    let receiver = OtlpReceiver::start_http().await;
    let leader = FixtureServer::start("qdrant-1.18.3/cluster/node1").await;
    let follower = FixtureServer::start("qdrant-1.18.3/cluster/node2").await;
    let settings = harness::settings(&[
        (
            "QDRANT_URL",
            &format!("{},{}", leader.url(), follower.url()),
        ),
        ("QDRANT_OTEL_POLL__INTERVAL", "250ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "200ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "10s"),
    ]);
    receiver.delay_resource("qdrant-cluster", Duration::from_secs(4));
    let agent = harness::RunningAgent::start(settings);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let requests = receiver.requests();
    let exports_of = |instance: &str| {
        requests
            .iter()
            .filter(|r| !last_export_for(std::slice::from_ref(r), instance).is_empty())
            .count()
    };
    let (cluster, leader_exports, follower_exports) = (
        exports_of("qdrant-cluster"),
        exports_of(&instance(&leader)),
        exports_of(&instance(&follower)),
    );
    agent.stop().await;
    assert_eq!(cluster, 1, "the cluster's first export is still held");
    for (node, exports) in [("leader", leader_exports), ("follower", follower_exports)] {
        assert!(
            exports >= 6,
            "the {node}'s exports went on at the interval while the cluster's was held: {exports} in 3 s"
        );
    }
}
