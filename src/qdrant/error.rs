//! Typed errors of the Qdrant client and the bounded `error.type` they map to.

use std::fmt;

/// Bounded classification of a failed request, used as the `error.type` metric attribute and
/// in log lines. Never raw error text: that would explode cardinality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorType {
    Timeout,
    Connect,
    HttpStatus,
    Unauthorized,
    Forbidden,
    NotFound,
    Decode,
    TooLarge,
}

impl ErrorType {
    pub const ALL: [ErrorType; 8] = [
        ErrorType::Timeout,
        ErrorType::Connect,
        ErrorType::HttpStatus,
        ErrorType::Unauthorized,
        ErrorType::Forbidden,
        ErrorType::NotFound,
        ErrorType::Decode,
        ErrorType::TooLarge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Timeout => "timeout",
            ErrorType::Connect => "connect",
            ErrorType::HttpStatus => "http_status",
            ErrorType::Unauthorized => "unauthorized",
            ErrorType::Forbidden => "forbidden",
            ErrorType::NotFound => "not_found",
            ErrorType::Decode => "decode",
            ErrorType::TooLarge => "too_large",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed request to one Qdrant endpoint. Every variant names the URL (which never carries a
/// secret: keys travel in headers).
#[derive(Debug, Clone, thiserror::Error)]
pub enum QdrantError {
    #[error("GET {url}: no response within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128 },
    #[error("GET {url}: cannot connect: {reason}")]
    Connect { url: String, reason: String },
    #[error("GET {url}: HTTP {status}: {message}")]
    HttpStatus {
        url: String,
        status: u16,
        message: String,
    },
    #[error("GET {url}: HTTP 401 unauthorized (missing or wrong API key / JWT): {message}")]
    Unauthorized { url: String, message: String },
    #[error("GET {url}: HTTP 403 forbidden (the key or token lacks this permission): {message}")]
    Forbidden { url: String, message: String },
    #[error("GET {url}: HTTP 404 not found")]
    NotFound { url: String },
    #[error("GET {url}: cannot decode the response: {reason}")]
    Decode { url: String, reason: String },
    #[error("GET {url}: response body exceeds the {limit} byte limit (qdrant.max_response_bytes)")]
    TooLarge { url: String, limit: u64 },
    #[error("GET {url}: the response bodies in flight would exceed the {limit} byte memory bound (qdrant.max_response_bytes)")]
    MemoryBudget { url: String, limit: u64 },
    #[error("GET {url}: HTTP {status} redirect to {location} not followed (Qdrant does not redirect; see qdrant.follow_redirects)")]
    Redirect {
        url: String,
        status: u16,
        location: String,
    },
}

impl QdrantError {
    pub fn error_type(&self) -> ErrorType {
        match self {
            QdrantError::Timeout { .. } => ErrorType::Timeout,
            QdrantError::Connect { .. } => ErrorType::Connect,
            QdrantError::HttpStatus { .. } => ErrorType::HttpStatus,
            QdrantError::Unauthorized { .. } => ErrorType::Unauthorized,
            QdrantError::Forbidden { .. } => ErrorType::Forbidden,
            QdrantError::NotFound { .. } => ErrorType::NotFound,
            QdrantError::Decode { .. } => ErrorType::Decode,
            QdrantError::TooLarge { .. } | QdrantError::MemoryBudget { .. } => ErrorType::TooLarge,
            QdrantError::Redirect { .. } => ErrorType::HttpStatus,
        }
    }
}
