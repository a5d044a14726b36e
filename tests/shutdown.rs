//! The real binary: SIGTERM stops polling, delivers the points not yet delivered and exits 0
//! within seconds; a slow node delays neither the others nor itself into overlapping polls.

mod harness;
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use support::{last_export_for, Fault, FixtureServer, OtlpReceiver};

fn agent_command(qdrant_url: &str, otlp_endpoint: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_URL", qdrant_url)
        .env("QDRANT_OTEL_POLL__INTERVAL", "1s")
        .env("QDRANT_OTEL_QDRANT__TIMEOUT", "500ms")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", otlp_endpoint)
        .env("QDRANT_OTEL_OTLP__TIMEOUT", "2s")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// SIGTERM the agent and wait for it: its exit status, its stderr, and how long it took.
async fn terminate(child: std::process::Child) -> (std::process::ExitStatus, String, Duration) {
    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait"));
    let output = tokio::time::timeout(Duration::from_secs(15), exit)
        .await
        .expect("the agent exits after SIGTERM")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    (output.status, stderr, signalled.elapsed())
}

/// SIGTERM while the last points are undelivered (the Collector refused them, and with an
/// hour's interval no poll replaces them): the final export delivers them, and the agent exits 0.
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_delivers_the_undelivered_points_and_exits_zero() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let receiver = OtlpReceiver::start_http().await;
    receiver.set_failing(true);
    let child = agent_command(&server.url(), &receiver.endpoint())
        .env("QDRANT_OTEL_POLL__INTERVAL", "1h")
        .spawn()
        .expect("start the agent");
    let deadline = Instant::now() + Duration::from_secs(30);
    while receiver.attempts().is_empty() {
        assert!(Instant::now() < deadline, "no export attempt within 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    receiver.set_failing(false);
    assert!(
        receiver.requests().is_empty(),
        "the first export was refused"
    );

    let (status, stderr, took) = terminate(child).await;
    assert_eq!(status.code(), Some(0), "exit code; stderr:\n{stderr}");
    assert!(took < Duration::from_secs(6), "took {took:?}");
    assert!(stderr.contains("Shutting down"), "{stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "no colour codes when stderr is not a terminal"
    );
    let points = last_export_for(&receiver.requests(), &server.addr().to_string());
    let up = support::find_point(&points, "qdrant.up", &[]);
    assert_eq!(up.value, 1.0, "the final export carried the refused poll");
    assert!(
        points
            .iter()
            .any(|p| p.metric == "qdrant.collection.points"),
        "and all of it"
    );
}

/// Points already delivered are not sent again at shutdown: the exporter let them go. (The
/// agent's own telemetry is sent once more at shutdown: new data, on its own resource.)
#[tokio::test(flavor = "multi_thread")]
async fn sigterm_sends_nothing_already_delivered() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let receiver = OtlpReceiver::start_http().await;
    let instance = server.addr().to_string();
    let child = agent_command(&server.url(), &receiver.endpoint())
        .env("QDRANT_OTEL_POLL__INTERVAL", "1h")
        .spawn()
        .expect("start the agent");
    receiver.wait_for_requests(1, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let node_requests = |requests: &[_]| node_requests(requests, &instance).len();
    let delivered = node_requests(&receiver.requests());
    assert_eq!(delivered, 1);

    let (status, stderr, _) = terminate(child).await;
    assert_eq!(status.code(), Some(0), "exit code; stderr:\n{stderr}");
    let requests = receiver.requests();
    assert_eq!(
        node_requests(&requests),
        delivered,
        "no export of the node after SIGTERM: the poll's points were delivered"
    );
    assert!(
        !support::agent_points(&requests).is_empty(),
        "the agent's own telemetry, sent at shutdown"
    );
}

/// The requests carrying the resource of `instance`.
fn node_requests(
    requests: &[ExportMetricsServiceRequest],
    instance: &str,
) -> Vec<ExportMetricsServiceRequest> {
    requests
        .iter()
        .filter(|request| support::instances_of(request).iter().any(|i| i == instance))
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_node_neither_overlaps_nor_delays_others() {
    let fast = FixtureServer::start("qdrant-1.18.3/single").await;
    let slow = FixtureServer::start("qdrant-1.18.3/single").await;
    slow.set_fault("", Fault::Delay(Duration::from_millis(1_500)));
    let receiver = OtlpReceiver::start_http().await;
    let settings = harness::settings(&[
        ("QDRANT_URL", &format!("{},{}", fast.url(), slow.url())),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "250ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
    ]);
    let agent = harness::RunningAgent::start(settings);
    tokio::time::sleep(Duration::from_secs(3)).await;
    agent.stop().await;

    // The fast node was polled on schedule (about 10 times in 3 s) despite the slow one.
    let fast_polls = fast.request_count("/");
    assert!(fast_polls >= 6, "fast node polled {fast_polls} times");
    // The slow node times out after 250 ms, so it is polled on schedule too, and never twice
    // at once: each poll asks `/` once, so requests of `/` never exceed ticks.
    let slow_polls = slow.request_count("/");
    assert!(
        slow_polls <= fast_polls + 1,
        "slow {slow_polls} vs fast {fast_polls}"
    );
    let instance = slow.url().trim_start_matches("http://").to_string();
    let points = last_export_for(&receiver.requests(), &instance);
    let up = support::find_point(&points, "qdrant.up", &[]);
    assert_eq!(
        up.value, 0.0,
        "the slow node times out and is reported down"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn polls_never_overlap() {
    // Every request takes 200 ms and telemetry is refused, so each poll needs three rounds
    // (sources, collection list, collection details): ~600 ms, twice the interval.
    let slow = FixtureServer::start("qdrant-1.18.3/single").await;
    slow.set_fault("", Fault::Delay(Duration::from_millis(200)));
    slow.set_fault("/telemetry", Fault::Status(403));
    let receiver = OtlpReceiver::start_http().await;
    let settings = harness::settings(&[
        ("QDRANT_URL", &slow.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "300ms"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "280ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &receiver.endpoint()),
    ]);
    let started = Instant::now();
    let agent = harness::RunningAgent::start(settings);
    tokio::time::sleep(Duration::from_millis(3_000)).await;
    agent.stop().await;
    let elapsed = started.elapsed().as_secs_f64();
    let polls = slow.request_count("/");
    let per_poll = slow.request_count("/collections/articles");
    assert!(per_poll >= 1, "the fallback ran");
    // Overlapping polls would start one every 300 ms (10+ in 3 s); sequential ones at most
    // one per ~600 ms.
    assert!(
        (polls as f64) <= elapsed / 0.55 + 1.0,
        "{polls} polls in {elapsed:.1} s: polls overlapped"
    );
    assert!(polls >= 2, "{polls}");
}

/// A Collector that holds every export for a minute (the OTLP timeout) delays no poll: at a
/// 1 s interval about 60 polls happen in 60 s, each export that does start carries the newest
/// poll, and SIGTERM still ends the agent within the 5 s grace period (plus a little).
#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_collector_holds_neither_polls_nor_shutdown() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let receiver = OtlpReceiver::start_http().await;
    let instance = server.addr().to_string();
    receiver.delay_resource(&instance, Duration::from_secs(58));
    let child = agent_command(&server.url(), &receiver.endpoint())
        .env("QDRANT_OTEL_OTLP__TIMEOUT", "60s")
        .spawn()
        .expect("start the agent");
    tokio::time::sleep(Duration::from_secs(60)).await;
    let polls = server.request_count("/");
    assert!(polls >= 55, "polls kept their interval: {polls} in 60 s");
    // The Collector answers again: the next export carries the newest poll, not the ones the
    // hang kept from being sent (they were replaced, not queued).
    receiver.delay_resource(&instance, Duration::ZERO);
    let deadline = Instant::now() + Duration::from_secs(15);
    let requests = loop {
        let requests = node_requests(&receiver.requests(), &instance);
        if requests.len() >= 2 {
            break requests;
        }
        assert!(Instant::now() < deadline, "two exports of the node");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let uptime = |request| {
        last_export_for(std::slice::from_ref(request), &instance)
            .into_iter()
            .find(|p| p.metric == "qdrant.uptime")
            .expect("uptime exported")
            .value
    };
    let (held, next) = (uptime(&requests[0]), uptime(&requests[1]));
    assert!(
        next - held >= 55.0,
        "the next export is a fresh poll: uptime {held} then {next}"
    );

    let (status, stderr, took) = terminate(child).await;
    assert_eq!(status.code(), Some(0), "exit code; stderr:\n{stderr}");
    assert!(
        took < Duration::from_secs(6),
        "exit took {took:?} with otlp.timeout 60s"
    );
}
