//! Qdrant 1.15 → 1.19: what each version has is exported, and nothing it lacks is reported as an
//! error or takes the node down. The sets other than 1.18.3 are derived from the real recording
//! by `tests/fixtures/derive_versions.py` following Qdrant's OpenAPI specs.

mod harness;
mod support;

use harness::{points_named, value, Poller};
use qdrant_otel_agent::metrics::{render, Point};
use support::FixtureServer;

/// Two polls (the first one slow) of a version's `single` set.
async fn poll_version(version: &str) -> (FixtureServer, Vec<Point>, Vec<Point>) {
    let server = FixtureServer::start(&format!("qdrant-{version}/single")).await;
    let mut poller = Poller::new(harness::settings(&[("QDRANT_URL", &server.url())]));
    let first = poller.poll().await.all();
    let second = poller.poll().await.all();
    (server, first, second)
}

fn error_total(points: &[Point]) -> f64 {
    points_named(points, "qdrant.agent.poll.errors")
        .iter()
        .map(|p| p.value)
        .sum()
}

fn has(points: &[Point], name: &str) -> bool {
    !points_named(points, name).is_empty()
}

async fn common_checks(version: &str) -> (FixtureServer, Vec<Point>, Vec<Point>) {
    let (server, first, second) = poll_version(version).await;
    for points in [&first, &second] {
        assert_eq!(value(points, "qdrant.up", &[]), Some(1.0), "{version}");
        assert_eq!(
            error_total(points),
            0.0,
            "{version}: a missing feature is not an error"
        );
        assert_eq!(
            value(points, "qdrant.build.info", &[("version", version)]),
            Some(1.0)
        );
        assert_eq!(
            value(
                points,
                "qdrant.collection.points",
                &[("db.collection.name", "articles")]
            ),
            Some(2850.0),
            "{version}"
        );
        assert_eq!(
            value(
                points,
                "qdrant.collection.status",
                &[("db.collection.name", "busy"), ("state", "grey")]
            ),
            Some(1.0)
        );
    }
    // /quotas answered 404 (or 200 on 1.19) once, then is remembered: not asked again.
    assert_eq!(
        server.request_count("/quotas"),
        if version >= "1.19" { 2 } else { 1 }
    );
    (server, first, second)
}

#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_15() {
    let (server, first, _) = common_checks("1.15.5").await;
    // Only the vector total exists: attributed to the unnamed vector where it is the only one.
    assert_eq!(
        value(
            &first,
            "qdrant.collection.vectors",
            &[
                ("db.collection.name", "articles"),
                ("qdrant.vector.name", "")
            ]
        ),
        Some(2850.0)
    );
    assert!(
        value(
            &first,
            "qdrant.collection.vectors",
            &[("db.collection.name", "products")]
        )
        .is_none(),
        "named vectors cannot be split before 1.16"
    );
    for missing in [
        "qdrant.collection.update_queue.length",
        "qdrant.collection.deferred_points",
        "qdrant.collection.optimization.queued",
        "qdrant.collection.disk.usage",
        "qdrant.collection.snapshot.creations",
        "qdrant.quota.memory.usage",
    ] {
        assert!(!has(&first, missing), "1.15 has no {missing}");
    }
    // Endpoints newer than the version are not even asked for.
    assert_eq!(
        server.request_count("/collections/articles/optimizations"),
        0
    );
    assert_eq!(server.request_count("/collections/articles/memory"), 0);
    assert!(has(&first, "qdrant.collection.indexed_vectors"));
    assert!(has(&first, "qdrant.collection.snapshot.count"));
}

#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_16() {
    let (server, first, _) = common_checks("1.16.3").await;
    assert_eq!(
        value(
            &first,
            "qdrant.collection.vectors",
            &[
                ("db.collection.name", "products"),
                ("qdrant.vector.name", "text")
            ]
        ),
        Some(1200.0)
    );
    assert!(has(&first, "qdrant.collection.snapshot.creations"));
    assert!(!has(&first, "qdrant.collection.update_queue.length"));
    // 1.16 has an /optimizations endpoint of another shape: the agent reads it from 1.17 on.
    assert_eq!(
        server.request_count("/collections/articles/optimizations"),
        0
    );
    assert!(!has(&first, "qdrant.collection.optimization.queued"));
}

#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_17() {
    let (server, first, second) = common_checks("1.17.1").await;
    assert_eq!(
        value(
            &first,
            "qdrant.collection.update_queue.length",
            &[("db.collection.name", "articles")]
        ),
        Some(0.0)
    );
    assert!(has(&first, "qdrant.collection.optimization.queued"));
    assert!(
        has(&second, "qdrant.collection.optimization.queued"),
        "kept between slow polls"
    );
    // /memory is 1.18+: not asked.
    assert_eq!(server.request_count("/collections/articles/memory"), 0);
    assert!(!has(&first, "qdrant.collection.disk.usage"));
}

#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_18() {
    let (_server, first, _) = common_checks("1.18.3").await;
    assert!(has(&first, "qdrant.collection.disk.usage"));
    assert!(!has(&first, "qdrant.quota.memory.usage"));
}

#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_19() {
    let (server, first, second) = common_checks("1.19.0").await;
    assert!(has(&first, "qdrant.collection.disk.usage"));
    for points in [&first, &second] {
        let usage = value(points, "qdrant.quota.memory.usage", &[]).expect("quota usage");
        assert!((0.0..=1.0).contains(&usage), "{usage}");
        // Quotas are disabled in this set: no limit, no margin, nothing reported as exceeded,
        // and a single node has no peers to list.
        assert!(!has(points, "qdrant.quota.memory.limit"));
        assert!(!has(points, "qdrant.quota.release_margin"));
        assert!(!has(points, "qdrant.quota.exceeded"));
        assert!(!has(points, "qdrant.quota.peer.usage"));
        // `disk_usage_percent` is null: unknown, not 0.
        assert!(!has(points, "qdrant.quota.disk.usage"));
    }
    let telemetry = json(&server, "/telemetry?details_level=4");
    let system = &telemetry["result"]["app"]["system"];
    assert_eq!(
        value(&first, "qdrant.process.cpu.cores_used", &[]),
        system["cpu_cores_used"].as_f64()
    );
    let pool = &telemetry["result"]["search_pool"];
    let mode = pool["mode"].as_str().expect("mode");
    assert_eq!(
        value(&first, "qdrant.search_pool.mode", &[("state", mode)]),
        Some(1.0)
    );
    for runtime in ["high_cpu", "high_io"] {
        assert_eq!(
            value(
                &first,
                "qdrant.search_pool.threads",
                &[("qdrant.search_pool.runtime", runtime)]
            ),
            pool[format!("{runtime}_threads")].as_f64()
        );
    }
    // Level-4 counts, per component, as the segments of `products` and `articles` say.
    let segments = |collection: &str| -> Vec<serde_json::Value> {
        let list = telemetry["result"]["collections"]["collections"]
            .as_array()
            .unwrap();
        let found = list.iter().find(|c| c["id"] == collection).expect("listed");
        found["shards"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| {
                s["local"]["segments"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .collect()
    };
    let products = segments("products");
    let storages = |backend: &str| {
        products
            .iter()
            .flat_map(|s| s["info"]["vector_data"].as_object().unwrap().values())
            .filter(|v| v["io_backend"] == backend)
            .count() as f64
    };
    for backend in ["mmap", "io_uring"] {
        assert_eq!(
            value(
                &first,
                "qdrant.collection.io_backend.storages",
                &[
                    ("db.collection.name", "products"),
                    ("qdrant.component", "vector_storage"),
                    ("qdrant.io.backend", backend)
                ]
            ),
            Some(storages(backend)),
            "{backend}"
        );
    }
    let cold_payload_indexes = segments("articles")
        .iter()
        .flat_map(|s| s["info"]["index_schema"].as_object().unwrap().values())
        .filter(|index| index["params"]["memory"] == "cold")
        .count() as f64;
    assert!(cold_payload_indexes > 0.0);
    assert_eq!(
        value(
            &first,
            "qdrant.collection.memory_placement.components",
            &[
                ("db.collection.name", "articles"),
                ("qdrant.component", "payload_index"),
                ("qdrant.memory.placement", "cold")
            ]
        ),
        Some(cold_payload_indexes)
    );
    assert!(
        has(&second, "qdrant.collection.optimization.throughput"),
        "two polls give a pace"
    );
}

fn json(server: &FixtureServer, path: &str) -> serde_json::Value {
    serde_json::from_str(&server.fixture_body(path)).expect("fixture JSON")
}

/// The raft leader reports every peer that answered `/quotas`, once, for the cluster: all
/// three in the healthy cluster, two when node 3 was killed (Qdrant leaves it out).
#[tokio::test(flavor = "multi_thread")]
async fn qdrant_1_19_cluster_reports_the_peers_that_answered() {
    for (set, answered) in [("cluster/node1", 3), ("cluster-node3-down/node1", 2)] {
        let server = FixtureServer::start(&format!("qdrant-1.19.0/{set}")).await;
        let recorded = harness::poll_once(&server.url()).await;
        let quotas = json(&server, "/quotas");
        let peers = quotas["result"]["peers"].as_object().expect("peers");
        assert_eq!(peers.len(), answered, "{set}");
        assert_eq!(
            points_named(&recorded.cluster, "qdrant.quota.peer.exceeded").len(),
            answered,
            "{set}"
        );
        assert!(points_named(&recorded.node, "qdrant.quota.peer.usage").is_empty());
        for (peer, usage) in peers {
            for (resource, field) in [
                ("memory", "resident_memory_percent"),
                ("disk", "disk_usage_percent"),
            ] {
                assert_eq!(
                    value(
                        &recorded.cluster,
                        "qdrant.quota.peer.usage",
                        &[
                            ("qdrant.peer.id", peer),
                            ("qdrant.quota.resource", resource)
                        ]
                    ),
                    usage[field].as_f64().map(|p| p / 100.0),
                    "{set} {peer} {resource}"
                );
            }
            let exceeded = usage["exceeded"].as_bool().expect("exceeded");
            assert_eq!(
                value(
                    &recorded.cluster,
                    "qdrant.quota.peer.exceeded",
                    &[("qdrant.peer.id", peer)]
                ),
                Some(f64::from(u8::from(exceeded)))
            );
        }
        let margin = quotas["result"]["config"]["release_margin_percent"].as_f64();
        assert_eq!(
            value(&recorded.node, "qdrant.quota.release_margin", &[]),
            margin.map(|p| p / 100.0)
        );
    }
}

/// A version change forgets what the old version lacked.
#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_re_detects_endpoints() {
    let old = FixtureServer::start("qdrant-1.17.1/single").await;
    let mut poller = Poller::new(harness::settings(&[
        ("QDRANT_URL", &old.url()),
        ("QDRANT_OTEL_POLL__DETAIL_EVERY", "1"),
    ]));
    let before = poller.poll().await.all();
    assert!(!has(&before, "qdrant.collection.disk.usage"));
    // The same address now answers as 1.18.3 (an in-place upgrade).
    let new = FixtureServer::start("qdrant-1.18.3/single").await;
    for path in [
        "/",
        "/telemetry?details_level=4",
        "/telemetry?details_level=3",
        "/collections/articles/memory",
        "/collections/busy/memory",
        "/collections/empty_collection/memory",
        "/collections/products/memory",
        "/collections/sharded/memory",
    ] {
        old.set_response(path, 200, "application/json", new.fixture_body(path));
    }
    poller.poll().await; // learns the new version
    let after = poller.poll().await.all();
    assert!(
        has(&after, "qdrant.collection.disk.usage"),
        "memory is read after the upgrade"
    );
    assert_eq!(error_total(&after), 0.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn golden_points_per_version() {
    let sets = |version: &str| {
        let mut sets = vec!["single", "cluster/node1"];
        if version == "1.19.0" {
            sets.push("cluster-node3-down/node1");
        }
        sets
    };
    for version in ["1.15.5", "1.16.3", "1.17.1", "1.19.0"] {
        for set in sets(version) {
            let server = FixtureServer::start(&format!("qdrant-{version}/{set}")).await;
            let recorded = harness::poll_once(&server.url()).await;
            let name = format!("{version}_{}", set.replace('/', "_"));
            insta::assert_snapshot!(name, render::golden(&recorded.all()));
        }
    }
}
