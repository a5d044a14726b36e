//! OTLP/gRPC with tonic, sending the already encoded request.

use super::*;

pub(super) struct GrpcTransport {
    client: tonic::client::Grpc<tonic::transport::Channel>,
    /// The channel under `client`, for the SDK's exporter (`sdk`).
    pub(super) channel: tonic::transport::Channel,
    pub(super) metadata: tonic::metadata::MetadataMap,
    endpoint: String,
    timeout: Duration,
}

impl GrpcTransport {
    pub(super) fn build(otlp: &OtlpSettings) -> Result<GrpcTransport, ExportError> {
        let mut metadata = tonic::metadata::MetadataMap::new();
        for (name, value) in &otlp.headers {
            let key =
                tonic::metadata::MetadataKey::from_bytes(name.to_ascii_lowercase().as_bytes())
                    .map_err(|_| ExportError::Build(format!("invalid header name {name:?}")))?;
            let value = value
                .expose()
                .parse()
                .map_err(|_| ExportError::Build(format!("invalid value for header {name:?}")))?;
            metadata.insert(key, value);
        }
        let endpoint = tonic::transport::Endpoint::from_shared(otlp.endpoint.clone())
            .map_err(|e| ExportError::Build(format!("endpoint {:?}: {e}", otlp.endpoint)))?;
        let endpoint = if endpoint.uri().scheme_str() == Some("https") {
            endpoint
                .tls_config(TlsFiles::load(otlp)?.to_tonic())
                .map_err(|e| {
                    let files = files_in_words(otlp);
                    ExportError::Build(format!("TLS{files}: {}", error_chain(&e)))
                })?
        } else {
            endpoint
        };
        let channel = endpoint
            .user_agent(concat!("qdrant-otel-agent/", env!("CARGO_PKG_VERSION")))
            .map_err(|e| ExportError::Build(error_chain(&e)))?
            .timeout(otlp.timeout)
            .connect_timeout(otlp.timeout)
            .connect_lazy();
        let mut client = tonic::client::Grpc::new(channel.clone());
        if otlp.compression == Compression::Gzip {
            // A Collector (grpc-go) answers a gzip request with a gzip response; without
            // `accept_compressed` tonic rejects that answer after the points were accepted.
            client = client
                .send_compressed(tonic::codec::CompressionEncoding::Gzip)
                .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
        }
        Ok(GrpcTransport {
            client,
            channel,
            metadata,
            endpoint: otlp.endpoint.clone(),
            timeout: otlp.timeout,
        })
    }

    pub(super) async fn send(&self, body: Vec<u8>) -> Result<Option<PartialSuccess>, ExportError> {
        let mut client = self.client.clone();
        let call = async {
            client.ready().await.map_err(|e| {
                let error: tonic::transport::Error = e;
                self.status_error(tonic::Status::from_error(Box::new(error)))
            })?;
            let mut request = tonic::Request::new(Encoded(body));
            *request.metadata_mut() = self.metadata.clone();
            request.set_timeout(self.timeout);
            let codec = tonic_prost::ProstCodec::<Encoded, ExportMetricsServiceResponse>::default();
            let path = tonic::codegen::http::uri::PathAndQuery::from_static(GRPC_EXPORT_PATH);
            client
                .unary(request, path, codec)
                .await
                .map_err(|status| self.status_error(status))
        };
        // The channel's own timeout covers the call; this also bounds connecting.
        let response = tokio::time::timeout(self.timeout + Duration::from_secs(1), call)
            .await
            .map_err(|_| ExportError::Timeout {
                endpoint: self.endpoint.clone(),
                timeout: self.timeout,
            })??;
        Ok(PartialSuccess::of(response.into_inner()))
    }

    fn status_error(&self, status: tonic::Status) -> ExportError {
        use tonic_types::StatusExt;
        let endpoint = self.endpoint.clone();
        let code = status.code();
        if let Some(cause) = find_io_error(&status) {
            return ExportError::Connect { endpoint, cause };
        }
        let message = status.message().to_string();
        let timed_out = code == tonic::Code::DeadlineExceeded
            || (code == tonic::Code::Cancelled && message.contains("Timeout expired"));
        if timed_out {
            return ExportError::Timeout {
                endpoint,
                timeout: self.timeout,
            };
        }
        if code == tonic::Code::Unavailable && message.contains("connect") {
            return ExportError::Connect {
                endpoint,
                cause: error_chain(&status),
            };
        }
        let retry = matches!(
            code,
            tonic::Code::Unavailable | tonic::Code::ResourceExhausted
        )
        .then(|| status.get_details_retry_info())
        .flatten()
        .and_then(|info| info.retry_delay)
        .map(|wait| wait.min(MAX_RETRY_AFTER));
        let error = ExportError::GrpcStatus { code, message };
        match retry {
            Some(wait) => ExportError::RetryAfter {
                wait,
                cause: error.to_string(),
            },
            None => error,
        }
    }
}

/// An already encoded `ExportMetricsServiceRequest`, written to the gRPC stream as it is (the
/// generated client would take the request by value, and the exporter keeps its requests for
/// the next export).
#[derive(Debug, Default)]
pub(super) struct Encoded(Vec<u8>);

impl Message for Encoded {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}
