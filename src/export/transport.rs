//! The two transports behind one enum, shared by every exporter to one endpoint
//! ([`OtlpClient`]); OTLP/HTTP with reqwest lives here.

use super::*;

/// The connection to the Collector: built once per endpoint and shared (cloned) by every
/// resource's exporter, so that all of them use one connection pool (HTTP) or one channel
/// (gRPC, requests multiplexed on one HTTP/2 connection).
#[derive(Clone)]
pub struct OtlpClient {
    pub(super) otlp: Arc<OtlpSettings>,
    /// A transport that could not be built fails every export with the reason (the agent
    /// builds with [`OtlpClient::build`], which finds it at start-up).
    pub(super) transport: Arc<Result<Transport, String>>,
}

impl OtlpClient {
    /// Build the transport, or say why it cannot be: a configuration problem, found at
    /// start-up rather than at the first export. Needs a Tokio runtime context (gRPC; it
    /// connects lazily).
    pub fn build(otlp: OtlpSettings) -> Result<OtlpClient, ExportError> {
        let transport = Transport::build(&otlp)?;
        Ok(OtlpClient {
            otlp: Arc::new(otlp),
            transport: Arc::new(Ok(transport)),
        })
    }

    /// Build the transport; one that cannot be built fails every export with the reason.
    pub fn new(otlp: OtlpSettings) -> OtlpClient {
        let transport = Transport::build(&otlp).map_err(|e| e.to_string());
        OtlpClient {
            otlp: Arc::new(otlp),
            transport: Arc::new(transport),
        }
    }

    /// The transport, or why it could not be built.
    pub(super) fn transport(&self) -> Result<&Transport, ExportError> {
        self.transport
            .as_ref()
            .as_ref()
            .map_err(|e| ExportError::Build(e.clone()))
    }
}

pub(super) enum Transport {
    Http(HttpTransport),
    Grpc(Box<GrpcTransport>),
}

impl Transport {
    pub(super) fn build(otlp: &OtlpSettings) -> Result<Transport, ExportError> {
        match otlp.protocol {
            OtlpProtocol::HttpProtobuf => HttpTransport::build(otlp).map(Transport::Http),
            OtlpProtocol::Grpc => {
                GrpcTransport::build(otlp).map(|grpc| Transport::Grpc(Box::new(grpc)))
            }
        }
    }

    /// Send one encoded `ExportMetricsServiceRequest`; delivered, it may have been accepted
    /// only in part.
    pub(super) async fn send(&self, body: Vec<u8>) -> Result<Option<PartialSuccess>, ExportError> {
        match self {
            Transport::Http(http) => http.send(body).await,
            Transport::Grpc(grpc) => grpc.send(body).await,
        }
    }
}

pub(super) struct HttpTransport {
    pub(super) client: reqwest::Client,
    pub(super) url: reqwest::Url,
    gzip: bool,
    timeout: Duration,
}

impl HttpTransport {
    pub(super) fn build(otlp: &OtlpSettings) -> Result<HttpTransport, ExportError> {
        let url = reqwest::Url::parse(&otlp.endpoint)
            .map_err(|e| ExportError::Build(format!("endpoint {:?}: {e}", otlp.endpoint)))?;
        let mut headers = HeaderMap::new();
        for (name, value) in &otlp.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ExportError::Build(format!("invalid header name {name:?}")))?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                ExportError::Build(format!("invalid value for header {:?}", name.as_str()))
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(
            reqwest::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        let builder = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("qdrant-otel-agent/", env!("CARGO_PKG_VERSION")))
            .timeout(otlp.timeout)
            .connect_timeout(otlp.timeout);
        let client = TlsFiles::load(otlp)?
            .to_reqwest(otlp, builder)?
            .build()
            .map_err(|e| {
                ExportError::Build(format!("{}{}", error_chain(&e), files_in_words(otlp)))
            })?;
        Ok(HttpTransport {
            client,
            url,
            gzip: otlp.compression == Compression::Gzip,
            timeout: otlp.timeout,
        })
    }

    pub(super) async fn send(&self, body: Vec<u8>) -> Result<Option<PartialSuccess>, ExportError> {
        let mut request = self.client.post(self.url.clone());
        let body = if self.gzip {
            request = request.header(reqwest::header::CONTENT_ENCODING, "gzip");
            gzip(&body)
        } else {
            body
        };
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| self.request_error(&e))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let bytes = response.bytes().await.map_err(|e| self.request_error(&e))?;
        if status.is_success() {
            let answer = ExportMetricsServiceResponse::decode(&bytes[..]).unwrap_or_default();
            return Ok(PartialSuccess::of(answer));
        }
        let body = error_body_excerpt(&bytes);
        let code = status.as_u16();
        match retry_after {
            Some(wait) if code == 429 || code == 503 => Err(ExportError::RetryAfter {
                wait,
                cause: ExportError::HttpStatus { status: code, body }.to_string(),
            }),
            _ => Err(ExportError::HttpStatus { status: code, body }),
        }
    }

    fn request_error(&self, error: &reqwest::Error) -> ExportError {
        let endpoint = self.url.to_string();
        if error.is_timeout() {
            ExportError::Timeout {
                endpoint,
                timeout: self.timeout,
            }
        } else if error.is_connect() {
            ExportError::Connect {
                endpoint,
                cause: connect_cause(error),
            }
        } else {
            ExportError::Transport {
                endpoint,
                cause: error_chain(error),
            }
        }
    }
}

/// `Retry-After`: delay-seconds or an HTTP date; capped at [`MAX_RETRY_AFTER`].
pub(super) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(MAX_RETRY_AFTER))
}
