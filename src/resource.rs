//! The resource attributes of what the agent exports (docs/architecture.md, "Resources"). Pure functions.
//!
//! Precedence, lowest first: the attributes the configuration resolved (`service.name =
//! "qdrant"` < `OTEL_RESOURCE_ATTRIBUTES` < `OTEL_SERVICE_NAME` < `resource.attributes`, in
//! `config::Settings::resource_attributes`) < the identity of the node (`service.instance.id`,
//! `server.*`, `db.system.name`, `qdrant.*`), which only the agent knows.
//! `service.namespace` is not set by default: the Prometheus translation would turn `job` into
//! `namespace/qdrant` and break the join with a scrape of Qdrant's own `/metrics`.

use std::collections::BTreeMap;

pub use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};

/// Attributes shared by every resource, as the configuration resolved them.
#[derive(Debug, Clone, Default)]
pub struct BaseAttributes(BTreeMap<String, String>);

impl BaseAttributes {
    /// `resolved`: `config::Settings::resource_attributes` (validated: `server.port` is a port).
    pub fn new(resolved: &[(String, String)]) -> BaseAttributes {
        let mut attributes = BTreeMap::from([("service.name".to_string(), "qdrant".to_string())]);
        attributes.extend(resolved.iter().cloned());
        BaseAttributes(attributes)
    }

    fn with(&self, identity: Vec<(&str, String)>) -> Vec<KeyValue> {
        let mut attributes = self.0.clone();
        for (key, value) in identity {
            attributes.insert(key.to_string(), value);
        }
        attributes
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "server.port" => {
                    let port = v.parse::<i64>().unwrap_or_default();
                    attribute(k, any_value::Value::IntValue(port))
                }
                _ => attribute(k, any_value::Value::StringValue(v)),
            })
            .collect()
    }
}

/// One OTLP attribute.
pub fn attribute(key: impl Into<String>, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

/// What the agent knows of a node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeIdentity {
    pub instance: String,
    pub address: String,
    pub port: u16,
    pub version: Option<String>,
    pub peer_id: Option<u64>,
    /// Set when the node runs in cluster mode.
    pub cluster_name: Option<String>,
}

pub fn node_resource(base: &BaseAttributes, node: &NodeIdentity) -> Vec<KeyValue> {
    let mut identity = vec![
        ("service.instance.id", node.instance.clone()),
        ("server.address", node.address.clone()),
        ("server.port", node.port.to_string()),
        ("db.system.name", "qdrant".to_string()),
    ];
    if let Some(version) = &node.version {
        identity.push(("qdrant.version", version.clone()));
    }
    if let Some(peer_id) = node.peer_id {
        identity.push(("qdrant.peer.id", peer_id.to_string()));
    }
    if let Some(cluster) = &node.cluster_name {
        identity.push(("qdrant.cluster.name", cluster.clone()));
    }
    base.with(identity)
}

/// The resource of cluster-wide metrics: stable when leadership moves between nodes.
pub fn cluster_resource(base: &BaseAttributes, cluster_name: &str) -> Vec<KeyValue> {
    base.with(vec![
        ("service.instance.id", cluster_name.to_string()),
        ("db.system.name", "qdrant".to_string()),
        ("qdrant.cluster.name", cluster_name.to_string()),
    ])
}

/// `key1=value1,key2=value2`, values percent-encoded (W3C baggage style); bad pairs are skipped.
#[cfg(test)]
mod tests {
    use super::*;

    fn map(attrs: &[KeyValue]) -> BTreeMap<String, String> {
        attrs
            .iter()
            .map(|kv| {
                let text = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    Some(any_value::Value::StringValue(s)) => s.clone(),
                    Some(any_value::Value::IntValue(i)) => format!("int {i}"),
                    other => format!("{other:?}"),
                };
                (kv.key.clone(), text)
            })
            .collect()
    }

    #[test]
    fn the_node_identity_wins_over_the_resolved_attributes() {
        let resolved = [
            (
                "deployment.environment.name".to_string(),
                "prod".to_string(),
            ),
            ("service.name".to_string(), "from-env".to_string()),
            ("service.instance.id".to_string(), "x".to_string()),
            ("team".to_string(), "search".to_string()),
        ];
        let base = BaseAttributes::new(&resolved);
        let node = NodeIdentity {
            instance: "q1:6333".into(),
            address: "q1".into(),
            port: 6333,
            version: Some("1.18.3".into()),
            ..NodeIdentity::default()
        };
        let attrs = map(&node_resource(&base, &node));
        assert_eq!(attrs["service.name"], "from-env");
        assert_eq!(attrs["deployment.environment.name"], "prod");
        assert_eq!(attrs["team"], "search");
        assert_eq!(attrs["service.instance.id"], "q1:6333");
        assert_eq!(
            attrs["server.port"], "int 6333",
            "an int, as the SDK exported it"
        );
        assert_eq!(attrs["qdrant.version"], "1.18.3");
        assert!(!attrs.contains_key("service.namespace"));
        assert!(!attrs.contains_key("qdrant.cluster.name"));
    }

    #[test]
    fn default_service_name_is_qdrant() {
        let base = BaseAttributes::new(&[]);
        let attrs = map(&cluster_resource(&base, "prod-cluster"));
        assert_eq!(attrs["service.name"], "qdrant");
        assert_eq!(attrs["service.instance.id"], "prod-cluster");
    }
}
