//! Every OpenTelemetry Collector config this repo ships (`otel-collector/*.yaml` and the configs
//! inside the ConfigMaps of `deploy/kubernetes/`) passes `otelcol validate` of the Collector
//! built from the pinned contrib release (`scripts/fetch-e2e-servers.sh`): every component
//! exists in that release, every option is one it knows, every pipeline is complete.
//! Variables a config reads without a default get a plausible value, as a deployment sets.

mod e2e_bins;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (where it comes from, config text)
fn shipped_configs() -> Vec<(String, String)> {
    let mut configs = Vec::new();
    for entry in std::fs::read_dir(root().join("otel-collector")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            configs.push((relative(&path), std::fs::read_to_string(&path).unwrap()));
        }
    }
    let mut manifests: Vec<PathBuf> = Vec::new();
    collect_yaml(&root().join("deploy/kubernetes"), &mut manifests);
    for path in manifests {
        let text = std::fs::read_to_string(&path).unwrap();
        for document in serde_yaml::Deserializer::from_str(&text) {
            let value = <serde_yaml::Value as serde::Deserialize>::deserialize(document).unwrap();
            if value["kind"] != "ConfigMap" {
                continue;
            }
            if let Some(config) = value["data"]["config.yaml"].as_str() {
                let name = value["metadata"]["name"].as_str().unwrap_or("?");
                configs.push((
                    format!("{} (ConfigMap {name})", relative(&path)),
                    config.to_string(),
                ));
            }
        }
    }
    configs.sort();
    configs
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_yaml(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .to_string()
}

/// A value for each `${env:NAME}` a config reads without a default.
fn deployment_env(config: &str) -> Vec<(String, String)> {
    let mut env = Vec::new();
    for part in config.split("${env:").skip(1) {
        let Some(inner) = part.split('}').next() else {
            continue;
        };
        if inner.contains(":-") {
            continue;
        }
        let value = match inner {
            name if name.contains("ENDPOINT") => "https://otlp.example.com",
            name if name.contains("HOST") => "qdrant.example.com",
            name if name.contains("TARGETS") => r#"["node-0.example.com:6333"]"#,
            _ => "value-from-the-deployment",
        };
        env.push((inner.to_string(), value.to_string()));
    }
    env
}

#[test]
fn every_shipped_collector_config_validates_on_the_pinned_collector() {
    let Some(bins) = e2e_bins::require(
        "every_shipped_collector_config_validates_on_the_pinned_collector",
        &["otelcol"],
    ) else {
        return;
    };
    let configs = shipped_configs();
    let names: Vec<&str> = configs.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        configs.len() >= 5,
        "expected the two configs of otel-collector/ and three of deploy/: {names:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut failing = Vec::new();
    for (index, (name, text)) in configs.iter().enumerate() {
        let path = dir.path().join(format!("config-{index}.yaml"));
        std::fs::write(&path, text).unwrap();
        let output = Command::new(bins.join("otelcol"))
            .arg("validate")
            .arg(format!("--config={}", path.display()))
            .env_clear()
            .envs(deployment_env(text))
            .output()
            .unwrap();
        if !output.status.success() {
            failing.push(format!(
                "{name}: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    assert!(failing.is_empty(), "{}", failing.join("\n"));
}

/// The check can fail: a config naming a component the build does not have is refused.
#[test]
fn validation_refuses_an_unknown_component() {
    let Some(bins) = e2e_bins::require("validation_refuses_an_unknown_component", &["otelcol"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    let shipped = std::fs::read_to_string(root().join("otel-collector/config.yaml")).unwrap();
    std::fs::write(
        &path,
        shipped.replace("  batch: {}", "  batch: {}\n  nosuch: {}"),
    )
    .unwrap();
    let output = Command::new(bins.join("otelcol"))
        .arg("validate")
        .arg(format!("--config={}", path.display()))
        .env_clear()
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nosuch"), "{stderr}");
}
