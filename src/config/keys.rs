//! The table of every configuration key and environment variable: key, variables, flag,
//! default and meaning. It drives the unknown-key check of [`super::extract`] and is rendered
//! into docs/configuration.md (between marker comments) by `qdrant-otel-agent docs`; tests keep
//! it in step with the schema ([`super::RawConfig`]) and the committed document.

use super::otel_env;
use super::{RawConfig, ENV_PREFIX};

/// Where the table goes.
pub const CONFIG_DOC_PATH: &str = "docs/configuration.md";
pub const BEGIN_MARKER: &str = "<!-- BEGIN GENERATED: config keys -->";
pub const END_MARKER: &str = "<!-- END GENERATED -->";

/// One configuration key. `<…>` segments stand for any name.
#[derive(Debug, Clone, Copy)]
pub struct KeyDoc {
    pub key: &'static str,
    /// Variables besides `QDRANT_OTEL_<SECTION>__<KEY>` (the documented short names).
    pub also_env: &'static str,
    pub flag: &'static str,
    /// `None`: rendered from `RawConfig::default()`.
    pub default: Option<&'static str>,
    pub description: &'static str,
}

const fn key(
    key: &'static str,
    default: Option<&'static str>,
    description: &'static str,
) -> KeyDoc {
    KeyDoc {
        key,
        also_env: "",
        flag: "",
        default,
        description,
    }
}

const fn with(mut doc: KeyDoc, also_env: &'static str, flag: &'static str) -> KeyDoc {
    doc.also_env = also_env;
    doc.flag = flag;
    doc
}

/// Every key of the configuration, in documentation order.
pub const KEYS: &[KeyDoc] = &[
    with(key("qdrant.url", None, "REST URL of each node to poll (a list, or comma-separated); its `host:port` is the node's `service.instance.id`"), "`QDRANT_URL` (set but empty is an error)", "`--qdrant-url` (repeat)"),
    with(key("qdrant.api_key", Some("none"), "API key (read-only is enough), sent as `api-key`; an all-digit key stays a string"), "`QDRANT_API_KEY` (empty: unset)", ""),
    key("qdrant.api_key_file", Some("none"), "file holding the key (a mounted secret), whitespace trimmed; read and checked at start"),
    key("qdrant.jwt", Some("none"), "JWT sent as `Authorization: Bearer` (set only one of the three)"),
    key("qdrant.timeout", Some("`5s`, at most `poll.interval`"), "per-request timeout; for a body over 8 MiB, parsed as it arrives, it covers the parsing too; when set, it must be below `poll.interval`"),
    key("qdrant.tls.ca_file", Some("none"), "extra CA certificates (PEM) to trust; read and checked at start"),
    key("qdrant.tls.insecure_skip_verify", None, "accept any certificate (testing only)"),
    key("qdrant.max_concurrency", None, "concurrent per-collection requests per node"),
    key("qdrant.max_response_bytes", None, "largest response accepted, in bytes; also the bound on all response bodies in memory at once"),
    key("qdrant.instance", Some("`host:port` of the URL"), "the node's `service.instance.id` when the agent polls one node (a sidecar: the pod's `ip:port`); also from `service.instance.id` in `resource.attributes` or `OTEL_RESOURCE_ATTRIBUTES`"),
    key("qdrant.discovery.enabled", None, "the URLs are seeds: poll every peer their `/cluster` lists, and follow peers joining and leaving (seeds are always polled)"),
    key("qdrant.discovery.rest_port", None, "a peer's REST URL: its p2p URI's host with this port, in the scheme of the seed"),
    key("qdrant.discovery.addresses", Some("none"), "a peer's p2p `host:port` → its REST URL, over the port rule (NAT, port mappings); in the variable `host:port=url` pairs, comma-separated"),
    key("qdrant.discovery.every", None, "how often membership is re-read (at least `poll.interval`)"),
    key("qdrant.follow_redirects", None, "follow redirects within the same origin (scheme, host, port); off: a redirect is an error"),
    with(key("poll.interval", None, "time between polls of a node (≥ 100ms)"), "", "`--poll-interval`"),
    key("poll.initial_delay", None, "wait before the first poll"),
    key("poll.jitter", None, "random extra delay before each node's first poll"),
    key("poll.detail_every", None, "slow sources (level-4 telemetry: segments; issues; full-storage snapshots) every Nth poll; the first poll always"),
    key("poll.collection_requests", None, "most per-collection requests (optimizations, memory, snapshots) per poll, spread round-robin, busy collections first; 0 = none"),
    key("poll.read_all_at_start", None, "the first poll (and `once`) reads every per-collection endpoint, bounded by `qdrant.max_concurrency` and one interval"),
    key("collections.include", Some("all"), "globs of collections to report (a list, or comma-separated)"),
    key("collections.exclude", Some("none"), "globs of collections not to report (a list, or comma-separated)"),
    key("metrics.<name>.enabled", Some("per metric ([metrics.md](metrics.md))"), "switch a metric (name with dots, or `_` in their place); a source no enabled metric needs is not called"),
    key("privacy.hash_collection_names", None, "replace collection names by a stable hash (16 hex digits of SHA-256)"),
    with(key("otlp.endpoint", Some("`OTEL_EXPORTER_OTLP_*ENDPOINT`, then `http://localhost:4318` / `http://localhost:4317`"), "Collector URL; for HTTP a base URL (`/v1/metrics` is appended unless present)"), "", "`--otlp-endpoint`"),
    with(key("otlp.protocol", Some("`OTEL_EXPORTER_OTLP_*PROTOCOL`, then `http/protobuf`"), "`grpc` or `http/protobuf`"), "", "`--otlp-protocol`"),
    key("otlp.headers.<name>", Some("`OTEL_EXPORTER_OTLP_*HEADERS`"), "extra headers, added to the variable's (same name: this wins); secrets, redacted everywhere. In a variable name `_` stands for `-` (`…__HEADERS__X_TOKEN` is `x-token`); file and flag names are kept as written"),
    key("otlp.compression", Some("`OTEL_EXPORTER_OTLP_*COMPRESSION`, then `gzip`"), "`gzip` or `none`"),
    key("otlp.timeout", Some("`OTEL_EXPORTER_OTLP_*TIMEOUT`, then `10s`"), "export timeout"),
    key("otlp.tls.ca_file", Some("`OTEL_EXPORTER_OTLP_*CERTIFICATE`, then none"), "CA certificates (PEM) to trust besides the system's, for an `https` endpoint; read and checked at start"),
    key("otlp.tls.cert_file", Some("`OTEL_EXPORTER_OTLP_*CLIENT_CERTIFICATE`, then none"), "client certificate (PEM) for mutual TLS, with `otlp.tls.key_file`; read and checked at start"),
    key("otlp.tls.key_file", Some("`OTEL_EXPORTER_OTLP_*CLIENT_KEY`, then none"), "the client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1); read and checked at start, its content never shown"),
    key("otlp.temporality_preference", Some("`OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`, then `cumulative`"), "`cumulative`, `delta` or `lowmemory`, as the OpenTelemetry specification defines them per instrument kind. Every sum the agent exports is observed (an asynchronous instrument): `delta` exports counters as deltas (each point counts since the previous one, across Qdrant restarts) and keeps up-down counters cumulative; `lowmemory` keeps asynchronous counters cumulative, so here it exports as `cumulative` does (see below)"),
    key("otlp.self_telemetry", None, "also export the agent's own metrics (poll and export durations, bytes, failures, dropped points, memory held, process CPU and memory) as service `qdrant-otel-agent`, to the same endpoint over the same connection, every `poll.interval` ([metrics.md](metrics.md#the-agents-own-metrics))"),
    key("otlp.traces", None, "also export a trace of each poll: a span per poll of a node, a child span per Qdrant request with the HTTP client conventions (method, URL path, status code, body size), as service `qdrant-otel-agent`, to the same endpoint over the same connection. Off by default"),
    key("resource.attributes.<key>", Some("none"), "extra resource attributes on everything exported (over `OTEL_RESOURCE_ATTRIBUTES`)"),
    key("cluster.name", Some("`qdrant-cluster`"), "`service.instance.id` of cluster-wide metrics, `qdrant.cluster.name` on clustered nodes"),
    with(key("log.level", None, "level or tracing filter"), "", "`--log-level`"),
    with(key("log.format", None, "`text` or `json` (logs go to stderr)"), "", "`--log-format`"),
];

/// `QDRANT_OTEL_<SECTION>__<KEY>` for a key.
pub fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

fn default_of(doc: &KeyDoc, defaults: &serde_json::Value) -> String {
    if let Some(text) = doc.default {
        return text.to_string();
    }
    let pointer = format!("/{}", doc.key.replace('.', "/"));
    match defaults.pointer(&pointer) {
        Some(serde_json::Value::String(s)) => format!("`{s}`"),
        Some(serde_json::Value::Array(list)) if list.is_empty() => "none".into(),
        Some(value) => format!("`{value}`"),
        None => "none".into(),
    }
}

/// The Markdown table of keys, then of the standard variables (environment only).
pub fn render_table() -> String {
    let defaults = serde_json::to_value(RawConfig::default()).unwrap_or_default();
    let mut out =
        String::from("| key | environment | flag | default | meaning |\n|---|---|---|---|---|\n");
    for doc in KEYS {
        let mut env = format!("`{}`", env_name(doc.key));
        if !doc.also_env.is_empty() {
            env = format!("{}, {env}", doc.also_env);
        }
        out.push_str(&format!(
            "| `{}` | {env} | {} | {} | {} |\n",
            doc.key,
            doc.flag,
            default_of(doc, &defaults),
            doc.description
        ));
    }
    for (name, default, description) in otel_env::VARIABLES {
        out.push_str(&format!(
            "| (environment only) | `{name}` | | {default} | {description} |\n"
        ));
    }
    out
}

/// `document` with the table between the markers replaced by a fresh rendering.
pub fn render_config_doc(document: &str) -> Result<String, String> {
    let start = document
        .find(BEGIN_MARKER)
        .ok_or_else(|| format!("{CONFIG_DOC_PATH} lacks the marker {BEGIN_MARKER}"))?
        + BEGIN_MARKER.len();
    let end = document[start..]
        .find(END_MARKER)
        .ok_or_else(|| format!("{CONFIG_DOC_PATH} lacks the marker {END_MARKER}"))?
        + start;
    Ok(format!(
        "{}\n{}{}",
        &document[..start],
        render_table(),
        &document[end..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn leaves(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&key, v, out);
                }
            }
            serde_json::Value::Object(_) => {}
            _ => {
                out.insert(prefix.to_string());
            }
        }
    }

    #[test]
    fn the_table_lists_exactly_the_keys_of_the_schema() {
        let mut schema = BTreeSet::new();
        leaves(
            "",
            &serde_json::to_value(RawConfig::default()).unwrap(),
            &mut schema,
        );
        // Keys skipped when unset, and map-valued keys.
        for key in [
            "qdrant.api_key",
            "qdrant.api_key_file",
            "qdrant.jwt",
            "qdrant.instance",
            "qdrant.tls.ca_file",
            "otlp.endpoint",
            "otlp.protocol",
            "otlp.compression",
            "otlp.timeout",
            "otlp.tls.ca_file",
            "otlp.tls.cert_file",
            "otlp.tls.key_file",
            "otlp.temporality_preference",
            "cluster.name",
            "qdrant.discovery.addresses",
            "otlp.headers.<name>",
            "resource.attributes.<key>",
            "metrics.<name>.enabled",
        ] {
            assert!(schema.insert(key.to_string()), "{key} is not an extra key");
        }
        let table: BTreeSet<String> = KEYS.iter().map(|k| k.key.to_string()).collect();
        assert_eq!(table, schema);
    }

    #[test]
    fn every_standard_variable_read_is_documented() {
        let table = render_table();
        for pair in [
            otel_env::ENDPOINT,
            otel_env::PROTOCOL,
            otel_env::HEADERS,
            otel_env::COMPRESSION,
            otel_env::TIMEOUT,
            otel_env::CERTIFICATE,
            otel_env::CLIENT_CERTIFICATE,
            otel_env::CLIENT_KEY,
        ] {
            assert!(
                table.contains(&format!("`{}`", pair.generic)),
                "{}",
                pair.generic
            );
            assert!(
                table.contains(&format!("`{}`", pair.metrics)),
                "{}",
                pair.metrics
            );
        }
        for name in [
            otel_env::RESOURCE_ATTRIBUTES,
            otel_env::SERVICE_NAME,
            otel_env::TEMPORALITY_PREFERENCE,
        ] {
            assert!(table.contains(&format!("`{name}`")), "{name}");
        }
    }

    #[test]
    fn defaults_come_from_the_schema() {
        let table = render_table();
        assert!(
            table.contains(
                "| `poll.interval` | `QDRANT_OTEL_POLL__INTERVAL` | `--poll-interval` | `15s` |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| `qdrant.max_concurrency` | `QDRANT_OTEL_QDRANT__MAX_CONCURRENCY` |  | `8` |"
            ),
            "{table}"
        );
        assert!(table.contains("| (environment only) | `OTEL_EXPORTER_OTLP_HEADERS` |"));
    }

    #[test]
    fn the_table_replaces_what_is_between_the_markers() {
        let doc = format!("intro\n{BEGIN_MARKER}\nold\n{END_MARKER}\nrest\n");
        let rendered = render_config_doc(&doc).unwrap();
        assert!(rendered.starts_with(&format!("intro\n{BEGIN_MARKER}\n| key |")));
        assert!(rendered.ends_with(&format!("|\n{END_MARKER}\nrest\n")));
        assert_eq!(render_config_doc(&rendered).unwrap(), rendered);
        assert!(render_config_doc("no markers").is_err());
    }
}
