//! From the layered figment to a [`RawConfig`], key by key, so that every wrong type is
//! reported (figment's `extract()` stops at the first), each under its true key and origin, and
//! every unknown key too (the schema's `deny_unknown_fields`, checked for all keys at once against
//! [`super::keys::KEYS`]). A key that fails keeps its default.

use std::collections::BTreeMap;
use std::time::Duration;

use figment::value::{Dict, Value};
use figment::{Profile, Provider};
use serde::de::DeserializeOwned;

use super::discovery::AddressList;
use super::keys::KEYS;
use super::origin::{describe_metadata, Context};
use super::{Problems, RawConfig};

/// Every known key, with a wrong-typed or unknown one reported and left at its default.
pub fn extract(ctx: &Context, problems: &mut Problems) -> RawConfig {
    let mut raw = RawConfig::default();
    match ctx.figment.data() {
        Ok(mut data) => {
            if let Some(root) = data.remove(&Profile::Default) {
                unknown_keys(ctx, &root, &mut Vec::new(), problems);
            }
        }
        // A file that does not parse: nothing more can be read.
        Err(error) => {
            for e in error {
                let keys: Vec<&str> = e.path.iter().map(String::as_str).collect();
                let key = if keys.is_empty() {
                    "(config)".into()
                } else {
                    keys.join(".")
                };
                let origin = describe_metadata(e.metadata.as_ref(), &keys);
                problems.push(&key, &origin, e.kind.to_string());
            }
            return raw;
        }
    }
    let mut x = Extractor { ctx, problems };
    let q = &mut raw.qdrant;
    x.take("qdrant.url", &mut q.url);
    x.optional("qdrant.api_key", &mut q.api_key);
    x.optional("qdrant.api_key_file", &mut q.api_key_file);
    x.optional("qdrant.jwt", &mut q.jwt);
    x.duration("qdrant.timeout", &mut q.timeout);
    x.optional("qdrant.tls.ca_file", &mut q.tls.ca_file);
    x.take(
        "qdrant.tls.insecure_skip_verify",
        &mut q.tls.insecure_skip_verify,
    );
    x.take("qdrant.max_concurrency", &mut q.max_concurrency);
    x.take("qdrant.max_response_bytes", &mut q.max_response_bytes);
    x.take("qdrant.follow_redirects", &mut q.follow_redirects);
    x.optional("qdrant.instance", &mut q.instance);
    let d = &mut q.discovery;
    x.take("qdrant.discovery.enabled", &mut d.enabled);
    x.take("qdrant.discovery.rest_port", &mut d.rest_port);
    x.addresses("qdrant.discovery.addresses", &mut d.addresses);
    x.duration("qdrant.discovery.every", &mut d.every);
    let p = &mut raw.poll;
    x.duration("poll.interval", &mut p.interval);
    x.duration("poll.initial_delay", &mut p.initial_delay);
    x.duration("poll.jitter", &mut p.jitter);
    x.take("poll.detail_every", &mut p.detail_every);
    x.take("poll.collection_requests", &mut p.collection_requests);
    x.take("poll.read_all_at_start", &mut p.read_all_at_start);
    let o = &mut raw.otlp;
    x.optional("otlp.endpoint", &mut o.endpoint);
    x.optional("otlp.protocol", &mut o.protocol);
    x.take("otlp.headers", &mut o.headers);
    x.optional("otlp.compression", &mut o.compression);
    let mut timeout = None;
    x.optional::<humantime_serde::Serde<Duration>>("otlp.timeout", &mut timeout);
    o.timeout = timeout.map(humantime_serde::Serde::into_inner);
    x.optional("otlp.tls.ca_file", &mut o.tls.ca_file);
    x.optional("otlp.tls.cert_file", &mut o.tls.cert_file);
    x.optional("otlp.tls.key_file", &mut o.tls.key_file);
    x.optional("otlp.temporality_preference", &mut o.temporality_preference);
    x.take("otlp.self_telemetry", &mut o.self_telemetry);
    x.take("otlp.traces", &mut o.traces);
    x.take("resource.attributes", &mut raw.resource.attributes);
    x.optional("cluster.name", &mut raw.cluster.name);
    x.take("log.level", &mut raw.log.level);
    x.take("log.format", &mut raw.log.format);
    x.take("collections.include", &mut raw.collections.include);
    x.take("collections.exclude", &mut raw.collections.exclude);
    x.take("metrics", &mut raw.metrics);
    x.take(
        "privacy.hash_collection_names",
        &mut raw.privacy.hash_collection_names,
    );
    raw
}

struct Extractor<'c, 'p> {
    ctx: &'c Context<'c>,
    problems: &'p mut Problems,
}

impl Extractor<'_, '_> {
    fn value<T: DeserializeOwned>(&mut self, key: &str) -> Option<T> {
        self.ctx.figment.find_value(key).ok()?;
        match self.ctx.figment.extract_inner::<T>(key) {
            Ok(value) => Some(value),
            Err(error) => {
                self.report(key, error);
                None
            }
        }
    }

    fn take<T: DeserializeOwned>(&mut self, key: &str, target: &mut T) {
        if let Some(value) = self.value(key) {
            *target = value;
        }
    }

    fn optional<T: DeserializeOwned>(&mut self, key: &str, target: &mut Option<T>) {
        if let Some(value) = self.value(key) {
            *target = Some(value);
        }
    }

    fn duration(&mut self, key: &str, target: &mut Duration) {
        if let Some(value) = self.value::<humantime_serde::Serde<Duration>>(key) {
            *target = value.into_inner();
        }
    }

    /// A map, or `host:port=url` pairs in one string.
    fn addresses(&mut self, key: &str, target: &mut BTreeMap<String, String>) {
        match self.value::<AddressList>(key).map(AddressList::into_map) {
            Some(Ok(map)) => *target = map,
            Some(Err(message)) => self.problems.push(key, &self.ctx.origin(key), message),
            None => {}
        }
    }

    fn report(&mut self, key: &str, error: figment::Error) {
        let base: Vec<String> = key.split('.').map(String::from).collect();
        for e in error {
            // `extract_inner` appends the requested key to the path inside the value.
            let inner = match e.path.strip_suffix(base.as_slice()) {
                Some(inner) => inner.to_vec(),
                None => e.path.clone(),
            };
            let full: Vec<&str> = base.iter().chain(&inner).map(String::as_str).collect();
            let full_key = full.join(".");
            let origin = match &e.metadata {
                Some(metadata) => describe_metadata(Some(metadata), &full),
                None => self.ctx.origin(&full_key),
            };
            self.problems.push(&full_key, &origin, e.kind.to_string());
        }
    }
}

/// How a path of dictionary keys matches the key table: `Leaf` (a value), `Branch` (a dict
/// that holds further keys) or unknown (`None`). `<…>` segments of the table match any name.
#[derive(PartialEq)]
enum Shape {
    Leaf,
    Branch,
}

fn shape(path: &[String]) -> Option<Shape> {
    let mut found = None;
    for entry in KEYS {
        let pattern: Vec<&str> = entry.key.split('.').collect();
        if pattern.len() < path.len() {
            continue;
        }
        let matches = path
            .iter()
            .zip(&pattern)
            .all(|(given, known)| known.starts_with('<') || given == known);
        if matches {
            if pattern.len() == path.len() {
                return Some(Shape::Leaf);
            }
            found = Some(Shape::Branch);
        }
    }
    found
}

/// The known names at `path` (for the message of an unknown key).
fn expected(path: &[String]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for entry in KEYS {
        let pattern: Vec<&'static str> = entry.key.split('.').collect();
        if pattern.len() > path.len()
            && path.iter().zip(&pattern).all(|(g, k)| g == k)
            && !names.contains(&pattern[path.len()])
        {
            names.push(pattern[path.len()]);
        }
    }
    names
}

/// Map-valued keys: extracted whole, so their own errors come from the extraction.
const MAP_KEYS: [&str; 4] = [
    "metrics",
    "otlp.headers",
    "qdrant.discovery.addresses",
    "resource.attributes",
];

fn unknown_keys(ctx: &Context, dict: &Dict, path: &mut Vec<String>, problems: &mut Problems) {
    for (name, value) in dict {
        path.push(name.clone());
        let full_key = path.join(".");
        if MAP_KEYS.contains(&full_key.as_str()) {
            path.pop();
            continue;
        }
        let full: Vec<String> = path.clone();
        let full: Vec<&str> = full.iter().map(String::as_str).collect();
        let origin = || describe_metadata(ctx.figment.get_metadata(value.tag()), &full);
        match (shape(path), value) {
            (None, _) => {
                path.pop();
                let names = expected(path);
                let message = match names.as_slice() {
                    [] => format!("unknown field `{name}`"),
                    _ => format!(
                        "unknown field `{name}`, expected one of {}",
                        names
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                problems.push(&full_key, &origin(), message);
                continue;
            }
            (Some(Shape::Branch), Value::Dict(_, nested)) => {
                unknown_keys(ctx, nested, path, problems)
            }
            (Some(Shape::Branch), _) => {
                problems.push(&full_key, &origin(), "invalid type: expected a map of keys")
            }
            (Some(Shape::Leaf), _) => {}
        }
        path.pop();
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
            "qdrant:\n  url: [http://a:1, http://b:2]\n  api_key: k\n  api_key_file: /k\n  jwt: j\n  timeout: 2s\n  tls: {ca_file: /ca, insecure_skip_verify: true}\n  max_concurrency: 3\n  max_response_bytes: 4096\n  discovery: {enabled: true, rest_port: 7000, addresses: {'a.b:6335': 'http://c:1'}, every: 30s}\npoll: {interval: 9s, initial_delay: 1s, jitter: 2s, detail_every: 7}\notlp:\n  endpoint: http://c:1\n  protocol: grpc\n  headers: {X-A: b}\n  compression: none\n  timeout: 4s\n  tls: {ca_file: /oca, cert_file: /ocert, key_file: /okey}\n  temporality_preference: delta\n  self_telemetry: false\n  traces: true\nresource: {attributes: {team: s}}\ncluster: {name: c}\nlog: {level: debug, format: json}\ncollections: {include: [a], exclude: [b]}\nmetrics: {qdrant.up: {enabled: false}}\nprivacy: {hash_collection_names: true}\n",
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
        assert!(problems.is_empty(), "{problems:?}");
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
