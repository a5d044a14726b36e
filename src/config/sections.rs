//! What is left to validate of the smaller sections once single values are checked
//! ([`super::checks`]): `resource` (with `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`),
//! `log.level`, `collections` and `metrics`.

use std::collections::BTreeMap;

use super::checks::parse_key_values;
use super::env_origin;
use super::{
    CollectionsConfig, Context, LogConfig, LogFormat, MetricToggle, Problems, ResourceConfig,
};
use crate::metrics::registry::{MetricSelection, MetricSpec};
use crate::sources::CollectionFilter;

impl ResourceConfig {
    /// The attributes every exported resource carries, resolved here once, lowest first:
    /// `service.name = "qdrant"` < `OTEL_RESOURCE_ATTRIBUTES` < `OTEL_SERVICE_NAME` <
    /// `resource.attributes`. An attribute the agent exports as an int (`server.port`) must
    /// parse as one, wherever it came from.
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> Vec<(String, String)> {
        let mut resolved = BTreeMap::from([("service.name".to_string(), "qdrant".to_string())]);
        let name = "OTEL_RESOURCE_ATTRIBUTES";
        if let Some(list) = ctx.env_var(name) {
            match parse_key_values(list) {
                Ok(pairs) => {
                    for (key, value) in pairs {
                        check_int_attribute(&key, &value, name, &env_origin(name), problems);
                        resolved.insert(key, value);
                    }
                }
                Err(message) => problems.push(name, &env_origin(name), message),
            }
        }
        if let Some(service) = ctx.env_var("OTEL_SERVICE_NAME") {
            resolved.insert("service.name".to_string(), service.to_string());
        }
        let origin = ctx.origin("resource.attributes");
        for (key, value) in &self.attributes {
            if key.trim().is_empty() {
                problems.push(
                    "resource.attributes",
                    &origin,
                    "attribute names must not be empty",
                );
            }
            let full_key = format!("resource.attributes.{key}");
            check_int_attribute(key, value, &full_key, &origin, problems);
            resolved.insert(key.clone(), value.clone());
        }
        resolved.into_iter().collect()
    }
}

/// `server.port` is an int attribute (OpenTelemetry semantic conventions): a value that is not
/// a port number would be exported as 0, so it is a problem.
fn check_int_attribute(
    attribute: &str,
    value: &str,
    key: &str,
    origin: &str,
    problems: &mut Problems,
) {
    if attribute == "server.port" && value.trim().parse::<u16>().is_err() {
        problems.push(
            key,
            origin,
            format!("server.port must be a port number (0 to 65535), not {value:?}"),
        );
    }
}

impl LogConfig {
    /// The level with each comma-separated directive trimmed: tracing-subscriber 0.3's parser
    /// slices the untrimmed text at positions found in the trimmed one, and panics on leading
    /// whitespace before a multi-byte character (found by the `config_loader` fuzz target).
    pub fn normalized_level(&self) -> String {
        let directives: Vec<&str> = self
            .level
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .collect();
        directives.join(",")
    }

    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> LogFormat {
        let level = self.normalized_level();
        // A bare word that is no level would be read as a tracing target and silence every
        // other log (`loud`, `warning`); a target is written with `::`, `_` or `=level`.
        let bare_word_not_a_level = level.split(',').any(|directive| {
            const LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];
            !directive.contains(['=', ':', '_', '['])
                && !LEVELS.contains(&directive.to_ascii_lowercase().as_str())
        });
        if bare_word_not_a_level || tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            let message = format!(
                "{:?} is not a level (error, warn, info, debug, trace) or a tracing filter",
                self.level
            );
            problems.push("log.level", &ctx.origin("log.level"), message);
        }
        match self.format.trim() {
            "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

impl CollectionsConfig {
    /// Each list is checked on its own so that a bad glob is reported under its own key.
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> CollectionFilter {
        let (include, exclude) = (self.include.to_vec(), self.exclude.to_vec());
        for (key, include, exclude) in [
            ("collections.include", &include[..], &[][..]),
            ("collections.exclude", &[][..], &exclude[..]),
        ] {
            if let Err(message) = CollectionFilter::new(include, exclude) {
                problems.push(key, &ctx.origin(key), format!("invalid glob {message}"));
            }
        }
        // Fails exactly when one of the lists did (reported above): then everything.
        CollectionFilter::new(&include, &exclude).unwrap_or_default()
    }
}

/// `metrics.<name>.enabled`: every name must be a metric of the registry.
pub fn validate_metrics(
    metrics: &BTreeMap<String, MetricToggle>,
    ctx: &Context,
    problems: &mut Problems,
) -> MetricSelection {
    let mut selection = MetricSelection::default();
    for (name, toggle) in metrics {
        match MetricSpec::find(name) {
            Some(spec) => selection.set(spec.id, toggle.enabled),
            None => {
                let key = format!("metrics.{name}");
                problems.push(
                    &key,
                    &ctx.origin(&key),
                    "is not a metric of this agent (see docs/metrics.md for the names)",
                );
            }
        }
    }
    selection
}
