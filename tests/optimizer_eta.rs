//! The optimizer's throughput and ETA through the real poller: two polls of the recorded
//! `qdrant-1.18.3/single-busy` node, the second answering what Qdrant shows a while later —
//! the recorded bodies with `busy`'s `total_optimized_points` (telemetry) and `queued_points`
//! (`/collections/busy/optimizations`) moved as an optimizer would move them, or the restart
//! the recorded `single` shows. The estimator itself is tested over long sequences in
//! `src/sources/backlog/tests.rs`; here, that the agent feeds it from successive polls.

mod harness;
mod support;

use harness::{value, Poller};
use qdrant_otel_agent::metrics::Point;
use serde_json::Value;
use support::FixtureServer;

const LEVEL4: &str = "/telemetry?details_level=4";
const BACKLOG: &str = "/collections/busy/optimizations";
const BUSY: [(&str, &str); 1] = [("db.collection.name", "busy")];

fn body(server: &FixtureServer, path: &str) -> Value {
    serde_json::from_str(&server.fixture_body(path)).expect("fixture JSON")
}

/// `busy`'s local shards in a telemetry body.
fn busy_shards(telemetry: &mut Value) -> Vec<&mut Value> {
    let collections = telemetry["result"]["collections"]["collections"]
        .as_array_mut()
        .expect("collections");
    let busy = collections
        .iter_mut()
        .find(|c| c["id"] == "busy")
        .expect("busy");
    busy["shards"]
        .as_array_mut()
        .expect("shards")
        .iter_mut()
        .map(|shard| &mut shard["local"])
        .collect()
}

/// What the recording shows for `busy`: points optimized since start, and queued.
fn recorded(server: &FixtureServer) -> (f64, f64) {
    let mut telemetry = body(server, LEVEL4);
    let optimized = busy_shards(&mut telemetry)
        .iter()
        .filter_map(|local| local["total_optimized_points"].as_f64())
        .sum();
    let queued = body(server, BACKLOG)["result"]["summary"]["queued_points"]
        .as_f64()
        .expect("queued_points");
    (optimized, queued)
}

/// Serve `busy` with `optimized` points optimized (on its one local shard) and `queued` queued.
fn serve_busy(server: &FixtureServer, optimized: f64, queued: f64) {
    let mut telemetry = body(server, LEVEL4);
    let mut shards = busy_shards(&mut telemetry);
    assert_eq!(shards.len(), 1, "the recording has one local shard");
    shards[0]["total_optimized_points"] = optimized.into();
    server.set_response(LEVEL4, 200, "application/json", telemetry.to_string());
    let mut backlog = body(server, BACKLOG);
    backlog["result"]["summary"]["queued_points"] = queued.into();
    server.set_response(BACKLOG, 200, "application/json", backlog.to_string());
}

/// Two polls, slow ones both (every read is fresh); `later` sets what the second one sees.
async fn second_poll(later: impl FnOnce(&FixtureServer, f64, f64)) -> Vec<Point> {
    let server = FixtureServer::start("qdrant-1.18.3/single-busy").await;
    let mut poller = Poller::new(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__DETAIL_EVERY", "1"),
    ]));
    let first = poller.poll().await.all();
    assert_eq!(
        value(&first, "qdrant.collection.optimization.throughput", &BUSY),
        None,
        "one poll knows no pace"
    );
    let (optimized, queued) = recorded(&server);
    assert!(queued > 0.0, "the recording caught a backlog");
    assert_eq!(
        value(&first, "qdrant.collection.optimization.eta", &BUSY),
        None,
        "a backlog without a pace has no ETA"
    );
    later(&server, optimized, queued);
    poller.poll().await.all()
}

fn estimate(points: &[Point]) -> (Option<f64>, Option<f64>) {
    (
        value(points, "qdrant.collection.optimization.throughput", &BUSY),
        value(points, "qdrant.collection.optimization.eta", &BUSY),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shrinking_backlog_has_an_eta_at_the_observed_pace() {
    let mut left = 0.0;
    let points = second_poll(|server, optimized, queued| {
        left = queued - 600.0;
        serve_busy(server, optimized + 600.0, left);
    })
    .await;
    let (throughput, eta) = estimate(&points);
    let throughput = throughput.expect("a pace");
    assert!(throughput > 0.0);
    let eta = eta.expect("an ETA");
    assert!(
        (eta * throughput - left).abs() <= 1e-6 * left,
        "ETA {eta} s at {throughput}/s is the backlog {left}"
    );
    // The other collections optimized nothing and have nothing queued: done, at pace 0.
    let articles = [("db.collection.name", "articles")];
    assert_eq!(
        value(
            &points,
            "qdrant.collection.optimization.throughput",
            &articles
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&points, "qdrant.collection.optimization.eta", &articles),
        Some(0.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_optimizer_has_no_eta() {
    let points = second_poll(serve_busy).await;
    assert_eq!(estimate(&points), (Some(0.0), None));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_growing_backlog_has_no_eta() {
    let points = second_poll(|server, optimized, queued| {
        serve_busy(server, optimized + 100.0, queued + 500.0)
    })
    .await;
    let (throughput, eta) = estimate(&points);
    assert!(throughput.is_some_and(|t| t > 0.0));
    assert_eq!(eta, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_finished_backlog_has_an_eta_of_zero() {
    let points =
        second_poll(|server, optimized, queued| serve_busy(server, optimized + queued, 0.0)).await;
    let (throughput, eta) = estimate(&points);
    assert!(throughput.is_some_and(|t| t > 0.0));
    assert_eq!(eta, Some(0.0));
}

/// The recorded `single` is the same node after a restart: its count starts again from 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_restart_starts_the_pace_over() {
    let after = FixtureServer::start("qdrant-1.18.3/single").await;
    let points = second_poll(|server, _, _| {
        for path in ["/", LEVEL4, BACKLOG] {
            server.set_response(path, 200, "application/json", after.fixture_body(path));
        }
    })
    .await;
    assert_eq!(estimate(&points), (None, None));
}
