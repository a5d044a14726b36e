//! What one steady-state poll costs the agent in process, without the network noise of a
//! separate Collector: a recorded node scaled to N collections is polled (HTTP on loopback),
//! recorded, published and encoded as an export would send it (gzip), M times; CPU time per
//! poll from getrusage.
//! `cargo run --release --example poll_cost -- 1000 20` (also the target for
//! `valgrind --tool=callgrind`). With `MIX=1`, the realistic mix of `make bench`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use qdrant_otel_agent::agent::{build_clients, NodeStats};
use qdrant_otel_agent::config::{self, ConfigSources};
use qdrant_otel_agent::export::{EncodedPoints, ResourceExporter};
use qdrant_otel_agent::metrics::record_into;
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
        if std::env::var_os("MIX").is_some() {
            support::serve_mixed(&server, SET, n);
        } else {
            support::serve_scaled(&server, SET, n);
        }
        let sources = ConfigSources {
            env: [("QDRANT_URL".to_string(), server.url())].into(),
            ..ConfigSources::default()
        };
        let (_, mut settings) = config::load(&sources).expect("config");
        // `DETAIL_EVERY=1000`: every poll after the first is a fast one (level 3 only), so that
        // the cost of fast polls alone is the difference between two runs of different lengths.
        if let Some(every) = std::env::var("DETAIL_EVERY").ok().and_then(|v| v.parse().ok()) {
            settings.poll.detail_every = every;
        }
        let client = build_clients(&settings.nodes).expect("client").remove(0);
        let mut exporter = ResourceExporter::new(settings.otlp.clone());
        let (mut state, mut stats) = (NodeState::default(), NodeStats::default());
        let mut costs = Vec::new();
        let mut sizes = Vec::new();
        for _ in 0..polls {
            let mut phases = [Duration::ZERO; 4];
            let mut mark = cpu_time();
            let mut lap = |phase: usize| {
                let now = cpu_time();
                phases[phase] = now - mark;
                mark = now;
            };
            let snapshot = poll_node(&client, "node", &settings.poll, &mut state).await;
            lap(0);
            stats.observe(&snapshot);
            // As the agent records: straight into encoded points, sized by the last poll.
            let mut node = EncodedPoints::with_sizes(&sizes);
            let mut cluster = EncodedPoints::new();
            record_into(
                &snapshot,
                &stats.stats,
                &settings.record,
                &mut node,
                &mut cluster,
            );
            sizes = node.sizes();
            let bytes = node.byte_len();
            drop(snapshot);
            lap(1);
            let points = exporter.publish(Vec::new(), vec![Arc::new(node)], None);
            lap(2);
            // What an export sends: every request encoded (and gzipped, the default).
            let bodies = exporter.encode_bodies();
            assert!(!bodies.is_empty());
            let sent: usize = bodies.iter().map(Vec::len).sum();
            drop(bodies);
            lap(3);
            costs.push((phases, points, bytes, sent));
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        for (i, (phases, points, bytes, sent)) in costs.iter().enumerate() {
            println!(
                "poll {i:>3}: {:>6.1} ms CPU = poll {:>5.1} (agent + test server) + record {:>5.1} + publish {:>4.1} + encode {:>4.1}; {points} points, {bytes} bytes encoded, {sent} bytes sent",
                ms(phases.iter().sum()),
                ms(phases[0]),
                ms(phases[1]),
                ms(phases[2]),
                ms(phases[3]),
            );
        }
    });
}
