//! The `qdrant` section: node URLs, authentication (the key file is read here), the CA file
//! (read and PEM-checked here, so `check-config` catches a bad one), timeouts and limits, turned
//! into one [`NodeSettings`] per node.

use std::path::Path;
use std::time::Duration;

use reqwest::header::HeaderValue;

use super::origin::env_origin;
use super::tls::check_ca_file;
use super::url::parse_http_url;
use super::{Context, NodeSettings, Problems, QdrantConfig};
use crate::qdrant::{Auth, ClientSettings};

const NOT_A_HEADER: &str = "the value holds characters not allowed in an HTTP header";

impl QdrantConfig {
    /// `interval` is `poll.interval`, which bounds the timeout.
    pub fn validate(
        &self,
        ctx: &Context,
        interval: Duration,
        problems: &mut Problems,
    ) -> Vec<NodeSettings> {
        let auth = self.auth(ctx, problems);
        if let Some(path) = &self.tls.ca_file {
            if let Err(message) = check_ca_file(path) {
                problems.push(
                    "qdrant.tls.ca_file",
                    &ctx.origin("qdrant.tls.ca_file"),
                    message,
                );
            }
        }
        let timeout = self.timeout(ctx, interval, problems);
        let mut check = |key: &str, ok: bool, message: &str| {
            if !ok {
                problems.push(key, &ctx.origin(key), message);
            }
        };
        check(
            "qdrant.max_concurrency",
            self.max_concurrency > 0,
            "must be at least 1",
        );
        check(
            "qdrant.max_response_bytes",
            self.max_response_bytes >= 1024,
            "must be at least 1024",
        );
        let client = |base_url: ::url::Url| ClientSettings {
            base_url,
            auth: auth.clone(),
            timeout,
            max_response_bytes: self.max_response_bytes,
            ca_file: self.tls.ca_file.clone(),
            insecure_skip_verify: self.tls.insecure_skip_verify,
            follow_redirects: self.follow_redirects,
        };
        self.nodes(ctx, &client, problems)
    }

    /// The effective timeout: unset, the smaller of the default and `poll.interval` (as
    /// Prometheus does with `scrape_timeout`); set, it must be below the interval.
    fn timeout(&self, ctx: &Context, interval: Duration, problems: &mut Problems) -> Duration {
        let key = "qdrant.timeout";
        if !ctx.is_set(key) || problems.has(key) {
            return match self.timeout.min(interval) {
                t if t.is_zero() => self.timeout,
                t => t,
            };
        }
        if self.timeout.is_zero() {
            problems.push(key, &ctx.origin(key), "must be greater than 0");
        } else if self.timeout >= interval && !interval.is_zero() {
            let message = format!(
                "must be below poll.interval ({} >= {})",
                humantime::format_duration(self.timeout),
                humantime::format_duration(interval)
            );
            problems.push(key, &ctx.origin(key), message);
        }
        self.timeout
    }

    fn auth(&self, ctx: &Context, problems: &mut Problems) -> Auth {
        let given: Vec<&str> = [
            self.api_key.as_ref().map(|_| "qdrant.api_key"),
            self.api_key_file.as_ref().map(|_| "qdrant.api_key_file"),
            self.jwt.as_ref().map(|_| "qdrant.jwt"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if given.len() > 1 {
            let message = format!("set only one of {}", given.join(", "));
            problems.push(given[1], &ctx.origin(given[1]), message);
        }
        let mut problem =
            |key: &str, message: String| problems.push(key, &ctx.origin(key), message);
        if let Some(key) = &self.api_key {
            let key = key.expose().trim();
            if key.is_empty() {
                problem("qdrant.api_key", "must not be empty".into());
            } else if HeaderValue::from_str(key).is_err() {
                problem("qdrant.api_key", NOT_A_HEADER.into());
            }
            Auth::ApiKey(key.to_string())
        } else if let Some(path) = &self.api_key_file {
            match read_key_file(path) {
                Ok(key) => Auth::ApiKey(key),
                Err(message) => {
                    problem("qdrant.api_key_file", message);
                    Auth::None
                }
            }
        } else if let Some(jwt) = &self.jwt {
            let jwt = jwt.expose().trim();
            if HeaderValue::from_str(&format!("Bearer {jwt}")).is_err() {
                problem("qdrant.jwt", NOT_A_HEADER.into());
            }
            Auth::Jwt(jwt.to_string())
        } else {
            Auth::None
        }
    }

    fn nodes(
        &self,
        ctx: &Context,
        client: &dyn Fn(::url::Url) -> ClientSettings,
        problems: &mut Problems,
    ) -> Vec<NodeSettings> {
        let key = "qdrant.url";
        if ctx
            .env
            .get("QDRANT_URL")
            .is_some_and(|v| v.trim().is_empty())
        {
            problems.push(key, &env_origin("QDRANT_URL"), "is set but empty");
        }
        let urls = self.url.to_vec();
        if urls.is_empty() {
            problems.push(key, &ctx.origin(key), "at least one Qdrant URL is required");
        }
        let mut nodes: Vec<NodeSettings> = Vec::new();
        for text in urls {
            let (url, address, port) = match parse_http_url(&text) {
                Ok(parsed) => parsed,
                Err(message) => {
                    problems.push(key, &ctx.origin(key), format!("{text:?}: {message}"));
                    continue;
                }
            };
            let instance = format!("{}:{port}", url.host_str().unwrap_or_default());
            if nodes.iter().any(|n| n.instance == instance) {
                problems.push(key, &ctx.origin(key), format!("{text:?} is listed twice"));
                continue;
            }
            nodes.push(NodeSettings {
                instance,
                address,
                port,
                client: client(url),
            });
        }
        nodes
    }
}

/// The key in the file, trimmed; it must be a valid header value.
fn read_key_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let key = text.trim();
    if key.is_empty() {
        return Err(format!("{} is empty", path.display()));
    }
    if HeaderValue::from_str(key).is_err() {
        return Err(format!(
            "{} holds characters not allowed in an HTTP header",
            path.display()
        ));
    }
    Ok(key.to_string())
}
