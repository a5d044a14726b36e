//! The figment providers, lowest to highest: built-in defaults < config file (YAML or TOML by
//! extension) < the aliases of the schema (`QDRANT_URL`, `QDRANT_API_KEY`) < `QDRANT_OTEL_<SECTION>__<KEY>` < command-line
//! flags. Every value keeps a name for where it came from (file path, variable, flag), which
//! [`super::problems`] turns into the origin of a problem.
//!
//! Environment keys are lowercased, `__` separates levels. Under `otlp.headers` an `_` in a
//! variable name becomes `-` (`QDRANT_OTEL_OTLP__HEADERS__X_TOKEN` is header `x-token`): variable
//! names cannot hold hyphens, and header names are case-insensitive. File and flag keys are kept
//! verbatim.

use std::path::Path;

use figment::providers::{Format, Serialized, Toml, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::schema::keys;
use super::{ConfigError, ConfigSources, Problems, RawConfig, ENV_PREFIX};

pub(crate) const LAYER_ENV: &str = "environment variable";
pub(crate) const LAYER_FLAG: &str = "command-line flag";

/// Layer the sources into one figment.
pub fn figment(sources: &ConfigSources) -> Result<Figment, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawConfig::default()));
    if let Some(path) = &sources.file {
        figment = with_file(figment, path)?;
    }
    // The documented short names (`QDRANT_URL`), as the original exporter read them. Set but
    // empty counts as unset here; `qdrant.url`'s validation reports an empty `QDRANT_URL`.
    for entry in keys() {
        for name in entry.key.alias {
            if let Some(value) = sources.env.get(*name).filter(|v| !v.is_empty()) {
                let value = Value::from(value.as_str());
                figment = figment.merge(Explicit::new(LAYER_ENV, &entry.name, name, value));
            }
        }
    }
    // QDRANT_OTEL_<SECTION>__<KEY>, parsed (numbers, booleans) except for secrets.
    let mut vars: Vec<(&String, &String)> = sources
        .env
        .iter()
        .filter(|(name, _)| name.len() > ENV_PREFIX.len() && name.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (name, value) in vars {
        let key = env_key(&name[ENV_PREFIX.len()..]);
        let path: Vec<&str> = key.split('.').collect();
        let value = match keys().iter().any(|e| e.key.secret && e.matches(&path)) {
            true => Value::from(value.as_str()),
            false => parse_env_value(value),
        };
        figment = figment.merge(Explicit::new(LAYER_ENV, &key, name, value));
    }
    for (key, flag, value) in &sources.flags.entries {
        figment = figment.merge(Explicit::new(LAYER_FLAG, key, flag, value.clone()));
    }
    Ok(figment)
}

fn with_file(figment: Figment, path: &Path) -> Result<Figment, ConfigError> {
    let shown = path.display();
    let message = match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        _ if !path.is_file() => format!("config file {shown} does not exist or is not a file"),
        "yaml" | "yml" => return Ok(figment.merge(Yaml::file_exact(path))),
        "toml" => return Ok(figment.merge(Toml::file_exact(path))),
        _ => format!("config file {shown} must end in .yaml, .yml or .toml"),
    };
    let mut problems = Problems::default();
    problems.push("--config", LAYER_FLAG, message);
    Err(problems)
}

/// The dotted key of a `QDRANT_OTEL_` variable (the part after the prefix).
pub(crate) fn env_key(rest: &str) -> String {
    let key = rest.to_ascii_lowercase();
    match key.strip_prefix("otlp__headers__") {
        Some(name) => format!("otlp.headers.{}", name.replace('_', "-")),
        None => key.replace("__", "."),
    }
}

/// A provider for values given one by one (raw environment variables, flags), remembering the
/// name each came from so errors can cite it.
struct Explicit {
    layer: &'static str,
    key: String,
    label: String,
    value: Value,
}

impl Explicit {
    fn new(layer: &'static str, key: &str, label: &str, value: Value) -> Explicit {
        Explicit {
            layer,
            key: key.to_string(),
            label: label.to_string(),
            value,
        }
    }
}

impl Provider for Explicit {
    fn metadata(&self) -> Metadata {
        let label = self.label.clone();
        Metadata::named(self.layer).interpolater(move |_: &Profile, _: &[&str]| label.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let dict = match figment::util::nest(&self.key, self.value.clone()) {
            Value::Dict(_, dict) => dict,
            _ => Dict::new(),
        };
        Ok(Profile::Default.collect(dict))
    }
}

/// An environment value as figment's `Env` reads it: `5`, `true`, `[a, b]`, `{k: v}`, `"quoted"`;
/// anything else is the string itself.
///
/// figment 0.10.19 unescapes a quoted string by slicing it at a character index as if it were a
/// byte index (`value/escape.rs`), so an escape after a non-ASCII character (`"é\n"`) panics.
/// Such values are taken verbatim instead: the agent then reports them like any other string
/// (found by the `config_loader` fuzz target; docs/reliability.md, "Fuzzing").
fn parse_env_value(value: &str) -> Value {
    if !value.is_ascii() && value.contains('\\') {
        return Value::from(value.to_string());
    }
    value
        .parse()
        .unwrap_or_else(|_| Value::from(value.to_string()))
}

#[cfg(test)]
mod tests {
    use super::env_key;

    #[test]
    fn env_keys_nest_on_double_underscores_and_headers_get_hyphens() {
        assert_eq!(env_key("POLL__INTERVAL"), "poll.interval");
        assert_eq!(env_key("QDRANT__TLS__CA_FILE"), "qdrant.tls.ca_file");
        assert_eq!(env_key("OTLP__HEADERS__X_TOKEN"), "otlp.headers.x-token");
        assert_eq!(
            env_key("METRICS__QDRANT_ISSUES__ENABLED"),
            "metrics.qdrant_issues.enabled"
        );
    }
}
