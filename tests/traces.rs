//! The traces of the polls (`otlp.traces`), against a real OTLP receiver over HTTP and gRPC: a
//! `qdrant.poll` span per poll on the agent's resource, a client span under it for every
//! request Qdrant saw, with the HTTP semantic conventions (int status codes, `error.type` on a
//! failed request); nothing when traces are off; a configuration that cannot tell where traces
//! go is refused.

mod harness;
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use qdrant_otel_agent::config::{self, ConfigSources};
use support::{agent_points, exports_for, Fault, FixtureServer, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);
const TRACES: &str = "QDRANT_OTEL_OTLP__TRACES";

/// One span, flattened with its resource and scope.
#[derive(Debug)]
struct Span {
    resource: BTreeMap<String, any_value::Value>,
    scope: String,
    schema_url: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    name: String,
    kind: i32,
    attributes: BTreeMap<String, any_value::Value>,
    status: i32,
}

fn values(attributes: &[KeyValue]) -> BTreeMap<String, any_value::Value> {
    attributes
        .iter()
        .filter_map(|kv| Some((kv.key.clone(), kv.value.as_ref()?.value.clone()?)))
        .collect()
}

fn spans(requests: &[ExportTraceServiceRequest]) -> Vec<Span> {
    let mut spans = Vec::new();
    for request in requests {
        for rs in &request.resource_spans {
            let resource = values(&rs.resource.as_ref().expect("a resource").attributes);
            for ss in &rs.scope_spans {
                let scope = ss.scope.as_ref().map_or(String::new(), |s| s.name.clone());
                for span in &ss.spans {
                    spans.push(Span {
                        resource: resource.clone(),
                        scope: scope.clone(),
                        schema_url: ss.schema_url.clone(),
                        trace_id: span.trace_id.clone(),
                        span_id: span.span_id.clone(),
                        parent_span_id: span.parent_span_id.clone(),
                        name: span.name.clone(),
                        kind: span.kind,
                        attributes: values(&span.attributes),
                        status: span.status.as_ref().map_or(0, |s| s.code),
                    });
                }
            }
        }
    }
    spans
}

fn text(value: Option<&any_value::Value>) -> Option<&str> {
    match value? {
        any_value::Value::StringValue(s) => Some(s),
        _ => None,
    }
}

fn int(value: Option<&any_value::Value>) -> Option<i64> {
    match value? {
        any_value::Value::IntValue(i) => Some(*i),
        _ => None,
    }
}

/// Run the agent with `env` on the recorded single node (its `/issues` failing with 503) until
/// `polls` exports of the node, then stop it (which flushes the spans).
async fn run(
    receiver: &OtlpReceiver,
    protocol: &str,
    env: &[(&str, &str)],
    polls: usize,
) -> (FixtureServer, String) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    server.set_fault("/issues", Fault::Status(503));
    let instance = server.url().trim_start_matches("http://").to_string();
    let agent = harness::RunningAgent::start(harness::agent_settings_with(
        &server.url(),
        &receiver.endpoint(),
        protocol,
        "400ms",
        env,
    ));
    let deadline = tokio::time::Instant::now() + WAIT;
    while exports_for(&receiver.requests(), &instance).len() < polls {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{protocol}: exports"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    agent.stop().await;
    (server, instance)
}

async fn traced_polls(receiver: OtlpReceiver, protocol: &str) {
    let env = [(TRACES, "true"), (harness::SELF_TELEMETRY, "true")];
    let (server, instance) = run(&receiver, protocol, &env, 3).await;
    let spans = spans(&receiver.traces());
    let (host, port) = instance.split_once(':').expect("host:port");
    let port: i64 = port.parse().expect("a port");

    // On the agent's resource, the very one its metrics carry, and its scope.
    let own = agent_points(&receiver.requests());
    let agent_id = own[0].resource["service.instance.id"].clone();
    for span in &spans {
        assert_eq!(
            text(span.resource.get("service.name")),
            Some("qdrant-otel-agent")
        );
        assert_eq!(
            text(span.resource.get("service.instance.id")),
            Some(agent_id.as_str()),
            "{protocol}: one agent resource for metrics and traces"
        );
        assert_eq!(span.scope, "qdrant-otel-agent");
        assert!(span
            .schema_url
            .starts_with("https://opentelemetry.io/schemas/"));
    }

    // A poll span per poll, for this node. A poll cut short by the shutdown ends without its
    // outcome: at most the last one.
    let polls: Vec<&Span> = spans.iter().filter(|s| s.name == "qdrant.poll").collect();
    let finished: BTreeSet<&[u8]> = polls
        .iter()
        .filter(|p| p.attributes.contains_key("qdrant.up"))
        .map(|p| &p.span_id[..])
        .collect();
    assert!(
        finished.len() >= 3,
        "{protocol}: {} poll spans",
        finished.len()
    );
    assert!(
        polls.len() - finished.len() <= 1,
        "{protocol}: unfinished polls"
    );
    for poll in &polls {
        assert_eq!(poll.kind, SpanKind::Internal as i32);
        assert!(poll.parent_span_id.is_empty(), "a poll is a root span");
        assert_eq!(text(poll.attributes.get("server.address")), Some(host));
        assert_eq!(int(poll.attributes.get("server.port")), Some(port));
        assert!(matches!(
            poll.attributes.get("qdrant.poll.slow"),
            Some(any_value::Value::BoolValue(_))
        ));
        if finished.contains(&poll.span_id[..]) {
            assert_eq!(
                poll.attributes.get("qdrant.up"),
                Some(&any_value::Value::BoolValue(true))
            );
        }
    }
    assert_eq!(
        polls[0].attributes.get("qdrant.poll.slow"),
        Some(&any_value::Value::BoolValue(true)),
        "{protocol}: the first poll reads the slow sources"
    );

    // Every request is a client span under its poll, in the poll's trace.
    let by_id: BTreeMap<&[u8], &Span> = polls.iter().map(|p| (&p.span_id[..], *p)).collect();
    let requests: Vec<&Span> = spans.iter().filter(|s| s.name == "GET").collect();
    assert_eq!(
        requests.len() + polls.len(),
        spans.len(),
        "{protocol}: only polls and requests"
    );
    for request in &requests {
        let poll = by_id
            .get(&request.parent_span_id[..])
            .unwrap_or_else(|| panic!("{protocol}: a request span outside a poll: {request:?}"));
        assert_eq!(request.trace_id, poll.trace_id);
        assert_eq!(request.kind, SpanKind::Client as i32);
        assert_eq!(
            text(request.attributes.get("http.request.method")),
            Some("GET")
        );
        assert_eq!(text(request.attributes.get("server.address")), Some(host));
        assert_eq!(int(request.attributes.get("server.port")), Some(port));
        let url = text(request.attributes.get("url.full")).expect("url.full");
        assert!(url.starts_with(&server.url()), "{url}");
    }
    let traced: BTreeSet<String> = requests
        .iter()
        .filter_map(|r| text(r.attributes.get("url.full")))
        .map(|url| url.trim_start_matches(&server.url()).to_string())
        .collect();
    let seen: BTreeSet<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        traced, seen,
        "{protocol}: a span for every request Qdrant saw"
    );

    // Status codes as ints; the failing `/issues` is an error typed by its status.
    for request in requests
        .iter()
        .filter(|r| finished.contains(&r.parent_span_id[..]))
    {
        let url = text(request.attributes.get("url.full")).unwrap_or_default();
        let status = int(request.attributes.get("http.response.status_code"));
        // `/issues` fails on purpose; 1.18 has no `/quotas` yet (1.19 does).
        let failed = [("/issues", 503, "503"), ("/quotas", 404, "404")]
            .into_iter()
            .find(|(path, _, _)| url.ends_with(path));
        if let Some((_, code, error_type)) = failed {
            assert_eq!(status, Some(code), "{url}");
            assert_eq!(text(request.attributes.get("error.type")), Some(error_type));
            assert_eq!(request.status, StatusCode::Error as i32);
        } else {
            assert_eq!(status, Some(200), "{url}");
            assert!(!request.attributes.contains_key("error.type"), "{url}");
            assert_ne!(request.status, StatusCode::Error as i32, "{url}");
        }
    }
    assert!(
        traced.contains("/issues"),
        "{protocol}: the failing request"
    );
}

#[tokio::test]
async fn polls_are_traced_over_http() {
    traced_polls(OtlpReceiver::start_http().await, "http/protobuf").await;
}

#[tokio::test]
async fn polls_are_traced_over_grpc() {
    traced_polls(OtlpReceiver::start_grpc().await, "grpc").await;
}

#[tokio::test]
async fn no_traces_unless_asked() {
    let receiver = OtlpReceiver::start_http().await;
    let (_server, _) = run(&receiver, "http/protobuf", &[], 3).await;
    assert!(receiver.traces().is_empty());
}

#[test]
fn a_verbatim_metrics_url_leaves_no_telling_where_traces_go() {
    let refused = |endpoint: &str| {
        let env = harness::env_map(&[
            ("QDRANT_URL", "http://127.0.0.1:6333"),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", endpoint),
            (TRACES, "true"),
        ]);
        let sources = ConfigSources {
            env,
            ..ConfigSources::default()
        };
        config::load(&sources).err().map(|e| e.to_string())
    };
    let error = refused("http://collector:4318/otlp/metrics").expect("refused");
    assert!(error.contains("otlp.traces"), "{error}");
    assert!(error.contains("does not end in `/v1/metrics`"), "{error}");
    assert!(error.contains(TRACES), "names the variable: {error}");
    assert_eq!(refused("http://collector:4318/v1/metrics"), None);
}
