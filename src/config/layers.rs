//! The figment layers, lowest first: defaults < config file (YAML or TOML) < the schema's aliases
//! (`QDRANT_URL`) < `QDRANT_OTEL_<SECTION>__<KEY>` < flags, each value named after its source.
//! Then [`extract`]: serde stops at the first error, so each failing value is reported, removed
//! (the key keeps its default) and the rest read again.

use std::path::Path;

use figment::error::Kind;
use figment::providers::{Format, Serialized, Toml, Yaml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::schema::keys;
use super::ENV_PREFIX;
use super::{describe_metadata, ConfigError, ConfigSources, Context, Problems, RawConfig};

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

/// The dotted key of a `QDRANT_OTEL_` variable's rest; under `otlp.headers` an `_` is a `-`
/// (variable names cannot hold hyphens; header names ignore case).
pub(crate) fn env_key(rest: &str) -> String {
    let key = rest.to_ascii_lowercase();
    match key.strip_prefix("otlp__headers__") {
        Some(name) => format!("otlp.headers.{}", name.replace('_', "-")),
        None => key.replace("__", "."),
    }
}

/// A provider of one value (a variable, a flag), named after where it came from.
struct Explicit {
    layer: &'static str,
    label: String,
    dict: Dict,
}

impl Explicit {
    fn new(layer: &'static str, key: &str, label: &str, value: Value) -> Explicit {
        let dict = match figment::util::nest(key, value) {
            Value::Dict(_, dict) => dict,
            _ => Dict::new(),
        };
        let label = label.to_string();
        Explicit { layer, label, dict }
    }
}

impl Provider for Explicit {
    fn metadata(&self) -> Metadata {
        let label = self.label.clone();
        Metadata::named(self.layer).interpolater(move |_: &Profile, _: &[&str]| label.clone())
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// An environment value as figment's `Env` reads it (`5`, `true`, `[a, b]`, `"quoted"`), else
/// the string. figment 0.10.19 panics unescaping after a non-ASCII character (`"é\n"`), so such
/// values stay verbatim (found by the `config_loader` fuzz target).
fn parse_env_value(value: &str) -> Value {
    if !value.is_ascii() && value.contains('\\') {
        return Value::from(value.to_string());
    }
    value
        .parse()
        .unwrap_or_else(|_| Value::from(value.to_string()))
}

/// Every key of the figment, read into the schema; what does not fit is reported.
pub fn extract(ctx: &Context, problems: &mut Problems) -> RawConfig {
    let mut data = match ctx.figment.data() {
        Ok(mut data) => data.remove(&Profile::Default).unwrap_or_default(),
        // A file that does not parse: nothing more can be read.
        Err(error) => {
            for e in error {
                let origin = describe_metadata(e.metadata.as_ref());
                problems.push("(config)", &origin, e.kind.to_string());
            }
            return RawConfig::default();
        }
    };
    let original = data.clone();
    let mut found = Vec::new();
    let raw = loop {
        let error = match Value::from(data.clone()).deserialize::<RawConfig>() {
            Ok(raw) => break raw,
            Err(error) => error,
        };
        let (origin, at) = origin_of(ctx, &original, &error.path);
        let (position, prune) = schema_position(&error.path);
        found.push((position, error.path.join("."), origin, message(&error.kind)));
        let cut = prune.min(at);
        if cut == 0 || !remove(&mut data, &error.path[..cut]) {
            break RawConfig::default();
        }
    };
    // Unknown keys (no position) first, then the schema's order.
    found.sort_by_key(|(position, ..)| *position);
    for (_, key, origin, message) in found {
        problems.push(&key, &origin, message);
    }
    raw
}

/// The message of a deserialization error; unknown keys list the known ones.
fn message(kind: &Kind) -> String {
    match kind {
        Kind::UnknownField(name, [known]) => format!("unknown field `{name}`, expected `{known}`"),
        Kind::UnknownField(name, known) => {
            let known: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            let known = known.join(", ");
            format!("unknown field `{name}`, expected one of {known}")
        }
        Kind::InvalidType(_, expected) if expected.starts_with("struct ") => {
            "invalid type: expected a map of keys".into()
        }
        kind => kind.to_string(),
    }
}

/// Where the value at `path` came from (each variable and flag is its own layer, named after
/// it), and how much of the path exists.
fn origin_of(ctx: &Context, data: &Dict, path: &[String]) -> (String, usize) {
    let (mut dict, mut value, mut at) = (data, None, 0);
    for name in path {
        let Some(found) = dict.get(name) else { break };
        (value, at) = (Some(found), at + 1);
        match found {
            Value::Dict(_, nested) => dict = nested,
            _ => break,
        }
    }
    let metadata = value.and_then(|v| ctx.figment.get_metadata(v.tag()));
    (describe_metadata(metadata), at)
}

/// The position in the schema of the key holding `path` (`None`: an unknown key), and how much
/// of the path to remove when its value is wrong: a map-valued key as a whole.
fn schema_position(path: &[String]) -> (Option<usize>, usize) {
    for (position, entry) in keys().iter().enumerate() {
        let pattern: Vec<&str> = entry.name.split('.').collect();
        // A map-valued key matches on the part before its `<…>`.
        let fixed = pattern.iter().take_while(|p| !p.starts_with('<')).count();
        let shared = fixed.min(path.len());
        if pattern[..shared]
            .iter()
            .zip(path)
            .all(|(p, given)| p == given)
        {
            return (Some(position), shared);
        }
    }
    (None, path.len())
}

/// Remove the value at `path`; whether there was one.
fn remove(data: &mut Dict, path: &[String]) -> bool {
    match path {
        [] => false,
        [last] => data.remove(last).is_some(),
        [first, rest @ ..] => match data.get_mut(first) {
            Some(Value::Dict(_, nested)) => remove(nested, rest),
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigSources, RawConfig};

    /// Key-by-key extraction reads every key: it agrees with figment's whole-struct extraction
    /// on a file that sets every key to a non-default value.
    #[test]
    fn reads_every_key_of_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.yaml");
        std::fs::write(
            &path,
            "qdrant:\n  url: [http://a:1, http://b:2]\n  api_key: k\n  api_key_file: /k\n  jwt: j\n  timeout: 2s\n  tls: {ca_file: /ca, insecure_skip_verify: true}\n  max_concurrency: 3\n  max_response_bytes: 4096\n  discovery: {enabled: true, rest_port: 7000, addresses: {'a.b:6335': 'http://c:1'}, every: 30s}\npoll: {interval: 9s, initial_delay: 1s, jitter: 2s, detail_every: 7}\notlp:\n  endpoint: http://c:1\n  protocol: grpc\n  headers: {X-A: b}\n  compression: none\n  timeout: 4s\n  tls: {ca_file: /oca, cert_file: /ocert, key_file: /okey}\n  temporality_preference: delta\n  self_telemetry: false\nresource: {attributes: {team: s}}\ncluster: {name: c}\nlog: {level: debug, format: json}\ncollections: {include: [a], exclude: [b]}\nmetrics: {qdrant.up: {enabled: false}}\nprivacy: {hash_collection_names: true}\n",
        )
        .unwrap();
        let sources = ConfigSources {
            file: Some(path),
            ..ConfigSources::default()
        };
        let figment = crate::config::figment(&sources).unwrap();
        let whole: RawConfig = figment.extract().unwrap();
        let ctx = Context {
            figment: &figment,
            env: &sources.env,
        };
        let mut problems = Problems::default();
        let by_key = extract(&ctx, &mut problems);
        assert!(problems.problems.is_empty(), "{problems:?}");
        let json = |raw: &RawConfig| {
            let mut value = serde_json::to_value(raw).unwrap();
            // Secrets serialize redacted: compare them directly.
            value["qdrant"]["api_key"] = raw.qdrant.api_key.as_ref().unwrap().expose().into();
            value["qdrant"]["jwt"] = raw.qdrant.jwt.as_ref().unwrap().expose().into();
            value["otlp"]["headers"]["X-A"] = raw.otlp.headers["X-A"].expose().into();
            value
        };
        assert_eq!(json(&by_key), json(&whole));
    }
}
