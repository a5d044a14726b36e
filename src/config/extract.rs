//! From the layered figment to a [`RawConfig`] with every wrong-typed and unknown key reported,
//! not just the first: serde stops at the first error, so the failing value is reported under
//! its key and origin, removed (the key keeps its default), and the rest deserialized again.
//! Unknown keys come first, then the others in the order of the schema.

use figment::error::Kind;
use figment::value::{Dict, Value};
use figment::Profile;
use figment::Provider;

use super::problems::{describe_metadata, Context};
use super::schema::keys;
use super::{Problems, RawConfig};

/// Every key of the figment, read into the schema; what does not fit is reported.
pub fn extract(ctx: &Context, problems: &mut Problems) -> RawConfig {
    let mut data = match ctx.figment.data() {
        Ok(mut data) => data.remove(&Profile::Default).unwrap_or_default(),
        // A file that does not parse: nothing more can be read.
        Err(error) => {
            for e in error {
                let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
                let origin = describe_metadata(e.metadata.as_ref(), &keys);
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
    let mut names: Vec<&str> = Vec::new();
    let mut dict = data;
    let mut value = None;
    for name in path {
        match dict.get(name) {
            Some(found) => {
                names.push(name);
                value = Some(found);
                match found {
                    Value::Dict(_, nested) => dict = nested,
                    _ => break,
                }
            }
            None => break,
        }
    }
    let at = names.len();
    let metadata = value.and_then(|v| ctx.figment.get_metadata(v.tag()));
    (describe_metadata(metadata, &names), at)
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
