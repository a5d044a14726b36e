//! The Kubernetes manifests in `deploy/kubernetes/` are valid Kubernetes: every object is
//! checked by `kubernetes-validate` (strict, against the Kubernetes 1.30 schemas), partial
//! objects after merging them the way they are applied (the sidecar patch onto the StatefulSet
//! its kustomization names, the Helm values' containers inside a Pod), and the Collector
//! configs embedded in ConfigMaps parse and wire defined components only. Plus the things the
//! docs promise: the sidecar's identity from the downward API, its resources and security
//! context, and the Services the agents and Collectors point at.
//!
//! `kubernetes-validate` comes from PyPI: `scripts/fetch-test-tools.sh` (run by `make test`)
//! installs the pinned version. Without it the validation is skipped with a notice, unless
//! `CI` is set, where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_yaml::{Mapping, Value};

const KUBERNETES_VERSION: &str = "1.30.0";
const DEPLOY: &str = "deploy/kubernetes";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every document of a (multi-document) YAML file, empty ones dropped.
fn documents(path: &Path) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(&read(path))
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{}: {e}", relative(path))))
        .filter(|v| !v.is_null())
        .collect()
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            files.push(path);
        }
    }
    files.sort();
    files
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or("")
}

fn kind(value: &Value) -> &str {
    str_of(value, "kind")
}

fn name(value: &Value) -> &str {
    str_of(&value["metadata"], "name")
}

fn seq(value: &Value) -> &[Value] {
    value.as_sequence().map(Vec::as_slice).unwrap_or(&[])
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

/// A strategic merge as kubectl/kustomize do it for what our patches use: maps merge
/// recursively, lists of objects with a `name` merge item by item on it, other lists and
/// scalars are replaced.
fn strategic_merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Mapping(base), Value::Mapping(patch)) => {
            for (key, value) in patch {
                match base.get_mut(key) {
                    Some(existing) => strategic_merge(existing, value),
                    None => {
                        base.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Sequence(base), Value::Sequence(patch))
            if patch.iter().all(|item| item["name"].is_string()) =>
        {
            for item in patch {
                match base.iter_mut().find(|b| b["name"] == item["name"]) {
                    Some(existing) => strategic_merge(existing, item),
                    None => base.push(item.clone()),
                }
            }
        }
        (base, patch) => *base = patch.clone(),
    }
}

/// One object to validate, and where it came from (for the messages).
struct Object {
    origin: String,
    value: Value,
}

/// Every Kubernetes object the directory ships, with the partial ones completed: the
/// kustomizations' patches merged onto their resources, the Helm values' sidecar containers
/// wrapped in a Pod. Kustomizations themselves are checked for dangling references.
fn objects() -> Vec<Object> {
    let deploy = root().join(DEPLOY);
    let mut objects = Vec::new();
    let mut patches = Vec::new();
    for file in yaml_files(&deploy) {
        let origin = relative(&file);
        let docs = documents(&file);
        let file_name = file.file_name().unwrap().to_str().unwrap();
        if file_name == "kustomization.yaml" {
            let kustomization = &docs[0];
            assert_eq!(kind(kustomization), "Kustomization", "{origin}");
            let dir = file.parent().unwrap();
            for resource in seq(&kustomization["resources"]) {
                let path = dir.join(resource.as_str().unwrap());
                assert!(
                    path.exists(),
                    "{origin}: resource {} missing",
                    path.display()
                );
            }
            for patch in seq(&kustomization["patches"]) {
                let path = dir.join(str_of(patch, "path"));
                assert!(path.exists(), "{origin}: patch {} missing", path.display());
                patches.push((origin.clone(), dir.to_path_buf(), patch.clone()));
            }
        } else if file.parent().unwrap().ends_with("helm") {
            let containers = seq(&docs[0]["sidecarContainers"]);
            assert!(!containers.is_empty(), "{origin}: no sidecarContainers");
            let mut pod: Value = serde_yaml::from_str(
                "apiVersion: v1\nkind: Pod\nmetadata: {name: helm-values-sidecar}\nspec:\n  containers: []\n",
            )
            .unwrap();
            pod["spec"]["containers"] = Value::Sequence(containers.to_vec());
            objects.push(Object {
                origin: format!("{origin} (sidecarContainers in a Pod)"),
                value: pod,
            });
        } else if file_name.ends_with(".patch.yaml") {
            // Merged below, onto the object its kustomization targets.
        } else {
            for value in docs {
                assert!(
                    !kind(&value).is_empty() && !name(&value).is_empty(),
                    "{origin}: a document without kind or metadata.name"
                );
                objects.push(Object {
                    origin: origin.clone(),
                    value,
                });
            }
        }
    }
    assert!(!patches.is_empty(), "the sidecar kustomization has a patch");
    for (origin, dir, patch) in patches {
        let patch_file = dir.join(str_of(&patch, "path"));
        let patch_docs = documents(&patch_file);
        let patch_value = &patch_docs[0];
        let target = &patch["target"];
        assert_eq!(kind(target), kind(patch_value), "{origin}: target kind");
        assert_eq!(
            str_of(target, "name"),
            name(patch_value),
            "{origin}: target name"
        );
        let base_origin = relative(&dir);
        let base = objects
            .iter()
            .find(|o| {
                o.origin.starts_with(&base_origin)
                    && kind(&o.value) == kind(patch_value)
                    && name(&o.value) == name(patch_value)
            })
            .unwrap_or_else(|| panic!("{origin}: nothing to patch"));
        let mut merged = base.value.clone();
        strategic_merge(&mut merged, patch_value);
        let containers: Vec<&str> = seq(&merged["spec"]["template"]["spec"]["containers"])
            .iter()
            .map(|c| str_of(c, "name"))
            .collect();
        assert_eq!(
            containers,
            ["qdrant", "qdrant-otel-agent"],
            "{origin}: Qdrant keeps its container and gets the agent"
        );
        objects.push(Object {
            origin: format!("{} merged onto {}", relative(&patch_file), base.origin),
            value: merged,
        });
    }
    objects
}

/// The pinned version, from the script that installs it.
fn pinned_version() -> String {
    let script = read(&root().join("scripts/fetch-test-tools.sh"));
    script
        .lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VALIDATE_VERSION="))
        .expect("scripts/fetch-test-tools.sh pins KUBERNETES_VALIDATE_VERSION")
        .trim()
        .to_string()
}

/// The project's own install (target/test-tools) first, then PATH.
fn validator() -> Option<(PathBuf, String)> {
    let local = root().join("target/test-tools/bin/kubernetes-validate");
    for candidate in [local, PathBuf::from("kubernetes-validate")] {
        if let Ok(out) = Command::new(&candidate).arg("--version").output() {
            if out.status.success() {
                let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
                return Some((candidate, version));
            }
        }
    }
    None
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

#[test]
fn manifests_validate_against_the_kubernetes_schemas() {
    let objects = objects();
    let pinned = pinned_version();
    let Some((validator, version)) = validator() else {
        let help = format!(
            "kubernetes-validate not found: run ./scripts/fetch-test-tools.sh \
             (or pip install kubernetes-validate=={pinned}); make test does"
        );
        assert!(!in_ci(), "{help}");
        eprintln!("\n*** SKIPPED kubernetes-validate: {help} ***\n");
        return;
    };
    if version != pinned {
        let message = format!(
            "kubernetes-validate {version} found, the project pins {pinned} \
             (./scripts/fetch-test-tools.sh installs it)"
        );
        assert!(!in_ci(), "{message}");
        eprintln!("warning: {message}");
    }

    // One file per object, named after its origin, validated in one run.
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let slug: String = object
            .origin
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = dir.path().join(format!(
            "{i:02}-{slug}-{}-{}.yaml",
            kind(&object.value),
            name(&object.value)
        ));
        std::fs::write(&path, serde_yaml::to_string(&object.value).unwrap()).unwrap();
        files.push(path);
    }
    let out = Command::new(&validator)
        .args(["--strict", "--quiet", "-k", KUBERNETES_VERSION])
        .args(&files)
        .output()
        .unwrap();
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && !output.contains("ERROR"),
        "kubernetes-validate {version} (Kubernetes {KUBERNETES_VERSION}, strict) rejected:\n{output}"
    );
    eprintln!(
        "kubernetes-validate {version}: {} objects valid for Kubernetes {KUBERNETES_VERSION}",
        files.len()
    );
}

#[test]
fn the_validator_rejects_what_it_should() {
    // The validation above means something: a misspelt field fails strict validation.
    let Some((validator, _)) = validator() else {
        assert!(!in_ci(), "kubernetes-validate not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers:\n    - {name: a, image: a, resource: {}}\n",
    )
    .unwrap();
    let out = Command::new(&validator)
        .args(["--strict", "--quiet", "-k", KUBERNETES_VERSION])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "a misspelt field passed");
}

/// Every component a pipeline names is defined, and so is every extension the service uses.
fn check_collector_config(origin: &str, config: &Value) {
    assert!(
        !keys(&config["service"]["pipelines"]).is_empty(),
        "{origin}: no pipelines"
    );
    for section in ["receivers", "processors", "exporters"] {
        let defined = keys(&config[section]);
        for pipeline in keys(&config["service"]["pipelines"]) {
            for component in seq(&config["service"]["pipelines"][pipeline.as_str()][section]) {
                let component = component.as_str().unwrap();
                assert!(
                    defined.iter().any(|d| d == component),
                    "{origin}: pipeline {pipeline} uses undefined {section} {component}"
                );
            }
        }
    }
    let extensions = keys(&config["extensions"]);
    for extension in seq(&config["service"]["extensions"]) {
        let extension = extension.as_str().unwrap();
        assert!(
            extensions.iter().any(|e| e == extension),
            "{origin}: undefined extension {extension}"
        );
    }
}

fn by_kind<'a>(objects: &'a [Object], wanted: &str) -> Vec<&'a Object> {
    objects
        .iter()
        .filter(|o| kind(&o.value) == wanted)
        .collect()
}

fn pod_spec(value: &Value) -> &Value {
    if kind(value) == "Pod" {
        &value["spec"]
    } else {
        &value["spec"]["template"]["spec"]
    }
}

#[test]
fn embedded_collector_configs_are_wired_and_point_at_defined_services() {
    let objects = objects();
    let config_maps: BTreeMap<&str, &Object> = by_kind(&objects, "ConfigMap")
        .into_iter()
        .map(|o| (name(&o.value), o))
        .collect();
    let services: Vec<&Value> = by_kind(&objects, "Service")
        .into_iter()
        .map(|o| &o.value)
        .collect();
    let service_port = |service: &str, port: u64| {
        services.iter().any(|s| {
            name(s) == service
                && seq(&s["spec"]["ports"])
                    .iter()
                    .any(|p| p["port"].as_u64() == Some(port))
        })
    };

    let mut configs = BTreeMap::new();
    for (cm_name, object) in &config_maps {
        for (key, text) in object.value["data"].as_mapping().unwrap_or(&Mapping::new()) {
            let origin = format!("{} ConfigMap {cm_name} {key:?}", object.origin);
            let config: Value = serde_yaml::from_str(text.as_str().unwrap())
                .unwrap_or_else(|e| panic!("{origin}: {e}"));
            check_collector_config(&origin, &config);
            configs.insert(cm_name.to_string(), config);
        }
    }
    assert_eq!(
        configs.keys().collect::<Vec<_>>(),
        ["otel-collector", "otel-gateway", "otel-scraper"]
    );

    // Every ConfigMap, ServiceAccount and Secret-free reference of a workload resolves.
    for object in &objects {
        let spec = pod_spec(&object.value);
        for volume in seq(&spec["volumes"]) {
            if let Some(cm) = volume["configMap"]["name"].as_str() {
                assert!(
                    config_maps.contains_key(cm),
                    "{}: ConfigMap {cm} is not shipped",
                    object.origin
                );
            }
        }
        if let Some(account) = spec["serviceAccountName"].as_str() {
            assert!(
                objects
                    .iter()
                    .any(|o| kind(&o.value) == "ServiceAccount" && name(&o.value) == account),
                "{}: ServiceAccount {account} is not shipped",
                object.origin
            );
        }
    }
    for binding in by_kind(&objects, "RoleBinding") {
        let role = str_of(&binding.value["roleRef"], "name");
        assert!(
            objects
                .iter()
                .any(|o| kind(&o.value) == "Role" && name(&o.value) == role),
            "{}: Role {role}",
            binding.origin
        );
    }

    // Tier 1: one gateway per resource, found through the headless gateway Service, with the
    // RBAC the k8s resolver needs.
    let collector = &configs["otel-collector"];
    let lb = &collector["exporters"]["loadbalancing"];
    assert_eq!(lb["routing_key"].as_str(), Some("resource"));
    let resolver = &lb["resolver"]["k8s"];
    let gateway_service = resolver["service"].as_str().unwrap();
    let gateway_port = resolver["ports"][0].as_u64().unwrap();
    assert!(service_port(gateway_service, gateway_port));
    let headless = services
        .iter()
        .find(|s| name(s) == gateway_service)
        .unwrap();
    assert_eq!(headless["spec"]["clusterIP"].as_str(), Some("None"));
    let role = by_kind(&objects, "Role")
        .into_iter()
        .find(|r| name(&r.value) == "otel-collector-loadbalancing")
        .expect("RBAC for the k8s resolver");
    assert!(seq(&role.value["rules"])
        .iter()
        .any(|r| seq(&r["resources"]).iter().any(|x| x == "endpointslices")));
    assert!(service_port("otel-collector", 4317) && service_port("otel-collector", 4318));

    // Tier 2: remote write with target_info, resource attributes off the series, a queue.
    let prw = &configs["otel-gateway"]["exporters"]["prometheusremotewrite"];
    assert!(prw["endpoint"].as_str().unwrap().starts_with("http"));
    assert_eq!(
        prw["resource_to_telemetry_conversion"]["enabled"].as_bool(),
        Some(false)
    );
    assert_eq!(prw["target_info"]["enabled"].as_bool(), Some(true));
    assert_eq!(prw["remote_write_queue"]["enabled"].as_bool(), Some(true));
    assert!(!keys(&prw["external_labels"]).is_empty());

    // The scraper: job qdrant, kubernetes_sd role pod, REST port kept, pushes to tier 1.
    let scraper = &configs["otel-scraper"];
    let job = &scraper["receivers"]["prometheus"]["config"]["scrape_configs"][0];
    assert_eq!(job["job_name"].as_str(), Some("qdrant"));
    assert_eq!(
        job["kubernetes_sd_configs"][0]["role"].as_str(),
        Some("pod")
    );
    assert!(seq(&job["relabel_configs"]).iter().any(|r| {
        r["source_labels"][0] == "__meta_kubernetes_pod_container_port_number"
            && r["regex"] == "6333"
            && r["action"] == "keep"
    }));
    assert_eq!(
        scraper["exporters"]["otlp"]["endpoint"].as_str(),
        Some("otel-collector:4317")
    );
}

fn env_of(container: &Value) -> Vec<(String, Value)> {
    seq(&container["env"])
        .iter()
        .map(|e| (str_of(e, "name").to_string(), e.clone()))
        .collect()
}

#[test]
fn agent_containers_identity_resources_and_security() {
    let objects = objects();
    let mut agents = 0;
    let mut sidecars = 0;
    for object in &objects {
        let spec = pod_spec(&object.value);
        for container in seq(&spec["containers"]) {
            if !str_of(container, "image").contains("qdrant-otel-agent") {
                continue;
            }
            agents += 1;
            let origin = &object.origin;
            let env = env_of(container);
            let value = |key: &str| {
                env.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, e)| e["value"].as_str().unwrap_or("").to_string())
            };
            assert_eq!(
                value("OTEL_EXPORTER_OTLP_ENDPOINT").as_deref(),
                Some("http://otel-collector:4318"),
                "{origin}"
            );
            let key = env
                .iter()
                .find(|(k, _)| k == "QDRANT_API_KEY")
                .map(|(_, e)| e)
                .unwrap_or_else(|| panic!("{origin}: QDRANT_API_KEY"));
            // The Helm values read the Secret the chart creates, required on purpose (see
            // helm_values_read_the_key_the_chart_creates_and_never_run_keyless below).
            if !origin.contains("/helm/") {
                assert_eq!(
                    key["valueFrom"]["secretKeyRef"]["optional"].as_bool(),
                    Some(true),
                    "{origin}: the key Secret is optional"
                );
            }
            let resources = &container["resources"];
            assert_eq!(
                resources["requests"]["cpu"].as_str(),
                Some("10m"),
                "{origin}"
            );
            assert_eq!(
                resources["requests"]["memory"].as_str(),
                Some("32Mi"),
                "{origin}"
            );
            let limit = resources["limits"]["memory"].as_str().unwrap_or("");
            assert!(
                ["64Mi", "96Mi", "128Mi"].contains(&limit),
                "{origin}: memory limit {limit}"
            );
            let security = &container["securityContext"];
            assert_eq!(
                security["readOnlyRootFilesystem"].as_bool(),
                Some(true),
                "{origin}"
            );
            assert_eq!(
                security["allowPrivilegeEscalation"].as_bool(),
                Some(false),
                "{origin}"
            );
            let non_root = security["runAsNonRoot"]
                .as_bool()
                .or(spec["securityContext"]["runAsNonRoot"].as_bool());
            assert_eq!(non_root, Some(true), "{origin}: runs as non-root");

            if value("QDRANT_URL").as_deref() == Some("http://localhost:6333") {
                // A sidecar: the pod's address from the downward API is its identity.
                sidecars += 1;
                let pod_ip = env
                    .iter()
                    .position(|(k, e)| {
                        k == "POD_IP"
                            && e["valueFrom"]["fieldRef"]["fieldPath"].as_str()
                                == Some("status.podIP")
                    })
                    .unwrap_or_else(|| panic!("{origin}: POD_IP from status.podIP"));
                let attributes = env
                    .iter()
                    .position(|(k, _)| k == "OTEL_RESOURCE_ATTRIBUTES")
                    .unwrap_or_else(|| panic!("{origin}: OTEL_RESOURCE_ATTRIBUTES"));
                assert!(
                    pod_ip < attributes,
                    "{origin}: POD_IP must come before OTEL_RESOURCE_ATTRIBUTES for $(POD_IP)"
                );
                let attributes = value("OTEL_RESOURCE_ATTRIBUTES").unwrap();
                assert!(
                    attributes
                        .split(',')
                        .any(|a| a == "service.instance.id=$(POD_IP):6333"),
                    "{origin}: {attributes}"
                );
            } else {
                let urls = value("QDRANT_URL").unwrap_or_default();
                assert!(
                    urls.split(',').count() > 1
                        && urls.split(',').all(|u| u.contains(".qdrant-headless:6333")),
                    "{origin}: the standalone agent polls every node by name: {urls}"
                );
            }
        }
    }
    // The kustomized sidecar, the Helm values' sidecar, the standalone Deployment.
    assert_eq!((agents, sidecars), (3, 2));
}

#[test]
fn deployment_docs_link_every_manifest_directory() {
    let docs = read(&root().join("docs/deployment.md"));
    for entry in std::fs::read_dir(root().join(DEPLOY)).unwrap() {
        let path = entry.unwrap().path();
        let linked = format!("{}/", relative(&path));
        let helm_values = relative(&path.join("values-sidecar.yaml"));
        assert!(
            docs.contains(&linked) || docs.contains(&helm_values),
            "docs/deployment.md does not link {linked}"
        );
    }
    for promise in [
        "service.instance.id=$(POD_IP):6333",
        "kubernetes_sd_configs",
        "role: pod",
        "routing_key: resource",
        "resource_to_telemetry_conversion",
        "target_info",
        "external_labels",
    ] {
        assert!(docs.contains(promise), "docs/deployment.md: {promise}");
    }
}

/// The keys of the Secret `<fullname>-apikey` the official chart renders for a release with
/// these values set (qdrant/qdrant-helm, charts/qdrant: templates/secret.yaml renders it only
/// when `apiKey` or `readOnlyApiKey` is set; the `qdrant.secret` helper in
/// templates/_helpers.tpl writes `api-key` only with `apiKey`, `read-only-api-key` only with
/// `readOnlyApiKey`, and `local.yaml`). `None`: no Secret at all.
fn chart_api_key_secret(api_key: bool, read_only_api_key: bool) -> Option<Vec<&'static str>> {
    let mut keys = Vec::new();
    if api_key {
        keys.push("api-key");
    }
    if read_only_api_key {
        keys.push("read-only-api-key");
    }
    if keys.is_empty() {
        return None;
    }
    keys.push("local.yaml");
    Some(keys)
}

/// What the kubelet gives the sidecar for a `secretKeyRef` against the chart's Secret:
/// the key, no variable (optional and missing: the agent runs without a key), or a container
/// that does not start (required and missing: CreateContainerConfigError, visible).
#[derive(Debug, PartialEq)]
enum KeyOutcome {
    Key,
    RunsWithoutKey,
    DoesNotStart,
}

fn key_outcome(secret_ref: &Value, secret: Option<&[&str]>, secret_name: &str) -> KeyOutcome {
    let found = str_of(secret_ref, "name") == secret_name
        && secret.is_some_and(|keys| keys.contains(&str_of(secret_ref, "key")));
    if found {
        KeyOutcome::Key
    } else if secret_ref["optional"].as_bool() == Some(true) {
        KeyOutcome::RunsWithoutKey
    } else {
        KeyOutcome::DoesNotStart
    }
}

/// Issue 17: the Helm values read `read-only-api-key` with `optional: true`, so a release with
/// only `apiKey` (the chart's Secret then has no `read-only-api-key`) ran the sidecar without a
/// key against a keyed Qdrant: every poll refused. The sidecar must get a key from a release
/// with only `apiKey`, and whenever the chart keys Qdrant it must either get a key or fail to
/// start, never run keyless.
#[test]
fn helm_values_read_the_key_the_chart_creates_and_never_run_keyless() {
    let path = root().join(DEPLOY).join("helm/values-sidecar.yaml");
    let values = &documents(&path)[0];
    // A release named `qdrant`: the chart's fullname is `qdrant`, its Secret `qdrant-apikey`.
    let secret_name = "qdrant-apikey";
    let containers = seq(&values["sidecarContainers"]);
    let agent = containers
        .iter()
        .find(|c| str_of(c, "image").contains("qdrant-otel-agent"))
        .expect("the agent sidecar");
    let secret_ref = env_of(agent)
        .into_iter()
        .find(|(name, _)| name == "QDRANT_API_KEY")
        .map(|(_, e)| e["valueFrom"]["secretKeyRef"].clone())
        .expect("QDRANT_API_KEY from a Secret");
    assert_eq!(
        str_of(&secret_ref, "name"),
        secret_name,
        "the chart's Secret"
    );

    let only_api_key = chart_api_key_secret(true, false);
    assert_eq!(
        key_outcome(&secret_ref, only_api_key.as_deref(), secret_name),
        KeyOutcome::Key,
        "a release with only apiKey: the Secret has {only_api_key:?}, the sidecar reads {:?}",
        str_of(&secret_ref, "key")
    );
    for (api_key, read_only) in [(true, false), (false, true), (true, true)] {
        let secret = chart_api_key_secret(api_key, read_only);
        let outcome = key_outcome(&secret_ref, secret.as_deref(), secret_name);
        assert_ne!(
            outcome,
            KeyOutcome::RunsWithoutKey,
            "apiKey={api_key} readOnlyApiKey={read_only} (Secret keys {secret:?}): the sidecar \
             would poll a keyed Qdrant without a key (key {:?}, optional {:?})",
            str_of(&secret_ref, "key"),
            secret_ref["optional"]
        );
    }

    // The file says how to switch to the read-only key and what to do without a key.
    let text = read(&path);
    for promise in [
        "read-only-api-key",
        "readOnlyApiKey",
        "delete the QDRANT_API_KEY entry",
    ] {
        assert!(
            text.contains(promise),
            "{}: does not explain {promise}",
            relative(&path)
        );
    }
}
