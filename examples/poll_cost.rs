//! What one steady-state poll costs the agent in process, without the network noise of a
//! separate Collector: a recorded node scaled to N collections is polled (HTTP on loopback),
//! recorded and published to the OTLP encoder, M times; CPU time per poll from getrusage.
//! `cargo run --release --example poll_cost -- 1000 20` (also the target for
//! `valgrind --tool=callgrind`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use qdrant_otel_agent::agent::{build_clients, NodeStats};
use qdrant_otel_agent::config::{self, ConfigSources};
use qdrant_otel_agent::export::ResourceExporter;
use qdrant_otel_agent::metrics::record;
use qdrant_otel_agent::sources::{poll_node, NodeState};

const SET: &str = "qdrant-1.18.3/single";

fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc_rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given.
    unsafe { getrusage(0, usage.as_mut_ptr()) };
    // SAFETY: zero-initialised and filled above.
    let usage = unsafe { usage.assume_init() };
    let micros = |t: [i64; 2]| t[0] as u64 * 1_000_000 + t[1] as u64;
    Duration::from_micros(micros(usage.utime) + micros(usage.stime))
}

#[repr(C)]
struct libc_rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    rest: [i64; 14],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, polls) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(20),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server = support::FixtureServer::start(SET).await;
        support::serve_scaled(&server, SET, n);
        let sources = ConfigSources {
            env: [("QDRANT_URL".to_string(), server.url())].into(),
            ..ConfigSources::default()
        };
        let (_, settings) = config::load(&sources).expect("config");
        let client = build_clients(&settings.nodes).expect("client").remove(0);
        let mut exporter = ResourceExporter::new(settings.otlp.clone());
        let (mut state, mut stats) = (NodeState::default(), NodeStats::default());
        let mut costs = Vec::new();
        for _ in 0..polls {
            let before = cpu_time();
            let snapshot = poll_node(&client, "node", &settings.poll, &mut state).await;
            stats.observe(&snapshot);
            let recorded = record(&snapshot, &stats.stats, &settings.record);
            let points = exporter
                .publish(Vec::new(), &[&recorded.node])
                .expect("publish");
            costs.push((cpu_time() - before, points));
        }
        for (i, (cpu, points)) in costs.iter().enumerate() {
            println!(
                "poll {i:>3}: {:>7.1} ms CPU (agent + test server), {points} points",
                cpu.as_secs_f64() * 1000.0
            );
        }
    });
}
