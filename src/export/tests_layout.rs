//! The layout across several requests: each request byte for byte what prost writes, with
//! attribute table indexes past 127 (two-byte varints) and one metric's points in two parts.

use super::tests::{data_points, decode, encoded, point};
use super::*;
use crate::metrics::registry::REGISTRY;
use crate::metrics::{Attributes, MetricId, Point};
use crate::resource::attribute;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;

/// (metric name, collection name or "") of every data point of a request, in order.
fn metric_and_collection(request: &ExportMetricsServiceRequest) -> Vec<(String, String)> {
    data_points(request)
        .into_iter()
        .map(|(name, point)| {
            let collection = point
                .attributes
                .iter()
                .find(|kv| kv.key == "db.collection.name")
                .and_then(|kv| kv.value.as_ref()?.value.clone());
            let collection = match collection {
                Some(any_value::Value::StringValue(name)) => name,
                _ => String::new(),
            };
            (name.to_string(), collection)
        })
        .collect()
}

/// Split over several requests, with more than 127 distinct attributes (two-byte table
/// indexes) and points of one metric in two parts: every request is exactly what prost writes
/// for its content, fits the limit, and together they hold every point, in order.
#[test]
fn split_requests_are_byte_for_byte_what_prost_writes() {
    let many: Vec<Point> = (0..300)
        .map(|i| {
            point(
                MetricId::CollectionPoints,
                &format!("collection-{i:03}"),
                f64::from(i),
            )
        })
        .chain((0..300).map(|i| {
            point(
                MetricId::CollectionStatus,
                &format!("collection-{i:03}"),
                1.0,
            )
        }))
        .collect();
    let more: Vec<Point> = (300..340)
        .map(|i| {
            point(
                MetricId::CollectionPoints,
                &format!("collection-{i:03}"),
                f64::from(i),
            )
        })
        .collect();
    let up = Point {
        metric: MetricId::Up,
        attributes: Attributes::new(),
        value: 1.0,
    };
    let resource = vec![attribute(
        "service.name",
        any_value::Value::StringValue("qdrant".into()),
    )];
    let parts = vec![
        encoded(&many),
        encoded(&more),
        encoded(std::slice::from_ref(&up)),
    ];
    let max = 4096;
    let layout = layout(&resource, parts, None, max);
    assert!(
        layout.requests.len() > 4,
        "{} requests",
        layout.requests.len()
    );
    let stamps = Stamps {
        agent_start: 1_700_000_000_000_000_000,
        time: 1_700_000_015_000_000_000,
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    for request in 0..layout.requests.len() {
        let body = encode_request(&layout, request, stamps, &Vec::new()).unwrap();
        assert!(body.len() <= max, "request {request}: {} bytes", body.len());
        let decoded = decode(&body);
        assert_eq!(
            body,
            decoded.encode_to_vec(),
            "request {request} byte for byte"
        );
        seen.extend(metric_and_collection(&decoded));
    }
    let names = |metric: &'static str, range: std::ops::Range<u32>| {
        range.map(move |i| (metric.to_string(), format!("collection-{i:03}")))
    };
    let expected: Vec<(String, String)> = [("qdrant.up".to_string(), String::new())]
        .into_iter()
        .chain(names("qdrant.collection.points", 0..340))
        .chain(names("qdrant.collection.status", 0..300))
        .collect();
    let mut in_registry_order = expected.clone();
    let position = |name: &str| REGISTRY.iter().position(|s| s.name == name);
    in_registry_order[1..].sort_by_key(|(name, _)| position(name));
    assert_eq!(seen, in_registry_order);
}
