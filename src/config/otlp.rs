//! The `otlp` section, resolved with the standard `OTEL_EXPORTER_OTLP_*` variables into complete
//! [`OtlpSettings`]: for each setting the `otlp.*` key (from any layer) wins, then the
//! `METRICS_` variable, then the generic variable, then the default. The exporter is built with
//! every one of these values and reads nothing else (the TLS files: `tls.rs`).

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::otel_env::{self, EnvValue, Pair};
use super::tls::OtlpTls;
use super::url::{parse_http_url, with_metrics_path};
use super::{Context, OtlpConfig, Problems, Secret};

/// The OTLP/HTTP default endpoint (metrics path included).
pub const DEFAULT_OTLP_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
/// The OTLP/gRPC default endpoint.
pub const DEFAULT_OTLP_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// The OTLP default export timeout.
pub const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    Grpc,
    HttpProtobuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    None,
}

/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: the aggregation temporality per
/// instrument kind. Every sum the agent exports is observed (Qdrant's counts, and the agent's
/// own totals read at each poll): an asynchronous instrument in the specification's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporalityPreference {
    /// Everything cumulative (the default).
    #[default]
    Cumulative,
    /// Counters (asynchronous counters: monotonic sums) as deltas; up-down counters stay
    /// cumulative.
    Delta,
    /// Delta for synchronous counters and histograms only; asynchronous counters and every
    /// up-down counter stay cumulative. The agent has no synchronous instrument among these
    /// metrics, so this exports as `cumulative` does.
    LowMemory,
}

impl TemporalityPreference {
    /// Whether monotonic sums (asynchronous counters, all the agent's) are exported as deltas.
    pub fn counters_as_deltas(self) -> bool {
        self == TemporalityPreference::Delta
    }
}

/// Fully resolved OTLP settings.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub protocol: OtlpProtocol,
    /// The URL the exporter sends to: for HTTP with the `/v1/metrics` path.
    pub endpoint: String,
    /// Header names as given (file, flag) or derived from a variable name (`x-token`).
    pub headers: Vec<(String, Secret)>,
    pub compression: Compression,
    pub timeout: Duration,
    /// CA file, client certificate and key (an `https` endpoint).
    pub tls: OtlpTls,
    pub temporality_preference: TemporalityPreference,
}

impl OtlpConfig {
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> OtlpSettings {
        let protocol = resolve(
            ctx,
            problems,
            ("otlp.protocol", self.protocol.as_deref()),
            otel_env::PROTOCOL,
            otel_env::parse_protocol,
        )
        .unwrap_or(OtlpProtocol::HttpProtobuf);
        let compression = resolve(
            ctx,
            problems,
            ("otlp.compression", self.compression.as_deref()),
            otel_env::COMPRESSION,
            otel_env::parse_compression,
        )
        .unwrap_or(Compression::Gzip);
        let endpoint = self.endpoint(ctx, protocol, problems);
        OtlpSettings {
            protocol,
            tls: self.tls.validate(ctx, &endpoint, problems),
            endpoint,
            headers: self.headers(ctx, problems),
            compression,
            timeout: self.timeout(ctx, problems),
            temporality_preference: self.temporality_preference(ctx, problems),
        }
    }

    /// `otlp.temporality_preference`, else the variable, else cumulative.
    fn temporality_preference(
        &self,
        ctx: &Context,
        problems: &mut Problems,
    ) -> TemporalityPreference {
        let key = "otlp.temporality_preference";
        let parse = otel_env::parse_temporality_preference;
        match self.temporality_preference.as_deref() {
            Some(text) => parse(text)
                .map_err(|message| problems.push(key, &ctx.origin(key), message))
                .ok(),
            None => from_env(
                problems,
                otel_env::lookup(ctx, otel_env::TEMPORALITY_PREFERENCE),
                parse,
            ),
        }
        .unwrap_or_default()
    }

    fn endpoint(&self, ctx: &Context, protocol: OtlpProtocol, problems: &mut Problems) -> String {
        let default = match protocol {
            OtlpProtocol::HttpProtobuf => DEFAULT_OTLP_HTTP_ENDPOINT,
            OtlpProtocol::Grpc => DEFAULT_OTLP_GRPC_ENDPOINT,
        };
        // A base URL (like OTEL_EXPORTER_OTLP_ENDPOINT) unless it is the metrics variable.
        let (key, origin, text, verbatim) = if let Some(text) = &self.endpoint {
            (
                "otlp.endpoint",
                ctx.origin("otlp.endpoint"),
                text.as_str(),
                false,
            )
        } else if let Some(var) = otel_env::ENDPOINT.lookup(ctx) {
            let verbatim = var.name == otel_env::ENDPOINT.metrics;
            (var.name, var.origin(), var.value, verbatim)
        } else {
            return default.to_string();
        };
        match parse_http_url(text) {
            Ok(_) if verbatim => text.trim().to_string(),
            Ok((url, _, _)) => match protocol {
                OtlpProtocol::HttpProtobuf => with_metrics_path(&url),
                OtlpProtocol::Grpc => url.as_str().trim_end_matches('/').to_string(),
            },
            Err(message) => {
                problems.push(key, &origin, format!("{text:?}: {message}"));
                default.to_string()
            }
        }
    }

    fn timeout(&self, ctx: &Context, problems: &mut Problems) -> Duration {
        if let Some(timeout) = self.timeout {
            if timeout.is_zero() {
                problems.push(
                    "otlp.timeout",
                    &ctx.origin("otlp.timeout"),
                    "must be greater than 0",
                );
                return DEFAULT_OTLP_TIMEOUT;
            }
            return timeout;
        }
        from_env(
            problems,
            otel_env::TIMEOUT.lookup(ctx),
            otel_env::parse_timeout_ms,
        )
        .unwrap_or(DEFAULT_OTLP_TIMEOUT)
    }

    /// The variable's headers, then the `otlp.headers` keys (replacing a header of the same
    /// name, compared case-insensitively).
    fn headers(&self, ctx: &Context, problems: &mut Problems) -> Vec<(String, Secret)> {
        let mut headers: Vec<(String, Secret)> = Vec::new();
        if let Some(var) = otel_env::HEADERS.lookup(ctx) {
            match otel_env::parse_key_values(var.value) {
                Ok(pairs) => {
                    for (name, value) in pairs {
                        if let Err(message) = check_header(&name, &value) {
                            problems.push(
                                var.name,
                                &var.origin(),
                                format!("header {name:?}: {message}"),
                            );
                        }
                        headers.push((name, Secret::new(value)));
                    }
                }
                Err(message) => problems.push(var.name, &var.origin(), message),
            }
        }
        for (name, value) in &self.headers {
            let key = format!("otlp.headers.{name}");
            if let Err(message) = check_header(name, value.expose()) {
                problems.push(&key, &ctx.origin(&key), message);
            }
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        headers
    }
}

/// The key's value if set, else the variables'; a value that does not parse is a problem under
/// the name it was given as.
fn resolve<T>(
    ctx: &Context,
    problems: &mut Problems,
    (key, value): (&str, Option<&str>),
    pair: Pair,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    match value {
        Some(text) => parse(text)
            .map_err(|message| problems.push(key, &ctx.origin(key), message))
            .ok(),
        None => from_env(problems, pair.lookup(ctx), parse),
    }
}

fn from_env<T>(
    problems: &mut Problems,
    var: Option<EnvValue>,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    let var = var?;
    parse(var.value)
        .map_err(|message| problems.push(var.name, &var.origin(), message))
        .ok()
}

fn check_header(name: &str, value: &str) -> Result<(), String> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err("is not a valid HTTP header name".into());
    }
    if HeaderValue::from_str(value).is_err() {
        return Err("the value holds characters not allowed in an HTTP header".into());
    }
    Ok(())
}
