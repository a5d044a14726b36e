//! Each key's [`Check`] from the schema, applied wherever its value came from (a layer, else
//! the first standard variable set); file, URL and `key=value` list checks; and what is left of
//! the small sections: `resource`, `log`, `collections` and `metrics`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::PrivateKeyDer;
use url::Url;

use super::schema::{keys, Check, Entry};
use super::{env_origin, Context, Problems};
use super::{CollectionsConfig, LogConfig, LogFormat, MetricToggle, ResourceConfig};
use crate::metrics::registry::{MetricSelection, MetricSpec};
use crate::sources::CollectionFilter;

pub const NOT_A_HEADER: &str = "the value holds characters not allowed in an HTTP header";

/// A value and where it came from: the key (and its layer), or a standard variable.
#[derive(Debug, Clone)]
pub struct Given {
    pub name: String,
    pub origin: String,
    pub text: String,
}

/// The key's value if set, else its first standard variable that is set (not blank).
pub fn given(ctx: &Context, name: &str, value: Option<&str>) -> Option<Given> {
    if let Some(text) = value {
        let (name, origin, text) = (name.into(), ctx.origin(name), text.into());
        return Some(Given { name, origin, text });
    }
    let is_key = |e: &Entry| e.name == name || e.name == format!("{name}.{}", e.key.suffix);
    let entry = keys().into_iter().find(is_key)?;
    entry.key.fallback.iter().find_map(|var| {
        let (name, origin, text) = (var.to_string(), env_origin(var), ctx.env_var(var)?.into());
        Some(Given { name, origin, text })
    })
}

/// Check every key that declares a [`Check`]; `raw` is the configuration as JSON.
pub fn check_all(
    raw: &serde_json::Value,
    interval: Duration,
    ctx: &Context,
    problems: &mut Problems,
) {
    for entry in keys().into_iter().filter(|e| e.key.check != Check::None) {
        let value = match raw.pointer(&format!("/{}", entry.name.replace('.', "/"))) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        if let Some(given) = given(ctx, &entry.name, value.as_deref()) {
            if let Err(message) = check(entry.key.check, &given.text, interval) {
                problems.push(&given.name, &given.origin, message);
            }
        }
    }
}

fn check(check: Check, text: &str, interval: Duration) -> Result<(), String> {
    let number = || text.parse::<u64>().unwrap_or(0);
    let duration = || humantime::parse_duration(text).unwrap_or_default();
    let fail = |ok: bool, message: String| if ok { Ok(()) } else { Err(message) };
    match check {
        Check::None => Ok(()),
        Check::AtLeast(min) => fail(number() >= min, format!("must be at least {min}")),
        Check::Positive => fail(number() > 0, "must be greater than 0".into()),
        Check::AtLeastMillis(min) => fail(
            duration().as_millis() >= u128::from(min),
            format!("must be at least {min}ms"),
        ),
        Check::BelowInterval => fail(
            duration() < interval || duration().is_zero(),
            "must be below poll.interval".into(),
        ),
        Check::NotEmpty => fail(!text.trim().is_empty(), "must not be empty".into()),
        Check::OneOf(words) => {
            let (last, first) = words.split_last().unwrap_or((&"", &[]));
            let (text, first) = (text.trim(), first.join(", "));
            let message = format!("{text:?} is not supported: use {first} or {last}");
            fail(words.contains(&text), message)
        }
        Check::Certificates => check_certificates(text),
        Check::PrivateKey => check_private_key(text),
    }
}

fn read(file: &str) -> Result<Vec<u8>, String> {
    if !Path::new(file).is_file() {
        return Err(format!("{file} does not exist or is not a file"));
    }
    std::fs::read(file).map_err(|e| format!("cannot read {file}: {e}"))
}

/// A CA file or client certificate: readable, with at least one PEM certificate.
fn check_certificates(file: &str) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(&read(file)?) {
        Ok(certs) if certs.is_empty() => Err(format!("{file} holds no PEM certificate")),
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{file} is not a PEM certificate bundle ({e})")),
    }
}

/// A PEM private key; the parser's messages are not quoted, as they may hold a line of the key.
fn check_private_key(file: &str) -> Result<(), String> {
    match PrivateKeyDer::from_pem_slice(&read(file)?) {
        Ok(_) => Ok(()),
        Err(pem::Error::NoItemsFound) => Err(format!(
            "{file} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"
        )),
        Err(_) => Err(format!("{file} is not valid PEM")),
    }
}

/// `k1=v1,k2=v2`: trimmed, values percent-decoded, empty items skipped; the first bad pair fails.
pub fn parse_key_values(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for item in text.split(',').filter(|item| !item.trim().is_empty()) {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!("{:?} is not a key=value pair", item.trim()));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(format!("{:?} has an empty key", item.trim()));
        }
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| format!("the value of {key:?} is not percent-encoded UTF-8"))?;
        pairs.push((key.to_string(), value.into_owned()));
    }
    Ok(pairs)
}

/// An absolute http(s) URL with a host; returns it with the host and the (default) port.
pub fn parse_http_url(text: &str) -> Result<(Url, String, u16), String> {
    let url = Url::parse(text.trim()).map_err(|e| format!("not a valid URL ({e})"))?;
    let scheme = url.scheme();
    if scheme != "http" && scheme != "https" {
        return Err(format!("scheme must be http or https, not {scheme:?}"));
    }
    let host = url.host_str().ok_or("the URL has no host")?.to_string();
    let port = url.port_or_known_default().ok_or("the URL has no port")?;
    Ok((url, host, port))
}

impl ResourceConfig {
    /// The attributes of every resource, lowest first: `service.name = "qdrant"` <
    /// `OTEL_RESOURCE_ATTRIBUTES` < `OTEL_SERVICE_NAME` < `resource.attributes`.
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> Vec<(String, String)> {
        let mut resolved = BTreeMap::from([("service.name".to_string(), "qdrant".to_string())]);
        let name = "OTEL_RESOURCE_ATTRIBUTES";
        if let Some(text) = ctx.env_var(name) {
            let (name, origin, text) = (name.into(), env_origin(name), text.into());
            let var = Given { name, origin, text };
            resolved.extend(variable_pairs(&var, problems, int_attribute));
        }
        if let Some(service) = ctx.env_var("OTEL_SERVICE_NAME") {
            resolved.insert("service.name".to_string(), service.to_string());
        }
        let (key, origin) = ("resource.attributes", ctx.origin("resource.attributes"));
        for (attribute, value) in &self.attributes {
            if attribute.trim().is_empty() {
                problems.push(key, &origin, "attribute names must not be empty");
            }
            if let Err(message) = int_attribute(attribute, value) {
                problems.push(&format!("{key}.{attribute}"), &origin, message);
            }
            resolved.insert(attribute.clone(), value.clone());
        }
        resolved.into_iter().collect()
    }
}

/// `server.port` is an int attribute (semantic conventions): anything but a port would be 0.
fn int_attribute(attribute: &str, value: &str) -> Result<(), String> {
    if attribute == "server.port" && value.trim().parse::<u16>().is_err() {
        return Err(format!(
            "server.port must be a port number (0 to 65535), not {value:?}"
        ));
    }
    Ok(())
}

/// The pairs of a `key=value,…` variable, each passed through `check`; problems go under it.
pub fn variable_pairs(
    var: &Given,
    problems: &mut Problems,
    check: impl Fn(&str, &str) -> Result<(), String>,
) -> Vec<(String, String)> {
    let pairs = parse_key_values(&var.text).unwrap_or_else(|message| {
        problems.push(&var.name, &var.origin, message);
        Vec::new()
    });
    for (key, value) in &pairs {
        if let Err(message) = check(key, value) {
            problems.push(&var.name, &var.origin, message);
        }
    }
    pairs
}

impl LogConfig {
    /// Each directive trimmed: tracing-subscriber 0.3 panics on leading whitespace before a
    /// multi-byte character (found by the `config_loader` fuzz target).
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
            problems.at(ctx, "log.level", message);
        }
        match self.format.trim() {
            "json" => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

impl CollectionsConfig {
    /// Each list on its own, so that a bad glob is reported under its key.
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> CollectionFilter {
        let (include, exclude) = (self.include.to_vec(), self.exclude.to_vec());
        for (key, include, exclude) in [
            ("collections.include", &include[..], &[][..]),
            ("collections.exclude", &[][..], &exclude[..]),
        ] {
            if let Err(message) = CollectionFilter::new(include, exclude) {
                problems.at(ctx, key, format!("invalid glob {message}"));
            }
        }
        // Fails exactly when a list did (reported above).
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
                let message = "is not a metric of this agent (see docs/metrics.md for the names)";
                problems.at(ctx, &format!("metrics.{name}"), message);
            }
        }
    }
    selection
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The other checks' cases run through `config::load` in tests/config_cases.rs; no key has
    /// three words to choose from.
    #[test]
    fn one_of_lists_every_word() {
        let second = Duration::from_secs(1);
        assert_eq!(
            check(Check::OneOf(&["a", "b", "c"]), " d ", second).unwrap_err(),
            "\"d\" is not supported: use a, b or c"
        );
    }
}
