//! Unit tests of the encoder and the error wording.

use super::*;
use crate::metrics::MetricId;

fn point(metric: MetricId, collection: &str, value: f64) -> Point {
    Point {
        metric,
        attributes: vec![("db.collection.name", collection.to_string())],
        value,
    }
}

fn data_points(request: &ExportMetricsServiceRequest) -> Vec<(&str, &NumberDataPoint)> {
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
    let up = [Point {
        metric: MetricId::Up,
        attributes: Vec::new(),
        value: 1.0,
    }];
    let resource = vec![attribute(
        "service.name",
        any_value::Value::StringValue("qdrant".into()),
    )];
    let max = 64 * 1024;
    let requests = split_requests(
        &resource,
        [(MetricSpec::get(MetricId::Up), Vec::new())].into_iter(),
        max,
    );
    assert!(requests.is_empty(), "no points, no request");

    let otlp = OtlpSettings {
        protocol: OtlpProtocol::HttpProtobuf,
        endpoint: "http://127.0.0.1:9/v1/metrics".into(),
        headers: Vec::new(),
        compression: Compression::Gzip,
        timeout: Duration::from_secs(1),
    };
    let mut exporter = ResourceExporter::with_max_request_bytes(otlp, max);
    assert_eq!(exporter.publish(resource, &[&points, &up]).unwrap(), 20_001);
    let requests = &exporter.published.as_ref().unwrap().requests;
    assert!(requests.len() > 5, "{} requests", requests.len());
    let mut total = 0;
    for (i, request) in requests.iter().enumerate() {
        let size = request.encoded_len();
        assert!(size <= max, "request {i}: {size} bytes");
        assert!(size > max * 9 / 10 || i == requests.len() - 1, "packed");
        let points = data_points(request);
        assert_eq!(points[0].0 == "qdrant.up", i == 0);
        total += points.len();
    }
    assert_eq!(total, 20_001);
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
    let up = [Point {
        metric: MetricId::Up,
        attributes: Vec::new(),
        value: 1.0,
    }];
    for (protocol, endpoint) in [
        (
            OtlpProtocol::HttpProtobuf,
            format!("http://127.0.0.1:{port}/v1/metrics"),
        ),
        (OtlpProtocol::Grpc, format!("http://127.0.0.1:{port}")),
    ] {
        let mut exporter = ResourceExporter::new(settings(protocol, endpoint.clone()));
        exporter.publish(Vec::new(), &[&up]).unwrap();
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
    assert!(check_exporter(&otlp).is_err());
    otlp.protocol = OtlpProtocol::HttpProtobuf;
    assert!(check_exporter(&otlp).is_err());
    let otlp = settings(OtlpProtocol::HttpProtobuf, "not a url".into());
    assert!(check_exporter(&otlp).is_err());
    let otlp = settings(OtlpProtocol::Grpc, "https://collector.example:4317".into());
    assert!(check_exporter(&otlp).is_ok(), "TLS with the enabled roots");
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
