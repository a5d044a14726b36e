//! A client span per request to Qdrant, when the poll that makes it is traced: the poll puts
//! its tracer in the context beside its span ([`RequestTracer`]), so a request outside a traced
//! poll costs one context lookup. The span follows the HTTP client semantic conventions:
//! named by the method, `url.full` without credentials, `server.*`, the status code as an int,
//! and `error.type` (the status code for an HTTP error, else the bounded error type).

use std::future::Future;

use opentelemetry::trace::{get_active_span, FutureExt, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use url::Url;

use super::error::QdrantError;

/// The tracer of a traced poll, carried in its context for the requests it makes.
#[derive(Clone, Debug)]
pub struct RequestTracer(pub SdkTracer);

/// Run `request` (a GET of `url`, only made when traced) in a client span, if the current
/// context is a traced poll.
pub async fn request<T>(
    url: impl FnOnce() -> String,
    request: impl Future<Output = Result<T, QdrantError>>,
) -> Result<T, QdrantError> {
    let parent = Context::current();
    let Some(RequestTracer(tracer)) = parent.get::<RequestTracer>().cloned() else {
        return request.await;
    };
    let span = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .with_attributes(request_attributes(&url()))
        .start_with_context(&tracer, &parent);
    let context = parent.with_span(span);
    let result = request.with_context(context.clone()).await;
    let span = context.span();
    if let Err(error) = &result {
        span.set_attribute(KeyValue::new("error.type", error_type(error)));
        span.set_status(Status::error(error.to_string()));
    }
    span.end();
    result
}

/// Record the response's status on the request's span (none outside a traced request).
pub fn response_status(status: u16) {
    get_active_span(|span| {
        span.set_attribute(KeyValue::new(
            "http.response.status_code",
            i64::from(status),
        ))
    });
}

fn request_attributes(url: &str) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new("http.request.method", "GET")];
    let Ok(mut parsed) = Url::parse(url) else {
        return attributes;
    };
    if let Some(host) = parsed.host_str() {
        attributes.push(KeyValue::new("server.address", host.to_string()));
    }
    if let Some(port) = parsed.port_or_known_default() {
        attributes.push(KeyValue::new("server.port", i64::from(port)));
    }
    // The conventions keep credentials out of `url.full` but show that there were some.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let _ = parsed.set_username("REDACTED");
        let _ = parsed.set_password(Some("REDACTED"));
    }
    attributes.push(KeyValue::new("url.full", parsed.to_string()));
    attributes
}

/// The status code when Qdrant answered with an error, else the bounded error type.
fn error_type(error: &QdrantError) -> String {
    match error {
        QdrantError::HttpStatus { status, .. } | QdrantError::Redirect { status, .. } => {
            status.to_string()
        }
        QdrantError::Unauthorized { .. } => "401".into(),
        QdrantError::Forbidden { .. } => "403".into(),
        QdrantError::NotFound { .. } => "404".into(),
        other => other.error_type().as_str().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_the_span() {
        let attributes = request_attributes("https://user:pw@q.example:6333/telemetry");
        let url = attributes
            .iter()
            .find(|kv| kv.key.as_str() == "url.full")
            .map(|kv| kv.value.to_string());
        assert_eq!(
            url.as_deref(),
            Some("https://REDACTED:REDACTED@q.example:6333/telemetry")
        );
        let port = attributes
            .iter()
            .find(|kv| kv.key.as_str() == "server.port")
            .map(|kv| kv.value.clone());
        assert_eq!(port, Some(opentelemetry::Value::I64(6333)));
    }

    #[test]
    fn an_http_error_is_typed_by_its_status() {
        let url = "http://q:6333/x".to_string();
        let status = QdrantError::HttpStatus {
            url: url.clone(),
            status: 503,
            message: "busy".into(),
        };
        assert_eq!(error_type(&status), "503");
        assert_eq!(
            error_type(&QdrantError::NotFound { url: url.clone() }),
            "404"
        );
        let timeout = QdrantError::Timeout { url, timeout_ms: 5 };
        assert_eq!(error_type(&timeout), "timeout");
    }
}
