//! The real pipeline's pieces for the end-to-end tests: the OpenTelemetry Collector built from
//! its Go modules running the shipped `otel-collector/config.yaml` (addresses set only through
//! the environment variables that file reads), Prometheus 3 running the shipped
//! `prometheus/prometheus.yml` and rules (scrape targets and intervals rewritten for the test),
//! the agent binary as users start it (environment only), and a small PromQL client.
//! Every child process is killed when its handle drops; each writes `<name>.log` in the test's
//! folder, and `logs` prints them when an assertion fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Kills the child when the test ends, however it ends.
pub struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(name: &str, mut command: Command, dir: &Path) -> Running {
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
    command
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log));
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    Running(child)
}

/// The logs of `names` in `dir`, for a failing assertion's message.
pub fn logs(dir: &Path, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(format!("{n}.log"))).unwrap_or_default();
            // The tail: what went wrong is at the end, and Collector logs are long.
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("--- {n}.log (last lines):\n{}", tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A Collector running the shipped `otel-collector/config.yaml`.
pub struct Collector {
    pub otlp_grpc: u16,
    pub otlp_http: u16,
    /// The agent's metrics (exporter `prometheus`).
    pub exporter: u16,
    /// Qdrant's own `/metrics` (exporter `prometheus/qdrant`).
    pub qdrant_exporter: u16,
    /// The Collector's own metrics (`otelcol_*`).
    pub own_metrics: u16,
    _child: Running,
}

impl Collector {
    /// Starts the shipped config scraping `/metrics` of `targets` (host:port) every second,
    /// with `QDRANT_API_KEY` set when `api_key` is; returns once its health check answers.
    pub async fn start(
        bins: &Path,
        dir: &Path,
        name: &str,
        targets: &[String],
        api_key: Option<&str>,
    ) -> Collector {
        let (otlp_grpc, otlp_http, exporter, qdrant_exporter) =
            (free_port(), free_port(), free_port(), free_port());
        let (health, own_metrics) = (free_port(), free_port());
        let quoted: Vec<String> = targets.iter().map(|t| format!("\"{t}\"")).collect();
        let mut command = Command::new(bins.join("otelcol"));
        command
            .arg(format!(
                "--config={}",
                root().join("otel-collector/config.yaml").display()
            ))
            .env_clear()
            .env("OTLP_GRPC_ENDPOINT", format!("127.0.0.1:{otlp_grpc}"))
            .env("OTLP_HTTP_ENDPOINT", format!("127.0.0.1:{otlp_http}"))
            .env("QDRANT_SCRAPE_TARGETS", format!("[{}]", quoted.join(", ")))
            .env("QDRANT_SCRAPE_INTERVAL", "1s")
            .env(
                "PROMETHEUS_EXPORTER_ENDPOINT",
                format!("127.0.0.1:{exporter}"),
            )
            .env(
                "QDRANT_METRICS_EXPORTER_ENDPOINT",
                format!("127.0.0.1:{qdrant_exporter}"),
            )
            .env("HEALTH_CHECK_ENDPOINT", format!("127.0.0.1:{health}"))
            .env("OTELCOL_METRICS_PORT", own_metrics.to_string());
        if let Some(key) = api_key {
            command.env("QDRANT_API_KEY", key);
        }
        let child = spawn(name, command, dir);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = http
                .get(format!("http://127.0.0.1:{health}/"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Collector {name} is not healthy within 60 s\n{}",
                logs(dir, &[name])
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Collector {
            otlp_grpc,
            otlp_http,
            exporter,
            qdrant_exporter,
            own_metrics,
            _child: child,
        }
    }
}

/// Starts Prometheus 3 on the shipped `prometheus/prometheus.yml` and rules, its one scrape job
/// (the Collector's exporter, `honor_labels` as shipped) pointed at `targets`, scraping and
/// evaluating every second. `extra_flags` e.g. enable the OTLP receiver.
pub fn start_prometheus(
    bins: &Path,
    dir: &Path,
    targets: &[String],
    extra_flags: &[&str],
) -> (Prometheus, Running) {
    let shipped = std::fs::read_to_string(root().join("prometheus/prometheus.yml")).unwrap();
    let mut config: serde_yaml::Value = serde_yaml::from_str(&shipped).unwrap();
    config["global"]["scrape_interval"] = "1s".into();
    config["global"]["evaluation_interval"] = "1s".into();
    config["rule_files"] = serde_yaml::Value::Sequence(vec![root()
        .join("prometheus/rules/*.yml")
        .display()
        .to_string()
        .into()]);
    let jobs = config["scrape_configs"].as_sequence_mut().unwrap();
    assert_eq!(
        jobs.len(),
        1,
        "the shipped prometheus.yml has one scrape job"
    );
    jobs[0]["static_configs"] = serde_yaml::from_str(&format!(
        "[{{targets: [{}]}}]",
        targets
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        serde_yaml::to_string(&config).unwrap(),
    )
    .unwrap();
    let port = free_port();
    let mut command = Command::new(bins.join("prometheus"));
    command
        .arg(format!(
            "--config.file={}",
            dir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra_flags);
    let child = spawn("prometheus", command, dir);
    let prometheus = Prometheus {
        base: format!("http://127.0.0.1:{port}"),
        http: reqwest::Client::new(),
    };
    (prometheus, child)
}

/// The agent binary as users run it: configured only through the environment.
pub fn start_agent(dir: &Path, name: &str, env: &[(&str, String)]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_qdrant-otel-agent"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("QDRANT_OTEL_POLL__INTERVAL", "1s")
        .env("QDRANT_OTEL_QDRANT__TIMEOUT", "800ms");
    for (key, value) in env {
        command.env(key, value);
    }
    spawn(name, command, dir)
}

pub struct Prometheus {
    pub base: String,
    pub http: reqwest::Client,
}

impl Prometheus {
    /// Instant query: the result vector, or the error Prometheus gave.
    pub async fn try_query(&self, expr: &str) -> Result<Vec<serde_json::Value>, String> {
        let url =
            url::Url::parse_with_params(&format!("{}/api/v1/query", self.base), [("query", expr)])
                .unwrap();
        let Ok(response) = self.http.get(url).send().await else {
            return Ok(Vec::new());
        };
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if body["status"] == "error" {
            return Err(format!("{expr}: {body}"));
        }
        Ok(body["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Instant query; panics on a PromQL error.
    pub async fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        self.try_query(expr).await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// Query until the result is not empty, for at most `within`.
    pub async fn query_until_data(&self, expr: &str, within: Duration) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + within;
        loop {
            let result = self.query(expr).await;
            if !result.is_empty() || Instant::now() > deadline {
                return result;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    pub async fn value(&self, expr: &str) -> Option<f64> {
        let result = self.query_until_data(expr, Duration::from_secs(10)).await;
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// The metric names of `names` that have no series (each waited for up to 15 s).
    pub async fn missing(&self, names: &std::collections::BTreeSet<String>) -> Vec<String> {
        let mut missing = Vec::new();
        for name in names {
            let found = self
                .query_until_data(&format!("count({name})"), Duration::from_secs(15))
                .await;
            if found.is_empty() {
                missing.push(name.clone());
            }
        }
        missing
    }

    /// GET a path of the HTTP API; the JSON body.
    pub async fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// A dashboard query: its file, panel title and PromQL with the variables substituted.
pub struct DashboardQuery {
    pub file: String,
    pub panel: String,
    pub expr: String,
}

/// Every `expr` in the dashboards, with Grafana's interval variables substituted and the
/// template variables (`$job`, `$instance`, `$collection`) replaced by `variables`' values.
pub fn dashboard_queries(variables: &[(&str, &str)]) -> Vec<DashboardQuery> {
    let dir = root().join("grafana/dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut queries = Vec::new();
    for file in files {
        let dashboard: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for panel in dashboard["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let mut expr = target["expr"]
                    .as_str()
                    .unwrap()
                    .replace("$__rate_interval", "1m")
                    .replace("$__interval", "1m")
                    .replace("$__range", "5m");
                for (name, value) in variables {
                    expr = expr.replace(&format!("${name}"), value);
                }
                assert!(
                    !expr.contains('$'),
                    "{}: a variable left in {expr}",
                    file.display()
                );
                queries.push(DashboardQuery {
                    file: file.file_name().unwrap().to_string_lossy().to_string(),
                    panel: panel["title"].as_str().unwrap().to_string(),
                    expr,
                });
            }
        }
    }
    queries
}

/// A literal as a regular expression inside a PromQL double-quoted string, as Grafana
/// substitutes a variable in `=~"$var"`: `127.0.0.1` becomes `127\\.0\\.0\\.1`.
pub fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escape = !(c.is_ascii_alphanumeric() || c == ':' || c == '-' || c == '_');
            let backslashes = if escape { "\\\\" } else { "" };
            backslashes.chars().chain([c])
        })
        .collect()
}

/// The PromQL join that docs/deployment.md gives for reading a resource attribute from
/// `target_info` (the backticked expression that mentions it), so the test runs the docs.
pub fn documented_target_info_join() -> String {
    let doc = std::fs::read_to_string(root().join("docs/deployment.md")).unwrap();
    doc.split('`')
        .find(|part| part.contains("group_left") && part.contains("target_info"))
        .expect("docs/deployment.md gives a target_info join")
        .to_string()
}
