//! TLS towards the Collector: the CA file and the client certificate and key of
//! [`OtlpTls`](crate::config::OtlpTls), read when the transport is built and handed to reqwest
//! (HTTP) or tonic (gRPC). The configuration checked the files at load; a failure here names
//! the file, never the key's content.

use std::path::Path;

use super::*;

/// The TLS files' contents. `Debug` shows which are set, never the key.
#[derive(Default)]
pub(super) struct TlsFiles {
    ca: Option<Vec<u8>>,
    /// Client certificate and key (PEM).
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for TlsFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFiles")
            .field("ca", &self.ca.is_some())
            .field("identity", &self.identity.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, ExportError> {
    std::fs::read(path)
        .map_err(|e| ExportError::Build(format!("cannot read the {what} {}: {e}", path.display())))
}

/// The TLS files in words, for the error of a transport that cannot be built with them (a key
/// that is not the certificate's): `" (CA file …, client certificate …, client key …)"`, or
/// nothing when none is set.
pub(super) fn files_in_words(otlp: &OtlpSettings) -> String {
    let tls = &otlp.tls;
    let named = [
        ("CA file", &tls.ca_file),
        ("client certificate", &tls.cert_file),
        ("client key", &tls.key_file),
    ];
    let words: Vec<String> = named
        .iter()
        .filter_map(|(what, path)| path.as_ref().map(|p| format!("{what} {}", p.display())))
        .collect();
    if words.is_empty() {
        String::new()
    } else {
        format!(" ({})", words.join(", "))
    }
}

impl TlsFiles {
    pub(super) fn load(otlp: &OtlpSettings) -> Result<TlsFiles, ExportError> {
        let tls = &otlp.tls;
        let ca = match &tls.ca_file {
            Some(path) => Some(read("CA file", path)?),
            None => None,
        };
        let identity = match (&tls.cert_file, &tls.key_file) {
            (Some(cert), Some(key)) => {
                Some((read("client certificate", cert)?, read("client key", key)?))
            }
            (None, None) => None,
            _ => {
                return Err(ExportError::Build(
                    "a client certificate and its key go together".into(),
                ))
            }
        };
        Ok(TlsFiles { ca, identity })
    }

    /// Add the CA certificates (to the system's) and the client identity to a reqwest client.
    pub(super) fn to_reqwest(
        &self,
        otlp: &OtlpSettings,
        mut builder: reqwest::ClientBuilder,
    ) -> Result<reqwest::ClientBuilder, ExportError> {
        let file = |path: &Option<std::path::PathBuf>| {
            path.as_deref()
                .map(Path::display)
                .map(|p| p.to_string())
                .unwrap_or_default()
        };
        if let Some(ca) = &self.ca {
            let certs = reqwest::Certificate::from_pem_bundle(ca).map_err(|e| {
                ExportError::Build(format!(
                    "CA file {}: {}",
                    file(&otlp.tls.ca_file),
                    error_chain(&e)
                ))
            })?;
            builder = builder.tls_certs_merge(certs);
        }
        if let Some((cert, key)) = &self.identity {
            let mut pem = Vec::with_capacity(cert.len() + key.len() + 1);
            pem.extend_from_slice(cert);
            pem.push(b'\n');
            pem.extend_from_slice(key);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|e| {
                ExportError::Build(format!(
                    "client certificate {} and key {}: {}",
                    file(&otlp.tls.cert_file),
                    file(&otlp.tls.key_file),
                    error_chain(&e)
                ))
            })?;
            builder = builder.identity(identity);
        }
        Ok(builder)
    }

    /// The gRPC channel's TLS: the enabled roots, the CA certificates and the client identity.
    pub(super) fn to_tonic(&self) -> tonic::transport::ClientTlsConfig {
        let mut config = tonic::transport::ClientTlsConfig::new().with_enabled_roots();
        if let Some(ca) = &self.ca {
            config = config.ca_certificate(tonic::transport::Certificate::from_pem(ca));
        }
        if let Some((cert, key)) = &self.identity {
            config = config.identity(tonic::transport::Identity::from_pem(cert, key));
        }
        config
    }
}
