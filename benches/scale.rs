//! Scale benchmark (docs/performance.md). The real agent binary, at its default settings but for
//! a short poll interval, polls a recorded Qdrant 1.18.3 node scaled to N collections (telemetry,
//! the collection list and every per-collection endpoint answer: nothing is a 404) and exports
//! OTLP/HTTP (gzip) to an in-process receiver, for a first poll and then two full cycles of
//! `poll.detail_every` (= 4) polls, so slow and fast polls are both measured. Per N it reports
//! requests and bytes read from Qdrant per poll, agent CPU per poll (from /proc), peak RSS, OTLP
//! bytes and points per export; beside it, in the same run, the same collections read the naive
//! way (list, then one `GET /collections/{name}` at a time) and the CPU cost of parsing a
//! Prometheus scrape of Qdrant's own `/metrics` scaled to the same N.
//!
//! `cargo bench --bench scale` (`make bench`) runs 10 / 100 / 1,000 / 10,000 collections, prints
//! the markdown section and rewrites the generated part of docs/performance.md, plus
//! docs/performance.csv and docs/performance.svg. `cargo test` runs it at 10 collections as a
//! smoke test (asserting the request budget and that every collection is exported) and writes
//! nothing, so the benchmark cannot rot.

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use support::{FixtureServer, OtlpReceiver, RecordedRequest};

const SET: &str = "qdrant-1.18.3/single";
/// `poll.detail_every`'s default: every 4th poll (and the first) is slow.
const DETAIL_EVERY: usize = 4;
/// Polls after the first: two full cycles.
const STEADY_POLLS: usize = 2 * DETAIL_EVERY;
/// A poll's first requests are concurrent: they arrive at most this far apart, one after another.
const BURST_GAP: Duration = Duration::from_millis(250);
const COLLECTION_ATTRIBUTE: &str = "db.collection.name";

/// The poll interval used at N collections: 1 s, longer where a poll would not fit in it.
fn interval_for(n: usize) -> Duration {
    if n >= 10_000 {
        Duration::from_secs(5)
    } else {
        Duration::from_secs(1)
    }
}

#[derive(Default, Clone)]
struct AgentRow {
    collections: usize,
    interval: Duration,
    requests_mean: f64,
    requests_max: usize,
    read_kb_mean: f64,
    read_kb_max: f64,
    first_cpu_ms: f64,
    fast_cpu_ms: f64,
    slow_cpu_ms: f64,
    cycle_cpu_ms: f64,
    max_cpu_ms: f64,
    slow_polls: usize,
    peak_rss_mb: f64,
    otlp_kb_mean: f64,
    otlp_kb_max: f64,
    points_mean: f64,
    points_max: usize,
    collections_exported: usize,
    /// Exports of the agent's own telemetry (`service.name = qdrant-otel-agent`, on by
    /// default), received beside the node data and left out of the export columns.
    self_exports: usize,
    /// CPU of the whole run by /proc/PID/stat (ticks, dead threads included) and by the
    /// threads' schedstat (ns, live threads): they should agree.
    check_stat_ms: f64,
    check_schedstat_ms: f64,
}

#[derive(Default, Clone)]
struct NaiveRow {
    requests: usize,
    kb: f64,
    wall_ms: f64,
}

#[derive(Default, Clone)]
struct ScrapeRow {
    kb: f64,
    samples: usize,
    parse_cpu_ms: f64,
}

/// One figure of a row, for the growth table and the plot.
type Figure = fn(&Row) -> f64;

struct Row {
    agent: AgentRow,
    naive: NaiveRow,
    scrape: ScrapeRow,
    /// The agent with its own telemetry off (at `SELF_OFF_AT` collections only).
    without_self: Option<AgentRow>,
}

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// /proc

/// CPU time of every live thread of a process, in ns (`/proc/PID/task/*/schedstat`).
fn schedstat_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(|t| t.ok())
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// User + system CPU time of a process, dead threads included, in ms (`/proc/PID/stat`).
fn stat_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    // USER_HZ is 100 on every common Linux architecture.
    ticks as f64 * 10.0
}

/// CPU time of the calling thread, in ns.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------------------------
// OTLP

fn point_count(request: &ExportMetricsServiceRequest) -> usize {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        })
        .sum()
}

/// The export time of a request: every request of one (split) export carries the same.
/// The agent's own telemetry: its SDK exports on the agent's resource.
fn is_self_telemetry(request: &ExportMetricsServiceRequest) -> bool {
    request.resource_metrics.iter().all(|rm| {
        rm.resource.as_ref().is_some_and(|r| {
            r.attributes.iter().any(|kv| {
                kv.key == "service.name"
                    && matches!(
                        kv.value.as_ref().and_then(|v| v.value.as_ref()),
                        Some(any_value::Value::StringValue(s)) if s == "qdrant-otel-agent"
                    )
            })
        })
    })
}

fn export_time(request: &ExportMetricsServiceRequest) -> Option<u64> {
    let metric = request
        .resource_metrics
        .first()?
        .scope_metrics
        .first()?
        .metrics
        .first()?;
    match &metric.data {
        Some(Data::Gauge(g)) => g.data_points.first().map(|p| p.time_unix_nano),
        Some(Data::Sum(s)) => s.data_points.first().map(|p| p.time_unix_nano),
        _ => None,
    }
}

fn collections_in(request: &ExportMetricsServiceRequest) -> BTreeSet<String> {
    fn named(attributes: &[KeyValue]) -> Option<String> {
        let kv = attributes
            .iter()
            .find(|kv| kv.key == COLLECTION_ATTRIBUTE)?;
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        }
    }
    let mut names = BTreeSet::new();
    for metric in request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
    {
        match &metric.data {
            Some(Data::Gauge(g)) => {
                names.extend(g.data_points.iter().filter_map(|p| named(&p.attributes)))
            }
            Some(Data::Sum(s)) => {
                names.extend(s.data_points.iter().filter_map(|p| named(&p.attributes)))
            }
            _ => {}
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Measurements

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

/// The agent, its default settings but for the interval, over a first poll and two cycles.
async fn measure_agent(server: &FixtureServer, n: usize, self_telemetry: bool) -> AgentRow {
    let interval = interval_for(n);
    let timeout = interval - Duration::from_millis(100);
    let receiver = OtlpReceiver::start_http().await;
    // The server may have served an agent before this one: only what follows counts.
    let (polls_before, begun) = (server.request_count("/"), Instant::now());
    let child = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_URL", server.url())
        .env(
            "QDRANT_OTEL_POLL__INTERVAL",
            format!("{}ms", interval.as_millis()),
        )
        .env(
            "QDRANT_OTEL_QDRANT__TIMEOUT",
            format!("{}ms", timeout.as_millis()),
        )
        .env("QDRANT_OTEL_OTLP__ENDPOINT", receiver.endpoint())
        .env("QDRANT_OTEL_LOG__LEVEL", "warn")
        .env(
            "QDRANT_OTEL_OTLP__SELF_TELEMETRY",
            self_telemetry.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the agent");
    let pid = child.id();
    let agent = Agent(child);

    // The agent's CPU (ns) when each poll's `/` request was seen; the end of poll k is the start
    // of poll k + 1, so one more start than measured polls.
    let polls = 1 + STEADY_POLLS;
    let mut cpu_at_start: Vec<u64> = Vec::new();
    let mut export_bytes: Vec<usize> = Vec::new();
    let mut export_points: Vec<usize> = Vec::new();
    let mut last_export: Option<BTreeSet<String>> = None;
    let mut export_time_of_last: Option<u64> = None;
    let mut complete_export: Option<BTreeSet<String>> = None;
    let mut self_exports = 0;
    let deadline = Instant::now() + Duration::from_secs(120) + interval * (polls as u32 + 2);
    loop {
        let started = server.request_count("/") - polls_before;
        if started > cpu_at_start.len() {
            let cpu = schedstat_ns(pid);
            cpu_at_start.resize(started, cpu);
        }
        let (requests, sizes) = receiver.take();
        // A large export is split into several requests sharing one time: count exports.
        for (request, size) in requests.into_iter().zip(sizes) {
            if is_self_telemetry(&request) {
                self_exports += 1;
                continue;
            }
            let time = export_time(&request);
            let names = collections_in(&request);
            if time.is_some() && time == export_time_of_last {
                *export_bytes.last_mut().expect("an export") += size;
                *export_points.last_mut().expect("an export") += point_count(&request);
                last_export.get_or_insert_with(BTreeSet::new).extend(names);
            } else {
                export_bytes.push(size);
                export_points.push(point_count(&request));
                // The previous export is complete once the next one starts.
                complete_export = last_export.take();
                last_export = Some(names);
                export_time_of_last = time;
            }
        }
        if cpu_at_start.len() > polls && export_points.len() >= polls {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{n} collections: {} poll(s) started and {} export(s) received by the deadline",
            cpu_at_start.len(),
            export_points.len()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let peak_rss_mb = support::proc_status_kib(pid, "VmHWM:") as f64 / 1024.0;
    let check_stat_ms = stat_ms(pid);
    let check_schedstat_ms = schedstat_ns(pid) as f64 / 1e6;
    drop(agent);

    // Group Qdrant's requests by poll: a poll starts with the burst of concurrent requests that
    // holds its `/` (never reaching back past the previous poll's `/`).
    let requests: Vec<RecordedRequest> = server
        .requests()
        .into_iter()
        .filter(|r| r.at >= begun)
        .collect();
    let mut starts: Vec<Instant> = Vec::new();
    for (i, r) in requests.iter().enumerate().filter(|(_, r)| r.path == "/") {
        let mut first = i;
        while first > 0
            && requests[first - 1].path != "/"
            && requests[first].at - requests[first - 1].at < BURST_GAP
            && starts.last().is_none_or(|&s| requests[first - 1].at >= s)
        {
            first -= 1;
        }
        starts.push(requests[first].at.min(r.at));
    }
    let in_poll = |k: usize| -> Vec<&RecordedRequest> {
        requests
            .iter()
            .filter(|r| r.at >= starts[k] && r.at < starts[k + 1])
            .collect()
    };
    let mut request_counts = Vec::new();
    let mut read_kb = Vec::new();
    let (mut fast_cpu, mut slow_cpu, mut steady_cpu) = (Vec::new(), Vec::new(), Vec::new());
    for k in 1..polls {
        let poll = in_poll(k);
        request_counts.push(poll.len());
        read_kb.push(poll.iter().map(|r| r.bytes).sum::<usize>() as f64 / 1024.0);
        let cpu_ms = (cpu_at_start[k + 1] - cpu_at_start[k]) as f64 / 1e6;
        steady_cpu.push(cpu_ms);
        if poll.iter().any(|r| r.path == "/telemetry?details_level=4") {
            slow_cpu.push(cpu_ms);
        } else {
            fast_cpu.push(cpu_ms);
        }
    }
    let steady_exports = 1..polls;
    let otlp_kb: Vec<f64> = export_bytes[steady_exports.clone()]
        .iter()
        .map(|&b| b as f64 / 1024.0)
        .collect();
    let points: Vec<f64> = export_points[steady_exports]
        .iter()
        .map(|&p| p as f64)
        .collect();
    AgentRow {
        collections: n,
        interval,
        requests_mean: mean(&request_counts.iter().map(|&c| c as f64).collect::<Vec<_>>()),
        requests_max: request_counts.iter().copied().max().unwrap_or(0),
        read_kb_mean: mean(&read_kb),
        read_kb_max: max(&read_kb),
        first_cpu_ms: cpu_at_start[1] as f64 / 1e6,
        fast_cpu_ms: mean(&fast_cpu),
        slow_cpu_ms: mean(&slow_cpu),
        cycle_cpu_ms: mean(&steady_cpu),
        max_cpu_ms: max(&steady_cpu),
        slow_polls: slow_cpu.len(),
        peak_rss_mb,
        otlp_kb_mean: mean(&otlp_kb),
        otlp_kb_max: max(&otlp_kb),
        points_mean: mean(&points),
        points_max: points.iter().fold(0.0, |a: f64, &b| a.max(b)) as usize,
        collections_exported: complete_export.as_ref().map_or(0, BTreeSet::len),
        self_exports,
        check_stat_ms,
        check_schedstat_ms,
    }
}

/// The same collections read the way most exporters do: the list, then each one in turn.
async fn measure_naive(server: &FixtureServer, n: usize) -> NaiveRow {
    let http = reqwest::Client::new();
    let before = server.requests().len();
    let started = Instant::now();
    let list: serde_json::Value = http
        .get(format!("{}/collections", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<String> = list["result"]["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), n);
    for name in &names {
        let body: serde_json::Value = http
            .get(format!("{}/collections/{name}", server.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["status"], "ok", "{name}");
    }
    let wall_ms = started.elapsed().as_secs_f64() * 1000.0;
    let read = &server.requests()[before..];
    NaiveRow {
        requests: read.len(),
        kb: read.iter().map(|r| r.bytes).sum::<usize>() as f64 / 1024.0,
        wall_ms,
    }
}

/// The recorded `/metrics` with every series of a recorded collection (label `collection` or
/// `id`) cloned for `n` collections, named and assigned as `serve_scaled` does.
fn scaled_metrics(n: usize) -> String {
    let text = std::fs::read_to_string(support::fixture_dir(SET).join("metrics.txt")).unwrap();
    let recorded = support::recorded_collections(SET);
    struct Family<'a> {
        comments: Vec<&'a str>,
        global: Vec<&'a str>,
        per_collection: HashMap<&'a str, Vec<(&'a str, &'a str)>>,
    }
    let mut families: Vec<Family> = Vec::new();
    for line in text.lines() {
        let new_family = families.last().is_none_or(|f| {
            line.starts_with('#') && !(f.global.is_empty() && f.per_collection.is_empty())
        });
        if new_family {
            families.push(Family {
                comments: Vec::new(),
                global: Vec::new(),
                per_collection: HashMap::new(),
            });
        }
        let family = families.last_mut().unwrap();
        if line.starts_with('#') {
            family.comments.push(line);
            continue;
        }
        let owner = recorded.iter().find_map(|name| {
            ["collection", "id"].into_iter().find_map(|label| {
                let needle = format!("{label}=\"{name}\"");
                line.contains(&needle).then_some((name.as_str(), label))
            })
        });
        match owner {
            Some((name, label)) => family
                .per_collection
                .entry(name)
                .or_default()
                .push((line, label)),
            None => family.global.push(line),
        }
    }
    let mut out = String::new();
    for family in &families {
        for line in family.comments.iter().chain(&family.global) {
            out.push_str(line);
            out.push('\n');
        }
        if family.per_collection.is_empty() {
            continue;
        }
        for i in 0..n {
            let original = recorded[i % recorded.len()].as_str();
            for (line, label) in family.per_collection.get(original).into_iter().flatten() {
                let from = format!("{label}=\"{original}\"");
                let to = format!("{label}=\"c{i:05}\"");
                out.push_str(&line.replace(&from, &to));
                out.push('\n');
            }
        }
    }
    out
}

/// CPU time to parse a Prometheus text scrape of Qdrant's `/metrics` at `n` collections.
fn measure_scrape(n: usize) -> ScrapeRow {
    let text = scaled_metrics(n);
    let parse = || {
        let lines = text.lines().map(|l| Ok(l.to_string()));
        prometheus_parse::Scrape::parse(lines).expect("a valid scrape")
    };
    let samples = parse().samples.len();
    // Repeat to at least 300 ms of CPU (3 to 50 parses), on this thread alone.
    let mut spent = 0u64;
    let mut runs = 0u32;
    while runs < 3 || (spent < 300_000_000 && runs < 50) {
        let before = thread_cpu_ns();
        std::hint::black_box(parse());
        spent += thread_cpu_ns() - before;
        runs += 1;
    }
    ScrapeRow {
        kb: text.len() as f64 / 1024.0,
        samples,
        parse_cpu_ms: spent as f64 / 1e6 / runs as f64,
    }
}

/// The agent alone on the realistic mix (`support::serve_mixed`) at `n` collections.
async fn measure_mixed(n: usize) -> AgentRow {
    let server = FixtureServer::start(SET).await;
    support::serve_mixed(&server, SET, n);
    measure_agent(&server, n, true).await
}

/// The section on the realistic mix, with the CPU target judged on it.
fn mixed_markdown(a: &AgentRow) -> String {
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "**The realistic mix** (`support::mixed_telemetry`): {} collections of different shapes and sizes, as real tenants have — cloned from the recorded ones with products' named dense and sparse vectors three times in ten, 1 to 12 shards (mean 2.65), 2 to 8 segments per shard (mean 4.6), a multivector on a quarter of those with named vectors, point counts over five orders of magnitude; a live node's telemetry (`support::churn`: four responses in turn, in which every collection with a map Qdrant builds afresh for each response, of two entries or more, differs from the response before, and about one other in ten was written to); same settings and measurement as above:", thousands(a.collections));
    let _ = writeln!(w);
    let _ = writeln!(w, "| collections | requests/poll mean (max) | KB read/poll mean (max) | CPU fast poll (ms) | CPU slow poll (ms) | CPU/poll over the cycle (ms) | peak RSS (MB) | points/export mean (max) |");
    let _ = writeln!(w, "|---:|---:|---:|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        w,
        "| {} | {} ({}) | {} ({}) | {} | {} | {} | {} | {} ({}) |",
        thousands(a.collections),
        num(a.requests_mean),
        a.requests_max,
        num(a.read_kb_mean),
        num(a.read_kb_max),
        num(a.fast_cpu_ms),
        num(a.slow_cpu_ms),
        num(a.cycle_cpu_ms),
        num(a.peak_rss_mb),
        thousands(a.points_mean.round() as usize),
        thousands(a.points_max),
    );
    let _ = writeln!(w);
    let cpu = a.cycle_cpu_ms;
    let _ = writeln!(
        w,
        "- Target on the realistic mix: CPU per steady-state poll at {} collections ≤ 20 ms: **{} ms, {}**.",
        thousands(a.collections),
        num(cpu),
        if cpu <= 20.0 { "met" } else { "missed" }
    );
    let _ = writeln!(w);
    md
}

/// The agent (its own telemetry on, the default), the naive read, and at `SELF_OFF_AT`
/// collections the agent again with its own telemetry off, right after: what it costs.
async fn measure(n: usize) -> (AgentRow, NaiveRow, Option<AgentRow>) {
    let server = FixtureServer::start(SET).await;
    support::serve_scaled(&server, SET, n);
    let agent = measure_agent(&server, n, true).await;
    let without_self = if n == SELF_OFF_AT {
        Some(measure_agent(&server, n, false).await)
    } else {
        None
    };
    let naive = measure_naive(&server, n).await;
    (agent, naive, without_self)
}

/// Where the agent is measured a second time, its own telemetry off.
const SELF_OFF_AT: usize = 1_000;

// ---------------------------------------------------------------------------------------------
// Report

fn thousands(v: usize) -> String {
    let digits = v.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `value` with about three significant digits.
fn num(value: f64) -> String {
    if value >= 100.0 {
        thousands(value.round() as usize)
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory_gib = status_meminfo_kb("MemTotal:") as f64 / 1024.0 / 1024.0;
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "{cores} × {model}, {memory_gib:.0} GiB memory, Linux {}; {date}",
        kernel.trim()
    )
}

fn status_meminfo_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// How a figure grows from the smallest to the largest N: the exponent of a power law.
fn growth(rows: &[Row], figure: impl Fn(&Row) -> f64) -> String {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return String::new();
    };
    let (a, b) = (figure(first), figure(last));
    let (x0, x1) = (
        first.agent.collections as f64,
        last.agent.collections as f64,
    );
    if a <= 0.0 || b <= 0.0 || x1 <= x0 {
        return "–".into();
    }
    format!("N^{:.2}", (b / a).ln() / (x1 / x0).ln())
}

fn markdown(rows: &[Row]) -> String {
    let mut md = String::new();
    let w = &mut md;
    let _ = writeln!(w, "Machine: {}.", machine());
    let _ = writeln!(w);
    let _ = writeln!(w, "Command: `make bench` (`cargo bench --bench scale`).");
    let _ = writeln!(w);
    let _ = writeln!(w, "**The agent** (default settings; interval 1 s, 5 s at 10,000; means over 8 polls after the first: 6 fast, 2 slow):");
    let _ = writeln!(w);
    let _ = writeln!(w, "| collections | requests/poll mean (max) | KB read/poll mean (max) | CPU first poll incl. start (ms) | CPU fast poll (ms) | CPU slow poll (ms) | CPU/poll over the cycle (ms) | peak RSS (MB) | OTLP KB/export gzip, mean (max) | points/export mean (max) |");
    let _ = writeln!(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for Row { agent: a, .. } in rows {
        let _ = writeln!(
            w,
            "| {} | {} ({}) | {} ({}) | {} | {} | {} | {} | {} | {} ({}) | {} ({}) |",
            thousands(a.collections),
            num(a.requests_mean),
            a.requests_max,
            num(a.read_kb_mean),
            num(a.read_kb_max),
            num(a.first_cpu_ms),
            num(a.fast_cpu_ms),
            num(a.slow_cpu_ms),
            num(a.cycle_cpu_ms),
            num(a.peak_rss_mb),
            num(a.otlp_kb_mean),
            num(a.otlp_kb_max),
            thousands(a.points_mean.round() as usize),
            thousands(a.points_max),
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "**Beside it, in the same run:** the naive N+1 read (`GET /collections`, then `GET /collections/{{name}}` one at a time, against the same replay server) and the CPU cost of parsing a Prometheus text scrape of Qdrant's own `/metrics` at the same N (`prometheus-parse`, one thread):");
    let _ = writeln!(w);
    let _ = writeln!(w, "| collections | naive: requests | naive: KB read | naive: wall (ms) | `/metrics`: KB | `/metrics`: samples | `/metrics`: parse CPU (ms) |");
    let _ = writeln!(w, "|---:|---:|---:|---:|---:|---:|---:|");
    for Row {
        agent,
        naive,
        scrape,
        ..
    } in rows
    {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} |",
            thousands(agent.collections),
            thousands(naive.requests),
            num(naive.kb),
            num(naive.wall_ms),
            num(scrape.kb),
            thousands(scrape.samples),
            num(scrape.parse_cpu_ms),
        );
    }
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Growth from {} to {} collections, as a power of N (N^1 is linear, N^0 flat):",
        thousands(rows.first().map_or(0, |r| r.agent.collections)),
        thousands(rows.last().map_or(0, |r| r.agent.collections))
    );
    let _ = writeln!(w);
    let figures: [(&str, Figure); 9] = [
        ("requests/poll", |r| r.agent.requests_mean),
        ("KB read/poll", |r| r.agent.read_kb_mean),
        ("CPU/poll over the cycle", |r| r.agent.cycle_cpu_ms),
        ("peak RSS", |r| r.agent.peak_rss_mb),
        ("OTLP KB/export", |r| r.agent.otlp_kb_mean),
        ("points/export", |r| r.agent.points_mean),
        ("naive requests", |r| r.naive.requests as f64),
        ("naive wall", |r| r.naive.wall_ms),
        ("`/metrics` parse CPU", |r| r.scrape.parse_cpu_ms),
    ];
    let _ = writeln!(w, "| {} |", figures.map(|(name, _)| name).join(" | "));
    let _ = writeln!(w, "|{}", "---:|".repeat(figures.len()));
    let _ = writeln!(
        w,
        "| {} |",
        figures.map(|(_, f)| growth(rows, f)).join(" | ")
    );
    let _ = writeln!(w);
    let target = |n: usize| rows.iter().find(|r| r.agent.collections == n);
    if let Some(r) = target(1_000) {
        let cpu = r.agent.cycle_cpu_ms;
        let _ = writeln!(
            w,
            "- Target: CPU per steady-state poll at 1,000 collections ≤ 20 ms: **{} ms, {}** (fast polls {} ms, slow {} ms).",
            num(cpu),
            if cpu <= 20.0 { "met" } else { "missed" },
            num(r.agent.fast_cpu_ms),
            num(r.agent.slow_cpu_ms)
        );
    }
    if let Some(r) = target(10_000) {
        let rss = r.agent.peak_rss_mb;
        let _ = writeln!(
            w,
            "- Target: peak RSS at 10,000 collections ≤ 50 MB over slow and fast polls: **{} MB, {}**.",
            num(rss),
            if rss <= 50.0 { "met" } else { "missed" }
        );
    }
    for r in rows {
        let Some(off) = &r.without_self else { continue };
        let _ = writeln!(
            w,
            "- The agent's own telemetry, at {} collections in the same run: {} ms CPU per poll over the cycle and {} MB peak RSS with it (the table above), {} ms and {} MB without it (`otlp.self_telemetry: false`, measured right after).",
            thousands(r.agent.collections),
            num(r.agent.cycle_cpu_ms),
            num(r.agent.peak_rss_mb),
            num(off.cycle_cpu_ms),
            num(off.peak_rss_mb)
        );
    }
    let _ = writeln!(
        w,
        "- The agent's own telemetry (`otlp.self_telemetry`, on by default) was on: its SDK exports, received beside the node data and left out of the export columns: {}.",
        rows.iter()
            .map(|r| format!("{} at {} collections", r.agent.self_exports, thousands(r.agent.collections)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        w,
        "- Cross-check of the CPU figures, whole run: {}.",
        rows.iter()
            .map(|r| format!(
                "{} collections {} ms by thread schedstat, {} ms by /proc/PID/stat",
                thousands(r.agent.collections),
                num(r.agent.check_schedstat_ms),
                num(r.agent.check_stat_ms)
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    let _ = writeln!(w);
    let _ = writeln!(w, "![Growth with collections, log-log](performance.svg)");
    md
}

fn csv(rows: &[Row]) -> String {
    let mut out = String::from(
        "collections,interval_s,requests_mean,requests_max,read_kb_mean,read_kb_max,cpu_first_ms,cpu_fast_ms,cpu_slow_ms,cpu_cycle_ms,cpu_max_ms,peak_rss_mb,otlp_kb_mean,otlp_kb_max,points_mean,points_max,naive_requests,naive_kb,naive_wall_ms,metrics_kb,metrics_samples,metrics_parse_cpu_ms\n",
    );
    for Row {
        agent: a,
        naive,
        scrape,
        ..
    } in rows
    {
        let _ = writeln!(
            out,
            "{},{},{:.2},{},{:.1},{:.1},{:.2},{:.2},{:.2},{:.2},{:.2},{:.1},{:.1},{:.1},{:.0},{},{},{:.1},{:.1},{:.1},{},{:.2}",
            a.collections,
            a.interval.as_secs_f64(),
            a.requests_mean,
            a.requests_max,
            a.read_kb_mean,
            a.read_kb_max,
            a.first_cpu_ms,
            a.fast_cpu_ms,
            a.slow_cpu_ms,
            a.cycle_cpu_ms,
            a.max_cpu_ms,
            a.peak_rss_mb,
            a.otlp_kb_mean,
            a.otlp_kb_max,
            a.points_mean,
            a.points_max,
            naive.requests,
            naive.kb,
            naive.wall_ms,
            scrape.kb,
            scrape.samples,
            scrape.parse_cpu_ms
        );
    }
    out
}

/// A log-log plot of the figures against collections, drawn by hand.
fn svg(rows: &[Row]) -> String {
    let series: [(&str, &str, Figure); 8] = [
        ("agent CPU/poll (ms)", "#d62728", |r| r.agent.cycle_cpu_ms),
        ("agent peak RSS (MB)", "#1f77b4", |r| r.agent.peak_rss_mb),
        ("agent requests/poll", "#2ca02c", |r| r.agent.requests_mean),
        ("agent KB read/poll", "#17becf", |r| r.agent.read_kb_mean),
        ("OTLP KB/export", "#9467bd", |r| r.agent.otlp_kb_mean),
        ("naive N+1 requests", "#8c564b", |r| r.naive.requests as f64),
        ("naive N+1 wall (ms)", "#e377c2", |r| r.naive.wall_ms),
        ("/metrics parse CPU (ms)", "#ff7f0e", |r| {
            r.scrape.parse_cpu_ms
        }),
    ];
    let (width, height) = (800.0, 440.0);
    let (left, right, top, bottom) = (60.0, 250.0, 20.0, 50.0);
    let xs: Vec<f64> = rows.iter().map(|r| r.agent.collections as f64).collect();
    let values: Vec<f64> = series
        .iter()
        .flat_map(|(_, _, f)| rows.iter().map(f))
        .filter(|v| *v > 0.0)
        .chain([20.0, 50.0])
        .collect();
    let (x_lo, x_hi) = (
        xs.iter().copied().fold(f64::MAX, f64::min).log10().floor(),
        xs.iter()
            .copied()
            .fold(1.0, f64::max)
            .log10()
            .ceil()
            .max(1.0),
    );
    let (y_lo, y_hi) = (
        values
            .iter()
            .copied()
            .fold(f64::MAX, f64::min)
            .log10()
            .floor(),
        values.iter().copied().fold(1.0, f64::max).log10().ceil(),
    );
    let x_hi = if x_hi <= x_lo { x_lo + 1.0 } else { x_hi };
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let px = |x: f64| left + (x.log10() - x_lo) / (x_hi - x_lo) * plot_w;
    let py = |y: f64| top + plot_h - (y.log10() - y_lo) / (y_hi - y_lo) * plot_h;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    for e in x_lo as i32..=x_hi as i32 {
        let x = px(10f64.powi(e));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            top + plot_h,
            top + plot_h + 16.0,
            thousands(10usize.pow(e as u32))
        );
    }
    for e in y_lo as i32..=y_hi as i32 {
        let y = py(10f64.powi(e));
        let label = if e >= 0 {
            thousands(10usize.pow(e as u32))
        } else {
            format!("{}", 10f64.powi(e))
        };
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{label}</text>"##,
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">collections (log)</text>"#,
        left + plot_w / 2.0,
        height - 12.0
    );
    for (i, (name, color, f)) in series.iter().enumerate() {
        let points: Vec<String> = rows
            .iter()
            .map(|r| (r.agent.collections as f64, f(r)))
            .filter(|(_, v)| *v > 0.0)
            .map(|(x, v)| format!("{:.1},{:.1}", px(x), py(v)))
            .collect();
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2" points="{}"/>"#,
            points.join(" ")
        );
        for p in &points {
            let (x, y) = p.split_once(',').unwrap();
            let _ = writeln!(s, r#"<circle cx="{x}" cy="{y}" r="3" fill="{color}"/>"#);
        }
        let ly = top + 10.0 + i as f64 * 20.0;
        let lx = left + plot_w + 15.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0
        );
    }
    // The targets: CPU/poll at 1,000 and peak RSS at 10,000.
    let ly = top + 10.0 + series.len() as f64 * 20.0;
    let lx = left + plot_w + 15.0;
    for (x, y, color) in [(1_000.0, 20.0, "#d62728"), (10_000.0, 50.0, "#1f77b4")] {
        if x >= 10f64.powf(x_lo) && x <= 10f64.powf(x_hi) {
            let _ = writeln!(
                s,
                r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="none" stroke="{color}" stroke-width="2"/>"#,
                px(x) - 4.0,
                py(y) - 4.0
            );
        }
    }
    let _ = writeln!(
        s,
        r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="none" stroke="black" stroke-width="2"/><text x="{:.1}" y="{:.1}">targets: 20 ms CPU at 1,000;</text><text x="{:.1}" y="{:.1}">50 MB RSS at 10,000</text>"#,
        lx + 6.0,
        ly - 4.0,
        lx + 26.0,
        ly + 4.0,
        lx + 26.0,
        ly + 18.0
    );
    let _ = writeln!(s, "</svg>");
    s
}

/// Replace the generated part of docs/performance.md.
fn update_doc(section: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/performance.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let (begin, end) = ("<!-- BEGIN BENCH -->\n", "<!-- END BENCH -->");
    match (doc.find(begin), doc.find(end)) {
        (Some(b), Some(e)) if b < e => {
            let updated = format!("{}{begin}{section}{}", &doc[..b], &doc[e..]);
            std::fs::write(&path, updated).expect("write docs/performance.md");
        }
        _ => eprintln!("docs/performance.md has no BENCH markers: not updated"),
    }
}

fn main() {
    // `SCALE_SIZES=1000,10000 cargo bench --bench scale`: those sizes only, printed, nothing
    // written (a quick look while working on the cost).
    let chosen: Option<Vec<usize>> = std::env::var("SCALE_SIZES").ok().map(|list| {
        list.split(',')
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    });
    let full = chosen.is_none() && std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = match &chosen {
        Some(sizes) => sizes,
        None if full => &[10, 100, 1_000, 10_000],
        None => &[10],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows = Vec::new();
    for &n in sizes {
        let started = Instant::now();
        let (agent, naive, without_self) = runtime.block_on(measure(n));
        // Parsed with the agent stopped, on this thread: its CPU time alone is counted.
        let scrape = measure_scrape(n);
        eprintln!(
            "scale: {n} collections measured in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        rows.push(Row {
            agent,
            naive,
            scrape,
            without_self,
        });
    }
    // The realistic mix at 1,000 collections: with the full run, or `SCALE_MIX=1`.
    let mixed = (full || std::env::var_os("SCALE_MIX").is_some()).then(|| {
        let started = Instant::now();
        let row = runtime.block_on(measure_mixed(1_000));
        eprintln!(
            "scale: the realistic mix measured in {:.0} s",
            started.elapsed().as_secs_f64()
        );
        row
    });
    let mut section = markdown(&rows);
    if let Some(row) = &mixed {
        section.push('\n');
        section.push_str(&mixed_markdown(row));
        assert_eq!(
            row.collections_exported, row.collections,
            "mix: every collection exported"
        );
    }
    println!("{section}");
    println!("{}", csv(&rows));
    for Row {
        agent: a, naive, ..
    } in &rows
    {
        // Fixed requests plus at most `poll.collection_requests` (16) per-collection ones.
        assert!(
            a.requests_max <= 64 && a.requests_mean <= 24.0,
            "requests per poll at {} collections: mean {}, max {}",
            a.collections,
            a.requests_mean,
            a.requests_max
        );
        assert_eq!(
            a.slow_polls,
            STEADY_POLLS / DETAIL_EVERY,
            "slow polls among the measured ones at {} collections",
            a.collections
        );
        assert_eq!(
            a.collections_exported, a.collections,
            "every collection exported"
        );
        assert!(a.points_max > a.collections, "points exported");
        assert!(
            a.self_exports > 0,
            "the agent's own telemetry exported at {} collections",
            a.collections
        );
        assert_eq!(naive.requests, a.collections + 1, "naive: N + 1 requests");
    }
    if full {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::write(dir.join("performance.csv"), csv(&rows)).expect("write the CSV");
        std::fs::write(dir.join("performance.svg"), svg(&rows)).expect("write the SVG");
        update_doc(&section);
        eprintln!("scale: wrote docs/performance.md (generated section), .csv and .svg");
    }
}
