//! Behaviour under faults (docs/reliability.md): the recorded-response server is told to fail, delay,
//! truncate, refuse or send garbage; the agent reports `qdrant.up` 0, counts the error by type,
//! logs once per change of state, never panics, and recovers by itself.

mod harness;
mod support;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use harness::{value, Poller};
use qdrant_otel_agent::metrics::Point;
use support::{Fault, FixtureServer};

/// Log lines written by the agent, captured once per test binary.
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || Capture(Arc::clone(&writer)))
            .init();
        buffer
    })
    .clone()
}

struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_lines_about(node: &str, needle: &str) -> usize {
    let text = String::from_utf8_lossy(&logs().lock().unwrap()).to_string();
    text.lines()
        .filter(|l| l.contains(needle) && l.contains(node))
        .count()
}

struct Node {
    server: FixtureServer,
    poller: Poller,
    instance: String,
}

impl Node {
    async fn start() -> Node {
        logs();
        let server = FixtureServer::start("qdrant-1.18.3/single").await;
        let poller = Poller::new(node_settings(&server.url(), &[]));
        let instance = server.addr().to_string();
        Node {
            server,
            poller,
            instance,
        }
    }

    async fn poll(&mut self) -> Vec<Point> {
        self.poller.poll().await.all()
    }
}

fn node_settings(url: &str, extra: &[(&str, &str)]) -> qdrant_otel_agent::config::Settings {
    let mut env = vec![
        ("QDRANT_URL", url),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
    ];
    env.extend_from_slice(extra);
    harness::settings(&env)
}

fn errors(points: &[Point], source: &str, error_type: &str) -> f64 {
    value(
        points,
        "qdrant.agent.poll.errors",
        &[("qdrant.agent.source", source), ("error.type", error_type)],
    )
    .unwrap_or(0.0)
}

/// Apply `fault` to every request, poll three times, then clear it and poll once more.
async fn down_then_recovers(fault: Fault, error_type: &str) {
    let mut node = Node::start().await;
    assert_eq!(value(&node.poll().await, "qdrant.up", &[]), Some(1.0));
    node.server.set_fault("", fault);
    let mut last = Vec::new();
    for _ in 0..3 {
        last = node.poll().await;
        assert_eq!(
            value(&last, "qdrant.up", &[]),
            Some(0.0),
            "{error_type}: up must be 0"
        );
        assert!(
            value(&last, "qdrant.collection.points", &[]).is_none(),
            "{error_type}: no stale collection data when down"
        );
    }
    assert_eq!(
        errors(&last, "app", error_type),
        3.0,
        "{error_type} counted per poll"
    );
    assert_eq!(
        log_lines_about(&node.instance, "Node is down"),
        1,
        "{error_type}: one log line per change of state, not per poll"
    );
    // app, ready, telemetry and cluster fail. The collections fallback is not tried: a node
    // that does not answer `/` is down, and N+1 requests would not change that.
    let failing_sources = 4;
    assert_eq!(
        log_lines_about(&node.instance, &format!("error.type={error_type}")),
        failing_sources,
        "{error_type}: one warning per failing source, not one per poll"
    );

    node.server.clear_faults();
    let recovered = node.poll().await;
    assert_eq!(
        value(&recovered, "qdrant.up", &[]),
        Some(1.0),
        "{error_type}: recovers"
    );
    assert_eq!(
        errors(&recovered, "app", error_type),
        3.0,
        "counters stay cumulative"
    );
    assert_eq!(log_lines_about(&node.instance, "Node is up"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn server_error() {
    down_then_recovers(Fault::Status(500), "http_status").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unauthorized() {
    down_then_recovers(Fault::Status(401), "unauthorized").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_everywhere() {
    down_then_recovers(Fault::Status(403), "forbidden").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout() {
    down_then_recovers(Fault::Delay(Duration::from_millis(800)), "timeout").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_reset() {
    down_then_recovers(Fault::Reset, "connect").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_node() {
    let mut node = Node::start().await;
    let port = node.server.addr().port();
    drop(std::mem::replace(
        &mut node.server,
        FixtureServer::start("qdrant-1.18.3/single").await,
    ));
    // The original port now refuses connections.
    node.poller = Poller::new(node_settings(&format!("http://127.0.0.1:{port}"), &[]));
    let points = node.poll().await;
    assert_eq!(value(&points, "qdrant.up", &[]), Some(0.0));
    assert_eq!(errors(&points, "app", "connect"), 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn garbage_telemetry() {
    let mut node = Node::start().await;
    node.server.set_fault("/telemetry", Fault::Garbage);
    let points = node.poll().await;
    // Unreadable telemetry: the collections are read one by one instead, so the node is up.
    assert_eq!(value(&points, "qdrant.up", &[]), Some(1.0));
    assert_eq!(errors(&points, "telemetry_detail", "decode"), 1.0);
    assert_eq!(errors(&points, "collections", "decode"), 0.0);
    assert!(value(
        &points,
        "qdrant.collection.points",
        &[("db.collection.name", "articles")]
    )
    .is_some());
    // The sources that did answer are still reported.
    assert_eq!(value(&points, "qdrant.ready", &[]), Some(1.0));
    assert_eq!(
        value(&points, "qdrant.build.info", &[("version", "1.18.3")]),
        Some(1.0)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn truncated_telemetry() {
    let mut node = Node::start().await;
    node.server.set_fault("/telemetry", Fault::Truncate);
    let points = node.poll().await;
    assert_eq!(
        value(&points, "qdrant.up", &[]),
        Some(1.0),
        "read through the fallback"
    );
    assert_eq!(errors(&points, "telemetry_detail", "decode"), 1.0);
    // Truncated everywhere: nothing can be read.
    node.server.set_fault("/collections", Fault::Truncate);
    let points = node.poll().await;
    assert_eq!(value(&points, "qdrant.up", &[]), Some(0.0));
}

/// A body of undeclared length (chunked) is parsed as it arrives (`qdrant::stream`): the same
/// points as the same body with its length declared; cut short, or over the cap, it is the
/// same error as a buffered body.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_of_undeclared_length_is_parsed_as_it_arrives() {
    let mut node = Node::start().await;
    let buffered = node.poll().await;
    let mut node = Node::start().await;
    for path in ["/telemetry", "/collections", "/cluster"] {
        node.server.set_fault(
            path,
            Fault::Chunked {
                piece: 1000,
                cut_after: None,
            },
        );
    }
    let streamed = node.poll().await;
    let series = |points: &[Point]| -> Vec<(&str, String, f64)> {
        let mut series: Vec<_> = points
            .iter()
            // The agent's own timings and the uptime (read at a later instant) differ.
            .filter(|p| {
                !p.spec().name.starts_with("qdrant.agent.") && p.spec().name != "qdrant.uptime"
            })
            .map(|p| (p.spec().name, format!("{:?}", p.attributes), p.value))
            .collect();
        series.sort_by(|a, b| a.partial_cmp(b).unwrap());
        series
    };
    assert!(streamed.len() > 100, "{} points", streamed.len());
    let (streamed, buffered) = (series(&streamed), series(&buffered));
    let only = |a: &[(&str, String, f64)], b: &[(&str, String, f64)]| -> Vec<String> {
        a.iter()
            .filter(|x| !b.contains(x))
            .map(|x| format!("{x:?}"))
            .collect()
    };
    assert_eq!(
        (only(&streamed, &buffered), only(&buffered, &streamed)),
        (Vec::new(), Vec::new()),
        "series only streamed, only buffered"
    );

    let mut node = Node::start().await;
    node.server.set_fault(
        "/telemetry",
        Fault::Chunked {
            piece: 1000,
            cut_after: Some(5000),
        },
    );
    let points = node.poll().await;
    assert_eq!(
        errors(&points, "telemetry_detail", "decode"),
        1.0,
        "cut short"
    );

    let mut node = Node::start().await;
    node.poller = Poller::new(node_settings(
        &node.server.url(),
        &[("QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES", "4096")],
    ));
    node.server.set_fault(
        "/telemetry",
        Fault::Chunked {
            piece: 1000,
            cut_after: None,
        },
    );
    let points = node.poll().await;
    assert_eq!(errors(&points, "telemetry_detail", "too_large"), 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_body() {
    let mut node = Node::start().await;
    node.poller = Poller::new(node_settings(
        &node.server.url(),
        &[("QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES", "100000")],
    ));
    node.server
        .set_fault("/telemetry", Fault::Oversize(200_000));
    let points = node.poll().await;
    assert_eq!(value(&points, "qdrant.up", &[]), Some(0.0));
    assert_eq!(errors(&points, "telemetry_detail", "too_large"), 1.0);
}

/// A collection-scoped key is refused telemetry: the agent falls back to the collection
/// endpoints and stays up.
#[tokio::test(flavor = "multi_thread")]
async fn forbidden_telemetry_falls_back_to_collections() {
    let mut node = Node::start().await;
    node.server.set_fault("/telemetry", Fault::Status(403));
    let points = node.poll().await;
    assert_eq!(value(&points, "qdrant.up", &[]), Some(1.0));
    assert_eq!(errors(&points, "telemetry_detail", "forbidden"), 1.0);
    assert_eq!(
        value(
            &points,
            "qdrant.collection.points",
            &[("db.collection.name", "articles")]
        ),
        Some(2850.0)
    );
    assert_eq!(
        value(
            &points,
            "qdrant.collection.status",
            &[("db.collection.name", "busy"), ("state", "grey")]
        ),
        Some(1.0)
    );
    assert_eq!(node.server.request_count("/collections/articles"), 1);
}

/// No response body makes the agent panic: every recorded JSON body, cut at many points or
/// with its values swapped for other JSON types, is polled.
#[tokio::test(flavor = "multi_thread")]
async fn no_body_makes_it_panic() {
    let mut node = Node::start().await;
    let paths = [
        "/",
        "/cluster",
        "/telemetry?details_level=3",
        "/telemetry?details_level=4",
    ];
    for path in paths {
        let body = node.server.fixture_body(path);
        let mut variants: Vec<String> = (1..12)
            .map(|i| body[..body.len() * i / 12].to_string())
            .collect();
        for replacement in [
            "null",
            "\"x\"",
            "-1",
            "1e309",
            "[]",
            "{}",
            "true",
            "18446744073709551616",
        ] {
            variants.push(replace_numbers(&body, replacement));
        }
        variants.extend([
            "".to_string(),
            "null".into(),
            "[]".into(),
            "{\"result\":null}".into(),
        ]);
        for variant in variants {
            node.server
                .set_response(path, 200, "application/json", variant);
            let points = node.poll().await;
            assert!(value(&points, "qdrant.up", &[]).is_some());
        }
        node.server.clear_faults();
    }
}

/// Replace every JSON number in `body` by `replacement`.
fn replace_numbers(body: &str, replacement: &str) -> String {
    fn walk(value: &mut serde_json::Value, replacement: &serde_json::Value) {
        match value {
            serde_json::Value::Number(_) => *value = replacement.clone(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk(v, replacement)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|v| walk(v, replacement)),
            _ => {}
        }
    }
    let Ok(mut value) = serde_json::from_str::<serde_json::Value>(body) else {
        return body.to_string();
    };
    let replacement = serde_json::from_str(replacement)
        .unwrap_or(serde_json::Value::String(replacement.to_string()));
    walk(&mut value, &replacement);
    value.to_string()
}

/// A server that redirects elsewhere gets nothing: the redirect is not followed, the other
/// server never sees the key, and the node reads down with an error naming the redirect.
#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_takes_no_key_to_another_server() {
    logs();
    let node = FixtureServer::start("qdrant-1.18.3/single").await;
    let stranger = FixtureServer::start("qdrant-1.18.3/single").await;
    node.set_fault("", Fault::Redirect(stranger.url()));
    for follow in ["false", "true"] {
        let mut poller = Poller::new(node_settings(
            &node.url(),
            &[
                ("QDRANT_API_KEY", "secret-key"),
                ("QDRANT_OTEL_QDRANT__FOLLOW_REDIRECTS", follow),
            ],
        ));
        let points = poller.poll().await.node;
        assert_eq!(
            value(&points, "qdrant.up", &[]),
            Some(0.0),
            "follow={follow}"
        );
        assert_eq!(
            errors(&points, "app", "http_status"),
            1.0,
            "follow={follow}"
        );
    }
    assert!(
        stranger.requests().is_empty(),
        "the other server was never asked (so never saw the key)"
    );
    assert!(
        log_lines_about(
            node.url().trim_start_matches("http://"),
            "redirect to http://"
        ) >= 1,
        "the error names the redirect"
    );
}

/// With `qdrant.follow_redirects`, a redirect within the same origin is followed.
#[tokio::test(flavor = "multi_thread")]
async fn a_same_origin_redirect_is_followed_when_allowed() {
    let node = FixtureServer::start("qdrant-1.18.3/single").await;
    node.set_fault("/readyz", Fault::Redirect(format!("{}/proxy", node.url())));
    node.set_response("/proxy/readyz", 200, "text/plain", "all shards are ready");
    let mut poller = Poller::new(node_settings(
        &node.url(),
        &[("QDRANT_OTEL_QDRANT__FOLLOW_REDIRECTS", "true")],
    ));
    let points = poller.poll().await.node;
    assert_eq!(value(&points, "qdrant.ready", &[]), Some(1.0));
    assert_eq!(node.request_count("/proxy/readyz"), 1);
}

/// A body that never ends is cut at the response cap; memory stays within the bound.
#[tokio::test(flavor = "multi_thread")]
async fn an_endless_body_is_cut_at_the_cap() {
    let mut node = Node::start().await;
    node.poller = Poller::new(node_settings(
        &node.server.url(),
        &[("QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES", "1000000")],
    ));
    node.server.set_fault("/telemetry", Fault::Endless);
    let points = node.poll().await;
    assert_eq!(errors(&points, "telemetry_detail", "too_large"), 1.0);
}

/// Partial answers are kept: a field of the wrong type or `null` costs that field, a negative
/// count is left out and counted as a decode error, and the rest of the response is used.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_field_costs_only_that_field() {
    let mut node = Node::start().await;
    for level in [3, 4] {
        let path = format!("/telemetry?details_level={level}");
        let mut body: serde_json::Value =
            serde_json::from_str(&node.server.fixture_body(&path)).unwrap();
        let collections = body["result"]["collections"]["collections"]
            .as_array_mut()
            .unwrap();
        for collection in collections.iter_mut() {
            let id = collection["id"].as_str().unwrap().to_string();
            let local = &mut collection["shards"][0]["local"];
            match id.as_str() {
                "articles" => local["num_points"] = "not a number".into(),
                "products" => local["status"] = serde_json::Value::Null,
                "busy" => local["vectors_size_bytes"] = (-5).into(),
                _ => {}
            }
        }
        node.server
            .set_response(&path, 200, "application/json", body.to_string());
    }
    let points = node.poll().await;
    assert_eq!(
        value(&points, "qdrant.up", &[]),
        Some(1.0),
        "the response was used"
    );
    let of =
        |name: &str, collection: &str| value(&points, name, &[("db.collection.name", collection)]);
    assert_eq!(
        of("qdrant.collection.points", "articles"),
        None,
        "the bad field is absent"
    );
    assert!(
        of("qdrant.collection.segments", "articles").is_some()
            || of("qdrant.collection.vectors", "articles").is_some()
    );
    assert_eq!(
        value(
            &points,
            "qdrant.collection.status",
            &[("db.collection.name", "products"), ("state", "green")]
        ),
        None,
        "a null status is absent"
    );
    assert!(
        of("qdrant.collection.points", "products").is_some(),
        "its other fields stay"
    );
    assert_eq!(
        value(
            &points,
            "qdrant.collection.size",
            &[
                ("db.collection.name", "busy"),
                ("qdrant.component", "vectors")
            ]
        ),
        None,
        "a negative size is left out"
    );
    // Counted on the next poll's points (the agent counts after recording).
    let points = node.poll().await;
    assert!(
        errors(&points, "telemetry", "decode") >= 1.0,
        "counted as a decode error"
    );
}

/// Largest resident memory of any finished child process, in KiB (`ru_maxrss`).
fn children_peak_rss_kib() -> i64 {
    #[repr(C)]
    struct Rusage {
        times: [i64; 4],
        maxrss: i64,
        rest: [i64; 13],
    }
    extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }
    const RUSAGE_CHILDREN: i32 = -1;
    let mut usage = Rusage {
        times: [0; 4],
        maxrss: 0,
        rest: [0; 13],
    };
    // SAFETY: getrusage fills the struct it is given, laid out as Linux's `struct rusage`.
    unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) };
    usage.maxrss
}

/// An endless body, read by the real binary: every body in flight shares the memory bound
/// (`qdrant.max_response_bytes`, 32 MiB here), so the process peaks near that bound plus its
/// baseline, not at the bound times the requests in parallel.
#[tokio::test(flavor = "multi_thread")]
async fn an_endless_body_keeps_peak_memory_within_the_bound() {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    for path in ["/telemetry", "/cluster", "/issues", "/snapshots"] {
        server.set_fault(path, Fault::Endless);
    }
    let url = server.url();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
            .env_clear()
            .env("QDRANT_URL", url)
            .env("QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES", "33554432")
            .env("QDRANT_OTEL_QDRANT__TIMEOUT", "4s")
            .args(["once", "--format", "json"])
            .output()
            .expect("run once")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let peak_mib = children_peak_rss_kib() / 1024;
    assert!(
        peak_mib < 32 + 48,
        "peak RSS {peak_mib} MiB with a 32 MiB bound on bodies in flight"
    );
}
