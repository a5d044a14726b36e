//! Cases once unit tests inside src/config, run through `config::load` instead: `key=value`
//! lists, http(s) URLs, temporality preferences, the metrics path of an OTLP endpoint, discovery
//! address pairs and the keys of `QDRANT_OTEL_` variables.

use std::collections::HashMap;
use std::time::Duration;

use qdrant_otel_agent::config::{self, ConfigSources, Settings, TemporalityPreference};

fn sources(env: &[(&str, &str)]) -> ConfigSources {
    let env: HashMap<String, String> = env
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    ConfigSources {
        env,
        ..ConfigSources::default()
    }
}

fn load(env: &[(&str, &str)]) -> Settings {
    match config::load(&sources(env)) {
        Ok((_, settings)) => settings,
        Err(error) => panic!("{error}"),
    }
}

/// `(key, message)` of the only problem.
fn problem(env: &[(&str, &str)]) -> (String, String) {
    let error = config::load(&sources(env)).expect_err("rejected");
    assert_eq!(error.problems.len(), 1, "{error}");
    let problem = &error.problems[0];
    (problem.key.clone(), problem.message.clone())
}

#[test]
fn key_values_follow_the_specification() {
    let settings = load(&[("OTEL_RESOURCE_ATTRIBUTES", " a = 1 ,b=x%20y,,")]);
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        let pair = |(k, v): &(&str, &str)| (k.to_string(), v.to_string());
        list.iter().map(pair).collect()
    };
    assert_eq!(
        settings.resource_attributes,
        pairs(&[("a", "1"), ("b", "x y"), ("service.name", "qdrant")])
    );
    let var = "OTEL_EXPORTER_OTLP_HEADERS";
    for (text, message) in [
        ("a=1,oops", "\"oops\" is not a key=value pair"),
        ("=1", "\"=1\" has an empty key"),
        ("a=%ff", "the value of \"a\" is not percent-encoded UTF-8"),
    ] {
        assert_eq!(problem(&[(var, text)]), (var.into(), message.into()));
    }
}

#[test]
fn key_checks_through_load() {
    assert_eq!(
        problem(&[("QDRANT_OTEL_QDRANT__MAX_CONCURRENCY", "0")]),
        ("qdrant.max_concurrency".into(), "must be at least 1".into())
    );
    assert_eq!(
        problem(&[("QDRANT_OTEL_LOG__FORMAT", " d ")]),
        (
            "log.format".into(),
            "\"d\" is not supported: use text or json".into()
        )
    );
    let interval = ("QDRANT_OTEL_POLL__INTERVAL", "1s");
    load(&[interval, ("QDRANT_OTEL_POLL__JITTER", "0s")]);
    assert_eq!(
        problem(&[interval, ("QDRANT_OTEL_POLL__JITTER", "1s")]),
        ("poll.jitter".into(), "must be below poll.interval".into())
    );
    let settings = load(&[("QDRANT_OTEL_POLL__INTERVAL", "100ms")]);
    assert_eq!(settings.interval, Duration::from_millis(100));
}

#[test]
fn rejects_other_schemes_and_relative_urls() {
    for (url, message) in [
        (
            "ftp://x",
            "\"ftp://x\": scheme must be http or https, not \"ftp\"",
        ),
        (
            "not a url",
            "\"not a url\": not a valid URL (relative URL without a base)",
        ),
    ] {
        let expected = ("qdrant.url".to_string(), message.to_string());
        assert_eq!(problem(&[("QDRANT_URL", url)]), expected);
    }
}

#[test]
fn temporality_preferences_are_the_specifications() {
    let var = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
    for (text, expected) in [
        ("cumulative", TemporalityPreference::Cumulative),
        (" Delta ", TemporalityPreference::Delta),
        ("LowMemory", TemporalityPreference::LowMemory),
        ("low_memory", TemporalityPreference::LowMemory),
    ] {
        let settings = load(&[(var, text)]);
        assert_eq!(settings.otlp.temporality_preference, expected, "{text}");
    }
    let message = "\"deltas\" is not supported: use cumulative, delta or lowmemory";
    assert_eq!(problem(&[(var, "deltas")]), (var.into(), message.into()));
}

#[test]
fn metrics_path_is_appended_once() {
    for (given, expected) in [
        ("http://c:4318", "http://c:4318/v1/metrics"),
        ("http://c:4318/", "http://c:4318/v1/metrics"),
        ("http://c:4318/otlp", "http://c:4318/otlp/v1/metrics"),
        ("http://c:4318/v1/metrics", "http://c:4318/v1/metrics"),
    ] {
        let settings = load(&[("QDRANT_OTEL_OTLP__ENDPOINT", given)]);
        assert_eq!(settings.otlp.endpoint, expected, "{given}");
    }
}

#[test]
fn address_pairs_from_a_variable() {
    let var = "QDRANT_OTEL_QDRANT__DISCOVERY__ADDRESSES";
    let settings = load(&[
        ("QDRANT_OTEL_QDRANT__DISCOVERY__ENABLED", "true"),
        (var, "a:6335=http://x:1, b:6335 = http://y:2,"),
    ]);
    let addresses = settings.discovery.expect("enabled").addresses;
    assert_eq!(addresses["a:6335"].as_str(), "http://x:1/");
    assert_eq!(addresses["b:6335"].as_str(), "http://y:2/");
    let message = "\"a:6335\" is not a `host:port=url` pair";
    assert_eq!(
        problem(&[(var, "a:6335")]),
        ("qdrant.discovery.addresses".into(), message.into())
    );
}

#[test]
fn env_keys_nest_on_double_underscores_and_headers_get_hyphens() {
    let settings = load(&[("QDRANT_OTEL_POLL__INTERVAL", "9s")]);
    assert_eq!(settings.interval, Duration::from_secs(9));
    let (key, _) = problem(&[("QDRANT_OTEL_QDRANT__TLS__CA_FILE", "/nowhere/ca.pem")]);
    assert_eq!(key, "qdrant.tls.ca_file");
    let settings = load(&[("QDRANT_OTEL_OTLP__HEADERS__X_TOKEN", "t")]);
    let names: Vec<&str> = settings
        .otlp
        .headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(names, ["x-token"]);
    load(&[("QDRANT_OTEL_METRICS__QDRANT_ISSUES__ENABLED", "false")]);
    let (key, _) = problem(&[("QDRANT_OTEL_METRICS__QDRANT_ISSUEZ__ENABLED", "false")]);
    assert_eq!(key, "metrics.qdrant_issuez");
}
