//! The `qdrant.discovery` section: with it on, the URLs are seeds, and every peer their
//! `/cluster` lists is polled too. A peer is listed by its p2p URI (`http://host:6335/`); its
//! REST URL is the same host with `rest_port` in the seed's scheme, unless `addresses` maps its
//! p2p `host:port` to a URL (NAT, port mappings). Also how a REST URL becomes a node to poll.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::url::parse_http_url;
use super::{Context, DiscoveryConfig, NodeSettings, Problems};
use crate::qdrant::ClientSettings;

/// Validated discovery settings.
#[derive(Debug, Clone)]
pub struct DiscoverySettings {
    pub rest_port: u16,
    /// p2p `host:port` → REST URL.
    pub addresses: BTreeMap<String, Url>,
    /// How often membership is re-read.
    pub every: Duration,
}

impl DiscoverySettings {
    /// The REST URL of the peer with this p2p URI, in `scheme` unless `addresses` maps it.
    pub fn rest_url(&self, p2p_uri: &str, scheme: &str) -> Option<Url> {
        let p2p = Url::parse(p2p_uri.trim()).ok()?;
        let host = p2p.host_str()?;
        let port = p2p.port_or_known_default()?;
        if let Some(url) = self.addresses.get(&format!("{host}:{port}")) {
            return Some(url.clone());
        }
        Url::parse(&format!("{scheme}://{host}:{}", self.rest_port)).ok()
    }
}

impl NodeSettings {
    /// The node at `url`, reached like `template` (same authentication, timeout, TLS).
    pub fn at(url: &Url, template: &ClientSettings) -> Option<NodeSettings> {
        let (url, address, port) = parse_http_url(url.as_str()).ok()?;
        Some(NodeSettings {
            instance: format!("{}:{port}", url.host_str().unwrap_or_default()),
            address,
            port,
            client: ClientSettings {
                base_url: url,
                ..template.clone()
            },
        })
    }
}

impl DiscoveryConfig {
    /// `interval` is `poll.interval`, the lower bound of `every`. `None` when discovery is off.
    pub fn validate(
        &self,
        ctx: &Context,
        interval: Duration,
        problems: &mut Problems,
    ) -> Option<DiscoverySettings> {
        let mut problem =
            |key: &str, message: String| problems.push(key, &ctx.origin(key), message);
        if self.rest_port == 0 {
            problem(
                "qdrant.discovery.rest_port",
                "must be greater than 0".into(),
            );
        }
        let mut addresses = BTreeMap::new();
        for (peer, text) in &self.addresses {
            match parse_http_url(text) {
                Ok((url, _, _)) => {
                    addresses.insert(peer.trim().to_string(), url);
                }
                Err(message) => problem(
                    "qdrant.discovery.addresses",
                    format!("{peer}: {text:?}: {message}"),
                ),
            }
        }
        if !self.enabled {
            return None;
        }
        if self.every < interval {
            problem(
                "qdrant.discovery.every",
                format!(
                    "must be at least poll.interval ({} < {})",
                    humantime::format_duration(self.every),
                    humantime::format_duration(interval)
                ),
            );
        }
        Some(DiscoverySettings {
            rest_port: self.rest_port,
            addresses,
            every: self.every,
        })
    }
}

/// `qdrant.discovery.addresses` as written: a map (a file), or `host:port=url` pairs separated
/// by commas (a variable).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum AddressList {
    Map(BTreeMap<String, String>),
    Pairs(String),
}

impl AddressList {
    pub(super) fn into_map(self) -> Result<BTreeMap<String, String>, String> {
        let text = match self {
            AddressList::Map(map) => return Ok(map),
            AddressList::Pairs(text) => text,
        };
        let mut map = BTreeMap::new();
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((peer, url)) if !peer.trim().is_empty() => {
                    map.insert(peer.trim().to_string(), url.trim().to_string());
                }
                _ => return Err(format!("{pair:?} is not a `host:port=url` pair")),
            }
        }
        Ok(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(addresses: &[(&str, &str)]) -> DiscoverySettings {
        DiscoverySettings {
            rest_port: 6333,
            addresses: addresses
                .iter()
                .map(|(k, v)| (k.to_string(), Url::parse(v).unwrap()))
                .collect(),
            every: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_peer_gets_its_host_with_the_rest_port_unless_mapped() {
        let s = settings(&[("10.0.0.2:6335", "https://node-2.example:443")]);
        let url = |uri: &str, scheme: &str| s.rest_url(uri, scheme).map(|u| u.to_string());
        assert_eq!(
            url("http://qdrant-0.qdrant-headless:6335/", "https").as_deref(),
            Some("https://qdrant-0.qdrant-headless:6333/")
        );
        assert_eq!(
            url("http://10.0.0.2:6335/", "http").as_deref(),
            Some("https://node-2.example/")
        );
        assert_eq!(
            url("http://[fd00::1]:6335", "http").as_deref(),
            Some("http://[fd00::1]:6333/")
        );
        assert_eq!(url("not a uri", "http"), None);
    }

    #[test]
    fn pairs_from_a_variable() {
        let pairs = AddressList::Pairs("a:6335=http://x:1, b:6335 = http://y:2,".into());
        let map = pairs.into_map().unwrap();
        assert_eq!(map["a:6335"], "http://x:1");
        assert_eq!(map["b:6335"], "http://y:2");
        let bad = AddressList::Pairs("a:6335".into()).into_map().unwrap_err();
        assert_eq!(bad, "\"a:6335\" is not a `host:port=url` pair");
    }
}
