//! Structural checks of the shipped stack (no Docker here): the files parse, every pipeline
//! references defined components, images are pinned, and ports and names match the docs.

mod e2e_bins;

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn yaml(path: &str) -> Value {
    serde_yaml::from_str(&read(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn keys(value: &Value) -> Vec<String> {
    value
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn compose_services_images_ports_and_dependencies() {
    let compose = yaml("compose.yaml");
    let services = &compose["services"];
    let names = keys(services);
    for service in ["qdrant", "agent", "otel-collector", "prometheus", "grafana"] {
        assert!(
            names.contains(&service.to_string()),
            "service {service} missing"
        );
    }
    for name in &names {
        let service = &services[name.as_str()];
        if let Some(image) = service["image"].as_str() {
            let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
            if service["build"].is_null() {
                assert!(
                    !tag.is_empty() && tag != "latest",
                    "{name}: image {image} is not pinned"
                );
            }
        } else {
            assert!(
                !service["build"].is_null(),
                "{name} has neither image nor build"
            );
        }
        for dependency in keys(&service["depends_on"]) {
            assert!(
                names.contains(&dependency),
                "{name} depends on unknown {dependency}"
            );
        }
    }
    let ports = |service: &str| strings(&services[service]["ports"]);
    assert!(ports("prometheus").contains(&"9091:9090".to_string()));
    assert!(ports("grafana").contains(&"3000:3000".to_string()));
    assert!(ports("qdrant").contains(&"6333:6333".to_string()));
    assert_eq!(
        services["agent"]["depends_on"]["qdrant"]["condition"].as_str(),
        Some("service_healthy")
    );
    assert!(!services["qdrant"]["healthcheck"].is_null());
    assert!(!services["grafana"]["healthcheck"].is_null());

    // The agent pushes to the Collector's OTLP/HTTP port and polls Qdrant by the address the
    // Collector scrapes, so both sources share job and instance.
    let agent_env = &services["agent"]["environment"];
    assert_eq!(
        agent_env["OTEL_EXPORTER_OTLP_ENDPOINT"].as_str(),
        Some("http://otel-collector:4318")
    );
    assert_eq!(agent_env["QDRANT_URL"].as_str(), Some("http://qdrant:6333"));
    assert_eq!(
        agent_env["QDRANT_API_KEY"].as_str(),
        services["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"].as_str(),
        "one optional API key for Qdrant and the agent"
    );
    let collector = yaml("otel-collector/config.yaml");
    let otlp_http = collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
        .as_str()
        .unwrap();
    assert!(otlp_http.ends_with(":4318"));
    let scrape = &collector["receivers"]["prometheus"]["config"]["scrape_configs"][0];
    assert_eq!(scrape["job_name"].as_str(), Some("qdrant"));
    assert_eq!(
        strings(&scrape["static_configs"][0]["targets"]),
        ["qdrant:6333"]
    );

    // Grafana gets the provisioning and dashboards that exist in the repo.
    let volumes = strings(&services["grafana"]["volumes"]);
    for (host, _) in volumes.iter().filter_map(|v| v.split_once(':')) {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(host).exists(),
            "grafana mounts missing {host}"
        );
    }
}

#[test]
fn collector_pipelines_reference_defined_components() {
    for file in [
        "otel-collector/config.yaml",
        "otel-collector/cloud-example.yaml",
    ] {
        let config = yaml(file);
        for (section, kind) in [
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ] {
            let defined = keys(&config[section]);
            for pipeline in keys(&config["service"]["pipelines"]) {
                for component in strings(&config["service"]["pipelines"][pipeline.as_str()][kind]) {
                    assert!(
                        defined.contains(&component),
                        "{file}: pipeline {pipeline} uses undefined {kind} {component}"
                    );
                }
            }
        }
        let extensions = keys(&config["extensions"]);
        for extension in strings(&config["service"]["extensions"]) {
            assert!(
                extensions.contains(&extension),
                "{file}: extension {extension}"
            );
        }
    }
    let config = yaml("otel-collector/config.yaml");
    let pipeline = &config["service"]["pipelines"]["metrics"];
    assert_eq!(strings(&pipeline["receivers"]), ["otlp", "prometheus"]);
    assert_eq!(
        strings(&pipeline["processors"]),
        ["memory_limiter", "batch"]
    );
    assert_eq!(strings(&pipeline["exporters"]), ["prometheus"]);
    assert!(
        !config["exporters"]["debug"].is_null(),
        "debug exporter defined"
    );
    assert_eq!(
        config["exporters"]["prometheus"]["endpoint"].as_str(),
        Some("0.0.0.0:8889")
    );
    assert!(config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
        .as_str()
        .unwrap()
        .ends_with(":4317"));
    assert_eq!(strings(&config["service"]["extensions"]), ["health_check"]);
}

#[test]
fn prometheus_scrapes_the_collector_with_honor_labels() {
    let prometheus = yaml("prometheus/prometheus.yml");
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(job["honor_labels"].as_bool(), Some(true));
    assert_eq!(
        strings(&job["static_configs"][0]["targets"]),
        ["otel-collector:8889"]
    );
}

#[test]
fn prometheus_loads_the_alerting_and_recording_rules() {
    // prometheus.yml loads rules/*.yml relative to itself; compose mounts prometheus/rules
    // there, next to the mounted prometheus.yml.
    let prometheus = yaml("prometheus/prometheus.yml");
    assert_eq!(strings(&prometheus["rule_files"]), ["rules/*.yml"]);
    let compose = yaml("compose.yaml");
    let volumes = strings(&compose["services"]["prometheus"]["volumes"]);
    let config_dir = volumes
        .iter()
        .find_map(|v| v.strip_prefix("./prometheus/prometheus.yml:"))
        .and_then(|target| target.trim_end_matches(":ro").rsplit_once('/'))
        .map(|(dir, _)| dir.to_string())
        .expect("prometheus.yml is mounted");
    assert!(
        volumes.contains(&format!("./prometheus/rules:{config_dir}/rules:ro")),
        "prometheus/rules mounted at {config_dir}/rules: {volumes:?}"
    );
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in ["qdrant-alerts.yml", "qdrant-recording.yml"] {
        assert!(root.join("prometheus/rules").join(file).is_file(), "{file}");
    }
}

#[test]
fn grafana_provisioning_points_at_the_dashboards() {
    let datasource = yaml("grafana/provisioning/datasources/prometheus.yaml");
    assert_eq!(
        datasource["datasources"][0]["uid"].as_str(),
        Some("prometheus")
    );
    assert_eq!(
        datasource["datasources"][0]["url"].as_str(),
        Some("http://prometheus:9090")
    );
    let dashboards = yaml("grafana/provisioning/dashboards/dashboards.yaml");
    assert_eq!(
        dashboards["providers"][0]["options"]["path"].as_str(),
        Some("/var/lib/grafana/dashboards")
    );
    for name in ["overview", "collection", "cluster", "requests", "agent"] {
        let dashboard: serde_json::Value =
            serde_json::from_str(&read(&format!("grafana/dashboards/{name}.json"))).unwrap();
        for panel in dashboard["panels"].as_array().unwrap() {
            assert!(
                panel["fieldConfig"]["defaults"]["unit"].is_string(),
                "{name}: panel {} has no unit",
                panel["title"]
            );
            assert_eq!(panel["datasource"]["uid"], "prometheus");
        }
        let variables: Vec<&str> = dashboard["templating"]["list"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v["name"].as_str())
            .collect();
        assert!(variables.contains(&"instance"), "{name}");
    }
}

/// The metrics of docs/metrics.md: Prometheus name → scope (`node` or `cluster`).
fn documented_scopes() -> std::collections::BTreeMap<String, String> {
    read("docs/metrics.md")
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            // | metric | Prometheus name | type | unit | attributes | source | since | scope | default |
            let name = cells.get(2)?.trim_matches('`');
            let scope = cells.get(8)?;
            Some((name.to_string(), scope.to_string()))
        })
        .collect()
}

/// Every metric selector of a PromQL expression: (metric name, text between the braces), and
/// the names of documented metrics used without braces.
fn selectors<'a>(
    expr: &'a str,
    metrics: &std::collections::BTreeMap<String, String>,
) -> (Vec<(&'a str, &'a str)>, Vec<&'a str>) {
    let mut with_braces = Vec::new();
    let mut bare = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() || bytes[i] == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = &expr[start..i];
            if bytes.get(i) == Some(&b'{') {
                let end = i + expr[i..].find('}').expect("unclosed selector");
                with_braces.push((word, &expr[i + 1..end]));
                i = end;
            } else if metrics.contains_key(word) {
                bare.push(word);
            }
        } else {
            i += 1;
        }
    }
    (with_braces, bare)
}

/// Dashboards for clusters (docs/dashboards.md): a `job` variable (one per cluster) on every
/// dashboard and a node variable that depends on it and lists nodes only; every selector filters
/// by `$job`; every aggregation keeps `job` (nothing is computed across clusters); cluster-wide
/// metrics are never filtered by `$instance` (their instance is the cluster name).
#[test]
fn dashboards_select_a_cluster_and_never_mix_clusters() {
    let metrics = documented_scopes();
    assert!(
        metrics
            .get("qdrant_collection_logical_points")
            .map(String::as_str)
            == Some("cluster"),
        "docs/metrics.md lists scopes: {metrics:?}"
    );
    for name in ["overview", "collection", "cluster", "requests", "agent"] {
        let dashboard: serde_json::Value =
            serde_json::from_str(&read(&format!("grafana/dashboards/{name}.json"))).unwrap();
        let variable = |var: &str| {
            dashboard["templating"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == var)
                .map(|v| v["query"]["query"].as_str().unwrap_or("").to_string())
        };
        assert_eq!(
            variable("job").as_deref(),
            Some("label_values(qdrant_up, job)"),
            "{name}: job variable"
        );
        assert_eq!(
            variable("instance").as_deref(),
            Some(r#"label_values(qdrant_up{job=~"$job"}, instance)"#),
            "{name}: the node variable lists the nodes (qdrant_up) of the selected jobs"
        );
        if let Some(query) = variable("collection") {
            assert!(query.contains(r#"job=~"$job""#), "{name}: {query}");
        }
        for panel in dashboard["panels"].as_array().unwrap() {
            let title = panel["title"].as_str().unwrap();
            for target in panel["targets"].as_array().into_iter().flatten() {
                let expr = target["expr"].as_str().unwrap();
                let (with_braces, bare) = selectors(expr, &metrics);
                assert!(
                    bare.is_empty(),
                    "{name} / {title}: {bare:?} without a selector"
                );
                assert!(!with_braces.is_empty(), "{name} / {title}: {expr}");
                for (metric, labels) in with_braces {
                    assert!(
                        labels.contains(r#"job=~"$job""#),
                        "{name} / {title}: {metric} not filtered by $job: {expr}"
                    );
                    if metrics.get(metric).map(String::as_str) == Some("cluster") {
                        assert!(
                            !labels.contains("$instance"),
                            "{name} / {title}: cluster-wide {metric} filtered by node: {expr}"
                        );
                    }
                }
                for grouping in expr.split("by (").skip(1) {
                    let labels = grouping.split(')').next().unwrap();
                    assert!(
                        labels.split(',').any(|l| l.trim() == "job"),
                        "{name} / {title}: aggregation across jobs (by ({labels})): {expr}"
                    );
                }
                assert!(
                    !expr.contains("scalar("),
                    "{name} / {title}: scalar() mixes clusters: {expr}"
                );
            }
        }
    }
}

#[test]
fn every_dashboard_metric_is_documented() {
    let doc = read("docs/metrics.md");
    let qdrant_metrics = read("tests/fixtures/qdrant-1.18.3/single/metrics.txt");
    for name in ["overview", "collection", "cluster", "requests", "agent"] {
        let text = read(&format!("grafana/dashboards/{name}.json"));
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
            if word.starts_with("qdrant_") && word.len() > 7 && !word.ends_with('_') {
                let is_label = [
                    "qdrant_vector_name",
                    "qdrant_segment_type",
                    "qdrant_component",
                    "qdrant_agent_source",
                    "qdrant_peer_uri",
                    "qdrant_transfer_direction",
                    "qdrant_peer_id",
                ]
                .contains(&word);
                assert!(
                    is_label || doc.contains(&format!("`{word}`")),
                    "{name}: {word} is not in docs/metrics.md"
                );
            }
            if word.ends_with("_duration_seconds_bucket") && !word.starts_with("qdrant_") {
                assert!(
                    qdrant_metrics.contains(word),
                    "{name}: {word} is not in Qdrant's /metrics"
                );
            }
        }
    }
}

#[test]
fn docs_and_makefile_match_the_stack() {
    let getting_started = read("docs/getting-started.md");
    assert!(getting_started.contains("localhost:3000"));
    assert!(getting_started.contains("localhost:9091"));
    let makefile = read("Makefile");
    for target in [
        "run", "cloud", "up", "down", "test", "e2e", "docs", "lint", "bench",
    ] {
        assert!(
            makefile
                .lines()
                .any(|l| l.starts_with(&format!("{target}:"))),
            "Makefile target {target}"
        );
    }
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("USER 10001"), "non-root runtime");
    // Base images pinned to an exact version: `rust:1.90.0-bookworm`, `debian:12.12-slim`;
    // not `latest`, not a floating `rust:1-bookworm` or `debian:bookworm-slim`.
    let bases: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("FROM "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(bases.len(), 2, "build and runtime stages: {bases:?}");
    for image in bases {
        let (name, tag) = image
            .split('@')
            .next()
            .unwrap()
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("{image}: no tag"));
        let version = tag.split('-').next().unwrap();
        assert!(
            tag != "latest"
                && version.split('.').count() >= 2
                && version
                    .split('.')
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "{name}: tag {tag} is not an exact version"
        );
    }
    assert!(
        dockerfile.contains("FROM debian:") && dockerfile.contains("-slim"),
        "small runtime"
    );
    assert!(dockerfile.contains("ENTRYPOINT [\"/usr/local/bin/qdrant-otel-agent\"]"));
}

/// The Collector's `${env:NAME}` and `${env:NAME:-default}` expansion, with `env` as the
/// environment (an unset variable expands to the default or to nothing).
fn expand_env(text: &str, env: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${env:".len()..];
        let end = after.find('}').expect("unterminated ${env:");
        let (name, default) = match after[..end].split_once(":-") {
            Some((name, default)) => (name, default),
            None => (&after[..end], ""),
        };
        let value = env
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .unwrap_or(default);
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn qdrant_scrape(config: &Value) -> Value {
    config["receivers"]["prometheus"]["config"]["scrape_configs"]
        .as_sequence()
        .expect("scrape_configs")
        .iter()
        .find(|job| job["job_name"].as_str() == Some("qdrant"))
        .expect("a scrape job named qdrant")
        .clone()
}

#[test]
fn collector_scrape_of_qdrant_sends_the_api_key_when_set() {
    const KEY: &str = "test-key-9f8e7d";
    for file in [
        "otel-collector/config.yaml",
        "otel-collector/cloud-example.yaml",
    ] {
        let text = read(file);
        assert!(
            text.contains("${env:QDRANT_API_KEY"),
            "{file}: the key comes from QDRANT_API_KEY"
        );
        let env = [
            ("QDRANT_API_KEY", KEY),
            ("QDRANT_HOST", "abc.eu-central.aws.cloud.qdrant.io"),
            ("OTLP_ENDPOINT", "https://otlp.example.com"),
            ("OTLP_AUTH_HEADER", "Basic dGVzdA=="),
        ];
        // With a key: sent as a bearer token.
        let with_key: Value = serde_yaml::from_str(&expand_env(&text, &env)).unwrap();
        let scrape = qdrant_scrape(&with_key);
        assert_eq!(
            scrape["authorization"]["type"].as_str(),
            Some("Bearer"),
            "{file}"
        );
        assert_eq!(
            scrape["authorization"]["credentials"].as_str(),
            Some(KEY),
            "{file}: the scrape carries the key"
        );
        // Without a key: no credentials (Prometheus sends none, or a bare `Bearer`, which a
        // Qdrant without a key ignores).
        let without_key: Value = serde_yaml::from_str(&expand_env(&text, &env[1..])).unwrap();
        let credentials = &qdrant_scrape(&without_key)["authorization"]["credentials"];
        assert!(
            credentials.is_null() || credentials.as_str() == Some(""),
            "{file}: without QDRANT_API_KEY no credentials: {credentials:?}"
        );
        // Both variants are valid Prometheus scrape configs.
        for (variant, config) in [("with a key", &with_key), ("without a key", &without_key)] {
            promtool_check_scrape_config(&format!("{file} {variant}"), &qdrant_scrape(config));
        }
    }

    // Qdrant Cloud: https, the host from the environment, never the compose service name.
    let cloud_text = read("otel-collector/cloud-example.yaml");
    assert!(
        !cloud_text.contains("qdrant:6333"),
        "cloud example hard-codes qdrant:6333"
    );
    let cloud: Value = serde_yaml::from_str(&expand_env(
        &cloud_text,
        &[
            ("QDRANT_HOST", "abc.cloud.qdrant.io"),
            ("QDRANT_API_KEY", KEY),
        ],
    ))
    .unwrap();
    let scrape = qdrant_scrape(&cloud);
    assert_eq!(scrape["scheme"].as_str(), Some("https"));
    assert_eq!(
        strings(&scrape["static_configs"][0]["targets"]),
        ["abc.cloud.qdrant.io:6333"]
    );

    // compose passes the one optional key to the Collector, as to the agent and Qdrant.
    let compose = yaml("compose.yaml");
    let services = &compose["services"];
    let collector_key = services["otel-collector"]["environment"]["QDRANT_API_KEY"].as_str();
    assert_eq!(collector_key, Some("${QDRANT_API_KEY:-}"));
    assert_eq!(
        collector_key,
        services["agent"]["environment"]["QDRANT_API_KEY"].as_str()
    );
    assert_eq!(
        collector_key,
        services["qdrant"]["environment"]["QDRANT__SERVICE__API_KEY"].as_str()
    );
}

/// `promtool check config` on a Prometheus config holding just this scrape job (skipped without
/// target/e2e-bin, failing under CI: see tests/e2e_bins).
fn promtool_check_scrape_config(what: &str, scrape: &Value) {
    let Some(bins) = e2e_bins::require("promtool check config", &["promtool"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = serde_yaml::Mapping::new();
    config.insert(
        "scrape_configs".into(),
        Value::Sequence(vec![scrape.clone()]),
    );
    let path = dir.path().join("prometheus.yml");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    let output = Command::new(bins.join("promtool"))
        .args(["check", "config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{what}: promtool check config: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
