//! The Prometheus rules in `prometheus/rules/`: `promtool check rules` and `promtool test rules`
//! pass (promtool from `target/e2e-bin/`, fetched by `scripts/fetch-e2e-servers.sh`), every alert
//! has unit tests where it fires and where it stays silent, every recording rule is tested, every
//! alert carries severity, summary, description and a runbook that exists in `docs/alerts.md`,
//! and the rules use only metric and label names that `docs/metrics.md` documents.

mod e2e_bins;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule files in {dir}");
    files
}

fn rule_files() -> Vec<PathBuf> {
    yaml_files("prometheus/rules")
}

fn test_files() -> Vec<PathBuf> {
    yaml_files("prometheus/rules/tests")
}

/// Every rule of every group of the rule files.
fn rules() -> Vec<Value> {
    let mut rules = Vec::new();
    for file in rule_files() {
        let doc: Value = serde_yaml::from_str(&read(&file))
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for group in doc["groups"].as_sequence().expect("groups") {
            rules.extend(group["rules"].as_sequence().expect("rules").iter().cloned());
        }
    }
    rules
}

fn alerts() -> Vec<Value> {
    let alerts: Vec<Value> = rules()
        .into_iter()
        .filter(|r| r["alert"].is_string())
        .collect();
    assert!(!alerts.is_empty());
    alerts
}

fn tests() -> Vec<(PathBuf, Value)> {
    test_files()
        .into_iter()
        .map(|file| {
            let doc = serde_yaml::from_str(&read(&file))
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            (file, doc)
        })
        .collect()
}

fn promtool(args: &[&str], files: &[PathBuf]) -> Option<String> {
    let dir = e2e_bins::require("alert_rules", &["promtool"])?;
    let output = Command::new(dir.join("promtool"))
        .args(args)
        .args(files)
        .current_dir(root())
        .output()
        .expect("run promtool");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool {} failed:\n{text}",
        args.join(" ")
    );
    Some(text)
}

#[test]
fn promtool_check_rules_passes() {
    if let Some(out) = promtool(&["check", "rules"], &rule_files()) {
        assert!(!out.contains("FAILED"), "{out}");
    }
}

#[test]
fn promtool_unit_tests_pass() {
    if let Some(out) = promtool(&["test", "rules"], &test_files()) {
        assert!(!out.contains("FAILED"), "{out}");
        assert_eq!(
            out.matches("SUCCESS").count(),
            test_files().len(),
            "one SUCCESS per test file:\n{out}"
        );
    }
}

#[test]
fn every_alert_has_a_firing_and_a_silent_test() {
    // alertname -> (firing cases, silent cases)
    let mut cases: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for (file, doc) in tests() {
        let listed: Vec<String> = doc["rule_files"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for rule_file in &listed {
            assert!(
                file.parent().unwrap().join(rule_file).is_file(),
                "{}: rule file {rule_file} does not exist",
                file.display()
            );
        }
        for group in doc["tests"].as_sequence().into_iter().flatten() {
            for case in group["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().expect("alertname").to_string();
                let fired = case["exp_alerts"]
                    .as_sequence()
                    .is_some_and(|a| !a.is_empty());
                let entry = cases.entry(name).or_default();
                if fired {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
        }
    }
    let names: BTreeSet<String> = alerts()
        .iter()
        .map(|a| a["alert"].as_str().unwrap().to_string())
        .collect();
    for name in &names {
        let (firing, silent) = cases.get(name).copied().unwrap_or_default();
        assert!(firing > 0, "alert {name} has no unit test where it fires");
        assert!(
            silent > 0,
            "alert {name} has no unit test where it stays silent"
        );
    }
    for name in cases.keys() {
        assert!(names.contains(name), "tests name an unknown alert {name}");
    }
}

#[test]
fn every_recording_rule_is_tested() {
    let mut tested = BTreeSet::new();
    for (_, doc) in tests() {
        for group in doc["tests"].as_sequence().into_iter().flatten() {
            for case in group["promql_expr_test"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let has_samples = case["exp_samples"]
                    .as_sequence()
                    .is_some_and(|s| !s.is_empty());
                if has_samples {
                    tested.insert(case["expr"].as_str().unwrap().trim().to_string());
                }
            }
        }
    }
    let records: Vec<String> = rules()
        .iter()
        .filter_map(|r| r["record"].as_str().map(String::from))
        .collect();
    assert!(!records.is_empty());
    for record in records {
        assert!(
            tested.contains(&record),
            "recording rule {record} has no promql_expr_test with expected samples"
        );
    }
}

/// GitHub's anchor for a Markdown heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_alert_is_annotated_and_has_a_runbook() {
    let doc = read(&root().join("docs/alerts.md"));
    let anchors: BTreeSet<String> = doc
        .lines()
        .filter_map(|l| l.strip_prefix('#'))
        .map(|l| anchor(l.trim_start_matches('#')))
        .collect();
    for alert in alerts() {
        let name = alert["alert"].as_str().unwrap();
        let severity = alert["labels"]["severity"].as_str();
        assert!(
            matches!(severity, Some("critical" | "warning" | "info")),
            "{name}: severity {severity:?}"
        );
        for key in ["summary", "description", "runbook_url"] {
            assert!(
                alert["annotations"][key]
                    .as_str()
                    .is_some_and(|s| !s.trim().is_empty()),
                "{name}: no annotations.{key}"
            );
        }
        let runbook = alert["annotations"]["runbook_url"].as_str().unwrap();
        let (page, fragment) = runbook
            .split_once('#')
            .unwrap_or_else(|| panic!("{name}: runbook_url {runbook} has no #anchor"));
        assert!(
            page.ends_with("docs/alerts.md"),
            "{name}: runbook_url {runbook} is not in docs/alerts.md"
        );
        assert_eq!(fragment, anchor(name), "{name}: runbook anchor");
        assert!(
            anchors.contains(fragment),
            "{name}: docs/alerts.md has no section #{fragment}"
        );
        // The description must say where: the node, collection or cluster.
        let description = alert["annotations"]["description"].as_str().unwrap();
        assert!(
            description.contains("{{ $labels."),
            "{name}: the description names no label"
        );
        assert!(
            doc.contains(&format!("[{name}](#{fragment})")),
            "{name}: not in the table of docs/alerts.md"
        );
    }
}

/// Prometheus metric names and label names documented in docs/metrics.md.
fn documented_names() -> (BTreeSet<String>, BTreeSet<String>) {
    let doc = read(&root().join("docs/metrics.md"));
    let mut metrics = BTreeSet::new();
    let mut labels: BTreeSet<String> = ["job", "instance", "state"]
        .into_iter()
        .map(String::from)
        .collect();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        metrics.insert(cells[2].trim_matches('`').to_string());
        for attribute in cells[5].split(',') {
            let attribute = attribute.trim();
            if let Some(name) = attribute.strip_prefix('`') {
                labels.insert(name.trim_end_matches('`').replace('.', "_"));
            }
        }
    }
    (metrics, labels)
}

#[test]
fn rules_use_only_documented_metrics_and_labels() {
    let (metrics, labels) = documented_names();
    assert!(metrics.contains("qdrant_up") && labels.contains("db_collection_name"));
    let rules = rules();
    let records: Vec<String> = rules
        .iter()
        .filter_map(|r| r["record"].as_str().map(String::from))
        .collect();
    let mut used = BTreeSet::new();
    for rule in &rules {
        let mut expr = rule["expr"].as_str().expect("expr").to_string();
        for record in &records {
            expr = expr.replace(record.as_str(), " ");
        }
        for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("qdrant_") {
                assert!(
                    metrics.contains(word) || labels.contains(word),
                    "{}: {word} is neither a metric nor a label in docs/metrics.md",
                    rule["alert"].as_str().or(rule["record"].as_str()).unwrap()
                );
                used.insert(word.to_string());
            }
        }
        // Label names in matchers and by/on/without clauses.
        for label in [
            "db_collection_name",
            "error_type",
            "http_route",
            "rpc_method",
        ] {
            if expr.contains(label) {
                assert!(labels.contains(label), "{label} is not documented");
            }
        }
    }
    for needed in [
        "qdrant_up",
        "qdrant_ready",
        "qdrant_collection_status",
        "qdrant_collection_optimizer_status",
        "qdrant_collection_replicas",
        "qdrant_collection_shard_transfers",
        "qdrant_cluster_leader",
        "qdrant_cluster_raft_commit",
        "qdrant_quota_disk_usage_ratio",
        "qdrant_quota_memory_usage_ratio",
        "qdrant_issues",
        "qdrant_agent_poll_errors_total",
        "qdrant_agent_export_failures_total",
    ] {
        assert!(used.contains(needed), "no rule uses {needed}");
    }
}
