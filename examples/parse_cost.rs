//! What parsing Qdrant's telemetry costs the agent, alone: the recorded 1.18.3 telemetry
//! scaled to N collections, parsed M times at details level 3 (fast polls) and 4 (slow polls)
//! into the agent's models, as the client reads a body it holds whole (`decode_telemetry`). CPU per parse from wall time of a loop (run it
//! under `valgrind --tool=callgrind` for instruction counts).
//! `cargo run --release --example parse_cost -- 1000 20`; with `MIX=1`, the realistic mix of
//! `make bench` (`support::mixed_telemetry`) instead of clones; `LEVEL=3` (or 4) parses that
//! level only.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use qdrant_otel_agent::qdrant::decode_telemetry;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, runs) = (
        args.first().copied().unwrap_or(1000),
        args.get(1).copied().unwrap_or(20),
    );
    // `LEVEL=3` or `LEVEL=4`: that level only (to profile one).
    let only: Option<u8> = std::env::var("LEVEL").ok().and_then(|l| l.parse().ok());
    for level in [3, 4]
        .into_iter()
        .filter(|l| only.is_none_or(|only| only == *l))
    {
        let body = if let Some(dir) = std::env::var_os("LOAD") {
            std::fs::read_to_string(std::path::Path::new(&dir).join(format!("l{level}.json")))
                .expect("load")
        } else if std::env::var_os("MIX").is_some() {
            support::mixed_telemetry("qdrant-1.18.3/single", level, n)
        } else {
            support::scaled_telemetry("qdrant-1.18.3/single", level, n)
        };
        if let Some(dir) = std::env::var_os("DUMP") {
            std::fs::write(
                std::path::Path::new(&dir).join(format!("l{level}.json")),
                &body,
            )
            .expect("dump");
        }
        let started = Instant::now();
        let mut collections = 0;
        for _ in 0..runs {
            let parsed = decode_telemetry(body.as_bytes()).expect("parses");
            collections += parsed.collection_list().count();
        }
        let per_parse = started.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!(
            "level {level}: {n} collections, {:.0} KB, {per_parse:.2} ms per parse ({} collections read)",
            body.len() as f64 / 1024.0,
            collections / runs
        );
    }
}
