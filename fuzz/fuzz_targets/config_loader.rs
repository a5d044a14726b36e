//! Arbitrary bytes as the agent's configuration: a config file (YAML and TOML) plus environment
//! variables, through `config::load` exactly as the binary calls it (figment layering, then
//! validation). Errors are expected; a panic, an abort or a hang is a bug.
//!
//! Input layout: `FILE [\0 ENV]*`. The bytes before the first NUL are the file, written as
//! `fuzz.yaml` and as `fuzz.toml` and loaded once each (and once with no file at all). Each
//! NUL-separated chunk after it is one environment variable: its first byte picks the name
//! from `ENV_NAMES` (modulo), the rest (lossy UTF-8) is the value; for the last, generic slot the
//! value is `SUFFIX=VALUE` and the name is `QDRANT_OTEL_<SUFFIX>`. A plain config file is thus a
//! valid input (no NUL: empty environment), which is how the seed corpus starts.

#![no_main]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

use qdrant_otel_agent::config::{self, ConfigSources, RawConfig};

const ENV_NAMES: &[&str] = &[
    "QDRANT_URL",
    "QDRANT_API_KEY",
    "QDRANT_OTEL_QDRANT__URL",
    "QDRANT_OTEL_QDRANT__API_KEY",
    "QDRANT_OTEL_QDRANT__JWT",
    "QDRANT_OTEL_QDRANT__TIMEOUT",
    "QDRANT_OTEL_QDRANT__MAX_CONCURRENCY",
    "QDRANT_OTEL_QDRANT__MAX_RESPONSE_BYTES",
    "QDRANT_OTEL_QDRANT__TLS__INSECURE_SKIP_VERIFY",
    "QDRANT_OTEL_POLL__INTERVAL",
    "QDRANT_OTEL_POLL__JITTER",
    "QDRANT_OTEL_POLL__INITIAL_DELAY",
    "QDRANT_OTEL_POLL__DETAIL_EVERY",
    "QDRANT_OTEL_OTLP__ENDPOINT",
    "QDRANT_OTEL_OTLP__PROTOCOL",
    "QDRANT_OTEL_OTLP__COMPRESSION",
    "QDRANT_OTEL_OTLP__TIMEOUT",
    "QDRANT_OTEL_OTLP__HEADERS__AUTHORIZATION",
    "QDRANT_OTEL_RESOURCE__ATTRIBUTES__DEPLOYMENT.ENVIRONMENT",
    "QDRANT_OTEL_CLUSTER__NAME",
    "QDRANT_OTEL_LOG__LEVEL",
    "QDRANT_OTEL_LOG__FORMAT",
    "QDRANT_OTEL_COLLECTIONS__INCLUDE",
    "QDRANT_OTEL_COLLECTIONS__EXCLUDE",
    "QDRANT_OTEL_PRIVACY__HASH_COLLECTION_NAMES",
    "QDRANT_OTEL_METRICS__QDRANT.COLLECTION.POINTS__ENABLED",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    "OTEL_EXPORTER_OTLP_COMPRESSION",
    "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    "OTEL_EXPORTER_OTLP_TIMEOUT",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SERVICE_NAME",
    // Generic slot: the value is `SUFFIX=VALUE`, the name `QDRANT_OTEL_<SUFFIX>`.
    "QDRANT_OTEL_",
];

/// A private folder for this process's two config files, overwritten on every input.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "qdrant-otel-agent-fuzz-config-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the scratch folder");
        dir
    })
}

fn environment(chunks: &[&[u8]]) -> HashMap<String, String> {
    let mut env = HashMap::new();
    for chunk in chunks {
        let Some((&pick, value)) = chunk.split_first() else {
            continue;
        };
        let name = ENV_NAMES[pick as usize % ENV_NAMES.len()];
        let value = String::from_utf8_lossy(value).into_owned();
        if name == "QDRANT_OTEL_" {
            let (suffix, value) = value.split_once('=').unwrap_or((value.as_str(), ""));
            env.insert(format!("{name}{suffix}"), value.to_string());
        } else {
            env.insert(name.to_string(), value);
        }
    }
    env
}

/// Inputs this harness does not pass to `config::load`:
///
/// - The harness's own limit, not the agent's: `qdrant.api_key_file` is read in full by
///   validation, so a path to a device (`/dev/zero`, `/dev/stdin`) would make this process read
///   forever. Only regular (or missing) files are let through.
/// - Known panics, already reported (docs/reliability.md, "Fuzzing"), skipped so that a run
///   explores past them instead of stopping at the first input every time. Set
///   `FUZZ_KNOWN_PANICS=hit` (`scripts/fuzz.sh --replay` does) to let them through. Remove each
///   once it is fixed in `src/`.
fn skipped(sources: &ConfigSources) -> bool {
    let Ok(figment) = config::figment(sources) else {
        return false;
    };
    let Ok(raw) = figment.extract::<RawConfig>() else {
        return false;
    };
    if let Some(path) = &raw.qdrant.api_key_file {
        if !path.as_os_str().is_empty() && path.exists() && !path.is_file() {
            return true;
        }
    }
    false
}

fn load(sources: &ConfigSources) {
    if skipped(sources) {
        return;
    }
    match config::load(sources) {
        Ok((raw, _settings)) => {
            // What `check-config` prints: must not panic either.
            let _ = config::render_effective(&raw);
        }
        Err(error) => {
            // Every problem names a key and an origin; rendering it must not panic.
            let _ = error.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let file = parts.next().unwrap_or_default();
    let chunks: Vec<&[u8]> = parts.take(32).collect();
    let env = environment(&chunks);

    // Environment alone.
    load(&ConfigSources {
        file: None,
        env: env.clone(),
        ..ConfigSources::default()
    });

    for extension in ["yaml", "toml"] {
        let path = scratch().join(format!("fuzz.{extension}"));
        std::fs::write(&path, file).expect("write the config file");
        load(&ConfigSources {
            file: Some(path),
            env: env.clone(),
            ..ConfigSources::default()
        });
    }
});
