//! Scale benchmark (docs/performance.md): the real agent binary polls a recorded node scaled to N
//! collections and exports OTLP/HTTP to an in-process receiver. Reported per N: requests per
//! poll, wall time of a poll, agent CPU per poll, peak RSS, OTLP bytes per export — and the
//! same collection data read the naive way (list, then one request per collection, one at a
//! time). `cargo bench --bench scale` (or `make bench`) runs 10 / 100 / 1,000 / 10,000;
//! `cargo test` runs a smoke pass with 10 collections so the benchmark cannot rot.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{last_export_for, FixtureServer, OtlpReceiver};

const SET: &str = "qdrant-1.18.3/single";
/// Steady-state polls measured after the first (slow) one.
const POLLS: usize = 5;

struct Row {
    collections: usize,
    requests_per_poll: f64,
    poll_wall_ms: f64,
    cpu_ms_per_poll: f64,
    peak_rss_mb: f64,
    otlp_kb_per_export: f64,
    points_per_export: usize,
    naive_requests: usize,
    naive_wall_ms: f64,
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// User + system CPU time of a process, from /proc.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // Linux reports in clock ticks of 1/100 s (USER_HZ) on every common architecture.
    Duration::from_millis(ticks * 10)
}

fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn measure(n: usize) -> Row {
    let server = FixtureServer::start(SET).await;
    for level in [3, 4] {
        server.set_response(
            &format!("/telemetry?details_level={level}"),
            200,
            "application/json",
            support::scaled_telemetry(SET, level, n),
        );
    }
    // What the naive way reads: the list, then each collection.
    let names: Vec<String> = (0..n).map(|i| format!("c{i:05}")).collect();
    let recorded = [
        "articles",
        "busy",
        "empty_collection",
        "products",
        "sharded",
    ];
    let list: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"name": n}))
        .collect();
    server.set_response(
        "/collections",
        200,
        "application/json",
        serde_json::json!({"result": {"collections": list}, "status": "ok", "time": 0.0})
            .to_string(),
    );
    for (i, name) in names.iter().enumerate() {
        let body = server.fixture_body(&format!("/collections/{}", recorded[i % recorded.len()]));
        server.set_response(
            &format!("/collections/{name}"),
            200,
            "application/json",
            body,
        );
    }

    let receiver = OtlpReceiver::start_http().await;
    let child = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_URL", server.url())
        .env("QDRANT_OTEL_POLL__INTERVAL", "2s")
        .env("QDRANT_OTEL_QDRANT__TIMEOUT", "1900ms")
        .env("QDRANT_OTEL_POLL__DETAIL_EVERY", "1000")
        .env("QDRANT_OTEL_OTLP__ENDPOINT", receiver.endpoint())
        .env("QDRANT_OTEL_LOG__LEVEL", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the agent");
    let pid = child.id();
    let _agent = Agent(child);

    receiver
        .wait_for_requests(1, Duration::from_secs(120))
        .await;
    let requests_before = server.requests().len();
    let cpu_before = cpu_time(pid);
    let requests = receiver
        .wait_for_requests(1 + POLLS, Duration::from_secs(30 + 3 * POLLS as u64))
        .await;
    let cpu = cpu_time(pid) - cpu_before;
    // Per poll: requests in the window divided by the polls in it (each poll asks `/` once).
    let window = &server.requests()[requests_before..];
    let polls = window.iter().filter(|r| r.path == "/").count().max(1);
    let requests_per_poll = window.len() as f64 / polls as f64;
    let instance = server.addr().to_string();
    let points = last_export_for(&requests, &instance);
    let poll_wall_ms = points
        .iter()
        .filter(|p| p.metric == "qdrant.agent.poll.duration")
        .map(|p| p.value * 1000.0)
        .fold(0.0, f64::max);
    let sizes = receiver.body_sizes();
    let otlp_kb_per_export = *sizes.last().unwrap_or(&0) as f64 / 1024.0;
    let peak_rss_mb = peak_rss_kb(pid) as f64 / 1024.0;

    // The naive way, one request at a time.
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut naive_requests = 1;
    let _ = http
        .get(format!("{}/collections", server.url()))
        .send()
        .await
        .unwrap()
        .bytes()
        .await;
    for name in &names {
        let _ = http
            .get(format!("{}/collections/{name}", server.url()))
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
        naive_requests += 1;
    }
    let naive_wall_ms = started.elapsed().as_secs_f64() * 1000.0;

    Row {
        collections: n,
        requests_per_poll,
        poll_wall_ms,
        cpu_ms_per_poll: cpu.as_secs_f64() * 1000.0 / POLLS as f64,
        peak_rss_mb,
        otlp_kb_per_export,
        points_per_export: points.len(),
        naive_requests,
        naive_wall_ms,
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if full {
        &[10, 100, 1_000, 10_000]
    } else {
        &[10]
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let rows: Vec<Row> = runtime.block_on(async {
        let mut rows = Vec::new();
        for &n in sizes {
            rows.push(measure(n).await);
        }
        rows
    });
    println!("| collections | requests/poll | poll wall (ms) | agent CPU/poll (ms) | peak RSS (MB) | OTLP KB/export (gzip) | points/export | naive requests | naive wall (ms) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} | {:.1} |",
            r.collections,
            r.requests_per_poll,
            r.poll_wall_ms,
            r.cpu_ms_per_poll,
            r.peak_rss_mb,
            r.otlp_kb_per_export,
            r.points_per_export,
            r.naive_requests,
            r.naive_wall_ms
        );
    }
    for r in &rows {
        // Fixed requests plus at most `poll.collection_requests` (16) per-collection ones.
        assert!(
            r.requests_per_poll <= 24.0,
            "requests per poll at {} collections: {}",
            r.collections,
            r.requests_per_poll
        );
        assert!(
            r.points_per_export > r.collections,
            "every collection exported"
        );
    }
}
