//! The cost of a poll must not grow with collections: against a recorded node scaled to 1,000
//! collections (every per-collection endpoint answering, none a 404), at the default settings,
//! no poll makes more than 64 requests and the mean stays at most 24; per-collection reads are
//! spread over polls, busy collections first, and every one is reached; the age of slow data is
//! reported; a first poll can still read everything when asked.

mod harness;
mod support;

use std::collections::BTreeSet;

use harness::{points_named, Poller};
use support::FixtureServer;

const SET: &str = "qdrant-1.18.3/single";

async fn scaled_node(n: usize) -> FixtureServer {
    let server = FixtureServer::start(SET).await;
    support::serve_scaled(&server, SET, n);
    server
}

fn per_collection(path: &str) -> bool {
    path.starts_with("/collections/c")
        && ["/optimizations", "/memory", "/snapshots"]
            .iter()
            .any(|suffix| path.ends_with(suffix))
}

#[tokio::test(flavor = "multi_thread")]
async fn twelve_polls_of_1000_collections_stay_within_the_request_budget() {
    let server = scaled_node(1_000).await;
    let mut poller = Poller::new(harness::settings(&[("QDRANT_URL", &server.url())]));
    let mut counts = Vec::new();
    for _ in 0..12 {
        let before = server.requests().len();
        let recorded = poller.poll().await;
        counts.push(server.requests().len() - before);
        assert_eq!(harness::value(&recorded.node, "qdrant.up", &[]), Some(1.0));
    }
    let max = *counts.iter().max().unwrap();
    let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
    assert!(max <= 64, "at most 64 requests in any poll: {counts:?}");
    assert!(
        mean <= 24.0,
        "at most 24 requests per poll on average: {mean} {counts:?}"
    );
    let not_found = server
        .requests()
        .iter()
        .filter(|r| per_collection(&r.path))
        .count();
    assert!(
        not_found > 100,
        "per-collection endpoints were read: {not_found}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_collection_is_reached_and_the_age_of_its_data_is_shown() {
    let server = scaled_node(40).await;
    let mut poller = Poller::new(harness::settings(&[("QDRANT_URL", &server.url())]));
    // 40 collections × 3 endpoints; 16 requests per poll, of which the 8 busy collections'
    // backlog (every 5th collection is a clone of the recorded grey one) takes up to half: a
    // full round within 120 / 8 = 15 polls.
    let mut last = None;
    for _ in 0..15 {
        last = Some(poller.poll().await);
    }
    let read: BTreeSet<String> = server
        .requests()
        .iter()
        .filter(|r| per_collection(&r.path))
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        read.len(),
        120,
        "every (collection, endpoint) pair was read"
    );
    let last = last.unwrap();
    let ages = points_named(&last.node, "qdrant.agent.data.age");
    let sources: BTreeSet<&str> = ages
        .iter()
        .flat_map(|p| p.attributes.iter())
        .filter(|(k, _)| *k == "qdrant.agent.source")
        .map(|(_, v)| v.as_str())
        .collect();
    for source in ["optimizations", "memory", "snapshots", "telemetry_detail"] {
        assert!(sources.contains(source), "age of {source}: {sources:?}");
    }
    // Every collection's optimizer backlog is shown, read at some poll of the round.
    let queued = points_named(&last.node, "qdrant.collection.optimization.queued");
    assert_eq!(queued.len(), 40);
}

#[tokio::test(flavor = "multi_thread")]
async fn busy_collections_are_read_first() {
    let server = FixtureServer::start("qdrant-1.18.3/single-busy").await;
    support::serve_scaled(&server, "qdrant-1.18.3/single-busy", 200);
    let mut poller = Poller::new(harness::settings(&[("QDRANT_URL", &server.url())]));
    poller.poll().await;
    // The recording's busy collection is cloned into every 5th name (round-robin over 5).
    let telemetry: serde_json::Value = serde_json::from_str(&support::scaled_telemetry(
        "qdrant-1.18.3/single-busy",
        3,
        200,
    ))
    .unwrap();
    let busy: Vec<String> = telemetry["result"]["collections"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["shards"].as_array().unwrap().iter().any(|s| {
                s["local"]["status"]
                    .as_str()
                    .is_some_and(|st| st != "green")
            })
        })
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !busy.is_empty(),
        "the recording has a collection that is not green"
    );
    let first_read = &busy[0];
    assert_eq!(
        server.request_count(&format!("/collections/{first_read}/optimizations")),
        1,
        "a busy collection's backlog is read on the first poll"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_poll_reads_everything_when_asked() {
    let server = scaled_node(100).await;
    let mut poller = Poller::new(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__READ_ALL_AT_START", "true"),
    ]));
    poller.poll().await;
    let first = server
        .requests()
        .iter()
        .filter(|r| per_collection(&r.path))
        .count();
    assert_eq!(
        first, 300,
        "all 100 collections × 3 endpoints on the first poll"
    );
    let before = server.requests().len();
    poller.poll().await;
    let second = server.requests()[before..]
        .iter()
        .filter(|r| per_collection(&r.path))
        .count();
    assert!(
        second <= 16,
        "later polls are back within the budget: {second}"
    );
}

/// No growth over a long run: the real agent polls a 1,000-collection node 500 times at a
/// short interval, exporting every poll, having read every collection's per-collection data on
/// the first poll; its resident memory levels off (slow and fast polls alike, per-collection
/// reads rotating through every collection).
///
/// It levels off once the per-collection reads have gone round every collection once (3,000
/// reads at 16 per poll: ~190 polls), not after the first few polls: each re-read replaces a
/// long-lived entry, and the heap settles into its working shape only when all have been
/// replaced once (docs/performance.md, "Memory over a long run"). So the level after that
/// rotation is compared with the level at the end.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "open (issue 8): after that rotation the level still steps up now and then (50 to 66 MiB between polls 250 and 500 in one CI run; 50 to 54 in another); run with `cargo test --test scale -- --ignored`"]
async fn rss_stops_growing_over_500_polls() {
    let server = scaled_node(1_000).await;
    let receiver = support::OtlpReceiver::start_http().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_URL", server.url())
        // A debug build polls 1,000 collections in ~100 ms: a longer interval keeps polls from
        // overrunning each other (that would measure timeouts, not memory).
        .env("QDRANT_OTEL_POLL__INTERVAL", "250ms")
        // Every collection's per-collection data from the first poll on: otherwise memory grows,
        // by design, until the round-robin has read each collection once.
        .env("QDRANT_OTEL_POLL__READ_ALL_AT_START", "true")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", receiver.endpoint())
        .env("QDRANT_OTEL_LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start the agent");
    let pid = child.id();
    let polls = || server.request_count("/");
    let mut samples: Vec<(usize, u64)> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    while polls() < 500 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // The receiver keeps what it decodes; only the agent's memory is measured.
        receiver.clear();
        samples.push((polls(), support::proc_status_kib(pid, "VmRSS:")));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(polls() >= 500, "500 polls within 10 minutes: {}", polls());
    // Resident memory rises within each poll (responses, points, requests) and falls after it,
    // when freed memory is returned. What a leak raises is the level it falls back to: compare
    // the lowest RSS over an early window of polls with the lowest over the last one.
    let window = |from: usize, to: usize| -> Vec<u64> {
        samples
            .iter()
            .filter(|(n, _)| (from..to).contains(n))
            .map(|(_, kib)| *kib)
            .collect()
    };
    let low = |from, to| window(from, to).into_iter().min().unwrap_or(0);
    let high = |from, to| window(from, to).into_iter().max().unwrap_or(0);
    let lows: Vec<u64> = (0..10).map(|b| low(b * 50, b * 50 + 50) / 1024).collect();
    let highs: Vec<u64> = (0..10).map(|b| high(b * 50, b * 50 + 50) / 1024).collect();
    eprintln!("RSS MiB per 50 polls, lowest {lows:?}, highest {highs:?}");
    let (settled, late) = (low(200, 300), low(400, 501));
    assert!(settled > 0 && late > 0, "sampled both windows");
    // Allocator noise allowed (the lowest level varies by a few MiB between windows), growth
    // not: a leak of 50 KiB per poll would add 15 MiB by the last window.
    let bound = settled + (settled / 8).max(8 * 1024);
    assert!(
        late <= bound,
        "RSS between polls grew from {settled} KiB (polls 200-300) to {late} KiB (polls 400-500)"
    );
}
