//! The generic checks: each key's [`Check`] from the schema, applied to its value wherever it
//! came from (a layer, else the first standard variable that is set), with the problem under
//! the key or the variable. Also the file checks (a PEM certificate bundle, a PEM private key:
//! read at load so that `check-config` catches a bad one, a key's content never shown) and the
//! `key=value,…` lists of the standard variables, and the http(s) URLs of `qdrant.url`,
//! `otlp.endpoint` and the `OTEL_EXPORTER_OTLP_*ENDPOINT` variables. Then what is left to
//! validate of the smaller sections: `resource` (with `OTEL_RESOURCE_ATTRIBUTES` and
//! `OTEL_SERVICE_NAME`), `log.level`, `collections` and `metrics`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::PrivateKeyDer;
use url::Url;

use super::schema::{key, keys, Check};
use super::{env_origin, Context, Problems};
use super::{CollectionsConfig, LogConfig, LogFormat, MetricToggle, ResourceConfig};
use crate::metrics::registry::{MetricSelection, MetricSpec};
use crate::sources::CollectionFilter;

/// A value and where it came from: the key (and its layer), or a standard variable.
#[derive(Debug, Clone)]
pub struct Given {
    /// The key or the variable.
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
    key(name).fallback.iter().find_map(|var| {
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
    for entry in keys() {
        if entry.key.check == Check::None {
            continue;
        }
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

/// A PEM private key. What is wrong is said without quoting the file: the parser's own
/// messages may hold a line of it.
fn check_private_key(file: &str) -> Result<(), String> {
    match PrivateKeyDer::from_pem_slice(&read(file)?) {
        Ok(_) => Ok(()),
        Err(pem::Error::NoItemsFound) => Err(format!(
            "{file} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)"
        )),
        Err(_) => Err(format!("{file} is not valid PEM")),
    }
}

/// `key1=value1,key2=value2` (headers, resource attributes): keys and values trimmed, values
/// percent-decoded. Empty items are skipped; the first malformed pair is the error.
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
            problems.at(ctx, "log.level", message);
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
                problems.at(ctx, key, format!("invalid glob {message}"));
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

    #[test]
    fn key_values_follow_the_specification() {
        assert_eq!(
            parse_key_values(" a = 1 ,b=x%20y,,").unwrap(),
            vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
        );
        assert_eq!(
            parse_key_values("a=1,oops").unwrap_err(),
            "\"oops\" is not a key=value pair"
        );
        assert_eq!(
            parse_key_values("=1").unwrap_err(),
            "\"=1\" has an empty key"
        );
        assert_eq!(
            parse_key_values("a=%ff").unwrap_err(),
            "the value of \"a\" is not percent-encoded UTF-8"
        );
    }

    #[test]
    fn checks_say_what_is_expected() {
        let second = Duration::from_secs(1);
        assert_eq!(
            check(Check::AtLeast(1), "0", second).unwrap_err(),
            "must be at least 1"
        );
        assert_eq!(
            check(Check::OneOf(&["a", "b", "c"]), " d ", second).unwrap_err(),
            "\"d\" is not supported: use a, b or c"
        );
        assert!(check(Check::BelowInterval, "0s", second).is_ok());
        assert!(check(Check::BelowInterval, "1s", second).is_err());
        assert!(check(Check::AtLeastMillis(100), "100ms", second).is_ok());
    }

    #[test]
    fn rejects_other_schemes_and_relative_urls() {
        assert_eq!(
            parse_http_url("ftp://x").unwrap_err(),
            "scheme must be http or https, not \"ftp\""
        );
        assert_eq!(
            parse_http_url("not a url").unwrap_err(),
            "not a valid URL (relative URL without a base)"
        );
    }
}
