//! Generated files are generated from the code: docs/metrics.md must match the registry.

use qdrant_otel_agent::metrics::docs::METRICS_DOC_PATH;

#[test]
fn metrics_doc_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(METRICS_DOC_PATH);
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == qdrant_otel_agent::metrics_doc(),
        "{METRICS_DOC_PATH} is stale: regenerate it with `cargo run -- docs` (or `make docs`)"
    );
}

/// Reads the committed file (not a fresh rendering): each registry entry has its table row,
/// with its Prometheus name, unit, attributes, scope and default, and its description.
#[test]
fn every_metric_is_documented_with_its_prometheus_name() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(METRICS_DOC_PATH);
    let committed = std::fs::read_to_string(&path).expect("docs/metrics.md is committed");
    for spec in qdrant_otel_agent::metrics::REGISTRY {
        let first_cell = format!("| `{}` |", spec.name);
        let rows: Vec<&str> = committed
            .lines()
            .filter(|line| line.starts_with(&first_cell))
            .collect();
        assert_eq!(rows.len(), 1, "{}: expected one table row", spec.name);
        let cells: Vec<&str> = rows[0].split(" | ").map(str::trim).collect();
        assert_eq!(
            cells[1],
            format!("`{}`", spec.prometheus_name()),
            "{}",
            spec.name
        );
        let unit = if spec.unit.is_empty() {
            String::new()
        } else {
            format!("`{}`", spec.unit)
        };
        assert_eq!(cells[3], unit, "{}: unit", spec.name);
        for attribute in spec.attributes {
            assert!(
                cells[4].contains(&format!("`{attribute}`")),
                "{}: attribute {attribute} undocumented",
                spec.name
            );
        }
        let scope = match spec.scope {
            qdrant_otel_agent::metrics::registry::Scope::Node => "node",
            qdrant_otel_agent::metrics::registry::Scope::Cluster => "cluster",
        };
        assert_eq!(cells[7], scope, "{}: scope", spec.name);
        let default = if spec.enabled_by_default {
            "on |"
        } else {
            "off |"
        };
        assert_eq!(cells[8], default, "{}: default", spec.name);
        let description = format!("- `{}`: {}", spec.name, spec.description);
        assert!(
            committed.lines().any(|line| line == description),
            "{}: description missing",
            spec.name
        );
    }
}
