//! The standard OpenTelemetry variables, read only from the injected environment
//! (`ConfigSources.env`), never by the exporter from the process: `OTEL_EXPORTER_OTLP_*` (the
//! `METRICS_` form wins over the generic one), `OTEL_RESOURCE_ATTRIBUTES` and
//! `OTEL_SERVICE_NAME`. Parsers here follow the OpenTelemetry specification and are shared with
//! the matching `otlp.*` keys. The TLS variables name files, read in `tls.rs`.

use std::time::Duration;

use super::origin::{env_origin, Context};
use super::otlp::{Compression, OtlpProtocol, TemporalityPreference};

/// A setting with a metrics-specific and a generic variable; the metrics one wins.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub metrics: &'static str,
    pub generic: &'static str,
}

pub const ENDPOINT: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    generic: "OTEL_EXPORTER_OTLP_ENDPOINT",
};
pub const PROTOCOL: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
    generic: "OTEL_EXPORTER_OTLP_PROTOCOL",
};
pub const HEADERS: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
    generic: "OTEL_EXPORTER_OTLP_HEADERS",
};
pub const COMPRESSION: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
    generic: "OTEL_EXPORTER_OTLP_COMPRESSION",
};
pub const TIMEOUT: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
    generic: "OTEL_EXPORTER_OTLP_TIMEOUT",
};
pub const CERTIFICATE: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
    generic: "OTEL_EXPORTER_OTLP_CERTIFICATE",
};
pub const CLIENT_CERTIFICATE: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
    generic: "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
};
pub const CLIENT_KEY: Pair = Pair {
    metrics: "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
    generic: "OTEL_EXPORTER_OTLP_CLIENT_KEY",
};
/// Metrics only: the specification defines no generic form.
pub const TEMPORALITY_PREFERENCE: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
pub const RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
pub const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// A variable that is set (and not blank): its name and value.
#[derive(Debug, Clone, Copy)]
pub struct EnvValue<'a> {
    pub name: &'static str,
    pub value: &'a str,
}

impl EnvValue<'_> {
    pub fn origin(&self) -> String {
        env_origin(self.name)
    }
}

/// A variable with a single name, if set.
pub fn lookup<'a>(ctx: &Context<'a>, name: &'static str) -> Option<EnvValue<'a>> {
    ctx.env_var(name).map(|value| EnvValue { name, value })
}

impl Pair {
    /// The metrics-specific variable if set, else the generic one.
    pub fn lookup<'a>(&self, ctx: &Context<'a>) -> Option<EnvValue<'a>> {
        [self.metrics, self.generic]
            .into_iter()
            .find_map(|name| ctx.env_var(name).map(|value| EnvValue { name, value }))
    }
}

pub fn parse_protocol(text: &str) -> Result<OtlpProtocol, String> {
    match text.trim() {
        "grpc" => Ok(OtlpProtocol::Grpc),
        "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
        other => Err(format!(
            "{other:?} is not supported: use grpc or http/protobuf"
        )),
    }
}

pub fn parse_compression(text: &str) -> Result<Compression, String> {
    match text.trim() {
        "gzip" => Ok(Compression::Gzip),
        "none" => Ok(Compression::None),
        other => Err(format!("{other:?} is not supported: use gzip or none")),
    }
}

/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: `cumulative`, `delta` or `lowmemory`, in
/// any case, as the specification recognizes them (and `low_memory`, the declarative
/// configuration's spelling).
pub fn parse_temporality_preference(text: &str) -> Result<TemporalityPreference, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "cumulative" => Ok(TemporalityPreference::Cumulative),
        "delta" => Ok(TemporalityPreference::Delta),
        "lowmemory" | "low_memory" => Ok(TemporalityPreference::LowMemory),
        _ => Err(format!(
            "{:?} is not supported: use cumulative, delta or lowmemory",
            text.trim()
        )),
    }
}

/// `OTEL_EXPORTER_OTLP_TIMEOUT`: a whole number of milliseconds.
pub fn parse_timeout_ms(text: &str) -> Result<Duration, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("must be greater than 0".into()),
        Ok(ms) => Ok(Duration::from_millis(ms)),
        Err(_) => Err(format!("{text:?} is not a whole number of milliseconds")),
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

/// The standard variables the agent reads, for the key table: name, default, meaning.
pub const VARIABLES: &[(&str, &str, &str)] = &[
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "`http://localhost:4318` (HTTP), `http://localhost:4317` (gRPC)",
        "base URL of the Collector; for HTTP `/v1/metrics` is appended. Below `otlp.endpoint`",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "unset",
        "full metrics URL, used verbatim; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`",
    ),
    (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "`http/protobuf`",
        "`grpc` or `http/protobuf` (`http/json` is not supported); `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL` wins. Below `otlp.protocol`",
    ),
    (
        "OTEL_EXPORTER_OTLP_HEADERS",
        "none",
        "`key=value` pairs, comma-separated, values percent-encoded; `OTEL_EXPORTER_OTLP_METRICS_HEADERS` wins. Below `otlp.headers`",
    ),
    (
        "OTEL_EXPORTER_OTLP_COMPRESSION",
        "`gzip`",
        "`gzip` or `none` (`zstd` is not supported); `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION` wins. Below `otlp.compression`",
    ),
    (
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "`10000`",
        "export timeout in milliseconds; `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT` wins. Below `otlp.timeout`",
    ),
    (
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        "none",
        "path of a PEM file of CA certificates to trust (TLS, `https` endpoint); `OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE` wins. Below `otlp.tls.ca_file`",
    ),
    (
        "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
        "none",
        "path of the PEM client certificate (mutual TLS); `OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE` wins. Below `otlp.tls.cert_file`",
    ),
    (
        "OTEL_EXPORTER_OTLP_CLIENT_KEY",
        "none",
        "path of the PEM client key (mutual TLS); `OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY` wins. Below `otlp.tls.key_file`",
    ),
    (
        "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE",
        "`cumulative`",
        "`cumulative`, `delta` or `lowmemory` (any case): which sums are exported as deltas (see `otlp.temporality_preference`). Below `otlp.temporality_preference`",
    ),
    (
        "OTEL_RESOURCE_ATTRIBUTES",
        "none",
        "`key=value` pairs, comma-separated, values percent-encoded; below `resource.attributes`",
    ),
    (
        "OTEL_SERVICE_NAME",
        "`qdrant`",
        "`service.name` of everything exported",
    ),
];

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
    fn temporality_preferences_are_the_specifications() {
        for (text, expected) in [
            ("cumulative", TemporalityPreference::Cumulative),
            (" Delta ", TemporalityPreference::Delta),
            ("LowMemory", TemporalityPreference::LowMemory),
            ("low_memory", TemporalityPreference::LowMemory),
        ] {
            assert_eq!(parse_temporality_preference(text), Ok(expected), "{text}");
        }
        assert_eq!(
            parse_temporality_preference("deltas").unwrap_err(),
            "\"deltas\" is not supported: use cumulative, delta or lowmemory"
        );
    }

    #[test]
    fn timeouts_are_milliseconds() {
        assert_eq!(parse_timeout_ms("2500"), Ok(Duration::from_millis(2500)));
        assert_eq!(
            parse_timeout_ms("ten").unwrap_err(),
            "\"ten\" is not a whole number of milliseconds"
        );
    }
}
