//! Why an export failed, in words: HTTP or gRPC status, connection refused, timeout,
//! `Retry-After`.

use super::*;

/// Why an export failed, in words.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("invalid OTLP exporter settings: {0}")]
    Build(String),
    #[error("the Collector answered HTTP {status}{}{}", reason(*.status), excerpt_suffix(.body))]
    HttpStatus { status: u16, body: String },
    #[error("the Collector answered gRPC status {code:?}{}", excerpt_suffix(.message))]
    GrpcStatus { code: tonic::Code, message: String },
    /// The Collector asked to wait (HTTP 429/503 with `Retry-After`, gRPC `RetryInfo`).
    #[error("{cause}; the next attempt waits {}", humantime::format_duration(*.wait))]
    RetryAfter { wait: Duration, cause: String },
    #[error("cannot connect to {endpoint}: {cause}")]
    Connect { endpoint: String, cause: String },
    #[error("no answer from {endpoint} within {}", humantime::format_duration(*.timeout))]
    Timeout { endpoint: String, timeout: Duration },
    #[error("the OTLP request to {endpoint} failed: {cause}")]
    Transport { endpoint: String, cause: String },
}

impl ExportError {
    /// A bounded name of the kind of failure (the `error.type` of the agent's own metrics).
    pub fn error_type(&self) -> &'static str {
        match self {
            ExportError::Build(_) => "build",
            ExportError::HttpStatus { .. } => "http_status",
            ExportError::GrpcStatus { .. } => "grpc_status",
            ExportError::RetryAfter { .. } => "retry_after",
            ExportError::Connect { .. } => "connect",
            ExportError::Timeout { .. } => "timeout",
            ExportError::Transport { .. } => "transport",
        }
    }

    /// How long the Collector asked the next attempt to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ExportError::RetryAfter { wait, .. } => Some(*wait),
            _ => None,
        }
    }
}

/// " Too Many Requests" for 429.
pub(super) fn reason(status: u16) -> String {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| format!(" {r}"))
        .unwrap_or_default()
}

pub(super) fn excerpt_suffix(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The message of an OTLP/HTTP error body (a protobuf `google.rpc.Status`), or the start of the
/// body as text, on one line.
pub(super) fn error_body_excerpt(body: &[u8]) -> String {
    #[derive(Clone, PartialEq, prost::Message)]
    struct RpcStatus {
        #[prost(int32, tag = "1")]
        code: i32,
        #[prost(string, tag = "2")]
        message: String,
    }
    let text = match RpcStatus::decode(body) {
        Ok(status) if !status.message.is_empty() => status.message,
        _ => String::from_utf8_lossy(body).into_owned(),
    };
    one_line_excerpt(&text)
}

/// `text` on one line, without control characters, cut after [`BODY_EXCERPT_CHARS`].
pub(super) fn one_line_excerpt(text: &str) -> String {
    let one_line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    match one_line.char_indices().nth(BODY_EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// Why a connection failed, in words: "connection refused", "connection reset", or the
/// innermost cause (a DNS or TLS failure).
pub(super) fn connect_cause(error: &(dyn std::error::Error + 'static)) -> String {
    find_io_error(error).unwrap_or_else(|| innermost(error))
}

pub(super) fn find_io_error(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            let words = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused",
                std::io::ErrorKind::ConnectionReset => "connection reset",
                std::io::ErrorKind::ConnectionAborted => "connection aborted",
                std::io::ErrorKind::TimedOut => "connection timed out",
                _ => return Some(io.to_string()),
            };
            return Some(words.to_string());
        }
        source = e.source();
    }
    None
}

pub(super) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// The error and its causes, `: `-separated, without repeats.
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
