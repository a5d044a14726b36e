//! Start times and temporality on the wire: the replayed Qdrant restarts (its uptime drops,
//! its counters drop) while the agent runs, and an in-process OTLP receiver decodes what the
//! agent pushed.

mod harness;
mod support;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::{exports_for, FixtureServer, FlatPoint, Kind, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);
const SET: &str = "qdrant-1.18.3/single";
/// `GET /collections` answered 200: a REST response counter Qdrant keeps.
const ROUTE: [(&str, &str); 3] = [
    ("http.request.method", "GET"),
    ("http.route", "/collections"),
    ("http.response.status_code", "200"),
];

fn instance(server: &FixtureServer) -> String {
    server.url().trim_start_matches("http://").to_string()
}

fn nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
}

/// A whole number of milliseconds ago (telemetry's `startup` has milliseconds).
fn millis_ago(ms: u64) -> SystemTime {
    let now = nanos(SystemTime::now()) / 1_000_000;
    UNIX_EPOCH + Duration::from_millis(now - ms)
}

/// The recorded level-3 telemetry, saying the process started at `startup`.
fn telemetry(server: &FixtureServer, startup: SystemTime) -> serde_json::Value {
    let mut body: serde_json::Value =
        serde_json::from_str(&server.fixture_body("/telemetry?details_level=3")).unwrap();
    body["result"]["app"]["startup"] = humantime::format_rfc3339_millis(startup).to_string().into();
    body
}

/// Serve this telemetry at both levels: the two recordings were made one after the other, so
/// their counters differ, and alternating them would make Qdrant's counters go back and forth.
fn serve(server: &FixtureServer, body: &serde_json::Value) {
    for level in [3, 4] {
        let path = format!("/telemetry?details_level={level}");
        server.set_response(&path, 200, "application/json", body.to_string());
    }
}

/// Serve telemetry saying the process started at `startup`; with `restarted`, every REST and
/// gRPC response counter is back at 1 (and 100 µs in all).
fn serve_telemetry(server: &FixtureServer, startup: SystemTime, restarted: bool) {
    let mut body = telemetry(server, startup);
    if restarted {
        for protocol in ["rest", "grpc"] {
            let responses = &mut body["result"]["requests"][protocol]["responses"];
            for statuses in responses.as_object_mut().unwrap().values_mut() {
                for stats in statuses.as_object_mut().unwrap().values_mut() {
                    stats["count"] = 1.into();
                    stats["total_duration_micros"] = 100.into();
                }
            }
        }
    }
    serve(server, &body);
}

/// Serve telemetry saying the process started at `startup` and `GET /collections` was
/// answered 200 `count` times.
fn serve_route_count(server: &FixtureServer, startup: SystemTime, count: u64) {
    let mut body = telemetry(server, startup);
    body["result"]["requests"]["rest"]["responses"]["GET /collections"]["200"]["count"] =
        count.into();
    serve(server, &body);
}

/// The node's points of each export, in order.
fn node_exports(receiver: &OtlpReceiver, instance: &str) -> Vec<Vec<FlatPoint>> {
    exports_for(&receiver.requests(), instance)
        .into_iter()
        .map(|export| export.into_iter().flatten().collect())
        .collect()
}

fn route_point(export: &[FlatPoint]) -> Option<&FlatPoint> {
    export.iter().find(|p| {
        p.metric == "qdrant.rest.responses"
            && ROUTE
                .iter()
                .all(|(k, v)| p.attributes.get(*k).map(String::as_str) == Some(*v))
    })
}

/// Wait until an export's `GET /collections` counter satisfies `done`.
async fn wait_for_route(
    receiver: &OtlpReceiver,
    instance: &str,
    done: impl Fn(&FlatPoint) -> bool,
) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let exports = node_exports(receiver, instance);
        if exports.iter().filter_map(|e| route_point(e)).any(&done) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "condition not met");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A series: its metric and attributes.
type SeriesKey = (String, Vec<(String, String)>);

fn series_key(point: &FlatPoint) -> SeriesKey {
    let attributes = point
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (point.metric.clone(), attributes)
}

/// No monotonic cumulative series goes down under an unchanged start time; returns how many
/// series dropped with a moved start (a reset done right).
fn assert_monotonic_sums_never_decrease(exports: &[Vec<FlatPoint>]) -> usize {
    let mut last: BTreeMap<SeriesKey, (u64, f64)> = BTreeMap::new();
    let mut resets = 0;
    for export in exports {
        for point in export {
            if point.kind != (Kind::Sum { monotonic: true }) {
                continue;
            }
            let key = series_key(point);
            if let Some((start, value)) = last.get(&key) {
                if point.value < *value {
                    assert_ne!(
                        point.start_time_unix_nano, *start,
                        "{key:?} went down from {value} to {} under the same start time",
                        point.value
                    );
                    resets += 1;
                }
            }
            last.insert(key, (point.start_time_unix_nano, point.value));
        }
    }
    resets
}

/// Qdrant's own counters start at Qdrant's start (poll time − uptime), stay there between
/// polls (a derived start a little earlier is the same start), and move when Qdrant restarts,
/// so that their drop is a reset; the agent's own counters keep the agent's start.
#[tokio::test(flavor = "multi_thread")]
async fn qdrant_counters_start_at_qdrants_start_and_move_with_a_restart() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start(SET).await;
    let first_start = millis_ago(3_600_000);
    serve_telemetry(&server, first_start, false);
    let agent = harness::RunningAgent::start(harness::agent_settings(
        &server.url(),
        &receiver.endpoint(),
        "http/protobuf",
        "400ms",
    ));
    let instance = instance(&server);
    receiver.wait_for_requests(2, WAIT).await;
    // Jitter: the same process seen starting 2 s earlier (the uptime still grows).
    serve_telemetry(&server, first_start - Duration::from_secs(2), false);
    let exports_before_jitter = node_exports(&receiver, &instance).len();
    receiver
        .wait_for_requests(exports_before_jitter + 3, WAIT)
        .await;
    // Restarted 2 s ago: the uptime drops, so do the counters.
    let second_start = millis_ago(2_000);
    serve_telemetry(&server, second_start, true);
    wait_for_route(&receiver, &instance, |p| p.value == 1.0).await;
    let restarted_at = node_exports(&receiver, &instance).len();
    receiver.wait_for_requests(restarted_at + 2, WAIT).await;
    agent.stop().await;

    let exports = node_exports(&receiver, &instance);
    let route: Vec<&FlatPoint> = exports.iter().filter_map(|e| route_point(e)).collect();
    let (before, after): (Vec<&FlatPoint>, Vec<&FlatPoint>) =
        route.iter().partition(|p| p.value == 2.0);
    assert!(before.len() >= 4 && after.len() >= 2, "{route:?}");
    for point in &before {
        assert_eq!(point.start_time_unix_nano, nanos(first_start), "{point:?}");
    }
    for point in &after {
        assert_eq!(point.start_time_unix_nano, nanos(second_start), "{point:?}");
        assert!(point.start_time_unix_nano <= point.time_unix_nano);
    }
    // The agent's own counter starts at the agent's start, whatever Qdrant does.
    let agent_starts: Vec<u64> = exports
        .iter()
        .flatten()
        .filter(|p| p.metric == "qdrant.agent.poll.errors")
        .map(|p| p.start_time_unix_nano)
        .collect();
    assert!(!agent_starts.is_empty());
    assert!(agent_starts.iter().all(|&s| s == agent_starts[0]));
    assert!(agent_starts[0] > nanos(first_start) && agent_starts[0] != nanos(second_start));

    let resets = assert_monotonic_sums_never_decrease(&exports);
    assert!(resets > 0, "the restart reset Qdrant's counters");
}

/// The `GET /collections` counter's points, in export order, and the sum of their values.
fn route_points(receiver: &OtlpReceiver, instance: &str) -> (Vec<FlatPoint>, f64) {
    let points: Vec<FlatPoint> = node_exports(receiver, instance)
        .iter()
        .filter_map(|e| route_point(e).cloned())
        .collect();
    let sum = points.iter().map(|p| p.value).sum();
    (points, sum)
}

/// Wait until the `GET /collections` deltas add up to `total`.
async fn wait_for_total(receiver: &OtlpReceiver, instance: &str, total: f64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let (points, sum) = route_points(receiver, instance);
        if sum == total {
            return;
        }
        assert!(
            sum < total && tokio::time::Instant::now() < deadline,
            "the deltas add up to {sum}, not {total}: {points:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const DELTA: i32 = 1;
const CUMULATIVE: i32 = 2;

/// `delta` (here from `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`): Qdrant's counter
/// goes 2 → 5 → 9, Qdrant restarts, then 1 → 4. The first value, counted before the agent
/// started, is only remembered; each point then counts since the previous one, which it
/// starts at; the restart's delta is what was counted since, not a negative number. Up-down
/// counters stay cumulative.
#[tokio::test(flavor = "multi_thread")]
async fn delta_counters_count_since_the_previous_point_across_polls_and_a_restart() {
    let receiver = OtlpReceiver::start_http().await;
    let server = FixtureServer::start(SET).await;
    let first_start = millis_ago(3_600_000);
    serve_route_count(&server, first_start, 2);
    let agent = harness::RunningAgent::start(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "400ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
        ("QDRANT_OTEL_OTLP__TIMEOUT", "2s"),
        ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
    ]));
    let instance = instance(&server);
    receiver.wait_for_requests(1, WAIT).await;
    for (count, total) in [(5, 3.0), (9, 7.0)] {
        serve_route_count(&server, first_start, count);
        wait_for_total(&receiver, &instance, total).await;
    }
    let second_start = millis_ago(2_000);
    for (count, total) in [(1, 8.0), (4, 11.0)] {
        serve_route_count(&server, second_start, count);
        wait_for_total(&receiver, &instance, total).await;
    }
    agent.stop().await;

    let exports = node_exports(&receiver, &instance);
    assert!(
        route_point(&exports[0]).is_none(),
        "the first value is history"
    );
    let (points, _) = route_points(&receiver, &instance);
    let mut previous_time = exports[0][0].time_unix_nano;
    for point in &points {
        assert_eq!(point.kind, Kind::Sum { monotonic: true });
        assert_eq!(point.temporality, DELTA, "{point:?}");
        assert!(point.value >= 0.0 && point.is_int, "{point:?}");
        assert_eq!(
            point.start_time_unix_nano, previous_time,
            "contiguous: {point:?}"
        );
        previous_time = point.time_unix_nano;
    }
    // The restart's point: 1 counted since, right after the 7 counted before.
    let restart = points.iter().position(|p| p.value == 1.0).unwrap();
    let before: f64 = points[..restart].iter().map(|p| p.value).sum();
    assert_eq!(before, 7.0, "{points:?}");

    let last = exports.last().unwrap();
    let find = |metric: &str| last.iter().find(|p| p.metric == metric).unwrap();
    let collection_points = find("qdrant.collection.points");
    assert_eq!(
        collection_points.temporality, CUMULATIVE,
        "up-down counters stay cumulative"
    );
    assert_eq!(find("qdrant.agent.poll.errors").temporality, DELTA);
}
