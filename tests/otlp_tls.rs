//! OTLP over TLS: the CA file, client certificate and key from the standard
//! `OTEL_EXPORTER_OTLP_(METRICS_)CERTIFICATE`, `…CLIENT_CERTIFICATE`, `…CLIENT_KEY` variables or
//! the `otlp.tls.*` keys, checked at load, and mutual TLS against in-process receivers (HTTPS and
//! gRPC) that require a client certificate: refused without one, accepted with it. The client
//! key's content never shows in a problem, an error or `Debug`.

mod harness;
mod support;

use std::sync::Arc;
use std::time::Duration;

use qdrant_otel_agent::config::{self, ConfigSources, OtlpSettings};
use qdrant_otel_agent::export::{EncodedPoints, OtlpClient, ResourceExporter};
use qdrant_otel_agent::metrics::{Attributes, MetricId, Point};
use support::tls::TestPki;
use support::{FixtureServer, OtlpReceiver};

const WAIT: Duration = Duration::from_secs(20);

fn path(path: &std::path::Path) -> String {
    path.display().to_string()
}

/// `qdrant-otel-agent run` in this environment alone, expected to exit within [`WAIT`]; one
/// that keeps running (it accepted what it should refuse) is stopped and fails the test.
fn agent_exit(env: &[(&str, &str)]) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"))
        .arg("run")
        .env_clear()
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the agent");
    let deadline = std::time::Instant::now() + WAIT;
    while child.try_wait().expect("the agent's status").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the agent still runs after {WAIT:?}: {env:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the agent's output")
}

/// The OTLP settings of this environment (plus a Qdrant URL).
fn otlp(env: &[(&str, &str)]) -> OtlpSettings {
    let mut env = env.to_vec();
    env.push(("QDRANT_URL", "http://127.0.0.1:6333"));
    harness::settings(&env).otlp
}

/// The problems of this environment, as `(key, origin, message)`.
fn problems(env: &[(&str, &str)]) -> Vec<(String, String, String)> {
    let sources = ConfigSources {
        env: harness::env_map(env),
        ..ConfigSources::default()
    };
    let error = config::load(&sources).expect_err("rejected");
    error
        .problems
        .into_iter()
        .map(|p| (p.key, p.origin, p.message))
        .collect()
}

fn up() -> Arc<EncodedPoints> {
    let point = Point {
        metric: MetricId::Up,
        attributes: Attributes::new(),
        value: 1.0,
    };
    Arc::new(EncodedPoints::from(&[point][..]))
}

/// Without a client certificate the receiver refuses the export; with one, from the standard
/// variables (the `METRICS_` form for the key), it takes it.
async fn mutual_tls(receiver: OtlpReceiver, protocol: &str, pki: &TestPki) {
    let endpoint = receiver.endpoint();
    let ca = path(&pki.ca_file);
    let server_only = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", ca.as_str()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000"),
    ];
    let mut exporter = ResourceExporter::new(otlp(&server_only));
    exporter.publish(Vec::new(), vec![up()], None);
    let refused = exporter
        .flush()
        .await
        .expect_err("no client certificate: refused");
    assert!(receiver.requests().is_empty(), "{protocol}: {refused}");

    let (cert, key) = (path(&pki.cert_file), path(&pki.key_file));
    let mut mutual = server_only.to_vec();
    mutual.push(("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", cert.as_str()));
    mutual.push(("OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY", key.as_str()));
    let settings = otlp(&mutual);
    assert_eq!(
        settings.tls.key_file.as_deref(),
        Some(pki.key_file.as_path())
    );
    let mut exporter = ResourceExporter::new(settings);
    exporter.publish(Vec::new(), vec![up()], None);
    exporter
        .flush()
        .await
        .unwrap_or_else(|e| panic!("{protocol}: with the client certificate: {e}"));
    assert_eq!(receiver.requests().len(), 1, "{protocol}");
}

#[tokio::test(flavor = "multi_thread")]
async fn http_mutual_tls_needs_the_client_certificate() {
    let pki = TestPki::new();
    let receiver = OtlpReceiver::start_https(&pki).await;
    mutual_tls(receiver, "http/protobuf", &pki).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn grpc_mutual_tls_needs_the_client_certificate() {
    let pki = TestPki::new();
    let receiver = OtlpReceiver::start_grpcs(&pki).await;
    mutual_tls(receiver, "grpc", &pki).await;
}

/// The agent itself, configured with the `otlp.tls.*` keys, exports over mutual TLS: the
/// Qdrant data and its own telemetry (the SDK's exporter on the same connection).
async fn agent_exports_over_mutual_tls(receiver: OtlpReceiver, protocol: &str, pki: &TestPki) {
    let server = FixtureServer::start("qdrant-1.18.3/single").await;
    let (ca, cert, key) = (
        path(&pki.ca_file),
        path(&pki.cert_file),
        path(&pki.key_file),
    );
    let endpoint = receiver.endpoint();
    let agent = harness::RunningAgent::start(harness::settings(&[
        ("QDRANT_URL", &server.url()),
        ("QDRANT_OTEL_POLL__INTERVAL", "1s"),
        ("QDRANT_OTEL_QDRANT__TIMEOUT", "300ms"),
        ("QDRANT_OTEL_OTLP__ENDPOINT", &endpoint),
        ("QDRANT_OTEL_OTLP__PROTOCOL", protocol),
        ("QDRANT_OTEL_OTLP__TLS__CA_FILE", &ca),
        ("QDRANT_OTEL_OTLP__TLS__CERT_FILE", &cert),
        ("QDRANT_OTEL_OTLP__TLS__KEY_FILE", &key),
        (harness::SELF_TELEMETRY, "true"),
    ]));
    receiver.wait_for_requests(2, WAIT).await;
    agent.stop().await;
    let requests = receiver.requests();
    let instance = server.url().trim_start_matches("http://").to_string();
    assert!(
        !support::last_export_for(&requests, &instance).is_empty(),
        "{protocol}: the node's data"
    );
    assert!(
        !support::agent_points(&requests).is_empty(),
        "{protocol}: the agent's own telemetry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_exports_over_https_with_a_client_certificate() {
    let pki = TestPki::new();
    let receiver = OtlpReceiver::start_https(&pki).await;
    agent_exports_over_mutual_tls(receiver, "http/protobuf", &pki).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_exports_over_grpc_tls_with_a_client_certificate() {
    let pki = TestPki::new();
    let receiver = OtlpReceiver::start_grpcs(&pki).await;
    agent_exports_over_mutual_tls(receiver, "grpc", &pki).await;
}

/// Each file from its key, else the `METRICS_` variable, else the generic one.
#[test]
fn the_key_wins_then_the_metrics_variable() {
    let pki = TestPki::new();
    let (ca, cert, key) = (
        path(&pki.ca_file),
        path(&pki.cert_file),
        path(&pki.key_file),
    );
    let settings = otlp(&[
        ("QDRANT_OTEL_OTLP__ENDPOINT", "https://collector:4318"),
        (
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "/nonexistent/generic-ca.pem",
        ),
        ("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", &ca),
        (
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
            "/nonexistent/generic.pem",
        ),
        (
            "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
            "/nonexistent/metrics.pem",
        ),
        ("QDRANT_OTEL_OTLP__TLS__CERT_FILE", &cert),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
    ]);
    assert_eq!(settings.tls.ca_file, Some(pki.ca_file.clone()));
    assert_eq!(settings.tls.cert_file, Some(pki.cert_file.clone()));
    assert_eq!(settings.tls.key_file, Some(pki.key_file.clone()));
}

/// A file that is missing or not PEM is a problem naming the key or variable and the file; a
/// certificate without its key (or the reverse) and TLS files with an `http` endpoint too.
#[test]
fn bad_tls_files_are_problems_naming_the_variable_and_the_file() {
    let pki = TestPki::new();
    let (ca, cert, key) = (
        path(&pki.ca_file),
        path(&pki.cert_file),
        path(&pki.key_file),
    );
    let https = ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318");
    let env = |name: &str| format!("environment variable {name}");
    assert_eq!(
        problems(&[
            https,
            (
                "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
                "/nonexistent/ca.pem"
            ),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &ca),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &cert),
        ]),
        vec![
            (
                "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE".into(),
                env("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE"),
                "/nonexistent/ca.pem does not exist or is not a file".into()
            ),
            (
                "OTEL_EXPORTER_OTLP_CLIENT_KEY".into(),
                env("OTEL_EXPORTER_OTLP_CLIENT_KEY"),
                format!("{cert} holds no PEM private key (PKCS#8, PKCS#1 or SEC1)")
            ),
        ]
    );
    let not_pem = path(&pki.write("not.pem", "just text\n"));
    assert_eq!(
        problems(&[https, ("QDRANT_OTEL_OTLP__TLS__CA_FILE", &not_pem)]),
        vec![(
            "otlp.tls.ca_file".into(),
            env("QDRANT_OTEL_OTLP__TLS__CA_FILE"),
            format!("{not_pem} holds no PEM certificate")
        )]
    );
    assert_eq!(
        problems(&[https, ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert)]),
        vec![(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE".into(),
            env("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
            "a client certificate needs its key: set otlp.tls.key_file or OTEL_EXPORTER_OTLP_CLIENT_KEY".into()
        )]
    );
    assert_eq!(
        problems(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ]),
        vec![(
            "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE".into(),
            env("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"),
            "TLS files need an https endpoint; the OTLP endpoint is http://collector:4318/v1/metrics".into()
        )]
    );
}

/// The client key's content shows nowhere: not in a problem about a broken key file, not in the
/// settings' `Debug` or `check-config`'s rendering, not in the error of a key that does not
/// belong to the certificate (found when the exporter is built, at start-up).
#[tokio::test(flavor = "multi_thread")]
async fn the_client_key_never_shows() {
    let pki = TestPki::new();
    let secret_lines: Vec<&str> = pki
        .key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    assert!(!secret_lines.is_empty());
    let shows_key = |text: &str| secret_lines.iter().any(|line| text.contains(line));
    // A bad character in the key's base64: the parser's own message would quote the line.
    let broken: Vec<String> = pki
        .key_pem
        .lines()
        .enumerate()
        .map(|(i, line)| match i {
            1 => format!("{}!{}", &line[..10], &line[10..]),
            _ => line.to_string(),
        })
        .collect();
    let broken = path(&pki.write("broken-key.pem", &broken.join("\n")));
    let cert = path(&pki.cert_file);
    let found = problems(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
        ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
        ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &broken),
    ]);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, format!("{broken} is not valid PEM"));

    let other = TestPki::new();
    let key = path(&pki.key_file);
    let other_lines: Vec<&str> = other
        .key_pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    for (protocol, endpoint) in [
        ("http/protobuf", "https://127.0.0.1:4318"),
        ("grpc", "https://127.0.0.1:4317"),
    ] {
        let right = otlp(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &key),
        ]);
        assert!(!shows_key(&format!("{right:?}")), "{right:?}");
        OtlpClient::build(right.clone())
            .map(drop)
            .unwrap_or_else(|e| panic!("{protocol}: {e}"));
        // Another key than the certificate's: found when the exporter is built.
        let mut wrong = right.clone();
        wrong.tls.key_file = Some(other.key_file.clone());
        let Err(error) = OtlpClient::build(wrong) else {
            panic!("{protocol}: a key that is not the certificate's");
        };
        let text = format!("{error} {error:?}");
        assert!(
            text.contains(&format!("client key {}", other.key_file.display())),
            "{protocol}: the error names the files: {text}"
        );
        assert!(
            !shows_key(&text) && !other_lines.iter().any(|line| text.contains(line)),
            "{protocol}: the key shows in {text}"
        );
        // The real agent builds its exporter once, before its first poll: a configuration
        // error (exit 2) naming the key file, not an export failing later.
        let other_key = path(&other.key_file);
        let output = agent_exit(&[
            ("QDRANT_URL", "http://127.0.0.1:6333"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", &cert),
            ("OTEL_EXPORTER_OTLP_CLIENT_KEY", &other_key),
        ]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{protocol}: {stderr}");
        assert!(
            stderr.contains("invalid configuration") && stderr.contains(&other_key),
            "{protocol}: {stderr}"
        );
        assert!(!shows_key(&stderr), "{protocol}: the key shows in {stderr}");
    }
    let (raw, _) = config::load(&ConfigSources {
        env: harness::env_map(&[
            ("QDRANT_URL", "http://127.0.0.1:6333"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
            ("QDRANT_OTEL_OTLP__TLS__CERT_FILE", &cert),
            ("QDRANT_OTEL_OTLP__TLS__KEY_FILE", &key),
        ]),
        ..ConfigSources::default()
    })
    .expect("valid");
    let rendered = config::render_effective(&raw);
    assert!(
        rendered.contains(&key) && !shows_key(&rendered),
        "{rendered}"
    );
}
