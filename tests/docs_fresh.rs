//! Generated files are generated from the code: docs/metrics.md must match the registry.

use qdrant_otel_agent::metrics::docs::{render_metrics_doc, METRICS_DOC_PATH};

#[test]
fn metrics_doc_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(METRICS_DOC_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == render_metrics_doc(),
        "{METRICS_DOC_PATH} is stale: regenerate it with `cargo run -- docs` (or `make docs`)"
    );
}

#[test]
fn every_metric_is_documented_with_its_prometheus_name() {
    let doc = render_metrics_doc();
    for spec in qdrant_otel_agent::metrics::REGISTRY {
        assert!(doc.contains(&format!(
            "| `{}` | `{}` |",
            spec.name,
            spec.prometheus_name()
        )));
    }
}
