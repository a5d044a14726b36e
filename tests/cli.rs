//! The real binary's command line: help, version, `check-config` (exit 0/2, secrets redacted,
//! contacts nothing) and the exit code of a bad configuration.

use std::process::{Command, Output};

fn agent(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run the agent")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).to_string()
}

#[test]
fn help_lists_the_commands() {
    let output = agent(&["--help"], &[]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for command in ["run", "check-config", "once", "docs"] {
        assert!(
            help.contains(&format!("  {command} ")),
            "{command} missing:\n{help}"
        );
    }
    assert!(help.contains("--qdrant-url"), "{help}");
}

#[test]
fn version() {
    let output = agent(&["--version"], &[]);
    assert!(output.status.success());
    assert_eq!(
        text(&output.stdout).trim(),
        format!("qdrant-otel-agent {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_config_prints_the_effective_config_without_secrets() {
    // Port 9 (discard) on loopback: nothing listens, and nothing is contacted anyway.
    let output = agent(
        &["check-config"],
        &[
            ("QDRANT_URL", "http://127.0.0.1:9"),
            ("QDRANT_API_KEY", "supersecret"),
            (
                "QDRANT_OTEL_OTLP__HEADERS__AUTHORIZATION",
                "Bearer othersecret",
            ),
        ],
    );
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let effective: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(effective["qdrant"]["url"], "http://127.0.0.1:9");
    assert_eq!(effective["qdrant"]["api_key"], "<redacted>");
    assert_eq!(effective["otlp"]["headers"]["authorization"], "<redacted>");
    assert!(!stdout.contains("supersecret") && !stderr.contains("supersecret"));
    assert!(!stdout.contains("othersecret") && !stderr.contains("othersecret"));
    assert!(
        stderr.contains("configuration is valid: 1 Qdrant node(s)"),
        "{stderr}"
    );
}

#[test]
fn check_config_lists_every_problem_and_exits_2() {
    let output = agent(
        &["check-config", "--qdrant-url", "ftp://x"],
        &[("QDRANT_OTEL_POLL__DETAIL_EVERY", "0")],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert_eq!(
        stderr,
        "error: invalid configuration (2 problems):\n  - qdrant.url (command-line flag --qdrant-url): \"ftp://x\": scheme must be http or https, not \"ftp\"\n  - poll.detail_every (environment variable QDRANT_OTEL_POLL__DETAIL_EVERY): must be at least 1\n"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn a_bad_config_stops_the_agent_before_it_starts() {
    for args in [&[][..], &["run"][..], &["once"][..]] {
        let output = agent(args, &[("QDRANT_OTEL_LOG__FORMAT", "xml")]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr)
            .contains("log.format (environment variable QDRANT_OTEL_LOG__FORMAT)"));
    }
}

#[test]
fn once_prints_points_without_a_backend() {
    // An unreachable node: `once` still answers, with the node down and the error counted.
    let output = agent(
        &["once", "--format", "json"],
        &[
            ("QDRANT_URL", "http://127.0.0.1:9"),
            ("QDRANT_OTEL_QDRANT__TIMEOUT", "500ms"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let nodes: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(nodes[0]["instance"], "127.0.0.1:9");
    assert_eq!(nodes[0]["up"], false);
    let up = nodes[0]["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "qdrant.up")
        .unwrap();
    assert_eq!(up["value"], 0.0);
    assert_eq!(up["prometheus_name"], "qdrant_up");
}

#[test]
fn a_short_poll_interval_alone_is_a_valid_config() {
    // An unset qdrant.timeout is capped by poll.interval (like Prometheus' scrape_timeout).
    let output = agent(&["check-config"], &[("QDRANT_OTEL_POLL__INTERVAL", "1s")]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let effective: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(effective["qdrant"]["timeout"], "1s");
}

#[test]
fn check_config_reads_the_ca_file_and_exits_2_when_it_is_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").unwrap();
    let output = agent(
        &["check-config"],
        &[("QDRANT_OTEL_QDRANT__TLS__CA_FILE", ca.to_str().unwrap())],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        format!(
            "error: invalid configuration (1 problem):\n  - qdrant.tls.ca_file (environment variable QDRANT_OTEL_QDRANT__TLS__CA_FILE): {} holds no PEM certificate\n",
            ca.display()
        )
    );
}
