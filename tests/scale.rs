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
    // The server keeps connections alive, as Qdrant does; the agent's pool reuses them
    // rather than paying a TCP connect per request.
    let (connections, requests) = (server.connections(), server.requests().len());
    assert!(
        connections * 4 <= requests,
        "connections reused: {connections} for {requests} requests"
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

/// No growth over a long run: the real agent polls a 1,000-collection node 500 times or more at a
/// short interval, exporting every poll, reading every collection's per-collection data on the
/// first poll; its resident memory levels off (slow and fast polls alike, per-collection reads
/// rotating through every collection).
///
/// What the agent keeps between polls grows, by design, until every (collection, endpoint)
/// pair has been read once: the first poll reads them all when it can within one interval, and
/// leaves the rest to the round-robin (3,000 pairs at up to 64 per poll). The heap in use is
/// flat after that (the agent's debug log after each trim, docs/performance.md). So the level
/// once every pair has been read is compared with the level at the end, 250 polls or more
/// later: a loaded machine slows the debug agent and with it the rotation, which lengthens the
/// run rather than shortening the part of it watched for growth.
#[tokio::test(flavor = "multi_thread")]
async fn rss_stops_growing_over_500_polls() {
    let server = scaled_node(1_000).await;
    // One request per connection, as before the server kept connections alive: with them, one
    // run in three failed the 2 % heap bound below by 270 KB, with no upward trend in the
    // samples. The likely cause (not proven): pooled connections keep hyper's adaptive read
    // buffers, sized by whichever connection last carried a large telemetry body.
    server.close_connections();
    let receiver = support::OtlpReceiver::start_http().await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_URL", server.url())
        // A debug build polls 1,000 collections in ~100 ms: a longer interval keeps polls from
        // overrunning each other (that would measure timeouts, not memory).
        .env("QDRANT_OTEL_POLL__INTERVAL", "250ms")
        .env("QDRANT_OTEL_POLL__READ_ALL_AT_START", "true")
        // The first poll reads what it can within one interval (a debug build: a few hundred
        // pairs); a larger budget than the default 16 has the rotation read the rest within
        // ~100 polls instead of ~375 (half the budget goes to busy collections), leaving most
        // of the run to watch for growth.
        .env("QDRANT_OTEL_POLL__COLLECTION_REQUESTS", "64")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", receiver.endpoint())
        // The agent's heap in use, logged after each trim (every 8 polls), JSON to parse.
        .env(
            "QDRANT_OTEL_LOG__LEVEL",
            "warn,qdrant_otel_agent::agent::node=debug",
        )
        .env("QDRANT_OTEL_LOG__FORMAT", "json")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start the agent");
    let pid = child.id();
    let stderr = child.stderr.take().expect("piped stderr");
    let log = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    let polls = || server.request_count("/");
    let mut samples: Vec<(usize, u64)> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
    // The poll by which every (collection, endpoint) pair had been read once.
    let mut all_read_by: Option<usize> = None;
    // At least 500 polls, and 250 after every pair has been read (at most 1,000).
    let run_until = |all_read_by: Option<usize>| all_read_by.map_or(1_000, |n| (n + 250).max(500));
    while polls() < run_until(all_read_by) && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the agent exited: {status}");
        }
        // The receiver keeps what it decodes; only the agent's memory is measured.
        receiver.clear();
        samples.push((polls(), support::proc_status_kib(pid, "VmRSS:")));
        if all_read_by.is_none() {
            let read: BTreeSet<String> = server
                .requests()
                .into_iter()
                .filter(|r| per_collection(&r.path) && r.bytes > 0)
                .map(|r| r.path)
                .collect();
            if read.len() == 3_000 {
                all_read_by = Some(polls());
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let all_read_by = all_read_by.expect("every per-collection pair read within 1,000 polls");
    let last = run_until(Some(all_read_by));
    assert!(
        polls() >= last,
        "{last} polls within 10 minutes: {}",
        polls()
    );
    // (poll, heap bytes in use) after each trim.
    let heap: Vec<(u64, u64)> = log
        .join()
        .expect("log reader")
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|entry| {
            let fields = entry.get("fields")?;
            Some((
                fields.get("polls")?.as_u64()?,
                fields.get("heap.in_use")?.as_u64()?,
            ))
        })
        .collect();
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
    let lows: Vec<u64> = (0..last / 50)
        .map(|b| low(b * 50, b * 50 + 50) / 1024)
        .collect();
    let highs: Vec<u64> = (0..last / 50)
        .map(|b| high(b * 50, b * 50 + 50) / 1024)
        .collect();
    eprintln!("RSS MiB per 50 polls, lowest {lows:?}, highest {highs:?}");
    eprintln!("every (collection, endpoint) pair read by poll {all_read_by}");
    // From 50 polls after the last pair was first read: the heap's shape has settled. The
    // last 100 polls are the end.
    let from = all_read_by.max(50) + 50;
    let end_from = last - 100;
    let (settled, late) = (low(from, from + 100), low(end_from, last + 1));
    assert!(settled > 0 && late > 0, "sampled both windows");
    // Allocator noise allowed (the lowest level varies by a few MiB between windows), growth
    // not: a leak of 50 KiB per poll would add 10 MiB by the last window.
    let bound = settled + (settled / 8).max(8 * 1024);
    assert!(
        late <= bound,
        "RSS between polls grew from {settled} KiB (polls {from}-{}) to {late} KiB (polls {end_from}-{last})",
        from + 100
    );
    // The heap in use is what a leak raises whatever the allocator does with freed pages: it
    // must be flat from the settled window to the end (bound below).
    let in_use = |from: usize, to: usize| -> Vec<u64> {
        heap.iter()
            .filter(|(poll, _)| (from as u64..to as u64).contains(poll))
            .map(|(_, bytes)| *bytes)
            .collect()
    };
    let (early, end) = (in_use(from, from + 100), in_use(end_from, last + 1));
    eprintln!("heap in use, settled {early:?}, end {end:?}");
    // The level the agent falls back to between exports, per window. Samples are two levels
    // ~6 MiB apart (a trim while an export holds its points and request reads higher, about
    // half the polls), and the lower one itself wanders by a few hundred KiB (a buffer that
    // happens to be shrunk at that trim): the single lowest sample is an outlier as often as
    // not. So: the median of the samples within 1 MiB of the window's lowest. A leak raises
    // the whole lower level, and with it that median. The lower level has sub-levels of its
    // own, ~300 KiB apart (9.49 and 9.79 MB in one run, each about half the samples of both
    // windows, the end window's lowest below the settled one's), so the median may pick
    // either: growth is allowed up to 2 % or 512 KiB, whichever is more. A leak of 4 KiB a
    // poll adds ~640 KiB between the windows' middles (~160 polls apart).
    let floor = |mut values: Vec<u64>| -> u64 {
        let Some(&lowest) = values.iter().min() else {
            return 0;
        };
        values.retain(|&bytes| bytes <= lowest + (1 << 20));
        values.sort_unstable();
        values[values.len() / 2]
    };
    let (early, end) = (floor(early), floor(end));
    assert!(
        early > 0 && end > 0,
        "the agent logged its heap after trims in both windows: {heap:?}"
    );
    assert!(
        end <= early + (early / 50).max(512 * 1024),
        "heap in use grew from {early} (polls {from}-{}) to {end} bytes (polls {end_from}-{last})",
        from + 100
    );
}
