//! TLS files, read and checked at load so that `check-config` catches a bad one: the Qdrant CA
//! file, and the OTLP CA file, client certificate and client key (`otlp.tls.*`, else
//! `OTEL_EXPORTER_OTLP_(METRICS_)CERTIFICATE`, `…CLIENT_CERTIFICATE`, `…CLIENT_KEY`). A problem
//! names the key or variable and the file; the content of a key file never shows in a message.

use std::path::{Path, PathBuf};

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::PrivateKeyDer;

use super::otel_env::{self, Pair};
use super::{Context, OtlpTlsConfig, Problems};

/// TLS towards the Collector, for an `https` endpoint: the files as configured, checked at load
/// (the exporter reads them when it is built).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtlpTls {
    /// PEM certificates to trust, besides the system's.
    pub ca_file: Option<PathBuf>,
    /// The client certificate (PEM, the chain from the leaf up) for mutual TLS; set with
    /// `key_file`.
    pub cert_file: Option<PathBuf>,
    /// The client certificate's private key (PEM: PKCS#8, PKCS#1 or SEC1); set with
    /// `cert_file`.
    pub key_file: Option<PathBuf>,
}

impl OtlpTls {
    pub fn is_set(&self) -> bool {
        self.ca_file.is_some() || self.cert_file.is_some() || self.key_file.is_some()
    }
}

/// One resolved TLS file: where its path came from, for problems.
struct Given {
    /// The key or the variable.
    name: String,
    origin: String,
    path: PathBuf,
}

impl OtlpTlsConfig {
    /// Each file from its key, else the `METRICS_` variable, else the generic one; each must
    /// exist and parse, and a client certificate comes with its key. `endpoint` is the
    /// resolved endpoint: TLS files need an `https` one.
    pub fn validate(&self, ctx: &Context, endpoint: &str, problems: &mut Problems) -> OtlpTls {
        let ca = given(
            ctx,
            "otlp.tls.ca_file",
            &self.ca_file,
            otel_env::CERTIFICATE,
        );
        let cert = given(
            ctx,
            "otlp.tls.cert_file",
            &self.cert_file,
            otel_env::CLIENT_CERTIFICATE,
        );
        let key = given(
            ctx,
            "otlp.tls.key_file",
            &self.key_file,
            otel_env::CLIENT_KEY,
        );
        let mut check = |given: &Option<Given>, check: fn(&Path) -> Result<(), String>| {
            if let Some(given) = given {
                if let Err(message) = check(&given.path) {
                    problems.push(&given.name, &given.origin, message);
                }
            }
        };
        check(&ca, check_ca_file);
        check(&cert, check_cert_file);
        check(&key, check_key_file);
        match (&cert, &key) {
            (Some(cert), None) => problems.push(
                &cert.name,
                &cert.origin,
                "a client certificate needs its key: set otlp.tls.key_file or OTEL_EXPORTER_OTLP_CLIENT_KEY",
            ),
            (None, Some(key)) => problems.push(
                &key.name,
                &key.origin,
                "a client key needs its certificate: set otlp.tls.cert_file or OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            ),
            _ => {}
        }
        if let Some(first) = [&ca, &cert, &key].into_iter().flatten().next() {
            if !endpoint.starts_with("https://") {
                problems.push(
                    &first.name,
                    &first.origin,
                    format!("TLS files need an https endpoint; the OTLP endpoint is {endpoint}"),
                );
            }
        }
        OtlpTls {
            ca_file: ca.map(|g| g.path),
            cert_file: cert.map(|g| g.path),
            key_file: key.map(|g| g.path),
        }
    }
}

fn given(ctx: &Context, key: &str, value: &Option<PathBuf>, pair: Pair) -> Option<Given> {
    if let Some(path) = value {
        return Some(Given {
            name: key.to_string(),
            origin: ctx.origin(key),
            path: path.clone(),
        });
    }
    pair.lookup(ctx).map(|var| Given {
        name: var.name.to_string(),
        origin: var.origin(),
        path: PathBuf::from(var.value),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    if !path.is_file() {
        return Err(format!(
            "{} does not exist or is not a file",
            path.display()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The CA file must be readable and hold at least one PEM certificate.
pub(super) fn check_ca_file(path: &Path) -> Result<(), String> {
    let pem = read(path)?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certs) if certs.is_empty() => {
            Err(format!("{} holds no PEM certificate", path.display()))
        }
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "{} is not a PEM certificate bundle ({e})",
            path.display()
        )),
    }
}

/// A client certificate file: like a CA file, at least one PEM certificate.
fn check_cert_file(path: &Path) -> Result<(), String> {
    check_ca_file(path)
}

/// The key file must hold a PEM private key. What is wrong is said without quoting the file:
/// the parser's own messages may hold a line of it.
fn check_key_file(path: &Path) -> Result<(), String> {
    let pem = read(path)?;
    match PrivateKeyDer::from_pem_slice(&pem) {
        Ok(_) => Ok(()),
        Err(pem::Error::NoItemsFound) => Err(format!(
            "{} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)",
            path.display()
        )),
        Err(_) => Err(format!("{} is not valid PEM", path.display())),
    }
}
