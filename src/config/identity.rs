//! The node's identity (`service.instance.id`): `host:port` of its URL, unless the user sets
//! it — a sidecar polls `localhost:6333`, but its series must carry the pod's address (the
//! `instance` a Collector's scrape of that pod's `/metrics` gets). In order of precedence:
//! `qdrant.instance`, `resource.attributes."service.instance.id"`, then `service.instance.id`
//! in `OTEL_RESOURCE_ATTRIBUTES`. Only for an agent polling one node: several nodes with one
//! identity would overwrite each other's series (so never with `qdrant.discovery.enabled`).

use super::origin::env_origin;
use super::otel_env;
use super::{Context, NodeSettings, Problems, RawConfig};

const ATTRIBUTE: &str = "service.instance.id";

pub(super) fn apply(
    raw: &RawConfig,
    ctx: &Context,
    nodes: &mut [NodeSettings],
    problems: &mut Problems,
) {
    let Some((key, origin, instance)) = chosen(raw, ctx) else {
        return;
    };
    if instance.trim().is_empty() {
        problems.push(&key, &origin, "must not be empty");
    } else if raw.qdrant.discovery.enabled {
        problems.push(
            &key,
            &origin,
            "sets one identity, but qdrant.discovery.enabled polls every peer of the cluster; set it only when the agent polls one node (a sidecar)",
        );
    } else if nodes.len() > 1 {
        problems.push(
            &key,
            &origin,
            format!(
                "sets one identity for {} nodes; set it only when the agent polls one node (a sidecar)",
                nodes.len()
            ),
        );
    } else if let Some(node) = nodes.first_mut() {
        node.instance = instance.trim().to_string();
    }
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
    let name = otel_env::RESOURCE_ATTRIBUTES;
    let pairs = otel_env::parse_key_values(ctx.env_var(name)?).ok()?;
    let (_, instance) = pairs.into_iter().rev().find(|(k, _)| k == ATTRIBUTE)?;
    Some((name.to_string(), env_origin(name), instance))
}
