//! Discovery: the configured URLs are seeds. Every `qdrant.discovery.every` the loop reads
//! `/cluster` from the first seed that answers, maps each peer's p2p URI to its REST URL, and
//! reconciles the running nodes with the membership: a new peer (or one that rejoins) is
//! started, a peer gone from `/cluster` is stopped. The seeds are always polled; a node is
//! known by its instance (`host:port` of its REST URL), so a seed listed as a peer runs once.
//! When no seed answers, the running nodes stay as they are.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::fleet::Fleet;
use crate::config::{DiscoverySettings, NodeSettings};
use crate::events::{DiscoveryFailed, DiscoveryRecovered, NodeDiscovered, NodeLeft};
use crate::qdrant::models::ClusterInfo;
use crate::qdrant::{Client, ClientSettings, QdrantError};

/// A member of the cluster, as discovery found it.
struct Member {
    node: NodeSettings,
    /// Its p2p URI.
    peer: String,
}

pub struct Discovery {
    settings: DiscoverySettings,
    seeds: Vec<(NodeSettings, Client)>,
    failing: bool,
}

impl Discovery {
    pub fn new(settings: DiscoverySettings, seeds: Vec<(NodeSettings, Client)>) -> Discovery {
        Discovery {
            settings,
            seeds,
            failing: false,
        }
    }

    /// Follow the membership until `shutdown`, from `poll.initial_delay` on (Qdrant may start
    /// with the agent).
    pub async fn follow(
        mut self,
        fleet: &mut Fleet,
        initial_delay: Duration,
        shutdown: &CancellationToken,
    ) {
        tokio::select! {
            _ = tokio::time::sleep(initial_delay) => {}
            _ = shutdown.cancelled() => return,
        }
        let mut ticker = tokio::time::interval(self.settings.every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = shutdown.cancelled() => break,
            }
            let members = tokio::select! {
                members = self.membership() => members,
                _ = shutdown.cancelled() => break,
            };
            if let Some(members) = members {
                self.reconcile(fleet, members);
            }
            fleet.reap();
        }
    }

    /// The members by instance, from the first seed that answers; `None` if none does.
    async fn membership(&mut self) -> Option<BTreeMap<String, Member>> {
        let mut last_error: Option<QdrantError> = None;
        for (seed, client) in &self.seeds {
            match client.cluster().await {
                Ok(info) => {
                    if std::mem::take(&mut self.failing) {
                        DiscoveryRecovered.emit();
                    }
                    return Some(self.members(seed, &info));
                }
                Err(error) => last_error = Some(error),
            }
        }
        if let Some(error) = &last_error {
            DiscoveryFailed {
                error,
                changed: !self.failing,
            }
            .emit();
            self.failing = true;
        }
        None
    }

    /// The peers `seed` lists, mapped to REST URLs and reached like the seed.
    fn members(&self, seed: &NodeSettings, info: &ClusterInfo) -> BTreeMap<String, Member> {
        let scheme = seed.client.base_url.scheme();
        let mut members = BTreeMap::new();
        for value in info.peers.iter().flat_map(|peers| peers.values()) {
            let Some(peer) = value.get("uri").and_then(|uri| uri.as_str()) else {
                continue;
            };
            let node = self
                .settings
                .rest_url(peer, scheme)
                .and_then(|url| node_at(url, &seed.client));
            match node {
                Some(node) => {
                    let member = Member {
                        node,
                        peer: peer.to_string(),
                    };
                    members.insert(member.node.instance.clone(), member);
                }
                None => tracing::debug!(peer, "Peer URI cannot be mapped to a REST URL; skipped."),
            }
        }
        members
    }

    /// Start the members not running yet, stop the running nodes that are neither members
    /// nor seeds.
    fn reconcile(&self, fleet: &mut Fleet, members: BTreeMap<String, Member>) {
        let seeds: BTreeSet<&str> = self
            .seeds
            .iter()
            .map(|(s, _)| s.instance.as_str())
            .collect();
        for instance in fleet.instances() {
            if !members.contains_key(&instance) && !seeds.contains(instance.as_str()) {
                NodeLeft { node: &instance }.emit();
                fleet.stop(&instance);
            }
        }
        for (instance, member) in members {
            if fleet.is_running(&instance) {
                continue;
            }
            match fleet.client(&member.node) {
                Ok(client) => {
                    NodeDiscovered {
                        node: &instance,
                        peer: &member.peer,
                    }
                    .emit();
                    fleet.start(member.node, client);
                }
                Err(error) => {
                    tracing::warn!(node = %instance, %error, "Discovered node cannot be polled.")
                }
            }
        }
    }
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

/// The node at `url` (an http(s) URL with a host: the seed's scheme or a checked address),
/// reached like `template` (same authentication, timeout, TLS).
fn node_at(url: Url, template: &ClientSettings) -> Option<NodeSettings> {
    let address = url.host_str()?.to_string();
    let port = url.port_or_known_default()?;
    Some(NodeSettings {
        instance: format!("{address}:{port}"),
        address,
        port,
        client: ClientSettings {
            base_url: url,
            ..template.clone()
        },
    })
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
}
