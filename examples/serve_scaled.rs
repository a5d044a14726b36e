//! A replay Qdrant for profiling the real agent: the recorded 1.18.3 node scaled to N
//! collections (as `benches/scale.rs` serves it), plus an OTLP/HTTP receiver that accepts and
//! drops what it gets. Prints both addresses and serves until killed. `MIX=1` serves the
//! realistic mix of `make bench` instead of clones.
//! `cargo run --release --example serve_scaled -- 1000`, then
//! `QDRANT_URL=<url> QDRANT_OTEL_OTLP__ENDPOINT=<endpoint> perf record -g target/release/qdrant-otel-agent run`

#[path = "../tests/support/mod.rs"]
mod support;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let server = support::FixtureServer::start("qdrant-1.18.3/single").await;
    if std::env::var_os("MIX").is_some() {
        support::serve_mixed(&server, "qdrant-1.18.3/single", n);
    } else {
        support::serve_scaled(&server, "qdrant-1.18.3/single", n);
    }
    let receiver = support::OtlpReceiver::start_http().await;
    println!("QDRANT_URL={}", server.url());
    println!("QDRANT_OTEL_OTLP__ENDPOINT={}", receiver.endpoint());
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        // The receiver does not keep what it decodes (the server logs each request it answers).
        receiver.clear();
    }
}
