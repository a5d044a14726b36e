//! Unit tests of the encoder and the error wording.

use super::transport::parse_retry_after;
use super::*;
use crate::config::TemporalityPreference;
use crate::metrics::registry::{attr, CountsFrom, REGISTRY};
use crate::metrics::{Attributes, MetricId, Point};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{
    metric, Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use smallvec::smallvec;
use smol_str::SmolStr;

use crate::resource::attribute;

pub(super) fn encoded(points: &[Point]) -> Arc<EncodedPoints> {
    Arc::new(EncodedPoints::from(points))
}

pub(super) fn point(metric: MetricId, collection: &str, value: f64) -> Point {
    Point {
        metric,
        attributes: smallvec![("db.collection.name", SmolStr::new(collection))],
        value,
    }
}

pub(super) fn http_settings() -> OtlpSettings {
    OtlpSettings {
        protocol: OtlpProtocol::HttpProtobuf,
        endpoint: "http://127.0.0.1:9/v1/metrics".into(),
        headers: Vec::new(),
        compression: Compression::None,
        timeout: Duration::from_secs(1),
        tls: Default::default(),
        temporality_preference: TemporalityPreference::Cumulative,
        traces_endpoint: None,
    }
}

pub(super) fn decode(body: &[u8]) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest::decode(body).expect("a valid ExportMetricsServiceRequest")
}

pub(super) fn data_points(request: &ExportMetricsServiceRequest) -> Vec<(&str, &NumberDataPoint)> {
    let mut out = Vec::new();
    for metric in &request.resource_metrics[0].scope_metrics[0].metrics {
        let points = match metric.data.as_ref().unwrap() {
            metric::Data::Gauge(g) => &g.data_points,
            metric::Data::Sum(s) => &s.data_points,
            _ => unreachable!(),
        };
        out.extend(points.iter().map(|p| (metric.name.as_str(), p)));
    }
    out
}

#[test]
fn large_exports_split_under_the_limit_with_up_first() {
    let points: Vec<Point> = (0..20_000)
        .map(|i| point(MetricId::CollectionPoints, &format!("c{i:05}"), i as f64))
        .collect();
    let up = vec![Point {
        metric: MetricId::Up,
        attributes: Attributes::new(),
        value: 1.0,
    }];
    let resource = vec![attribute(
        "service.name",
        any_value::Value::StringValue("qdrant".into()),
    )];
    let max = 64 * 1024;
    let mut exporter =
        ResourceExporter::with_max_request_bytes(OtlpClient::new(http_settings()), max);
    assert_eq!(exporter.publish(resource.clone(), Vec::new(), None), 0);
    assert_eq!(exporter.request_count(), 0, "no points, no request");

    assert_eq!(
        exporter.publish(resource, vec![encoded(&points), encoded(&up)], None),
        20_001
    );
    let bodies = exporter.encode_bodies();
    assert!(bodies.len() > 5, "{} requests", bodies.len());
    let mut total = 0;
    for (i, body) in bodies.iter().enumerate() {
        assert!(body.len() <= max, "request {i}: {} bytes", body.len());
        assert!(body.len() > max * 9 / 10 || i == bodies.len() - 1, "packed");
        let request = decode(body);
        let points = data_points(&request);
        assert_eq!(points[0].0 == "qdrant.up", i == 0);
        total += points.len();
    }
    assert_eq!(total, 20_001);
}

/// A point's attributes as prost's structs hold them: ints for the int-valued keys.
fn reference_attributes(point: &Point) -> Vec<KeyValue> {
    point
        .attributes
        .iter()
        .map(|(k, v)| {
            let value = match v.parse::<i64>() {
                Ok(int) if attr::INT_VALUED.contains(k) => any_value::Value::IntValue(int),
                _ => any_value::Value::StringValue(v.to_string()),
            };
            attribute(*k, value)
        })
        .collect()
}

/// A metric as prost's structs hold it, with these points and, for a sum, this temporality.
fn reference_metric(
    spec: &MetricSpec,
    data_points: Vec<NumberDataPoint>,
    temporality: AggregationTemporality,
) -> Metric {
    let sum = |is_monotonic| {
        metric::Data::Sum(Sum {
            data_points: data_points.clone(),
            aggregation_temporality: temporality as i32,
            is_monotonic,
        })
    };
    let data = match spec.instrument {
        Instrument::Gauge => metric::Data::Gauge(Gauge {
            data_points: data_points.clone(),
        }),
        Instrument::Counter => sum(true),
        Instrument::UpDownCounter => sum(false),
    };
    Metric {
        name: spec.name.to_string(),
        description: spec.description.to_string(),
        unit: spec.unit.to_string(),
        data: Some(data),
        ..Metric::default()
    }
}

/// The request `prost` would write for these metrics, built from its generated structs: what
/// the direct encoder must match byte for byte.
fn reference_request(resource: &[KeyValue], metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource.to_vec(),
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "qdrant-otel-agent".to_string(),
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    ..InstrumentationScope::default()
                }),
                metrics,
                schema_url: "https://opentelemetry.io/schemas/1.38.0".to_string(),
            }],
            ..ResourceMetrics::default()
        }],
    }
}

/// Cumulative metrics of these points, all stamped `time`: Qdrant's own counters start at
/// `qdrant_start`, everything else at `agent_start`.
fn cumulative_metrics(
    grouped: &[(MetricId, Vec<&Point>)],
    (agent_start, qdrant_start): (u64, u64),
    time: u64,
) -> Vec<Metric> {
    grouped
        .iter()
        .map(|(id, points)| {
            let spec = MetricSpec::get(*id);
            let start = match spec.counts_from {
                CountsFrom::Agent => agent_start,
                CountsFrom::QdrantStart => qdrant_start,
            };
            let data_points = points
                .iter()
                .map(|p| NumberDataPoint {
                    attributes: reference_attributes(p),
                    start_time_unix_nano: start,
                    time_unix_nano: time,
                    value: Some(number_value(spec, p.value)),
                    ..NumberDataPoint::default()
                })
                .collect();
            reference_metric(spec, data_points, AggregationTemporality::Cumulative)
        })
        .collect()
}

/// Points of every kind the encoder meets, in recorded order (`qdrant.up` aside).
fn sample_points() -> Vec<Point> {
    let long_name = "a-collection-name-longer-than-23-bytes.v2 ✓ 名前";
    let counter = Point {
        metric: MetricId::PollErrors,
        attributes: smallvec![
            ("qdrant.agent.source", SmolStr::new_static("telemetry")),
            ("error.type", SmolStr::new_static("timeout")),
        ],
        value: -2.0,
    };
    let double = REGISTRY
        .iter()
        .find(|s| s.value_type == ValueType::Double && s.attributes.is_empty())
        .expect("a double metric without attributes");
    let fraction = Point {
        metric: double.id,
        attributes: Attributes::new(),
        value: 0.125,
    };
    let updown = REGISTRY
        .iter()
        .find(|s| s.instrument == Instrument::UpDownCounter)
        .expect("an up-down counter");
    let level = Point {
        metric: updown.id,
        attributes: smallvec![("db.collection.name", SmolStr::new("x"))],
        value: 7.0,
    };
    let vectors = |attributes: [(&'static str, &str); 2], value| Point {
        metric: MetricId::CollectionVectors,
        attributes: attributes
            .into_iter()
            .map(|(key, value)| (key, SmolStr::new(value)))
            .collect(),
        value,
    };
    // Each attribute is held once, in a table: a name seen again after another (`long_name`
    // after "x"), a collection followed by another attribute, one not first (expanded in its
    // place), and 20 collections, then the fourth again.
    let mut points = vec![
        point(MetricId::CollectionPoints, long_name, 41.6),
        counter,
        point(MetricId::CollectionPoints, "", 0.0),
        fraction,
        level,
        point(MetricId::CollectionStatus, long_name, 1.0),
        vectors(
            [("db.collection.name", "x"), ("qdrant.vector.name", "image")],
            3.0,
        ),
        vectors(
            [("qdrant.vector.name", "text"), ("db.collection.name", "x")],
            4.0,
        ),
    ];
    points
        .extend((0..20).map(|i| point(MetricId::CollectionPoints, &format!("c{i}"), f64::from(i))));
    points.push(point(MetricId::CollectionPoints, "c3", 33.0));
    points.extend(status_points());
    points
}

/// Status codes, ints in OTLP: one-, two- and ten-byte varints (0 is written too: a oneof),
/// and a value that is not a number, which stays a string.
fn status_points() -> Vec<Point> {
    let rest = |status: &str| Point {
        metric: MetricId::RestResponses,
        attributes: smallvec![
            (attr::HTTP_METHOD, SmolStr::new_static("GET")),
            (attr::HTTP_ROUTE, SmolStr::new_static("/collections")),
            (attr::HTTP_STATUS, SmolStr::new(status)),
        ],
        value: 2.0,
    };
    let grpc = |status: &str| Point {
        metric: MetricId::GrpcResponses,
        attributes: smallvec![
            (
                attr::RPC_METHOD,
                SmolStr::new_static("/qdrant.Points/Query")
            ),
            (attr::GRPC_STATUS, SmolStr::new(status)),
        ],
        value: 1.0,
    };
    vec![
        rest("200"),
        rest("503"),
        rest("not-a-number"),
        grpc("0"),
        grpc("5"),
        grpc("-1"),
    ]
}

#[test]
fn the_direct_encoder_writes_what_prost_writes() {
    let recorded = sample_points();
    let up = Point {
        metric: MetricId::Up,
        attributes: Attributes::new(),
        value: 1.0,
    };
    let resource = vec![
        attribute(
            "service.name",
            any_value::Value::StringValue("qdrant".into()),
        ),
        attribute("host.port", any_value::Value::IntValue(6333)),
    ];
    let parts = vec![encoded(&recorded), encoded(std::slice::from_ref(&up))];
    let qdrant_start = 1_699_000_000_000_000_000;
    let layout = layout(&resource, parts, Some(qdrant_start), MAX_REQUEST_BYTES);
    assert_eq!(layout.requests.len(), 1);
    let (start, time) = (1_700_000_000_000_000_000, 1_700_000_015_123_456_789);
    let stamps = Stamps {
        agent_start: start,
        time,
    };
    let body = encode_request(&layout, 0, stamps, &Vec::new()).unwrap();

    // Registry order, `qdrant.up` and the agent's metrics first, points in recorded order.
    let mut grouped: Vec<(MetricId, Vec<&Point>)> = Vec::new();
    let all: Vec<&Point> = recorded.iter().chain([&up]).collect();
    let (first, rest): (Vec<&MetricSpec>, Vec<&MetricSpec>) =
        REGISTRY.iter().partition(|s| goes_first(s));
    for spec in first.into_iter().chain(rest) {
        let points: Vec<&Point> = all
            .iter()
            .copied()
            .filter(|p| p.metric == spec.id)
            .collect();
        if !points.is_empty() {
            grouped.push((spec.id, points));
        }
    }
    let metrics = cumulative_metrics(&grouped, (start, qdrant_start), time);
    let expected = reference_request(&resource, metrics);
    assert_eq!(decode(&body), expected);
    assert_eq!(body, expected.encode_to_vec(), "byte for byte");
}

#[test]
fn values_follow_the_registry_types() {
    let spec = |id| MetricSpec::get(id);
    let counter_int = REGISTRY
        .iter()
        .find(|s| s.instrument == Instrument::Counter && s.value_type == ValueType::Int)
        .unwrap();
    assert_eq!(
        number_value(counter_int, -3.0),
        number_data_point::Value::AsInt(0)
    );
    assert_eq!(
        number_value(spec(MetricId::CollectionPoints), 2.6),
        number_data_point::Value::AsInt(3)
    );
    let double = REGISTRY
        .iter()
        .find(|s| s.value_type == ValueType::Double)
        .unwrap();
    assert_eq!(
        number_value(double, 0.25),
        number_data_point::Value::AsDouble(0.25)
    );
}

fn settings(protocol: OtlpProtocol, endpoint: String) -> OtlpSettings {
    OtlpSettings {
        protocol,
        endpoint,
        headers: Vec::new(),
        compression: Compression::Gzip,
        timeout: Duration::from_secs(2),
        tls: Default::default(),
        temporality_preference: TemporalityPreference::Cumulative,
        traces_endpoint: None,
    }
}

#[tokio::test]
async fn refused_connections_are_named_for_both_transports() {
    // A port nothing listens on: bind, note it, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let up = encoded(&[Point {
        metric: MetricId::Up,
        attributes: Attributes::new(),
        value: 1.0,
    }]);
    for (protocol, endpoint) in [
        (
            OtlpProtocol::HttpProtobuf,
            format!("http://127.0.0.1:{port}/v1/metrics"),
        ),
        (OtlpProtocol::Grpc, format!("http://127.0.0.1:{port}")),
    ] {
        let mut exporter = ResourceExporter::new(settings(protocol, endpoint.clone()));
        exporter.publish(Vec::new(), vec![Arc::clone(&up)], None);
        let error = exporter.flush().await.unwrap_err();
        assert!(
            matches!(error, ExportError::Connect { .. }),
            "{protocol:?}: {error:?}"
        );
        assert!(
            error.to_string().ends_with("connection refused"),
            "{protocol:?}: {error}"
        );
    }
}

#[tokio::test]
async fn invalid_settings_are_found_up_front() {
    let mut otlp = settings(OtlpProtocol::Grpc, "http://localhost:4317".into());
    otlp.headers = vec![("bad header".into(), crate::config::Secret::new("x"))];
    assert!(OtlpClient::build(otlp.clone()).is_err());
    otlp.protocol = OtlpProtocol::HttpProtobuf;
    assert!(OtlpClient::build(otlp.clone()).is_err());
    let otlp = settings(OtlpProtocol::HttpProtobuf, "not a url".into());
    assert!(OtlpClient::build(otlp.clone()).is_err());
    let otlp = settings(OtlpProtocol::Grpc, "https://collector.example:4317".into());
    assert!(
        OtlpClient::build(otlp.clone()).is_ok(),
        "TLS with the enabled roots"
    );
}

#[test]
fn retry_after_reads_seconds_and_dates() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    assert_eq!(parse_retry_after(" 2 ", now), Some(Duration::from_secs(2)));
    let date = httpdate::fmt_http_date(now + Duration::from_secs(30));
    assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(30)));
    assert_eq!(
        parse_retry_after("86400", now),
        Some(MAX_RETRY_AFTER),
        "capped"
    );
    assert_eq!(parse_retry_after("soon", now), None);
}

#[test]
fn error_bodies_become_one_short_line() {
    assert_eq!(error_body_excerpt(b"bad\n  request"), "bad request");
    let long = "x".repeat(500);
    assert_eq!(
        error_body_excerpt(long.as_bytes()).chars().count(),
        BODY_EXCERPT_CHARS + 1
    );
}

#[test]
fn varints_are_written_as_prost_writes_them() {
    for value in [
        0,
        1,
        127,
        128,
        300,
        16_383,
        16_384,
        u64::from(u32::MAX),
        u64::MAX,
    ] {
        let (mut ours, mut prosts) = (Vec::new(), Vec::new());
        put_varint(&mut ours, value);
        prost::encoding::encode_varint(value, &mut prosts);
        assert_eq!(ours, prosts, "{value}");
    }
}
