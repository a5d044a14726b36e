//! Structural checks of the shipped stack (no Docker here): the files parse, every pipeline
//! references defined components, images are pinned, and ports and names match the docs.

mod e2e_bins;

use std::collections::BTreeSet;
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
    let collector = collector_config_as_compose_runs_it();
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
    // The agent's metrics and Qdrant's own /metrics go through two pipelines to two
    // exporters: one exporter keeps one target_info per job/instance, and the scrape's would
    // replace the agent's (tests/e2e_prometheus.rs runs the join docs/deployment.md gives).
    let config = collector_config_as_compose_runs_it();
    let pipelines = &config["service"]["pipelines"];
    for (pipeline, receivers, exporters, endpoint) in [
        ("metrics", ["otlp"], ["prometheus"], "0.0.0.0:8889"),
        (
            "metrics/qdrant",
            ["prometheus"],
            ["prometheus/qdrant"],
            "0.0.0.0:8890",
        ),
    ] {
        let pipeline = &pipelines[pipeline];
        assert_eq!(strings(&pipeline["receivers"]), receivers);
        assert_eq!(
            strings(&pipeline["processors"]),
            ["memory_limiter", "batch"]
        );
        assert_eq!(strings(&pipeline["exporters"]), exporters);
        assert_eq!(
            config["exporters"][exporters[0]]["endpoint"].as_str(),
            Some(endpoint)
        );
    }
    assert!(
        !config["exporters"]["debug"].is_null(),
        "debug exporter defined"
    );
    assert!(config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"]
        .as_str()
        .unwrap()
        .ends_with(":4317"));
    assert_eq!(strings(&config["service"]["extensions"]), ["health_check"]);
}

/// `otel-collector/config.yaml` with every `${env:…}` at its default, as compose runs it.
fn collector_config_as_compose_runs_it() -> Value {
    serde_yaml::from_str(&expand_env(&read("otel-collector/config.yaml"), &[])).unwrap()
}

#[test]
fn prometheus_scrapes_the_collector_with_honor_labels() {
    let prometheus = yaml("prometheus/prometheus.yml");
    let job = &prometheus["scrape_configs"][0];
    assert_eq!(job["honor_labels"].as_bool(), Some(true));
    assert_eq!(
        strings(&job["static_configs"][0]["targets"]),
        ["otel-collector:8889", "otel-collector:8890"]
    );
}

/// The Collector and Prometheus images that compose.yaml and deploy/ run are the releases the
/// end-to-end tests build from their Go modules (tests/e2e/servers/go.mod).
#[test]
fn images_are_the_releases_the_tests_run() {
    let go_mod = read("tests/e2e/servers/go.mod");
    let version_of = |module: &str| -> String {
        go_mod
            .lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(&format!("{module} ")))
            .unwrap_or_else(|| panic!("go.mod requires no {module}"))
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let contrib = version_of(
        "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver",
    );
    let collector_image = format!(
        "otel/opentelemetry-collector-contrib:{}",
        contrib.trim_start_matches('v')
    );
    // Prometheus 3.X.Y is the Go module version v0.3XX.Y.
    let module = version_of("github.com/prometheus/prometheus");
    let (minor, patch) = module
        .strip_prefix("v0.3")
        .and_then(|rest| rest.split_once('.'))
        .unwrap_or_else(|| panic!("{module} is not a Prometheus 3 module version"));
    let prometheus_image = format!(
        "prom/prometheus:v3.{}.{patch}",
        minor.trim_start_matches('0').max("0")
    );
    let compose = yaml("compose.yaml");
    let services = &compose["services"];
    assert_eq!(
        services["otel-collector"]["image"].as_str(),
        Some(collector_image.as_str())
    );
    assert_eq!(
        services["prometheus"]["image"].as_str(),
        Some(prometheus_image.as_str())
    );
    let mut manifests = Vec::new();
    for entry in std::fs::read_dir(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/collector-gateway"),
    )
    .unwrap()
    {
        manifests.push(entry.unwrap().path());
    }
    for path in manifests {
        let text = std::fs::read_to_string(&path).unwrap();
        for image in text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("image: "))
        {
            if image.starts_with("otel/") {
                assert_eq!(image, collector_image, "{}", path.display());
            }
        }
    }
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
            // The data source comes from the `datasource` variable (issue 17; the whole rule
            // in dashboards_take_the_datasource_from_a_variable).
            assert_eq!(panel["datasource"]["uid"], "${datasource}");
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

/// The Prometheus names of the agent's own telemetry (job `qdrant-otel-agent`), histogram
/// series included.
fn own_telemetry_names() -> BTreeSet<String> {
    use qdrant_otel_agent::telemetry::catalogue::{Kind, ALL};
    let mut names = BTreeSet::new();
    for spec in ALL {
        let name = spec.prometheus_name();
        if spec.kind == Kind::Histogram {
            for suffix in ["_bucket", "_sum", "_count"] {
                names.insert(format!("{name}{suffix}"));
            }
        } else {
            names.insert(name);
        }
    }
    names
}

/// Dashboards for clusters (docs/dashboards.md): a `job` variable (one per cluster) on every
/// dashboard and a node variable that depends on it and lists nodes only; every selector filters
/// by `$job`; every aggregation keeps `job` (nothing is computed across clusters); cluster-wide
/// metrics are never filtered by `$instance` (their instance is the cluster name). The agent's
/// own telemetry has a job of its own: selected by `job="qdrant-otel-agent"`, and aggregated
/// per agent (`instance`), node (`qdrant_instance`) or exported resource (`qdrant_resource`).
#[test]
fn dashboards_select_a_cluster_and_never_mix_clusters() {
    let own = own_telemetry_names();
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
                let uses_own = with_braces.iter().any(|(m, _)| own.contains(*m));
                for (metric, labels) in with_braces {
                    if own.contains(metric) {
                        assert!(
                            labels.contains(r#"job="qdrant-otel-agent""#),
                            "{name} / {title}: {metric} not in the agent's job: {expr}"
                        );
                        continue;
                    }
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
                let keeps: &[&str] = if uses_own {
                    &["instance", "qdrant_instance", "qdrant_resource"]
                } else {
                    &["job"]
                };
                for grouping in expr.split("by (").skip(1) {
                    let labels = grouping.split(')').next().unwrap();
                    assert!(
                        labels.split(',').any(|l| keeps.contains(&l.trim())),
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
                    // Attributes of the agent's own telemetry.
                    "qdrant_instance",
                    "qdrant_resource",
                    "qdrant_agent_drop_reason",
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

    // Qdrant Cloud: https, each node from the environment (never the load-balanced cluster
    // URL: cloud_example_scrapes_each_node_not_the_cluster_url), never the compose service name.
    let cloud_text = read("otel-collector/cloud-example.yaml");
    assert!(
        !cloud_text.contains("qdrant:6333"),
        "cloud example hard-codes qdrant:6333"
    );
    let cloud: Value = serde_yaml::from_str(&expand_env(
        &cloud_text,
        &[
            (
                "QDRANT_SCRAPE_TARGETS",
                r#"["node-0-abc.cloud.qdrant.io:6333","node-1-abc.cloud.qdrant.io:6333"]"#,
            ),
            ("QDRANT_API_KEY", KEY),
        ],
    ))
    .unwrap();
    let scrape = qdrant_scrape(&cloud);
    assert_eq!(scrape["scheme"].as_str(), Some("https"));
    assert_eq!(
        strings(&scrape["static_configs"][0]["targets"]),
        [
            "node-0-abc.cloud.qdrant.io:6333",
            "node-1-abc.cloud.qdrant.io:6333"
        ]
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

// ---- Issue 17: cloud example per node, dashboard data source variable, p95 windows, commit
// lag within a cluster, Collector names of Qdrant's counters. ----

/// Every `grafana/dashboards/*.json`: (file name, parsed dashboard).
fn issue17_dashboards() -> Vec<(String, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("grafana/dashboards");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboards in {}", dir.display());
    files
        .into_iter()
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let dashboard = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, dashboard)
        })
        .collect()
}

/// Every (panel title, target expr) of a dashboard.
fn issue17_exprs(dashboard: &serde_json::Value) -> Vec<(String, String)> {
    let mut exprs = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                let title = panel["title"].as_str().unwrap_or("?").to_string();
                exprs.push((title, expr.to_string()));
            }
        }
    }
    exprs
}

/// Qdrant Cloud (docs/deployment.md): never the load-balanced cluster URL, each node by its own
/// endpoint. The cloud example's scrape of `/metrics` takes the nodes from
/// QDRANT_SCRAPE_TARGETS, and its header tells the agent to poll the same nodes.
#[test]
fn cloud_example_scrapes_each_node_not_the_cluster_url() {
    let text = read("otel-collector/cloud-example.yaml");
    let cluster = "xyz-example.eu-central-1-0.aws.cloud.qdrant.io";
    let nodes: Vec<String> = (0..3).map(|i| format!("node-{i}-{cluster}:6333")).collect();
    let list = format!(
        "[{}]",
        nodes
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let env = [
        ("QDRANT_SCRAPE_TARGETS", list.as_str()),
        ("QDRANT_API_KEY", "test-key"),
        ("OTLP_ENDPOINT", "https://otlp.example.com"),
        ("OTLP_AUTH_HEADER", "Basic dGVzdA=="),
    ];
    let config: Value = serde_yaml::from_str(&expand_env(&text, &env)).unwrap();
    let scrape = qdrant_scrape(&config);
    assert_eq!(scrape["scheme"].as_str(), Some("https"));
    let targets: Vec<String> = scrape["static_configs"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|c| strings(&c["targets"]))
        .collect();
    assert_eq!(
        targets, nodes,
        "the cloud example scrapes the nodes of QDRANT_SCRAPE_TARGETS, one target each, \
         not the cluster URL: {targets:?}"
    );
    assert!(
        !text.contains("${env:QDRANT_HOST"),
        "the cloud example still builds a target from the cluster host QDRANT_HOST"
    );

    // The header's example: the Collector's targets and the agent's QDRANT_URL name the same
    // nodes (same host:port, so both sources share `instance`), by their node endpoints.
    let line = |prefix: &str| {
        text.lines()
            .filter_map(|l| l.trim_start_matches('#').trim().strip_prefix(prefix))
            .next()
            .unwrap_or_else(|| panic!("cloud example header has no {prefix} example"))
            .to_string()
    };
    let scrape_example: Vec<String> = line("QDRANT_SCRAPE_TARGETS=")
        .split("\\\"")
        .skip(1)
        .step_by(2)
        .map(String::from)
        .collect();
    let agent_example: Vec<String> = line("QDRANT_URL=")
        .split(',')
        .map(|u| u.trim().trim_start_matches("https://").to_string())
        .collect();
    assert!(!scrape_example.is_empty(), "{scrape_example:?}");
    assert_eq!(
        scrape_example, agent_example,
        "the agent polls what the Collector scrapes"
    );
    for node in &scrape_example {
        assert!(
            node.starts_with("node-"),
            "{node}: not a node endpoint (node-<n>-<cluster host>)"
        );
    }
    assert!(
        read("docs/deployment.md").contains("QDRANT_SCRAPE_TARGETS"),
        "docs/deployment.md describes the cloud example's per-node targets"
    );
}

/// Every dashboard takes its Prometheus data source from a `datasource` variable (type
/// `datasource`, query `prometheus`, first, so the other variables can use it); every panel,
/// target and query variable uses `{"type": "prometheus", "uid": "${datasource}"}` and nothing
/// names a fixed uid. The provisioned data source is Prometheus and the default, which is what
/// the variable preselects.
#[test]
fn dashboards_take_the_datasource_from_a_variable() {
    const WANTED: &str = r#"{"type":"prometheus","uid":"${datasource}"}"#;
    let wanted: serde_json::Value = serde_json::from_str(WANTED).unwrap();
    for (name, dashboard) in issue17_dashboards() {
        let variables = dashboard["templating"]["list"].as_array().unwrap();
        let variable = variables
            .iter()
            .position(|v| v["name"] == "datasource")
            .unwrap_or_else(|| panic!("{name}: no `datasource` variable"));
        assert_eq!(variable, 0, "{name}: the datasource variable comes first");
        let variable = &variables[variable];
        assert_eq!(variable["type"], "datasource", "{name}");
        assert_eq!(variable["query"], "prometheus", "{name}");

        // Every `datasource` anywhere in the dashboard is the variable.
        let mut found = Vec::new();
        fn walk(value: &serde_json::Value, path: String, found: &mut Vec<(String, String)>) {
            match value {
                serde_json::Value::Object(map) => {
                    for (key, child) in map {
                        if key == "datasource" {
                            found.push((path.clone(), child.to_string()));
                        } else {
                            walk(child, format!("{path}/{key}"), found);
                        }
                    }
                }
                serde_json::Value::Array(items) => {
                    for (i, child) in items.iter().enumerate() {
                        walk(child, format!("{path}/{i}"), found);
                    }
                }
                _ => {}
            }
        }
        walk(&dashboard, String::new(), &mut found);
        for (path, datasource) in &found {
            let parsed: serde_json::Value = serde_json::from_str(datasource).unwrap();
            assert_eq!(
                parsed, wanted,
                "{name}: {path} uses datasource {datasource}, not the variable"
            );
        }
        // …and every panel, target and query variable has one.
        for panel in dashboard["panels"].as_array().unwrap() {
            let title = panel["title"].as_str().unwrap_or("?");
            assert_eq!(panel["datasource"], wanted, "{name} / {title}");
            for target in panel["targets"].as_array().into_iter().flatten() {
                assert_eq!(target["datasource"], wanted, "{name} / {title}: a target");
            }
        }
        for variable in variables.iter().filter(|v| v["type"] == "query") {
            assert_eq!(
                variable["datasource"], wanted,
                "{name}: variable {}",
                variable["name"]
            );
        }
    }
    let provisioned = &yaml("grafana/provisioning/datasources/prometheus.yaml")["datasources"][0];
    assert_eq!(provisioned["type"].as_str(), Some("prometheus"));
    assert_eq!(
        provisioned["isDefault"].as_bool(),
        Some(true),
        "the variable preselects the default data source: the provisioned one must be it"
    );
}

/// A PromQL duration (`90s`, `5m`, `1h30m`) in seconds; `None` for anything else (variables).
fn issue17_duration_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return None;
        }
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            "w" => 7.0 * 86400.0,
            "y" => 365.0 * 86400.0,
            _ => return None,
        };
        total += number * factor;
        rest = &rest[unit_len..];
    }
    Some(total)
}

/// Every `rate(`, `irate(` or `increase(` of a plain selector in `expr`: (metric, window text).
fn issue17_rates(expr: &str) -> Vec<(String, String)> {
    let mut rates = Vec::new();
    let bytes = expr.as_bytes();
    let name_byte = |i: usize| bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_';
    for function in ["rate(", "increase("] {
        let mut from = 0;
        while let Some(found) = expr[from..].find(function) {
            let start = from + found;
            from = start + function.len();
            // `irate(` counts with `rate(`; any other longer name (`xrate(`) does not.
            let name_start = if function == "rate(" && start > 0 && bytes[start - 1] == b'i' {
                start - 1
            } else {
                start
            };
            if name_start > 0 && name_byte(name_start - 1) {
                continue;
            }
            let inner = expr[from..].trim_start();
            let name_len = inner
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(inner.len());
            let metric = &inner[..name_len];
            let mut after = &inner[name_len..];
            if after.starts_with('{') {
                let close = after.find('}').expect("unclosed selector");
                after = &after[close + 1..];
            }
            let after = after.trim_start();
            let window = after
                .strip_prefix('[')
                .and_then(|w| w.split_once(']'))
                .map(|(w, _)| w.trim().to_string())
                .unwrap_or_else(|| panic!("{function} without a range selector: {expr}"));
            rates.push((metric.to_string(), window));
        }
    }
    rates
}

/// Qdrant's own `/metrics` series (names not starting with `qdrant_`) change once per Collector
/// scrape, every 60 s, while Prometheus samples the Collector every 15 s; with Prometheus 3's
/// left-open range selectors a 1 m window holds no change about a quarter of the time. Every
/// rate over them needs a fixed window of at least 2 × 60 s (docs/dashboards.md, "Latency
/// quantiles").
#[test]
fn rates_over_qdrant_metrics_series_span_a_collector_scrape() {
    let own = own_telemetry_names();
    let mut checked = 0;
    for (name, dashboard) in issue17_dashboards() {
        for (title, expr) in issue17_exprs(&dashboard) {
            for (metric, window) in issue17_rates(&expr) {
                if metric.starts_with("qdrant_") || own.contains(&metric) {
                    continue;
                }
                checked += 1;
                let seconds = issue17_duration_seconds(&window).unwrap_or_else(|| {
                    panic!(
                        "{name} / {title}: rate over Qdrant's /metrics series {metric} with the \
                         window [{window}]; use a fixed window of at least 2m (the Collector \
                         scrapes /metrics every 60 s): {expr}"
                    )
                });
                assert!(
                    seconds >= 120.0,
                    "{name} / {title}: rate over {metric} with [{window}], under 2m: {expr}"
                );
            }
        }
    }
    assert!(
        checked >= 2,
        "the p95 panels over Qdrant's histograms were found"
    );
    // The parser itself.
    assert_eq!(
        issue17_rates("sum(irate(a_b{x=\"y\"}[5m])) / rate(qdrant_c[$__rate_interval])"),
        [
            ("a_b".to_string(), "5m".to_string()),
            ("qdrant_c".to_string(), "$__rate_interval".to_string())
        ]
    );
    assert_eq!(issue17_duration_seconds("1m30s"), Some(90.0));
    assert_eq!(issue17_duration_seconds("$__rate_interval"), None);
}

/// Per-node raft series (`qdrant_cluster_*`) carry `qdrant_cluster_name`, the agent's
/// `cluster.name`: an aggregation or match of them across nodes (one without `instance`) keeps
/// `qdrant_cluster_name` next to `job`, so two clusters sharing a job are never compared with
/// each other (the commit lag panel).
#[test]
fn raft_panels_compare_nodes_within_their_cluster() {
    let metrics = documented_scopes();
    let mut checked = 0;
    for (name, dashboard) in issue17_dashboards() {
        for (title, expr) in issue17_exprs(&dashboard) {
            let (with_braces, _) = selectors(&expr, &metrics);
            let per_node_raft = with_braces.iter().any(|(metric, _)| {
                metric.starts_with("qdrant_cluster_")
                    && metrics.get(*metric).map(String::as_str) == Some("node")
            });
            if !per_node_raft {
                continue;
            }
            for keyword in ["by (", "on ("] {
                for grouping in expr.split(keyword).skip(1) {
                    let labels: Vec<&str> = grouping
                        .split(')')
                        .next()
                        .unwrap()
                        .split(',')
                        .map(str::trim)
                        .collect();
                    if labels.contains(&"instance") {
                        continue;
                    }
                    checked += 1;
                    assert!(
                        labels.contains(&"job") && labels.contains(&"qdrant_cluster_name"),
                        "{name} / {title}: `{keyword}{})` compares nodes across clusters of one \
                         job; group by (job, qdrant_cluster_name): {expr}",
                        labels.join(", ")
                    );
                }
            }
        }
    }
    assert!(
        checked >= 2,
        "the commit lag panel's max by and on were checked"
    );
}

/// docs/comparison.md names Qdrant's `/metrics` families as they land in Prometheus through
/// the shipped Collector: its prometheus exporter appends `_total` to every monotonic sum
/// whose name lacks it (contrib's pkg/translator/prometheus, "Counter: Append `_total`"), so a
/// counter Qdrant serves without `_total` is listed with it, never under its bare name.
#[test]
fn comparison_doc_names_qdrant_counters_as_the_collector_exports_them() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut counters = std::collections::BTreeSet::new();
    for version in std::fs::read_dir(&fixtures).unwrap() {
        let version = version.unwrap().path();
        if !version.is_dir() {
            continue;
        }
        for setup in std::fs::read_dir(&version).unwrap() {
            let metrics = setup.unwrap().path().join("metrics.txt");
            let Ok(text) = std::fs::read_to_string(&metrics) else {
                continue;
            };
            for line in text.lines() {
                if let Some(rest) = line.strip_prefix("# TYPE ") {
                    if let Some((name, "counter")) = rest.split_once(' ') {
                        counters.insert(name.to_string());
                    }
                }
            }
        }
    }
    assert!(
        counters.iter().any(|c| !c.ends_with("_total")),
        "the fixtures have counters without _total: {counters:?}"
    );

    // The backticked names in the first column of the table.
    let doc = read("docs/comparison.md");
    let listed: Vec<String> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('|').nth(1))
        .flat_map(|cell| {
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    fn glob(pattern: &str, name: &str) -> bool {
        match pattern.split_once('*') {
            None => pattern == name,
            Some((prefix, suffix)) => {
                name.len() >= prefix.len() + suffix.len()
                    && name.starts_with(prefix)
                    && name.ends_with(suffix)
            }
        }
    }
    for counter in &counters {
        let exported = if counter.ends_with("_total") {
            counter.clone()
        } else {
            format!("{counter}_total")
        };
        assert!(
            listed.iter().any(|p| glob(p, &exported)),
            "docs/comparison.md does not list {exported} (Qdrant's counter {counter} through \
             the Collector)"
        );
        if exported != *counter {
            let bare: Vec<&String> = listed.iter().filter(|p| glob(p, counter)).collect();
            assert!(
                bare.is_empty(),
                "docs/comparison.md lists the counter {counter} as {bare:?}: through the \
                 Collector it is {exported}"
            );
        }
    }
}
