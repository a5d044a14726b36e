//! Unit tests of delivery: a request accepted in part is delivered, and a flush after a failure
//! sends only the requests not yet delivered. Against a scripted Collector over real HTTP.

use super::*;
use crate::metrics::{Attributes, MetricId, Point};

use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest,
};
use smallvec::smallvec;
use smol_str::SmolStr;
use std::sync::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

type Bodies = Arc<Mutex<Vec<Vec<u8>>>>;

/// A Collector answering the n-th request with the n-th `(status, body)`, then 200 and an empty
/// body; returns its endpoint and the request bodies it received.
async fn scripted_collector(script: Vec<(u16, Vec<u8>)>) -> (String, Bodies) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}/v1/metrics", listener.local_addr().unwrap());
    let bodies: Bodies = Arc::default();
    let received = Arc::clone(&bodies);
    tokio::spawn(async move {
        let script = Arc::new(Mutex::new(script.into_iter()));
        while let Ok((mut stream, _)) = listener.accept().await {
            let (script, received) = (Arc::clone(&script), Arc::clone(&received));
            tokio::spawn(async move {
                while let Some(body) = read_request(&mut stream).await {
                    received.lock().unwrap().push(body);
                    let next = script.lock().unwrap().next();
                    let (status, answer) = next.unwrap_or((200, Vec::new()));
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n\r\n",
                        answer.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&answer).await;
                }
            });
        }
    });
    (endpoint, bodies)
}

/// One request's body (the head is skipped; its length read from `content-length`).
async fn read_request(stream: &mut tokio::net::TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let head_end = loop {
        if let Some(at) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&data[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = data[head_end..].to_vec();
    while body.len() < length {
        let mut chunk = vec![0u8; length - body.len()];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(body)
}

fn partial(rejected: i64, message: &str) -> Vec<u8> {
    ExportMetricsServiceResponse {
        partial_success: Some(ExportMetricsPartialSuccess {
            rejected_data_points: rejected,
            error_message: message.into(),
        }),
    }
    .encode_to_vec()
}

/// The data points of a request body: (metric, collection).
fn points_of(body: &[u8]) -> Vec<(String, String)> {
    let request = ExportMetricsServiceRequest::decode(body).unwrap();
    let mut out = Vec::new();
    for metric in &request.resource_metrics[0].scope_metrics[0].metrics {
        let points = match metric.data.as_ref().unwrap() {
            opentelemetry_proto::tonic::metrics::v1::metric::Data::Gauge(g) => &g.data_points,
            opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s) => &s.data_points,
            _ => unreachable!(),
        };
        for point in points {
            let collection = point
                .attributes
                .first()
                .map(|kv| format!("{:?}", kv.value))
                .unwrap_or_default();
            out.push((metric.name.clone(), collection));
        }
    }
    out
}

/// After the first request only: its bytes counted, the other points still to deliver.
fn only_the_first_delivered(exporter: &mut ResourceExporter, first: &[u8], points: usize) {
    assert!(exporter.request_count() > 0);
    assert_eq!(
        exporter.undelivered_points(),
        points - points_of(first).len()
    );
    assert_eq!(exporter.take_sent_bytes(), first.len() as u64);
    assert_eq!(exporter.take_sent_bytes(), 0, "taken once");
}

/// Three requests or more: the first accepted in part, the second refused, then accepted. The
/// second flush starts at the second request; the first is never sent again, and what the
/// Collector said of each flush is taken once.
#[tokio::test]
async fn a_partly_accepted_request_is_delivered_and_never_sent_again() {
    let (endpoint, bodies) = scripted_collector(vec![
        (200, partial(2, "metric x:\n  bad unit")),
        (503, Vec::new()),
        (200, partial(1, "")),
    ])
    .await;
    let otlp = OtlpSettings {
        endpoint,
        timeout: Duration::from_secs(5),
        ..super::tests::http_settings()
    };
    let points: Vec<Point> = (0..300)
        .map(|i| Point {
            metric: MetricId::CollectionPoints,
            attributes: smallvec![("db.collection.name", SmolStr::new(format!("c{i:03}")))],
            value: i as f64,
        })
        .chain([Point {
            metric: MetricId::Up,
            attributes: Attributes::new(),
            value: 1.0,
        }])
        .collect();
    let mut exporter = ResourceExporter::with_max_request_bytes(OtlpClient::new(otlp), 4096);
    exporter.publish(
        Vec::new(),
        vec![Arc::new(EncodedPoints::from(&points[..]))],
        None,
    );
    let requests = exporter.request_count();
    assert!(requests >= 3, "{requests} requests");
    let error = exporter.flush().await.unwrap_err();
    assert!(
        matches!(error, ExportError::HttpStatus { status: 503, .. }),
        "{error}"
    );
    assert_eq!(
        exporter.request_count(),
        requests - 1,
        "the first is delivered"
    );
    assert_eq!(
        exporter.take_partial_success(),
        Some(PartialSuccess {
            rejected: 2,
            message: "metric x: bad unit".into()
        })
    );
    assert_eq!(exporter.take_partial_success(), None, "taken once");
    only_the_first_delivered(&mut exporter, &bodies.lock().unwrap()[0], points.len());

    exporter.flush().await.unwrap();
    assert_eq!(exporter.undelivered_points(), 0);
    assert_eq!(
        exporter.take_partial_success(),
        Some(PartialSuccess {
            rejected: 1,
            message: String::new()
        })
    );
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), requests + 1, "only the refused request twice");
    assert_eq!(
        points_of(&bodies[1]),
        points_of(&bodies[2]),
        "resent as it was"
    );
    let all: Vec<(String, String)> = bodies.iter().flat_map(|b| points_of(b)).collect();
    let up = all
        .iter()
        .filter(|(metric, _)| metric == "qdrant.up")
        .count();
    assert_eq!(up, 1, "the first request went out once");
    assert_eq!(all.len(), points.len() + points_of(&bodies[1]).len());
}
