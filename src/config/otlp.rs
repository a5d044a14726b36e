//! The `otlp` section resolved into [`OtlpSettings`]: each `otlp.*` key (any layer) wins over its
//! `METRICS_` variable, then the generic one, then the default (the schema's `fallback`). Single
//! values were checked by [`super::checks`]; what spans keys is checked here.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};

use super::checks::{given, parse_http_url, variable_pairs, Given, NOT_A_HEADER};
use super::{Context, OtlpConfig, OtlpTlsConfig, Problems, Secret};

/// The OTLP default export timeout.
const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);

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

/// `otlp.temporality_preference`; every sum the agent exports is observed (asynchronous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TemporalityPreference {
    /// Everything cumulative (the default).
    #[default]
    Cumulative,
    /// Counters (asynchronous: monotonic sums) as deltas; up-down counters stay cumulative.
    Delta,
    /// Deltas for synchronous instruments only, which the agent has none of.
    LowMemory,
}

impl TemporalityPreference {
    /// Whether monotonic sums (all the agent's counters) are exported as deltas.
    pub fn counters_as_deltas(self) -> bool {
        self == TemporalityPreference::Delta
    }
}

#[derive(Debug, Clone)]
pub struct OtlpSettings {
    pub protocol: OtlpProtocol,
    /// The URL the exporter sends to: for HTTP with the `/v1/metrics` path.
    pub endpoint: String,
    pub headers: Vec<(String, Secret)>,
    pub compression: Compression,
    pub timeout: Duration,
    pub tls: OtlpTls,
    pub temporality_preference: TemporalityPreference,
    /// Where the traces of the polls go (`otlp.traces`), none when off.
    pub traces_endpoint: Option<String>,
}

/// The TLS files in effect (the keys, else the variables), checked at load.
pub type OtlpTls = OtlpTlsConfig;

impl OtlpConfig {
    pub fn validate(&self, ctx: &Context, problems: &mut Problems) -> OtlpSettings {
        let text = |key: &str, value: &Option<String>| given(ctx, key, value.as_deref());
        let protocol = match text("otlp.protocol", &self.protocol) {
            Some(g) if g.text.trim() == "grpc" => OtlpProtocol::Grpc,
            _ => OtlpProtocol::HttpProtobuf,
        };
        let compression = match text("otlp.compression", &self.compression) {
            Some(g) if g.text.trim() == "none" => Compression::None,
            _ => Compression::Gzip,
        };
        let endpoint = endpoint(text("otlp.endpoint", &self.endpoint), protocol, problems);
        let temporality_preference =
            match text("otlp.temporality_preference", &self.temporality_preference) {
                Some(g) => parse_temporality_preference(&g.text)
                    .map_err(|message| problems.push(&g.name, &g.origin, message))
                    .unwrap_or_default(),
                None => TemporalityPreference::Cumulative,
            };
        OtlpSettings {
            protocol,
            tls: self.tls(ctx, &endpoint, problems),
            traces_endpoint: self.traces_endpoint(ctx, protocol, &endpoint, problems),
            endpoint,
            headers: self.headers(ctx, problems),
            compression,
            timeout: self.timeout(ctx, problems),
            temporality_preference,
        }
    }

    /// For HTTP, the metrics URL with `/v1/traces` for `/v1/metrics`; without that path, none.
    fn traces_endpoint(
        &self,
        ctx: &Context,
        protocol: OtlpProtocol,
        endpoint: &str,
        problems: &mut Problems,
    ) -> Option<String> {
        if !self.traces {
            return None;
        }
        if protocol == OtlpProtocol::Grpc {
            return Some(endpoint.to_string());
        }
        let traces = endpoint
            .strip_suffix("/v1/metrics")
            .map(|base| format!("{base}/v1/traces"));
        if traces.is_none() {
            let message = format!(
                "traces go beside the metrics, at `/v1/traces`, but the OTLP endpoint \
                 {endpoint} does not end in `/v1/metrics`: give a base URL or one ending in \
                 `/v1/metrics`"
            );
            problems.at(ctx, "otlp.traces", message);
        }
        traces
    }

    /// A client certificate comes with its key, and TLS files need an `https` endpoint.
    fn tls(&self, ctx: &Context, endpoint: &str, problems: &mut Problems) -> OtlpTls {
        let file = |key: &str, value: &Option<PathBuf>| {
            given(ctx, key, value.as_ref().and_then(|p| p.to_str()))
        };
        let ca = file("otlp.tls.ca_file", &self.tls.ca_file);
        let cert = file("otlp.tls.cert_file", &self.tls.cert_file);
        let key = file("otlp.tls.key_file", &self.tls.key_file);
        let alone = match (&cert, &key) {
            (Some(cert), None) => Some((cert, "a client certificate needs its key: set otlp.tls.key_file or OTEL_EXPORTER_OTLP_CLIENT_KEY")),
            (None, Some(key)) => Some((key, "a client key needs its certificate: set otlp.tls.cert_file or OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE")),
            _ => None,
        };
        if let Some((file, message)) = alone {
            problems.push(&file.name, &file.origin, message);
        }
        if let Some(first) = [&ca, &cert, &key].into_iter().flatten().next() {
            if !endpoint.starts_with("https://") {
                problems.push(
                    &first.name,
                    &first.origin,
                    format!("TLS files need an https endpoint; the OTLP endpoint is {endpoint}"),
                );
            }
        }
        let path = |g: Option<Given>| g.map(|g| PathBuf::from(g.text));
        OtlpTls {
            ca_file: path(ca),
            cert_file: path(cert),
            key_file: path(key),
        }
    }

    /// The key's timeout, else the variable's (milliseconds), else the default.
    fn timeout(&self, ctx: &Context, problems: &mut Problems) -> Duration {
        let key = "otlp.timeout";
        let zero = "must be greater than 0".to_string();
        let (name, origin, message) = match (self.timeout, given(ctx, key, None)) {
            (Some(timeout), _) if !timeout.is_zero() => return timeout,
            (Some(_), _) => (key.to_string(), ctx.origin(key), zero),
            (None, None) => return DEFAULT_OTLP_TIMEOUT,
            (None, Some(var)) => match var.text.trim().parse::<u64>() {
                Ok(0) => (var.name, var.origin, zero),
                Ok(ms) => return Duration::from_millis(ms),
                Err(_) => {
                    let message = format!("{:?} is not a whole number of milliseconds", var.text);
                    (var.name, var.origin, message)
                }
            },
        };
        problems.push(&name, &origin, message);
        DEFAULT_OTLP_TIMEOUT
    }

    /// The variable's headers, then the keys' (replacing one of the same name, in any case).
    fn headers(&self, ctx: &Context, problems: &mut Problems) -> Vec<(String, Secret)> {
        let mut headers: Vec<(String, Secret)> = Vec::new();
        if let Some(var) = given(ctx, "otlp.headers", None) {
            let check = |name: &str, value: &str| {
                check_header(name, value).map_err(|message| format!("header {name:?}: {message}"))
            };
            for (name, value) in variable_pairs(&var, problems, check) {
                headers.push((name, Secret::new(value)));
            }
        }
        for (name, value) in &self.headers {
            let key = format!("otlp.headers.{name}");
            if let Err(message) = check_header(name, value.expose()) {
                problems.at(ctx, &key, message);
            }
            headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value.clone()));
        }
        headers
    }
}

/// For HTTP a base URL gets the metrics path (once); the `METRICS_` variable is taken verbatim.
fn endpoint(given: Option<Given>, protocol: OtlpProtocol, problems: &mut Problems) -> String {
    let default = match protocol {
        OtlpProtocol::HttpProtobuf => "http://localhost:4318/v1/metrics",
        OtlpProtocol::Grpc => "http://localhost:4317",
    };
    let Some(given) = given else {
        return default.to_string();
    };
    let verbatim = given.name == "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
    match (parse_http_url(&given.text), protocol) {
        (Ok(_), _) if verbatim => given.text.trim().to_string(),
        (Ok((url, _, _)), OtlpProtocol::HttpProtobuf) if url.path().ends_with("/v1/metrics") => {
            url.to_string()
        }
        (Ok((url, _, _)), OtlpProtocol::HttpProtobuf) => {
            format!("{}/v1/metrics", url.as_str().trim_end_matches('/'))
        }
        (Ok((url, _, _)), OtlpProtocol::Grpc) => url.as_str().trim_end_matches('/').to_string(),
        (Err(message), _) => {
            let message = format!("{:?}: {message}", given.text);
            problems.push(&given.name, &given.origin, message);
            default.to_string()
        }
    }
}

/// As the specification, in any case (and `low_memory`, the declarative configuration's).
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

fn check_header(name: &str, value: &str) -> Result<(), String> {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err("is not a valid HTTP header name".into());
    }
    if HeaderValue::from_str(value).is_err() {
        return Err(NOT_A_HEADER.into());
    }
    Ok(())
}
