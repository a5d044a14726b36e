//! The `qdrant` section as one [`NodeSettings`] per node (URLs, authentication, the timeout
//! bounded by `poll.interval`, the identity), and [`DiscoverySettings`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use humantime::format_duration;
use reqwest::header::HeaderValue;
use serde::{Deserialize, Deserializer};
use url::Url;

use super::checks::{parse_http_url, parse_key_values, NOT_A_HEADER};
use super::{env_origin, BUILT_IN};
use super::{Context, DiscoveryConfig, NodeSettings, Problems, QdrantConfig, RawConfig};
use crate::qdrant::{Auth, ClientSettings};

impl QdrantConfig {
    /// `interval` is `poll.interval`, which bounds the timeout.
    pub fn validate(
        &self,
        ctx: &Context,
        interval: Duration,
        problems: &mut Problems,
    ) -> Vec<NodeSettings> {
        let auth = self.auth(ctx, problems);
        let timeout = self.timeout(ctx, interval, problems);
        let key = "qdrant.url";
        if ctx.env.contains_key("QDRANT_URL") && ctx.env_var("QDRANT_URL").is_none() {
            problems.push(key, &env_origin("QDRANT_URL"), "is set but empty");
        }
        let urls = self.url.to_vec();
        if urls.is_empty() {
            problems.at(ctx, key, "at least one Qdrant URL is required");
        }
        let mut nodes: Vec<NodeSettings> = Vec::new();
        for text in urls {
            let (base_url, address, port) = match parse_http_url(&text) {
                Ok(parsed) => parsed,
                Err(message) => {
                    problems.at(ctx, key, format!("{text:?}: {message}"));
                    continue;
                }
            };
            let instance = format!("{address}:{port}");
            if nodes.iter().any(|n| n.instance == instance) {
                problems.at(ctx, key, format!("{text:?} is listed twice"));
                continue;
            }
            let client = ClientSettings {
                base_url,
                auth: auth.clone(),
                timeout,
                max_response_bytes: self.max_response_bytes,
                ca_file: self.tls.ca_file.clone(),
                insecure_skip_verify: self.tls.insecure_skip_verify,
                follow_redirects: self.follow_redirects,
            };
            nodes.push(NodeSettings {
                instance,
                address,
                port,
                client,
            });
        }
        nodes
    }

    /// Unset, the smaller of the default and `poll.interval` (as Prometheus does with
    /// `scrape_timeout`); set, it must be below the interval.
    fn timeout(&self, ctx: &Context, interval: Duration, problems: &mut Problems) -> Duration {
        let key = "qdrant.timeout";
        if ctx.origin(key) == BUILT_IN || problems.problems.iter().any(|p| p.key == key) {
            return match self.timeout.min(interval) {
                t if t.is_zero() => self.timeout,
                t => t,
            };
        }
        if self.timeout.is_zero() {
            problems.at(ctx, key, "must be greater than 0");
        } else if self.timeout >= interval && !interval.is_zero() {
            let (timeout, interval) = (format_duration(self.timeout), format_duration(interval));
            let message = format!("must be below poll.interval ({timeout} >= {interval})");
            problems.at(ctx, key, message);
        }
        self.timeout
    }

    fn auth(&self, ctx: &Context, problems: &mut Problems) -> Auth {
        let set: Vec<&str> = [
            self.api_key.as_ref().map(|_| "qdrant.api_key"),
            self.api_key_file.as_ref().map(|_| "qdrant.api_key_file"),
            self.jwt.as_ref().map(|_| "qdrant.jwt"),
        ]
        .into_iter()
        .flatten()
        .collect();
        if set.len() > 1 {
            problems.at(ctx, set[1], format!("set only one of {}", set.join(", ")));
        }
        if let Some(key) = &self.api_key {
            let key = key.expose().trim();
            if key.is_empty() {
                problems.at(ctx, "qdrant.api_key", "must not be empty");
            } else if HeaderValue::from_str(key).is_err() {
                problems.at(ctx, "qdrant.api_key", NOT_A_HEADER);
            }
            Auth::ApiKey(key.to_string())
        } else if let Some(path) = &self.api_key_file {
            read_key_file(path)
                .map(Auth::ApiKey)
                .unwrap_or_else(|message| {
                    problems.at(ctx, "qdrant.api_key_file", message);
                    Auth::None
                })
        } else if let Some(jwt) = &self.jwt {
            let jwt = jwt.expose().trim();
            if HeaderValue::from_str(&format!("Bearer {jwt}")).is_err() {
                problems.at(ctx, "qdrant.jwt", NOT_A_HEADER);
            }
            Auth::Jwt(jwt.to_string())
        } else {
            Auth::None
        }
    }
}

/// The key in the file, trimmed; it must be a valid header value.
fn read_key_file(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    match text.trim() {
        "" => Err(format!("{shown} is empty")),
        key if HeaderValue::from_str(key).is_err() => Err(format!(
            "{shown} holds characters not allowed in an HTTP header"
        )),
        key => Ok(key.to_string()),
    }
}

const ATTRIBUTE: &str = "service.instance.id";

/// The node's `service.instance.id`, set by the user for a sidecar (polling `localhost:6333`, its
/// series carry the pod's address): `qdrant.instance`, else the resource attribute, else the
/// variable's.
pub(super) fn apply_identity(
    raw: &RawConfig,
    ctx: &Context,
    nodes: &mut [NodeSettings],
    problems: &mut Problems,
) {
    let Some((key, origin, instance)) = chosen(raw, ctx) else {
        return;
    };
    let sidecar = "set it only when the agent polls one node (a sidecar)";
    let message = if instance.trim().is_empty() {
        "must not be empty".to_string()
    } else if raw.qdrant.discovery.enabled {
        format!("sets one identity, but qdrant.discovery.enabled polls every peer of the cluster; {sidecar}")
    } else if nodes.len() > 1 {
        format!("sets one identity for {} nodes; {sidecar}", nodes.len())
    } else {
        if let Some(node) = nodes.first_mut() {
            node.instance = instance.trim().to_string();
        }
        return;
    };
    problems.push(&key, &origin, message);
}

/// The identity the user set, with the key and origin it came from.
fn chosen(raw: &RawConfig, ctx: &Context) -> Option<(String, String, String)> {
    if let Some(instance) = &raw.qdrant.instance {
        let key = "qdrant.instance";
        return Some((key.into(), ctx.origin(key), instance.clone()));
    }
    if let Some(instance) = raw.resource.attributes.get(ATTRIBUTE) {
        let key = format!("resource.attributes.{ATTRIBUTE}");
        return Some((key.clone(), ctx.origin(&key), instance.clone()));
    }
    let name = "OTEL_RESOURCE_ATTRIBUTES";
    let pairs = parse_key_values(ctx.env_var(name)?).ok()?;
    let (_, instance) = pairs.into_iter().rev().find(|(k, _)| k == ATTRIBUTE)?;
    Some((name.to_string(), env_origin(name), instance))
}

/// Validated discovery settings (peers are mapped to URLs in `agent::discovery`).
#[derive(Debug, Clone)]
pub struct DiscoverySettings {
    pub rest_port: u16,
    /// p2p `host:port` → REST URL.
    pub addresses: BTreeMap<String, Url>,
    /// How often membership is re-read.
    pub every: Duration,
}

impl DiscoveryConfig {
    /// `interval` is `poll.interval`, the lower bound of `every`. `None` when discovery is off.
    pub fn validate(
        &self,
        ctx: &Context,
        interval: Duration,
        problems: &mut Problems,
    ) -> Option<DiscoverySettings> {
        let mut addresses = BTreeMap::new();
        for (peer, text) in &self.addresses {
            match parse_http_url(text) {
                Ok((url, _, _)) => {
                    addresses.insert(peer.trim().to_string(), url);
                }
                Err(message) => {
                    let message = format!("{peer}: {text:?}: {message}");
                    problems.at(ctx, "qdrant.discovery.addresses", message);
                }
            }
        }
        if !self.enabled {
            return None;
        }
        if self.every < interval {
            let (every, interval) = (format_duration(self.every), format_duration(interval));
            let message = format!("must be at least poll.interval ({every} < {interval})");
            problems.at(ctx, "qdrant.discovery.every", message);
        }
        Some(DiscoverySettings {
            rest_port: self.rest_port,
            addresses,
            every: self.every,
        })
    }
}

/// `qdrant.discovery.addresses`: a map (a file), or `host:port=url` pairs (a variable).
pub(super) fn address_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum AddressList {
        Map(BTreeMap<String, String>),
        Pairs(String),
    }
    let text = match AddressList::deserialize(deserializer)? {
        AddressList::Map(map) => return Ok(map),
        AddressList::Pairs(text) => text,
    };
    let pairs = text.split(',').map(str::trim).filter(|p| !p.is_empty());
    pairs
        .map(|pair| match pair.split_once('=') {
            Some((peer, url)) if !peer.trim().is_empty() => {
                Ok((peer.trim().to_string(), url.trim().to_string()))
            }
            _ => {
                let message = format!("{pair:?} is not a `host:port=url` pair");
                Err(serde::de::Error::custom(message))
            }
        })
        .collect()
}
