//! REST and gRPC responses from telemetry: count and summed duration by method, route and
//! status, node-wide and (with `per_collection=true`) per collection.

use smallvec::smallvec;
use smol_str::SmolStr;

use super::out::Out;
use super::Attributes;
use crate::metrics::registry::{attr, MetricId};
use crate::qdrant::models::{RequestsTelemetry, Responses};

#[derive(Clone, Copy)]
enum Protocol {
    Rest,
    Grpc,
}

pub(super) fn record(out: &mut Out, requests: &RequestsTelemetry) {
    for (responses, protocol) in [
        (&requests.rest, Protocol::Rest),
        (&requests.grpc, Protocol::Grpc),
    ] {
        let Some(responses) = responses else { continue };
        record_responses(out, &responses.responses, protocol, None);
        for (collection, responses) in responses.per_collection_responses.iter().flatten() {
            record_responses(out, responses, protocol, Some(collection));
        }
    }
}

/// Node-wide responses, or one collection's (`per_collection=true`).
fn record_responses(
    out: &mut Out,
    responses: &Responses,
    protocol: Protocol,
    collection: Option<&String>,
) {
    let (count_metric, duration_metric) = match (protocol, collection) {
        (Protocol::Rest, None) => (MetricId::RestResponses, MetricId::RestResponseDuration),
        (Protocol::Grpc, None) => (MetricId::GrpcResponses, MetricId::GrpcResponseDuration),
        (Protocol::Rest, Some(_)) => (
            MetricId::CollectionRestResponses,
            MetricId::CollectionRestResponseDuration,
        ),
        (Protocol::Grpc, Some(_)) => (
            MetricId::CollectionGrpcResponses,
            MetricId::CollectionGrpcResponseDuration,
        ),
    };
    for (endpoint, by_status) in responses {
        for (status, stats) in by_status {
            let mut attributes: Attributes = collection
                .map(|c| (attr::COLLECTION, SmolStr::new(c)))
                .into_iter()
                .collect();
            attributes.extend(endpoint_attributes(protocol, endpoint, status));
            out.push_opt(count_metric, stats.count, attributes.clone());
            out.push_opt(
                duration_metric,
                stats.total_duration_micros.map(|us| us / 1e6),
                attributes,
            );
        }
    }
}

/// REST: `"GET /collections/{collection_name}"` → method and route, plus the status code;
/// gRPC: the method and the status.
fn endpoint_attributes(protocol: Protocol, endpoint: &str, status: &str) -> Attributes {
    match protocol {
        Protocol::Rest => {
            let (method, route) = endpoint.split_once(' ').unwrap_or(("", endpoint));
            smallvec![
                (attr::HTTP_METHOD, SmolStr::new(method)),
                (attr::HTTP_ROUTE, SmolStr::new(route)),
                (attr::HTTP_STATUS, SmolStr::new(status)),
            ]
        }
        Protocol::Grpc => smallvec![
            (attr::RPC_METHOD, SmolStr::new(endpoint)),
            (attr::GRPC_STATUS, SmolStr::new(status)),
        ],
    }
}
