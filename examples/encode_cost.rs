//! What the OTLP encoder costs per export, in process: N collections × 30 points published,
//! stamped, encoded to protobuf and gzipped, as an HTTP export would send them.
//! `cargo run --release --example encode_cost -- 1000 10000`

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use smol_str::SmolStr;

use qdrant_otel_agent::config::{Compression, OtlpProtocol, OtlpSettings, TemporalityPreference};
use qdrant_otel_agent::export::{EncodedPoints, ResourceExporter};
use qdrant_otel_agent::metrics::{Point, REGISTRY};

const POINTS_PER_COLLECTION: usize = 30;
const RUNS: usize = 5;

fn points(collections: usize) -> Vec<Point> {
    let specs: Vec<_> = REGISTRY
        .iter()
        .filter(|s| s.attributes.contains(&"db.collection.name"))
        .collect();
    let mut points = Vec::with_capacity(collections * POINTS_PER_COLLECTION);
    for c in 0..collections {
        for i in 0..POINTS_PER_COLLECTION {
            let spec = specs[i % specs.len()];
            let attributes = spec
                .attributes
                .iter()
                .map(|&key| {
                    let value = match key {
                        "db.collection.name" => format!("c{c:05}"),
                        _ => format!("v{i}"),
                    };
                    (key, SmolStr::from(value))
                })
                .collect();
            points.push(Point {
                metric: spec.id,
                attributes,
                value: (c * i) as f64 + 0.5,
            });
        }
    }
    points
}

fn gzip(body: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder.write_all(body).unwrap();
    encoder.finish().unwrap()
}

fn peak_rss_mb() -> f64 {
    support::proc_status_kib(std::process::id(), "VmHWM:") as f64 / 1024.0
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![1_000] } else { sizes };
    println!("| collections | points | requests | publish (ms) | encode (ms) | encode+gzip (ms) | protobuf MB | gzip KB | peak RSS (MB) |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in sizes {
        let points = Arc::new(EncodedPoints::from(points(n).as_slice()));
        let settings = |compression| OtlpSettings {
            protocol: OtlpProtocol::HttpProtobuf,
            endpoint: "http://127.0.0.1:4318/v1/metrics".into(),
            headers: Vec::new(),
            compression,
            timeout: Duration::from_secs(10),
            tls: Default::default(),
            temporality_preference: TemporalityPreference::Cumulative,
            traces_endpoint: None,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let mut plain = ResourceExporter::new(settings(Compression::None));
        let mut gzipped = ResourceExporter::new(settings(Compression::Gzip));
        let (mut publish, mut encode, mut both) = (Vec::new(), Vec::new(), Vec::new());
        let (mut requests, mut raw, mut wire) = (0, 0, 0);
        for _ in 0..RUNS {
            let started = Instant::now();
            plain.publish(Vec::new(), vec![Arc::clone(&points)], None);
            publish.push(started.elapsed());
            let started = Instant::now();
            let bodies = plain.encode_bodies();
            encode.push(started.elapsed());
            requests = bodies.len();
            raw = bodies.iter().map(Vec::len).sum();
            gzipped.publish(Vec::new(), vec![Arc::clone(&points)], None);
            let started = Instant::now();
            let bodies = gzipped.encode_bodies();
            both.push(started.elapsed());
            wire = bodies.iter().map(Vec::len).sum();
        }
        // gzip levels compared on the same protobuf.
        let bodies = plain.encode_bodies();
        for (name, level) in [
            ("fast (1)", flate2::Compression::fast()),
            ("default (6)", flate2::Compression::default()),
        ] {
            let started = Instant::now();
            let size: usize = bodies.iter().map(|b| gzip(b, level).len()).sum();
            eprintln!(
                "{n} collections, gzip {name}: {:.1} ms, {:.0} KB",
                started.elapsed().as_secs_f64() * 1000.0,
                size as f64 / 1024.0
            );
        }
        println!(
            "| {n} | {} | {requests} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} |",
            points.len(),
            median(publish),
            median(encode),
            median(both),
            raw as f64 / 1024.0 / 1024.0,
            wire as f64 / 1024.0,
            peak_rss_mb()
        );
    }
}
