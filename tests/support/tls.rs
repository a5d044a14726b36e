//! TLS for the OTLP receivers: a test PKI made with rcgen (a CA, a server certificate for
//! `127.0.0.1` and `localhost`, and a client certificate, all signed by the CA), written to
//! files, and receivers (HTTPS and gRPC over TLS) that require a client certificate signed by
//! that CA.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::MetricsServiceServer;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;

use super::{serve_otlp_http, tokio_stream_from, GrpcMetrics, OtlpReceiver, Received};

/// A CA, a server certificate and a client certificate, in a temporary directory.
pub struct TestPki {
    dir: tempfile::TempDir,
    /// The CA certificate (PEM).
    pub ca_file: PathBuf,
    /// The client certificate (PEM), signed by the CA.
    pub cert_file: PathBuf,
    /// The client certificate's key (PEM).
    pub key_file: PathBuf,
    /// The client key's PEM text, to check that it never shows.
    pub key_pem: String,
    ca: CertificateDer<'static>,
    ca_pem: String,
    server_cert_pem: String,
    server_key_pem: String,
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, KeyPair>,
) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("names");
    params
        .distinguished_name
        .push(DnType::CommonName, "qdrant-otel-agent test");
    params.use_authority_key_identifier_extension = true;
    params.key_usages.push(KeyUsagePurpose::DigitalSignature);
    params.extended_key_usages.push(usage);
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("signed");
    (cert.pem(), key.serialize_pem())
}

impl TestPki {
    pub fn new() -> TestPki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "qdrant-otel-agent test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::CrlSign,
        ];
        let ca_key = KeyPair::generate().expect("CA key");
        let ca_cert = params.self_signed(&ca_key).expect("CA");
        let issuer = Issuer::new(params, ca_key);
        let (server_cert_pem, server_key_pem) = leaf(
            &["127.0.0.1", "localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
            &issuer,
        );
        let (client_cert_pem, key_pem) = leaf(
            &["qdrant-otel-agent.test"],
            ExtendedKeyUsagePurpose::ClientAuth,
            &issuer,
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write PEM");
            path
        };
        TestPki {
            ca_file: write("ca.pem", &ca_cert.pem()),
            cert_file: write("client.pem", &client_cert_pem),
            key_file: write("client-key.pem", &key_pem),
            key_pem,
            ca: ca_cert.der().clone(),
            ca_pem: ca_cert.pem(),
            server_cert_pem,
            server_key_pem,
            dir,
        }
    }

    /// A file in the PKI's directory (for variants: another key, a broken file).
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    fn server_config(&self) -> rustls::ServerConfig {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).expect("CA");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(&provider),
        )
        .build()
        .expect("client verifier");
        let chain: Vec<CertificateDer<'static>> =
            rustls::pki_types::pem::PemObject::pem_slice_iter(self.server_cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("server certificate");
        let key: PrivatePkcs8KeyDer<'static> =
            rustls::pki_types::pem::PemObject::from_pem_slice(self.server_key_pem.as_bytes())
                .expect("server key");
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, PrivateKeyDer::Pkcs8(key))
            .expect("server config")
    }
}

impl OtlpReceiver {
    /// OTLP/HTTP over TLS, requiring a client certificate signed by the PKI's CA. A connection
    /// whose handshake fails is counted ([`OtlpReceiver::refused_handshakes`]).
    pub async fn start_https(pki: &TestPki) -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(pki.server_config()));
        let received = Arc::new(Mutex::new(Received::default()));
        let shared = Arc::clone(&received);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let connection = {
                    let mut received = shared.lock().unwrap();
                    received.connections += 1;
                    received.connections
                };
                let (acceptor, shared) = (acceptor.clone(), Arc::clone(&shared));
                tokio::spawn(async move {
                    match acceptor.accept(stream).await {
                        Ok(stream) => serve_otlp_http(stream, shared, connection).await,
                        Err(_) => shared.lock().unwrap().refused_handshakes += 1,
                    }
                });
            }
        });
        OtlpReceiver {
            endpoint: format!("https://127.0.0.1:{}", addr.port()),
            received,
            task,
        }
    }

    /// OTLP/gRPC over TLS (tonic's server TLS), requiring a client certificate signed by the
    /// PKI's CA.
    pub async fn start_grpcs(pki: &TestPki) -> OtlpReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Received::default()));
        let service = GrpcMetrics(Arc::clone(&received));
        let tls = tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(
                &pki.server_cert_pem,
                &pki.server_key_pem,
            ))
            .client_ca_root(tonic::transport::Certificate::from_pem(&pki.ca_pem));
        let counted = Arc::clone(&received);
        let task = tokio::spawn(async move {
            let incoming = tokio_stream_from(listener, counted);
            let _ = tonic::transport::Server::builder()
                .tls_config(tls)
                .expect("server TLS")
                .add_service(
                    MetricsServiceServer::new(service)
                        .accept_compressed(tonic::codec::CompressionEncoding::Gzip),
                )
                .serve_with_incoming(incoming)
                .await;
        });
        OtlpReceiver {
            endpoint: format!("https://127.0.0.1:{}", addr.port()),
            received,
            task,
        }
    }

    /// TLS handshakes the HTTPS receiver refused (no or a wrong client certificate).
    pub fn refused_handshakes(&self) -> usize {
        self.received.lock().unwrap().refused_handshakes
    }
}
