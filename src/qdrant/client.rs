//! HTTP access to one Qdrant node: base URL, authentication headers, timeouts, a cap on the
//! response size, and the `{result, status, time}` envelope; each request in a span when its
//! poll is traced (`traced`). Nothing else in the agent talks HTTP to Qdrant.
//!
//! Redirects are not followed (Qdrant does not redirect): a 3xx is an error naming where it
//! pointed. When `qdrant.follow_redirects` is on, only redirects to the same origin (scheme,
//! host and port) are followed, so the credentials never reach another server nor drop from
//! HTTPS to HTTP. Memory: one byte budget (`qdrant.max_response_bytes`) bounds every response
//! body held in flight together, enforced while the body streams in; telemetry is taken apart
//! as it arrives (`stream.rs`), never held whole.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use url::Url;

use super::error::QdrantError;
use super::models::Telemetry;
use super::stream::{Split, TELEMETRY_SPLIT};
use super::traced;

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
    /// Follow redirects to the same origin (off: every 3xx is an error).
    pub follow_redirects: bool,
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
    /// KiB of response bodies that may be in memory at once, shared by the clients of a run.
    budget: Arc<Semaphore>,
}

/// Qdrant's response envelope. `result` is absent on errors, where `status` is `{"error": "..."}`.
#[derive(Deserialize)]
pub(super) struct Envelope<T> {
    pub(super) result: Option<T>,
}

/// Parse a JSON body. It is checked to be UTF-8 once, as a whole, and then parsed as text:
/// parsed as bytes, serde_json checks every string and key on its own, which costs more
/// (docs/performance.md).
fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let text = super::split::utf8(bytes).map_err(|e| format!("the body is not UTF-8: {e}"))?;
    serde_json::from_str(text).map_err(|e| e.to_string())
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
    /// A client with its own memory bound of `max_response_bytes`.
    pub fn new(settings: &ClientSettings) -> Result<Client, ClientBuildError> {
        Client::with_budget(settings, memory_budget(settings.max_response_bytes))
    }

    /// The memory bound this client shares with the other clients of a run.
    pub fn budget(&self) -> &Arc<Semaphore> {
        &self.budget
    }

    /// A client sharing `budget` (from [`memory_budget`]) with other clients.
    pub fn with_budget(
        settings: &ClientSettings,
        budget: Arc<Semaphore>,
    ) -> Result<Client, ClientBuildError> {
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
            .redirect(redirect_policy(settings.follow_redirects))
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
            budget,
        })
    }

    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// GET a JSON endpoint and unwrap `result` from Qdrant's envelope. A large body (over
    /// `stream::STREAM_ABOVE`, or of undeclared length) is parsed as it arrives.
    pub(super) async fn get_json<T: DeserializeOwned + Send + 'static>(
        &self,
        path: &str,
    ) -> Result<T, QdrantError> {
        let request = self.get_envelope::<T, serde::de::IgnoredAny>(path, None);
        traced::request(|| self.url_for(path), request).await
    }

    /// GET `/telemetry`: as [`Client::get_json`], a large body taken apart collection by
    /// collection as it arrives.
    pub(super) async fn get_telemetry(&self, path: &str) -> Result<Telemetry, QdrantError> {
        let request = self.get_envelope(path, Some(TELEMETRY_SPLIT));
        traced::request(|| self.url_for(path), request).await
    }

    async fn get_envelope<T, E>(
        &self,
        path: &str,
        split: Option<Split<Envelope<T>, E>>,
    ) -> Result<T, QdrantError>
    where
        T: DeserializeOwned + Send + 'static,
        E: DeserializeOwned + Send + 'static,
    {
        let (url, response) = self.send(path).await?;
        let large = response
            .content_length()
            .is_none_or(|n| n > super::stream::STREAM_ABOVE);
        let success = response.status().is_success();
        let transport_error = |e| self.transport_error(&url, e);
        let cap = self.max_response_bytes;
        let envelope: Envelope<T> = match split {
            _ if success && large => {
                super::stream::parse(&url, response, cap, transport_error, split).await?
            }
            // A body taken apart is read as it arrives even when small: it is never held whole.
            Some(split) if success => {
                super::stream::parse_inline(&url, response, cap, transport_error, split).await?
            }
            _ => {
                // The permit is held to the end of the block: the memory budget covers the parse.
                let Body {
                    bytes,
                    permit: _permit,
                } = self.finish(&url, response).await?;
                decode_json(&bytes).map_err(|reason| QdrantError::Decode {
                    url: url.clone(),
                    reason,
                })?
            }
        };
        envelope.result.ok_or_else(|| QdrantError::Decode {
            url,
            reason: "the response has no `result` field".into(),
        })
    }

    /// GET a JSON endpoint that has no envelope (`/`).
    pub(super) async fn get_plain_json<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, QdrantError> {
        traced::request(|| self.url_for(path), async {
            let (url, body) = self.get(path).await?;
            decode_json(&body.bytes).map_err(|reason| QdrantError::Decode { url, reason })
        })
        .await
    }

    /// GET a plain-text endpoint (`/readyz`).
    pub(super) async fn get_text(&self, path: &str) -> Result<String, QdrantError> {
        traced::request(|| self.url_for(path), async {
            let (url, body) = self.get(path).await?;
            String::from_utf8(body.bytes).map_err(|e| QdrantError::Decode {
                url,
                reason: e.to_string(),
            })
        })
        .await
    }

    fn url_for(&self, path: &str) -> String {
        // `base_url` may carry a path prefix (a reverse proxy); keep it.
        let base = self.base_url.as_str().trim_end_matches('/');
        format!("{base}{path}")
    }

    async fn get(&self, path: &str) -> Result<(String, Body), QdrantError> {
        let (url, response) = self.send(path).await?;
        let body = self.finish(&url, response).await?;
        Ok((url, body))
    }

    /// Send the request; a redirect (not followed) is an error.
    async fn send(&self, path: &str) -> Result<(String, reqwest::Response), QdrantError> {
        let url = self.url_for(path);
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| self.transport_error(&url, e))?;
        let status = response.status();
        traced::response_status(status.as_u16());
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("(no location)")
                .to_string();
            return Err(QdrantError::Redirect {
                url,
                status: status.as_u16(),
                location,
            });
        }
        Ok((url, response))
    }

    /// Read the body; a status other than success is an error carrying Qdrant's message.
    async fn finish(&self, url: &str, response: reqwest::Response) -> Result<Body, QdrantError> {
        let status = response.status();
        let body = self.read_body(url, response).await?;
        if status.is_success() {
            return Ok(body);
        }
        let url = url.to_string();
        let message = error_message(&body.bytes);
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

    /// Stream the body in, within the response cap and the shared memory budget.
    async fn read_body(
        &self,
        url: &str,
        mut response: reqwest::Response,
    ) -> Result<Body, QdrantError> {
        let mut chunks = super::stream::Limited::new(url, &response, self.max_response_bytes)?;
        let mut body = Body {
            bytes: Vec::new(),
            permit: None,
        };
        // A declared length is allocated once, exactly (within the cap: `Limited` checked it).
        if let Some(declared) = response.content_length() {
            body.reserve(url, declared, &self.budget, self.max_response_bytes)?;
        }
        let transport_error = |e| self.transport_error(url, e);
        while let Some(chunk) = chunks.next(&mut response, &transport_error).await? {
            let len = body.bytes.len() as u64 + chunk.len() as u64;
            if len > body.bytes.capacity() as u64 {
                // Grow by doubling, as `Vec` does, and hold budget for the whole allocation,
                // not just the bytes read.
                let wanted = len
                    .max(body.bytes.capacity() as u64 * 2)
                    .min(self.max_response_bytes);
                body.reserve(url, wanted, &self.budget, self.max_response_bytes)?;
            }
            body.bytes.extend_from_slice(&chunk);
        }
        Ok(body)
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

/// A response body and the share of the memory budget it holds (released when dropped).
struct Body {
    bytes: Vec<u8>,
    permit: Option<OwnedSemaphorePermit>,
}

impl Body {
    /// Grow to `capacity` bytes if the budget allows; fail rather than wait, so that responses
    /// holding part of the budget never wait on each other.
    fn reserve(
        &mut self,
        url: &str,
        capacity: u64,
        budget: &Arc<Semaphore>,
        limit: u64,
    ) -> Result<(), QdrantError> {
        let held = self.permit.as_ref().map_or(0, |p| p.num_permits() as u64);
        let needed = capacity.div_ceil(1024);
        if needed > held {
            let more = u32::try_from(needed - held).unwrap_or(u32::MAX);
            let permit = Arc::clone(budget)
                .try_acquire_many_owned(more)
                .map_err(|_| QdrantError::MemoryBudget {
                    url: url.to_string(),
                    limit,
                })?;
            match &mut self.permit {
                Some(held) => held.merge(permit),
                None => self.permit = Some(permit),
            }
        }
        let capacity = usize::try_from(capacity).unwrap_or(usize::MAX);
        if capacity > self.bytes.capacity() {
            self.bytes.reserve_exact(capacity - self.bytes.len());
        }
        Ok(())
    }
}

/// The memory budget for response bodies: `max_response_bytes`, in KiB.
pub fn memory_budget(max_response_bytes: u64) -> Arc<Semaphore> {
    let kib = usize::try_from(max_response_bytes.div_ceil(1024)).unwrap_or(usize::MAX);
    Arc::new(Semaphore::new(kib.min(Semaphore::MAX_PERMITS)))
}

/// Not followed, or followed within the same origin only.
fn redirect_policy(follow: bool) -> reqwest::redirect::Policy {
    if !follow {
        return reqwest::redirect::Policy::none();
    }
    reqwest::redirect::Policy::custom(|attempt| {
        let origin = |url: &Url| {
            (
                url.scheme().to_string(),
                url.host_str().map(str::to_string),
                url.port_or_known_default(),
            )
        };
        let same = attempt
            .previous()
            .first()
            .is_some_and(|first| origin(first) == origin(attempt.url()));
        if same && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}
