//! HTTP access to one Qdrant node: base URL, authentication headers, timeouts, a cap on the
//! response size, and the `{result, status, time}` envelope. Nothing else in the agent talks
//! HTTP to Qdrant.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::error::QdrantError;

/// How the agent authenticates to Qdrant. The secret never appears in `Debug` output.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    None,
    /// Sent as the `api-key` header.
    ApiKey(String),
    /// Sent as `Authorization: Bearer <jwt>`.
    Jwt(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::ApiKey(_) => f.write_str("ApiKey(<redacted>)"),
            Auth::Jwt(_) => f.write_str("Jwt(<redacted>)"),
        }
    }
}

/// Everything needed to build a [`Client`] for one node.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub base_url: Url,
    pub auth: Auth,
    pub timeout: Duration,
    pub max_response_bytes: u64,
    pub ca_file: Option<PathBuf>,
    pub insecure_skip_verify: bool,
}

/// Failure to build a client (bad CA file, bad header value). Reported at start-up.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    #[error("cannot read CA file {path}: {source}")]
    CaFileRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CA file {path} holds no valid PEM certificate: {reason}")]
    CaFileParse { path: PathBuf, reason: String },
    #[error("the API key or JWT contains characters not allowed in an HTTP header")]
    BadSecret,
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// A client for one Qdrant node.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: Url,
    timeout: Duration,
    max_response_bytes: u64,
}

/// Qdrant's response envelope. `result` is absent on errors, where `status` is `{"error": "..."}`.
#[derive(Deserialize)]
struct Envelope<T> {
    result: Option<T>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    status: ErrorStatus,
}

#[derive(Deserialize)]
struct ErrorStatus {
    error: String,
}

impl Client {
    pub fn new(settings: &ClientSettings) -> Result<Client, ClientBuildError> {
        let mut headers = HeaderMap::new();
        let secret_header = |value: &str| {
            let mut value =
                HeaderValue::from_str(value).map_err(|_| ClientBuildError::BadSecret)?;
            value.set_sensitive(true);
            Ok::<_, ClientBuildError>(value)
        };
        match &settings.auth {
            Auth::None => {}
            Auth::ApiKey(key) => {
                headers.insert("api-key", secret_header(key)?);
            }
            Auth::Jwt(token) => {
                headers.insert(AUTHORIZATION, secret_header(&format!("Bearer {token}"))?);
            }
        }
        let mut builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("qdrant-otel-agent/", env!("CARGO_PKG_VERSION")))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .tls_danger_accept_invalid_certs(settings.insecure_skip_verify);
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|source| ClientBuildError::CaFileRead {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientBuildError::CaFileParse {
                    path: path.clone(),
                    reason: e.to_string(),
                }
            })?;
            if certs.is_empty() {
                return Err(ClientBuildError::CaFileParse {
                    path: path.clone(),
                    reason: "no certificate found".into(),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| ClientBuildError::Build(e.to_string()))?;
        Ok(Client {
            http,
            base_url: settings.base_url.clone(),
            timeout: settings.timeout,
            max_response_bytes: settings.max_response_bytes,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// GET a JSON endpoint and unwrap `result` from Qdrant's envelope.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, QdrantError> {
        let (url, body) = self.get(path).await?;
        let envelope: Envelope<T> =
            serde_json::from_slice(&body).map_err(|e| QdrantError::Decode {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        envelope.result.ok_or_else(|| QdrantError::Decode {
            url,
            reason: "the response has no `result` field".into(),
        })
    }

    /// GET a JSON endpoint that has no envelope (`/`).
    pub async fn get_plain_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, QdrantError> {
        let (url, body) = self.get(path).await?;
        serde_json::from_slice(&body).map_err(|e| QdrantError::Decode {
            url,
            reason: e.to_string(),
        })
    }

    /// GET a plain-text endpoint (`/readyz`).
    pub async fn get_text(&self, path: &str) -> Result<String, QdrantError> {
        let (url, body) = self.get(path).await?;
        String::from_utf8(body).map_err(|e| QdrantError::Decode {
            url,
            reason: e.to_string(),
        })
    }

    fn url_for(&self, path: &str) -> String {
        // `base_url` may carry a path prefix (a reverse proxy); keep it.
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    async fn get(&self, path: &str) -> Result<(String, Vec<u8>), QdrantError> {
        let url = self.url_for(path);
        let mut response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = response.status();
        if let Some(length) = response.content_length() {
            if length > self.max_response_bytes {
                return Err(QdrantError::TooLarge {
                    url,
                    limit: self.max_response_bytes,
                });
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(&url, e))?
        {
            if body.len() as u64 + chunk.len() as u64 > self.max_response_bytes {
                return Err(QdrantError::TooLarge {
                    url,
                    limit: self.max_response_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        if status.is_success() {
            return Ok((url, body));
        }
        let message = error_message(&body);
        Err(match status {
            StatusCode::UNAUTHORIZED => QdrantError::Unauthorized { url, message },
            StatusCode::FORBIDDEN => QdrantError::Forbidden { url, message },
            StatusCode::NOT_FOUND => QdrantError::NotFound { url },
            _ => QdrantError::HttpStatus {
                url,
                status: status.as_u16(),
                message,
            },
        })
    }

    fn transport_error(&self, url: &str, error: reqwest::Error) -> QdrantError {
        if error.is_timeout() {
            QdrantError::Timeout {
                url: url.to_string(),
                timeout_ms: self.timeout.as_millis(),
            }
        } else if error.is_connect() {
            QdrantError::Connect {
                url: url.to_string(),
                reason: error_chain(&error),
            }
        } else if error.is_body() || error.is_decode() {
            QdrantError::Decode {
                url: url.to_string(),
                reason: error_chain(&error),
            }
        } else {
            QdrantError::Connect {
                url: url.to_string(),
                reason: error_chain(&error),
            }
        }
    }
}

/// Qdrant's `{"status":{"error":"..."}}`, or the first 200 characters of a plain-text body.
fn error_message(body: &[u8]) -> String {
    if let Ok(envelope) = serde_json::from_slice::<ErrorEnvelope>(body) {
        return envelope.status.error;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".into();
    }
    text.chars().take(200).collect()
}

/// The error and its sources on one line: reqwest's top-level message alone is rarely useful.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
